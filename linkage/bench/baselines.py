"""The two competitors the engine is measured against, on the same archives.csv.

- ``id_only``: what many platforms do today: group archives by a normalised, checksum-valid
  resident ID number; blank or invalid IDs stay alone.  The normalisation is written here in
  DuckDB SQL on purpose, not borrowed from ``linkage.standardise``: the baseline must be what a
  platform would write by itself, not a share of our own work.
- ``splink_plain``: a plain Splink 5 dedupe as its documentation teaches (raw columns,
  Jaro-Winkler/Levenshtein, block on birth date, ID and name, u by random sampling, EM,
  connected components at 0.95), with no Chinese-specific preparation.  This is what a
  capable team would get from Splink alone.

Each returns a :class:`BaselineResult` (archive → cluster, stage times, pairs compared); the
runner measures memory from outside, in a child process per system.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from linkage.bench.plain_splink import plain_settings
from linkage.standardise.id_number import check_digit_sql

ARCHIVES_TABLE = "bench_archives"
SPLINK_MATCH_THRESHOLD = 0.95
SPLINK_PREDICT_THRESHOLD = 0.5  # predict writes only pairs that could matter to clustering
SPLINK_U_MAX_PAIRS = 1e6
SPLINK_DETERMINISTIC_RECALL = 0.7


Progress = Callable[[str, dict[str, Any]], None]
"""Called as each stage starts and ends with its name and the facts so far (the runner keeps
them on disk, so a run stopped at its time limit still reports what it measured)."""


@dataclass
class BaselineResult:
    clusters: pa.Table  # archive_id, cluster_id
    stage_seconds: dict[str, float] = field(default_factory=dict)
    pairs_compared: int = 0
    pairs_by_rule: dict[str, int] = field(default_factory=dict)


class _Stages:
    """Wall time per stage, reported to ``progress`` as each one starts (``current_stage`` set)
    and ends (``current_stage`` None), so a stopped run says where it was."""

    def __init__(self, progress: Progress | None) -> None:
        self.seconds: dict[str, float] = {}
        self.facts: dict[str, Any] = {}
        self._progress = progress

    def _report(self, name: str, current: str | None) -> None:
        if self._progress is not None:
            self._progress(name, {"stage_seconds": dict(self.seconds), **self.facts,
                                  "current_stage": current})

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._report(name, name)
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)
        self._report(name, None)


def load_archives(con: duckdb.DuckDBPyConnection, archives_path: Path, table: str = ARCHIVES_TABLE) -> int:
    """Read archives.csv as text columns (IDs and phones must keep leading zeros)."""
    con.execute(
        f"CREATE OR REPLACE TABLE {table} AS "
        f"SELECT * FROM read_csv(?, header = true, all_varchar = true)",
        [str(archives_path)],
    )
    count, = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0]
    return int(count)


def id_only_sql(table: str) -> str:
    """archive_id → cluster_id: one cluster per valid normalised ID, the rest alone.

    Normalisation: full-width digits and X to ASCII, × and x to X, everything else that is
    not a digit or X dropped (spaces, hyphens, quotes); 15-digit legacy numbers get "19"
    inserted and a computed check character.  Valid = 17 digits + the right check character.
    """
    return f"""
    WITH cleaned AS (
        SELECT archive_id,
               regexp_replace(
                   upper(translate(coalesce(id_number, ''), '０１２３４５６７８９ｘＸ×', '0123456789XXX')),
                   '[^0-9X]', '', 'g') AS v
        FROM {table}
    ),
    bodies AS (
        SELECT archive_id, v,
               CASE WHEN regexp_full_match(v, '[0-9]{{17}}[0-9X]') THEN left(v, 17)
                    WHEN regexp_full_match(v, '[0-9]{{15}}') THEN left(v, 6) || '19' || substr(v, 7)
               END AS body
        FROM cleaned
    ),
    checked AS (
        SELECT archive_id, v, body, {check_digit_sql('body')} AS check_char FROM bodies
        WHERE body IS NOT NULL
    )
    SELECT b.archive_id,
           CASE WHEN c.body IS NOT NULL AND (length(c.v) = 15 OR right(c.v, 1) = c.check_char)
                THEN 'id:' || c.body || c.check_char
                ELSE 'archive:' || b.archive_id END AS cluster_id
    FROM bodies b LEFT JOIN checked c USING (archive_id)
    """


def _pairs_within(con: duckdb.DuckDBPyConnection, clusters: str) -> int:
    count, = con.execute(
        f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM "
        f"(SELECT count(*) AS n FROM {clusters} GROUP BY cluster_id)"
    ).fetchall()[0]
    return int(count)


def id_only(
    con: duckdb.DuckDBPyConnection, archives_path: Path, progress: Progress | None = None
) -> BaselineResult:
    """Group by normalised, checksum-valid ID number."""
    stages = _Stages(progress)
    with stages.stage("read"):
        load_archives(con, archives_path)
    with stages.stage("link"):
        con.execute(f"CREATE OR REPLACE TABLE bench_id_only AS {id_only_sql(ARCHIVES_TABLE)}")
        pairs = _pairs_within(con, "bench_id_only")
    clusters = con.sql("SELECT archive_id, cluster_id FROM bench_id_only").to_arrow_table()
    return BaselineResult(clusters, stages.seconds, pairs, {"id_number": pairs})


def splink_plain_settings() -> Any:
    """The Splink settings of the plain baseline (a SettingsCreator; printable, no database):
    the comparisons of ``plain_splink``, blocked on birth date, ID or name alone."""
    from splink import block_on

    return plain_settings([
        block_on("birth_date"),
        block_on("id_number"),
        block_on("name"),
    ])


def splink_plain(
    con: duckdb.DuckDBPyConnection,
    archives_path: Path,
    progress: Progress | None = None,
    seed: int = 7,
) -> BaselineResult:
    """Train, predict and cluster with plain Splink on ``con`` (which Splink then owns).

    The blocked pair count is measured exactly before predicting (stage ``count_pairs``, not
    part of a plain Splink run), so that a run stopped at the time limit still says how many
    pairs it faced.
    """
    from splink import DuckDBAPI, Linker, block_on

    # Splink 5 still writes `x -> expr` lambdas in some levels; DuckDB 2.0 wants this switch.
    con.execute("SET lambda_syntax = 'ENABLE_SINGLE_ARROW'")
    con.execute("SET enable_progress_bar = false")
    stages = _Stages(progress)
    with stages.stage("read"):
        archives = load_archives(con, archives_path)
    stages.facts["archives"] = archives
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register(ARCHIVES_TABLE), splink_plain_settings(), log_level=logging.WARNING)

    with stages.stage("count_pairs"):
        records = linker.blocking_analysis.count_comparisons_from_blocking_rules(
            record_sample_proportion=1.0)
        by_rule = {r["blocking_rule"]: int(r["marginal_comparison_count"]) for r in records}
        pairs = sum(by_rule.values())
        stages.facts.update(pairs_compared=pairs, pairs_by_rule=by_rule)  # reported as the stage ends
    with stages.stage("train"):
        linker.training.estimate_probability_two_random_records_match(
            [block_on("id_number"), block_on("name", "birth_date")],
            recall=SPLINK_DETERMINISTIC_RECALL,
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=SPLINK_U_MAX_PAIRS, seed=seed)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    with stages.stage("predict"):
        predictions = linker.inference.predict(threshold_match_probability=SPLINK_PREDICT_THRESHOLD)
    with stages.stage("cluster"):
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=SPLINK_MATCH_THRESHOLD)
        clusters = con.sql(
            f"SELECT CAST(archive_id AS VARCHAR) AS archive_id, CAST(cluster_id AS VARCHAR) AS cluster_id "
            f"FROM {clustered.physical_name}"
        ).to_arrow_table()
    return BaselineResult(clusters, stages.seconds, pairs, by_rule)
