"""Reviewers' decisions as training labels: m from the "same" pairs, the prior from all.

    load_labels(con, path) -> table     review.db (or its folder) or a CSV export ->
                                        (archive_id_l, archive_id_r, clerical_match_score)
    apply_labels(con, linker, table)    -> LabelsReport

What the labels are used for, and why:

* **m from "same" pairs.**  Splink's ``estimate_m_from_pairwise_labels`` counts the
  comparison levels of the labelled matches.  Like every Splink training step it adds one
  estimate per level, and the level's m becomes the median of the estimates (EM passes and
  labels); a level no labelled pair reached keeps its m.  Splink ignores
  ``clerical_match_score`` there, so only the "same" pairs are handed to it.  Splink also
  resets every u to its sampled median at that point, which would throw away values set
  directly in training (counted u, floors): u is put back exactly as it was, each m is kept
  at or above the smallest m its comparison had before, and m is renormalised to sum to 1.
* **The prior from all pairs ("calibration in the large").**  Splink has no use for
  "different" labels, and u from them would be badly biased (reviewed pairs are the
  look-alikes, not random pairs).  What they do tell us is how often the engine's
  doubtful pairs are really the same person.  The labelled pairs are scored once; their
  match weight minus the prior's log-odds is the evidence, which does not depend on the
  prior, so the prior that makes the mean predicted probability over ALL labelled pairs
  equal the observed share of "same" is found by bisection on plain arithmetic.  It is only
  done with at least ``MIN_LABELS_FOR_PRIOR`` scored labels of both kinds, and the prior is
  kept within [``PRIOR_FLOOR``, ``PRIOR_CEILING``].

Everything done is returned in a :class:`LabelsReport` and logged (counts only, no PII).
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from linkage.errors import InputError, LinkageError

log = logging.getLogger(__name__)

LABELS_TABLE = "review_labels"
MIN_LABELS_FOR_PRIOR = 10
PRIOR_FLOOR = 1e-12
PRIOR_CEILING = 0.5
_SQLITE_MAGIC = b"SQLite format 3\x00"
_BISECTION_STEPS = 200


@dataclass(frozen=True)
class LabelsReport:
    """What apply_labels did (written to the training log)."""

    labels_same: int
    labels_different: int
    labels_not_in_data: int
    m_levels_changed: int
    prior_before: float
    prior_after: float
    mean_probability_before: float | None
    mean_probability_after: float | None
    observed_same_share: float | None
    prior_calibrated: bool
    note: str


# -- reading labels -----------------------------------------------------------------------------


def _labels_from_store(path: Path) -> list[tuple[str, str, float]]:
    from linkage.review.store import ReviewStore

    try:
        with ReviewStore(path, create=False) as store:
            standing = store.replay_verdicts()
    except LinkageError as exc:
        raise InputError(f"{path}: cannot read reviewer decisions ({exc})") from None
    return [(a, b, 1.0 if d.verdict == "same" else 0.0) for (a, b), d in standing.items()]


def _labels_from_csv(path: Path) -> list[tuple[str, str, float]]:
    rows: list[tuple[str, str, float]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = set(reader.fieldnames or ())
        if not {"archive_id_l", "archive_id_r"} <= fields or not fields & {"verdict", "clerical_match_score"}:
            raise InputError(
                f"{path}: labels need columns archive_id_l, archive_id_r and verdict "
                "(same/different) or clerical_match_score"
            )
        for number, row in enumerate(reader, start=2):
            a, b = (row.get("archive_id_l") or "").strip(), (row.get("archive_id_r") or "").strip()
            if not a or not b or a == b:
                raise InputError(f"{path}: row {number}: needs two different archive numbers")
            verdict = (row.get("verdict") or "").strip().lower()
            if verdict in ("skip", "undone"):
                continue
            if verdict in ("same", "different"):
                score = 1.0 if verdict == "same" else 0.0
            elif "clerical_match_score" in fields and (row.get("clerical_match_score") or "").strip():
                try:
                    score = 1.0 if float(row["clerical_match_score"]) >= 0.5 else 0.0
                except ValueError:
                    raise InputError(f"{path}: row {number}: clerical_match_score is not a number") from None
            else:
                raise InputError(f"{path}: row {number}: verdict must be same or different")
            rows.append((a, b, score))
    return rows


def load_labels(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """Read labels into DuckDB table ``review_labels`` and return its name.

    ``path``: a review store (review.db), a folder holding one, or a CSV with archive_id_l,
    archive_id_r, verdict (same|different; skip/undone rows ignored) — e.g. the output of
    ``linkage review export``.  Pairs are ordered (l < r); a pair given twice keeps its last
    label.  Columns: archive_id_l, archive_id_r, clerical_match_score (1.0 same, 0.0 different).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "review.db"
    if not path.is_file():
        raise InputError(f"labels not found: {path}")
    with path.open("rb") as handle:
        is_sqlite = handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    rows = _labels_from_store(path) if is_sqlite else _labels_from_csv(path)
    latest: dict[tuple[str, str], float] = {}
    for a, b, score in rows:
        latest[(a, b) if a < b else (b, a)] = score
    pairs = sorted(latest)
    table = pa.table({
        "archive_id_l": pa.array([p[0] for p in pairs], pa.string()),
        "archive_id_r": pa.array([p[1] for p in pairs], pa.string()),
        "clerical_match_score": pa.array([latest[p] for p in pairs], pa.float64()),
    })
    con.register("_labels_arrow", table)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {LABELS_TABLE} AS SELECT * FROM _labels_arrow")
    finally:
        con.unregister("_labels_arrow")
    log.info("labels: %d pairs (%d same) from %s", len(pairs), sum(1 for s in latest.values() if s), path.name)
    return LABELS_TABLE


