"""Candidate pairs and their scores: Splink predict over the configured blocking rules.

Writes ``scored_pairs`` (archive_id_l < archive_id_r, probability, weight, one gamma and one
Bayes factor per comparison) and reports how many pairs each blocking rule proposed.  Pairs
below the review threshold are kept only when both archives have a pair above the automatic
threshold: clustering needs them to see weak links inside a chain; and a newborn placeholder
archive's pairs in its household, which the model cannot score (linkage.newborn).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import duckdb

from linkage.config import Config
from linkage.contracts import NamedTable
from linkage.model.settings import UNIQUE_ID, level_codes, settings_for_prediction
from linkage.newborn import newborn_pair_sql
from linkage.model.blocking import block_pairs
from linkage.model.rule_split import prediction_rules
from linkage.model.splink_adapter import (
    connect_splink, gamma_from_weight_sql, make_linker, predict_blocked_pairs)

SCORED_PAIRS = "scored_pairs"
# Only the columns the model and the blocking rules read go to Splink: its first step copies
# every column of its input (Chinese names and addresses, address tokens) into its own table
# and carries them through the blocking joins.
SCORING_INPUT = "_scoring_input"
# The scored records with their integer surrogate id (``_sid``) beside the archive ID.
SCORING_IDS = "_scoring_ids"


@dataclass(frozen=True)
class ScoreReport:
    pairs_compared: int
    pairs_by_rule: dict[str, int]
    pairs_kept: int
    pairs: NamedTable  # the kept pairs, what clustering and review read


def kept_pairs() -> NamedTable:
    """The scoring step's table of kept pairs (the DuckDB and the Spark scorer both fill it)."""
    return NamedTable(SCORED_PAIRS, "scored pairs kept for clustering and review: ids, "
                                    "match probability and weight, gamma_ and w_ per comparison")


def comparison_names(model: dict[str, Any]) -> list[str]:
    return [c["output_column_name"] for c in model["comparisons"]]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}


def columns_read(settings: dict[str, Any], available: set[str], unique_id: str = "archive_id") -> list[str]:
    """The columns of ``available`` that the settings' SQL (comparison levels as ``x_l`` /
    ``x_r``, blocking rules as ``l.x`` / ``r.x``, term-frequency columns) can read."""
    text = json.dumps(settings)
    used = [c for c in sorted(available) if c == unique_id or re.search(
        rf'(?<![\w.])(?:{re.escape(c)}_[lr]|[lr]\.{re.escape(c)})(?!\w)|"{re.escape(c)}"', text)]
    return used


