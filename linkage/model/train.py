"""Unsupervised training: prior from deterministic rules, u by sampling and counting, m by EM.

Why u is partly counted rather than sampled: random sampling at a size we can afford
(~11 s per million pairs here) sees almost no pair agreeing on an ID number, phone or full
address, so those exact levels would get no estimate.  Their u is exactly the share of all
pairs that agree on the value, Σ n(n-1) / N(N-1) over the value counts, which DuckDB
computes in one GROUP BY.  Fuzzy levels keep the sampled estimate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from splink import Linker

from linkage.config import Config
from linkage.errors import ModelError
from linkage.model.levels import LEVELS
from linkage.model.splink_log import summarised
from linkage.model.settings import (
    LEVELS_META, TRAINING_META, level_codes, levels_block, new_settings, settings_for_prediction,
)
from linkage.model.splink_adapter import (
    comparisons_of, connect_splink, fix_u, make_linker, trained_m, trained_u,
)
from linkage.model.verdicts import VERDICTS_META, VerdictReport, learn_verdicts
from linkage.outputs import write_json_atomic

log = logging.getLogger(__name__)

# Level code -> SQL giving the number of agreeing ordered pairs, from model_input.  Every code
# here must be a level of the comparisons being trained (_set_counted_u raises otherwise).
_EXACT_PAIR_COUNTS: dict[str, str] = {
    "name.exact": "SELECT sum(n * (n - 1)) FROM (SELECT count(*) n FROM {t} WHERE name_clean IS NOT NULL GROUP BY name_clean)",
    "id.exact": "SELECT sum(n * (n - 1)) FROM (SELECT count(*) n FROM {t} WHERE id_consistent GROUP BY id_norm)",
    "id.shared_not_fitting": (
        "SELECT sum(a * (a - 1) - c * (c - 1)) FROM (SELECT count(*) a, count(*) FILTER (WHERE id_consistent) c "
        "FROM {t} WHERE id_valid GROUP BY id_norm)"
    ),
    "id.exact_bad_checksum": "SELECT sum(n * (n - 1)) FROM (SELECT count(*) n FROM {t} WHERE id_norm IS NOT NULL AND NOT id_valid GROUP BY id_norm)",
    "id.one_typo": "SELECT {one_typo_pairs}",
    "location.address_phone": "SELECT {both}",
    "location.address": "SELECT {address} - {both}",
    "location.phone": "SELECT {phone} - {both}",
    "dob.exact": "SELECT sum(n * (n - 1)) FROM (SELECT count(*) n FROM {t} WHERE dob_best IS NOT NULL AND NOT dob_jan1 GROUP BY dob_best)",
    "dob.exact_jan1": "SELECT sum(n * (n - 1)) FROM (SELECT count(*) n FROM {t} WHERE dob_jan1 GROUP BY dob_best)",
}

_PAIRS_SHARING = "(SELECT coalesce(sum(n * (n - 1)), 0) FROM (SELECT count(*) n FROM {t} WHERE {where} GROUP BY {key}))"

# Floor for a counted u: a level no non-matching pair reached still is not impossible.
_MIN_U = 1e-9
# Floor for m after EM: EM drives m of levels rare among its blocked pairs towards 0, which
# would make one garbled field outweigh everything else (log2(1e-16) = -53).  A level seen
# in 1 of 1,000 true matches is the least we assume of any level.
_MIN_M = 1e-3
# Levels that mean "this field is unknown" although it is filled in (a newborn placeholder
# name): neither for nor against, whatever EM or sampling would make of their rarity.
_NEUTRAL_LEVELS = {"name.placeholder"}
_NEUTRAL_U_OVER_M = 1.01


def _one_typo_pairs_sql(table: str) -> str:
    """Ordered pairs of different IDs that differ in one position (or are a swap of two)."""
    one_position = " + ".join(
        f"(SELECT coalesce(sum(n * (n - 1)) - sum(s), 0) FROM (SELECT count(*) n, "
        f"sum(same) s FROM (SELECT left(id_norm, {i - 1}) || right(id_norm, {18 - i}) k, "
        f"count(*) OVER (PARTITION BY id_norm) - 1 AS same FROM {table} "
        f"WHERE length(id_norm) = 18) GROUP BY k))"
        for i in range(1, 19)
    )
    swaps = (
        f"(SELECT count(*) FROM {table} a JOIN {table} b ON a.id_sorted = b.id_sorted "
        "AND a.archive_id <> b.archive_id WHERE hamming(a.id_norm, b.id_norm) = 2)"
    )
    return f"({one_position} + {swaps})"


def _counted_sql(key: str, table: str) -> str:
    both = _PAIRS_SHARING.format(
        t=table, where="address_norm IS NOT NULL AND phone_norm IS NOT NULL", key="address_norm, phone_norm")
    address = _PAIRS_SHARING.format(t=table, where="address_norm IS NOT NULL", key="address_norm")
    phone = _PAIRS_SHARING.format(t=table, where="phone_norm IS NOT NULL", key="phone_norm")
    return _EXACT_PAIR_COUNTS[key].format(
        t=table, both=both, address=address, phone=phone,
        one_typo_pairs=_one_typo_pairs_sql(table) if key == "id.one_typo" else "0",
    )


def _level_codes(comparison: Any) -> list[str]:
    """The codes of a Splink comparison's levels, in level order (from comparisons.LEVELS)."""
    name = comparison.output_column_name
    codes = [code for code, _ in LEVELS[name]]
    if len(codes) != len(comparison.comparison_levels):
        raise ModelError(f"comparison {name!r}: {len(comparison.comparison_levels)} levels but "
                         f"{len(codes)} codes in comparisons.LEVELS")
    return codes