# -- using them ---------------------------------------------------------------------------------


def _m_values(linker: Any) -> dict[tuple[str, int], float | None]:
    return {
        (c.output_column_name, level.comparison_vector_value): level.m_probability
        for c in linker._settings_obj.comparisons
        for level in c._comparison_levels_excluding_null
    }


def _numeric(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _raw_m_u(linker: Any) -> dict[tuple[str, int], tuple[Any, Any]]:
    return {
        (c.output_column_name, level.comparison_vector_value): (level._m_probability, level._u_probability)
        for c in linker._settings_obj.comparisons
        for level in c._comparison_levels_excluding_null
    }


def _settle(linker: Any, before: dict[tuple[str, int], tuple[Any, Any]]) -> None:
    """After Splink's m-from-labels: u as before, m floored at the comparison's smallest
    earlier m and renormalised (see module docstring)."""
    for comparison in linker._settings_obj.comparisons:
        levels = comparison._comparison_levels_excluding_null
        keys = [(comparison.output_column_name, level.comparison_vector_value) for level in levels]
        earlier = [_numeric(before[k][0]) for k in keys]
        floor = min((m for m in earlier if m is not None and m > 0), default=None)
        new_m = []
        for level, key, old in zip(levels, keys, earlier):
            level.u_probability = before[key][1]
            m = _numeric(level._m_probability)
            if m is None:
                m = old
            if m is not None and floor is not None:
                m = max(m, floor)
            new_m.append(m)
        if any(m is None for m in new_m):
            for level, key in zip(levels, keys):
                level.m_probability = before[key][0]
            continue
        total = sum(new_m)
        for level, m in zip(levels, new_m):
            level.m_probability = m / total


def _log_odds(prior: float) -> float:
    return math.log2(prior / (1.0 - prior))


def _mean_probability(evidence: list[float], log_odds: float) -> float:
    total = 0.0
    for bits in evidence:
        x = log_odds + bits
        total += 1.0 / (1.0 + 2.0 ** (-x)) if x > -1000 else 0.0
    return total / len(evidence)


def _scored_labels(con: duckdb.DuckDBPyConnection, linker: Any, labels_table: str) -> list[tuple[float, float]]:
    """(clerical_match_score, match_weight) for each labelled pair present in the data."""
    pairs = con.sql(
        f"SELECT '0' AS match_key, archive_id_l AS join_key_l, archive_id_r AS join_key_r "
        f"FROM {labels_table}"
    ).to_arrow_table()
    if pairs.num_rows == 0:
        return []
    name = f"__linkage_label_pairs_{labels_table}"
    blocked = linker.table_management.register_table(pairs, name, overwrite=True)
    linker.table_management.register_blocked_pairs_for_predict(blocked)
    try:
        predictions = linker.inference.predict(warning_mode="never")
        rows = con.execute(f"""
            SELECT l.clerical_match_score, p.match_weight
            FROM {predictions.physical_name} p
            JOIN {labels_table} l
              ON l.archive_id_l = least(p.archive_id_l, p.archive_id_r)
             AND l.archive_id_r = greatest(p.archive_id_l, p.archive_id_r)
        """).fetchall()
    finally:
        # Forget the registered pairs so the linker blocks normally again.
        linker.table_management.invalidate_cache()
        con.unregister(name)
    return [(float(score), float(weight)) for score, weight in rows]


def calibrate_prior(evidence: list[float], target: float) -> float:
    """The prior whose mean predicted probability over ``evidence`` (bits) equals ``target``,
    kept within [PRIOR_FLOOR, PRIOR_CEILING]."""
    low, high = _log_odds(PRIOR_FLOOR), _log_odds(PRIOR_CEILING)
    if _mean_probability(evidence, low) >= target:
        return PRIOR_FLOOR
    if _mean_probability(evidence, high) <= target:
        return PRIOR_CEILING
    for _ in range(_BISECTION_STEPS):
        mid = (low + high) / 2
        if _mean_probability(evidence, mid) < target:
            low = mid
        else:
            high = mid
        if high - low < 1e-9:
            break
    odds = 2.0 ** ((low + high) / 2)
    return odds / (1.0 + odds)


def apply_labels(con: duckdb.DuckDBPyConnection, linker: Any, labels_table: str) -> LabelsReport:
    """Train ``linker`` further on reviewer labels (see module docstring); returns what was done."""
    same, different = con.execute(
        f"SELECT count(*) FILTER (WHERE clerical_match_score >= 0.5), "
        f"count(*) FILTER (WHERE clerical_match_score < 0.5) FROM {labels_table}"
    ).fetchall()[0]
    settings = linker._settings_obj
    prior_before = float(settings._probability_two_random_records_match)

    m_before = _m_values(linker)
    if same:
        same_table = f"{labels_table}_same"
        con.execute(
            f"CREATE OR REPLACE TABLE {same_table} AS SELECT archive_id_l, archive_id_r "
            f"FROM {labels_table} WHERE clerical_match_score >= 0.5"
        )
        raw_before = _raw_m_u(linker)
        linker.training.estimate_m_from_pairwise_labels(same_table)
        _settle(linker, raw_before)
    m_after = _m_values(linker)
    m_changed = sum(1 for key, value in m_after.items() if value != m_before.get(key))

    scored = _scored_labels(con, linker, labels_table)
    not_in_data = same + different - len(scored)
    prior_after, calibrated = prior_before, False
    mean_before = mean_after = share = None
    note = ""
    if scored:
        w0 = _log_odds(prior_before)
        evidence = [weight - w0 for _, weight in scored]
        share = sum(1 for score, _ in scored if score >= 0.5) / len(scored)
        mean_before = _mean_probability(evidence, w0)
        if len(scored) < MIN_LABELS_FOR_PRIOR:
            note = f"prior kept: {len(scored)} labelled pairs in the data, {MIN_LABELS_FOR_PRIOR} needed"
        elif share in (0.0, 1.0):
            note = "prior kept: labels must include both same and different pairs"
        else:
            prior_after = calibrate_prior(evidence, share)
            settings._probability_two_random_records_match = prior_after
            calibrated = True
            note = "prior set so the mean predicted probability of labelled pairs equals their share of 'same'"
            if prior_after in (PRIOR_FLOOR, PRIOR_CEILING):
                note += f" (held at the bound {prior_after:g})"
        mean_after = _mean_probability(evidence, _log_odds(prior_after))
    else:
        note = "prior kept: no labelled pair is in the data"
    report = LabelsReport(
        labels_same=int(same), labels_different=int(different), labels_not_in_data=int(not_in_data),
        m_levels_changed=m_changed, prior_before=prior_before, prior_after=prior_after,
        mean_probability_before=mean_before, mean_probability_after=mean_after,
        observed_same_share=share, prior_calibrated=calibrated, note=note,
    )
    log.info("labels applied: %s", asdict(report))
    return report