def score_pairs(
    con: duckdb.DuckDBPyConnection, table: str, model: dict[str, Any], config: Config
) -> ScoreReport:
    """Run Splink predict on ``table`` and keep what clustering and review need."""
    api = connect_splink(con)
    records = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    settings = settings_for_prediction(model, config, records)
    # One-sided alternatives become rules of their own (linkage.model.rule_split): the same
    # pairs, with the side filter below the join; match keys map back to the config rules.
    rules = prediction_rules([rule.sql for rule in config.blocking_rules])
    settings["blocking_rules_to_generate_predictions"] = rules.settings()
    columns = columns_read(settings, _columns(con, table))
    # Splink joins and compares pairs by their unique id: an integer surrogate (the row's
    # position) instead of the 17-character archive ID makes the blocking joins and predict's
    # joins back to the records cheaper.  Every blocking rule and comparison is symmetric
    # in l/r, so the pairs and their scores do not depend on which archive is ``l``.
    features = [c for c in columns if c != UNIQUE_ID]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {SCORING_IDS} AS
        SELECT (row_number() OVER ())::BIGINT AS _sid, {UNIQUE_ID}, {', '.join(features)} FROM {table}
    """)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {SCORING_INPUT} AS "
                f"SELECT _sid AS {UNIQUE_ID}, {', '.join(features)} FROM {SCORING_IDS}")
    linker = make_linker(api, SCORING_INPUT, settings)
    blocked = block_pairs(con, SCORING_INPUT, rules.sql)
    try:
        predictions = predict_blocked_pairs(api, linker, blocked)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {blocked}")  # ~32 bytes a pair, scored now
    physical = predictions.physical_name
    names = comparison_names(model)
    by_rule_rows = con.execute(
        f"SELECT match_key, count(*) FROM {physical} GROUP BY match_key"
    ).fetchall()
    pairs_by_rule = {rule.name: 0 for rule in config.blocking_rules}
    for key, count in by_rule_rows:
        pairs_by_rule[config.blocking_rules[rules.origins[int(key)]].name] += int(count)
    review = config.thresholds.review_match_probability
    auto = config.thresholds.auto_match_probability
    gamma_sql = gamma_from_weight_sql(linker)
    physical_columns = _columns(con, physical)
    weight_cols = []
    for name in names:
        weight = f"mw_{name}"
        if f"mw_tf_adj_{name}" in physical_columns:
            weight = f"(mw_{name} + coalesce(mw_tf_adj_{name}, 0))"
        weight_cols.append(f"{gamma_sql[name]} AS gamma_{name}, {weight} AS w_{name}")
    # A newborn placeholder and an archive of its household are kept whatever their score
    # (newborn.newborn_pair_sql speaks of gamma_* columns: spelled here from the weights).
    newborn = re.sub(r"\bgamma_(\w+)\b", lambda m: f"({gamma_sql[m.group(1)]})",
                     newborn_pair_sql(level_codes(model)))
    # Levels and archive IDs are read back only for the kept pairs (a small share of them).
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCORED_PAIRS} AS
        WITH
        -- Archives that may be joined automatically; a low-scoring pair between two of
        -- them is what betrays a chain of weak links, so only those low pairs are kept.
        hot AS (
            SELECT archive_id_l AS sid FROM {physical} WHERE match_probability >= {auto}
            UNION SELECT archive_id_r FROM {physical} WHERE match_probability >= {auto}
        ),
        kept AS (
            SELECT * FROM {physical}
            WHERE match_probability >= {review} OR {newborn}
               OR (archive_id_l IN (SELECT sid FROM hot) AND archive_id_r IN (SELECT sid FROM hot))
        ),
        named AS (
            SELECT a.{UNIQUE_ID} AS id_a, b.{UNIQUE_ID} AS id_b, kept.*
            FROM kept
            JOIN {SCORING_IDS} AS a ON a._sid = kept.archive_id_l
            JOIN {SCORING_IDS} AS b ON b._sid = kept.archive_id_r
        )
        SELECT least(id_a, id_b) AS archive_id_l, greatest(id_a, id_b) AS archive_id_r,
               match_probability, match_weight, {", ".join(weight_cols)}
        FROM named
        ORDER BY archive_id_l, archive_id_r
    """)
    kept = con.execute(f"SELECT count(*) FROM {SCORED_PAIRS}").fetchall()[0][0]
    linker.table_management.delete_tables_created_by_splink_from_db()
    con.execute(f"DROP VIEW IF EXISTS {SCORING_INPUT}")
    con.execute(f"DROP TABLE IF EXISTS {SCORING_IDS}")
    return ScoreReport(sum(pairs_by_rule.values()), pairs_by_rule, int(kept), kept_pairs())


def format_evidence(labels: dict[str, dict[int, str]], gammas: dict[str, int], weights: dict[str, float]) -> str:
    """``name=同音 +7.9; id=空 0; dob=一致 +9.1`` — what each field contributed, in bits."""
    parts = []
    for name, gamma in gammas.items():
        level = int(gamma)
        label = labels[name].get(level, str(gamma)) if name in labels else str(gamma)
        weight = weights.get(name)
        # (weight != weight: NaN, without a call per field; a run formats a million fields)
        if weight is None or weight != weight or level == -1:
            parts.append(f"{name}={label} 0")
        else:
            parts.append(f"{name}={label} {weight:+.1f}")
    return "; ".join(parts)
