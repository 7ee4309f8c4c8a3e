"""``linkage run --backend spark``: the stateless run, scored on Spark.

The stages and their owners are those of linkage.pipeline.run:

* read — linkage.ingest on the driver (the same reader, rejects and row numbers);
* standardise — linkage.spark.standardise on the executors (the same Python references);
* score — Splink's SparkAPI with the model's own comparison levels in Spark SQL
  (linkage.spark.dialect); only the pairs clustering reads are kept: those at or above the
  review threshold, and the low pairs between archives that have an automatic pair (a
  weak link inside a chain), as linkage.model.score keeps them;
* cluster, decide, write — those pairs and the model input are collected into a DuckDB
  connection on the driver and handed to linkage.resolve.cluster_and_decide and the same
  writer, so the constraints and the output contract are the DuckDB path's, unchanged.

Collecting to the driver is fine up to tens of millions of archives (the pairs kept are a
few per archive); the model input is collected because clusters.csv and summary.json list
every archive.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from splink import Linker
from splink.backends.spark import SparkAPI

from linkage.config import Config
from linkage.human import HumanDecisions
from linkage.ingest import read_input
from linkage.model.features import MODEL_INPUT_TABLE
from linkage.model.rule_split import prediction_rules
from linkage.model.score import SCORED_PAIRS, ScoreReport, comparison_names, kept_pairs
from linkage.model.splink_adapter import gamma_from_weight_sql
from linkage.model.settings import level_codes, settings_for_prediction
from linkage.model.shared_phones import warn_shared_phones
from linkage.newborn import newborn_pair_sql
from linkage.connection import registered
from linkage.contracts import LinkResult, NamedTable, RunSummary
from linkage.pipeline import cluster_and_count, run_stateless
from linkage.progress import StageTimer
from linkage.spark.dialect import spark_settings
from linkage.spark.session import spark_session
from linkage.spark.standardise import standardise

_INPUT_VIEW = "linkage_model_input"


def _to_duckdb(con: duckdb.DuckDBPyConnection, frame: DataFrame, table: str, order: str) -> None:
    """Collect a Spark DataFrame into a DuckDB table on the driver (through Arrow)."""
    arrow: pa.Table = frame.toArrow()
    with registered(con, "_from_spark", arrow):
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _from_spark ORDER BY {order}")


def score_on_spark(
    spark: SparkSession, con: duckdb.DuckDBPyConnection, model_input: DataFrame,
    model: dict[str, Any], config: Config, records: int,
) -> ScoreReport:
    """Splink predict on Spark; the kept pairs land in ``SCORED_PAIRS`` of ``con`` with the
    columns linkage.model.score writes (gamma and weight per comparison)."""
    api = SparkAPI(spark_session=spark, break_lineage_method="persist")
    model_input.createOrReplaceTempView(_INPUT_VIEW)
    settings = settings_for_prediction(model, config, records)
    # One-sided alternatives as rules of their own, as on DuckDB (linkage.model.rule_split):
    # Spark then filters that side before the join too.
    rules = prediction_rules([rule.sql for rule in config.blocking_rules])
    settings["blocking_rules_to_generate_predictions"] = rules.settings()
    settings = spark_settings(settings)
    level = logging.INFO if logging.getLogger("linkage").isEnabledFor(logging.INFO) else logging.WARNING
    linker = Linker(api.table_to_splink_dataframe(_INPUT_VIEW, _INPUT_VIEW), settings, log_level=level)
    physical = linker.inference.predict().physical_name
    pairs_by_rule = {rule.name: 0 for rule in config.blocking_rules}
    for key, count in spark.sql(f"SELECT match_key, count(*) FROM {physical} GROUP BY match_key").collect():
        pairs_by_rule[config.blocking_rules[rules.origins[int(key)]].name] += int(count)
    present = set(spark.table(physical).columns)
    gamma_sql = gamma_from_weight_sql(linker)
    weights = []
    for name in comparison_names(model):
        weight = f"mw_{name}"
        if f"mw_tf_adj_{name}" in present:
            weight = f"(mw_{name} + coalesce(mw_tf_adj_{name}, 0))"
        weights.append(f"CAST({gamma_sql[name]} AS INT) AS gamma_{name}, {weight} AS w_{name}")
    pairs = spark.sql(f"""
        SELECT least(archive_id_l, archive_id_r) AS archive_id_l,
               greatest(archive_id_l, archive_id_r) AS archive_id_r,
               match_probability, match_weight, {", ".join(weights)}
        FROM {physical}
    """)
    kept = _kept_pairs(pairs, config.thresholds.review_match_probability,
                       config.thresholds.auto_match_probability,
                       newborn_pair_sql(level_codes(model)))
    _to_duckdb(con, kept, SCORED_PAIRS, "archive_id_l, archive_id_r")
    linker.table_management.delete_tables_created_by_splink_from_db()
    spark.catalog.dropTempView(_INPUT_VIEW)
    rows = con.execute(f"SELECT count(*) FROM {SCORED_PAIRS}").fetchall()[0][0]
    return ScoreReport(sum(pairs_by_rule.values()), pairs_by_rule, int(rows), kept_pairs())


def _kept_pairs(pairs: DataFrame, review: float, auto: float, newborn: str) -> DataFrame:
    """The pairs clustering reads: at or above ``review``, a newborn placeholder archive's
    pairs in its household (``newborn``: linkage.newborn.newborn_pair_sql, over the gamma
    columns), and the lower ones between two archives that both have a pair at or above
    ``auto`` (as linkage.model.score keeps).

    The archives with an automatic pair are few (a few per cent of all), so they are
    broadcast to the join rather than shuffled with the pairs."""
    hot_ends = pairs.filter(F.col("match_probability") >= auto)
    hot = F.broadcast(
        hot_ends.select(F.col("archive_id_l").alias("archive_id"))
        .union(hot_ends.select(F.col("archive_id_r").alias("archive_id")))
        .distinct()
    )
    left, right = hot.withColumnRenamed("archive_id", "_hot_l"), hot.withColumnRenamed("archive_id", "_hot_r")
    return (
        pairs.join(left, pairs["archive_id_l"] == left["_hot_l"], "left")
        .join(right, pairs["archive_id_r"] == right["_hot_r"], "left")
        .filter((F.col("match_probability") >= review) | F.expr(newborn)
                | (F.col("_hot_l").isNotNull() & F.col("_hot_r").isNotNull()))
        .drop("_hot_l", "_hot_r")
    )


def link_on_spark(
    spark: SparkSession, con: duckdb.DuckDBPyConnection, input_path: Path, config: Config,
    model: dict[str, Any], human: HumanDecisions, timer: StageTimer, today: date | None = None,
) -> LinkResult:
    """linkage.pipeline.link with standardise and score on Spark."""
    summary = RunSummary(config=config.source, input_file=str(input_path))
    with timer.stage("read"):
        ingested = read_input(con, input_path, config)
    summary.input_rows, summary.archives = ingested.rows_read, ingested.rows_accepted
    summary.rejected_rows, summary.encoding = ingested.rows_rejected, ingested.encoding
    summary.unreadable_birth_dates = ingested.unreadable_birth_dates
    with timer.stage("standardise"):
        raw = spark.createDataFrame(con.table(ingested.raw.name).to_arrow_table())
        shared = ingested.shared_phones
        model_input = standardise(raw, shared, today).persist()
        _to_duckdb(con, model_input, MODEL_INPUT_TABLE, "row_number")
    warn_shared_phones(shared)
    summary.guards["shared_phones"] = shared.as_dict()
    with timer.stage("score"):
        report = score_on_spark(spark, con, model_input, model, config, ingested.rows_accepted)
    model_input.unpersist()
    summary.pairs_compared, summary.pairs_by_rule = report.pairs_compared, report.pairs_by_rule
    archives = NamedTable(MODEL_INPUT_TABLE, "model input, standardised on Spark")
    return cluster_and_count(con, model, config, human, summary, timer,
                             pairs=report.pairs, archives=archives, rejects=ingested.rejects,
                             raw=ingested.raw)


def run_spark(
    input_path: Path | str,
    out_dir: Path | str,
    model_path: Path | str | None = None,
    config_path: Path | str | None = None,
    human: HumanDecisions | None = None,
    show_progress: bool | None = None,
    *,
    spark: SparkSession | None = None,
    today: date | None = None,
) -> RunSummary:
    """linkage.pipeline.run (stateless) on Spark: the same outputs, written the same way.

    ``spark`` defaults to the active session, else a local ``local[*]`` one.
    """
    session = spark or spark_session()

    def link_step(con: duckdb.DuckDBPyConnection, path: Path, config: Config, model: dict[str, Any],
                  human: HumanDecisions, timer: StageTimer) -> LinkResult:
        return link_on_spark(session, con, path, config, model, human, timer, today)

    return run_stateless(input_path, out_dir, model_path, config_path, human, show_progress,
                         link_step)