def _regularise(linker: Linker, sampled_pairs: int) -> None:
    """Give every level an m and a u, and keep m away from zero (see _MIN_M)."""
    for comparison in comparisons_of(linker):
        code_of = dict(zip(map(id, comparison.comparison_levels), _level_codes(comparison)))
        levels = [lvl for lvl in comparison.comparison_levels if not lvl.is_null_level]
        for level in levels:
            if trained_u(level) is None:
                level.u_probability = 1.0 / sampled_pairs
            if trained_m(level) is None:
                level.m_probability = _MIN_M
            level.m_probability = max(float(level.m_probability), _MIN_M)
        total = sum(float(level.m_probability) for level in levels)
        for level in levels:
            level.m_probability = float(level.m_probability) / total
            if code_of[id(level)] in _NEUTRAL_LEVELS:
                # "Unknown" is no evidence either way: a Bayes factor of (almost) 1.  Not
                # exactly 1, so that its weight differs from the null level's 0 and the
                # level can be read back from the weight (splink_adapter.gamma_from_weight_sql).
                level.u_probability = float(level.m_probability) * _NEUTRAL_U_OVER_M


@dataclass(frozen=True)
class TrainingReport:
    records: int
    prior: float
    counted_u: dict[str, float]
    verdicts: "VerdictReport | None" = None
    warnings_repeated: dict[str, int] = field(default_factory=dict)
    base: str = ""  # the model the verdicts were learned on, when m, u and prior were kept


def _set_counted_u(con: duckdb.DuckDBPyConnection, linker: Linker, table: str) -> dict[str, float]:
    total = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    ordered_pairs = max(total * (total - 1), 1)
    counted: dict[str, float] = {}
    seen: set[str] = set()
    for comparison in comparisons_of(linker):
        for level, key in zip(comparison.comparison_levels, _level_codes(comparison)):
            seen.add(key)
            if level.is_null_level or key not in _EXACT_PAIR_COUNTS:
                continue
            agreeing = con.execute(_counted_sql(key, table)).fetchall()[0][0] or 0
            u = max(agreeing / ordered_pairs, _MIN_U)
            fix_u(level, u, "counted exactly")  # survives the EM passes
            counted[key] = u
    missing = sorted(set(_EXACT_PAIR_COUNTS) - seen)
    if missing:
        # A level renamed or removed in comparisons.py: its u would silently be sampled.
        raise ModelError(f"exact-u counting names levels the model does not have: {missing}")
    return counted


def train_model(
    con: duckdb.DuckDBPyConnection,
    table: str,
    config: Config,
    out_path: Path,
    labels_table: str | None = None,
) -> TrainingReport:
    """Train on ``table`` (model_input) and write the model JSON to ``out_path``.

    ``labels_table`` (archive_id_l, archive_id_r, clerical_match_score) adds reviewers'
    decisions, counted per kind of pair (see model.verdicts); the m/u values and the
    prior come from the unlabelled data alone.
    """
    with summarised("splink") as warnings_seen:
        return _train(con, table, config, out_path, labels_table, warnings_seen)


def _train(con: duckdb.DuckDBPyConnection, table: str, config: Config, out_path: Path,
           labels_table: str | None, warnings_seen: dict[str, int]) -> TrainingReport:
    api = connect_splink(con)
    linker = make_linker(api, table, new_settings(config))
    training = config.training
    linker.training.estimate_probability_two_random_records_match(
        list(training.deterministic_rules), recall=training.deterministic_recall
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=training.u_max_pairs, seed=training.seed
    )
    counted = _set_counted_u(con, linker, table)
    for rule in training.em_blocking_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    _regularise(linker, training.u_max_pairs)
    model: dict[str, Any] = linker.misc.save_model_to_json()
    model[LEVELS_META] = levels_block()
    verdicts = None
    if labels_table is not None:
        # Verdicts never touch m, u or the prior (a review queue is a biased sample):
        # they are counted per kind of pair beside the model (model.verdicts).
        names = [c["output_column_name"] for c in model["comparisons"]]
        th = config.thresholds
        verdicts, block = learn_verdicts(
            con, linker, labels_table, names, level_codes(model), table,
            (th.auto_match_probability, th.auto_match_probability_without_id))
        model[VERDICTS_META] = block
    records = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    model[TRAINING_META] = {"records": int(records), "counted_u": counted}
    write_json_atomic(out_path, model)
    return TrainingReport(records, float(model["probability_two_random_records_match"]), counted,
                          verdicts, dict(warnings_seen))


def learn_on_model(
    con: duckdb.DuckDBPyConnection,
    table: str,
    config: Config,
    out_path: Path,
    labels_table: str,
    base: dict[str, Any],
    base_name: str,
) -> TrainingReport:
    """Learn verdicts on top of an existing model (``linkage train --base``): its m, u and
    prior are kept as they are, and the verdicts are counted per kind of pair as a run of
    that model on ``table`` would see the pairs (its prior scaled to this population).

    Why: a site that stayed with the shipped model (its own trained model queued more)
    learns from its reviewers without switching models."""
    with summarised("splink") as warnings_seen:
        records = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        linker = make_linker(connect_splink(con), table,
                             settings_for_prediction(base, config, int(records)))
        names = [c["output_column_name"] for c in base["comparisons"]]
        th = config.thresholds
        verdicts, block = learn_verdicts(
            con, linker, labels_table, names, level_codes(base), table,
            (th.auto_match_probability, th.auto_match_probability_without_id))
        model = dict(base)
        model[VERDICTS_META] = block
        write_json_atomic(out_path, model)
        counted = dict((base.get(TRAINING_META) or {}).get("counted_u") or {})
        return TrainingReport(int(records), float(base["probability_two_random_records_match"]),
                              counted, verdicts, dict(warnings_seen), base=base_name)
