"""The stateless run (and the entry point that picks the run): input table -> clusters,
merge/migrate/review decisions, summary.

    read → standardise → model input (linkage.prepare) → score (linkage.model.score)
    → cluster and decide (linkage.resolve) → write (linkage.summary, review queue)

Each step owns its SQL; this module only sequences them, times them and hands the results
to the output writer.  ``run`` is the library entry point the CLI calls; with a state it
hands over to the nightly run (linkage.state.nightly), on Spark to linkage.spark.run.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from linkage import shipped
from linkage.blocking_guard import guard_blocking
from linkage.config import Config, load_config
from linkage.connection import connect_for
from linkage.contracts import LinkResult, NamedTable, RunSummary
from linkage.errors import ConfigError
from linkage.gc_pause import cyclic_gc_paused
from linkage.human import HumanDecisions
from linkage.ingest import missing_input
from linkage.model.labels import load_labels
from linkage.model.score import ScoreReport, score_pairs
from linkage.model.settings import load_model_dict
from linkage.model.train import TrainingReport, learn_on_model, train_model
from linkage.outputs import OutputLock
from linkage.prepare import prepare_model_input
from linkage.progress import StageTimer
from linkage.resolve import cluster_and_decide
from linkage.review.store import load_human_decisions, publish_queue, queue_generation
from linkage.review_items import review_items
from linkage.state.nightly import run_stateful
from linkage.summary import hash_in_background, write_outputs

log = logging.getLogger(__name__)


def default_model_path() -> Path:
    return shipped.default_model_path()


def train(
    input_path: Path | str,
    model_out: Path | str,
    config_path: Path | str | None = None,
    labels_path: Path | str | None = None,
    show_progress: bool | None = None,
    base_path: Path | str | None = None,
) -> TrainingReport:
    """Train a model on an input table (unsupervised, plus reviewer labels if given); with
    ``base_path``, learn the labels on top of that model instead, keeping its m, u and prior."""
    if base_path is not None and labels_path is None:
        raise ConfigError("a base model is for learning verdicts on: give the labels too")
    config = load_config(config_path)
    base = load_model_dict(base_path) if base_path is not None else None
    timer = StageTimer(show=show_progress)
    con = connect_for(config)
    try:
        model_input = prepare_model_input(con, Path(input_path), config, timer).model_input.name
        labels_table = None
        if labels_path is not None:
            labels_table = load_labels(con, Path(labels_path))
        with timer.stage("train"):
            if base is not None and labels_table is not None:
                return learn_on_model(con, model_input, config, Path(model_out), labels_table,
                                      base, Path(base_path).name if base_path else "")
            return train_model(con, model_input, config, Path(model_out), labels_table)
    finally:
        con.close()


def link(
    con: duckdb.DuckDBPyConnection,
    input_path: Path,
    config: Config,
    model: dict[str, Any],
    human: HumanDecisions,
    timer: StageTimer,
) -> LinkResult:
    """Everything up to (not including) writing: returns person ids and decision rows."""
    summary = RunSummary(config=config.source, input_file=str(input_path))
    prepared = prepare_model_input(con, input_path, config, timer)
    ingested = prepared.ingested
    summary.input_rows, summary.archives = ingested.rows_read, ingested.rows_accepted
    summary.rejected_rows, summary.encoding = ingested.rows_rejected, ingested.encoding
    summary.unreadable_birth_dates = ingested.unreadable_birth_dates
    summary.guards["shared_phones"] = prepared.shared_phones.as_dict()
    with timer.stage("score"):
        guarded, guard = guard_blocking(con, prepared.model_input.name, config)
        summary.guards["blocking"] = guard.as_dict()
        report: ScoreReport = score_pairs(con, prepared.model_input.name, model, guarded)
    summary.pairs_compared, summary.pairs_by_rule = report.pairs_compared, report.pairs_by_rule
    hash_in_background(input_path)  # for summary.json, on the core clustering leaves idle
    return cluster_and_count(con, model, config, human, summary, timer, pairs=report.pairs,
                             archives=prepared.model_input, rejects=ingested.rejects,
                             raw=ingested.raw)


def cluster_and_count(con: duckdb.DuckDBPyConnection, model: dict[str, Any], config: Config,
                      human: HumanDecisions, summary: RunSummary, timer: StageTimer, *,
                      pairs: NamedTable, archives: NamedTable, rejects: NamedTable,
                      raw: NamedTable) -> LinkResult:
    """The cluster stage over the scored ``pairs`` of ``archives``, and the counts it puts in
    the summary (shared by the DuckDB and the Spark run, which differ only up to scoring)."""
    with timer.stage("cluster"), cyclic_gc_paused():  # ~10^5 pairs and facts as Python objects
        person_of, decisions, stats = cluster_and_decide(
            con, model, config, human, pairs_table=pairs.name, features_table=archives.name,
            all_archives=False)
    sizes = Counter(person_of.values())
    grouped = {a: p for a, p in person_of.items() if sizes[p] > 1}
    summary.clusters = stats["clusters"]
    summary.persons = summary.archives - len(grouped) + len(set(grouped.values()))
    summary.merges = sum(1 for d in decisions if d["action"] == "merge")
    summary.migrations = sum(1 for d in decisions if d["action"] == "migrate")
    summary.review_pairs = sum(1 for d in decisions if d["action"] == "review")
    summary.human_links_applied = stats["human_links_applied"]
    summary.human_links_refused = stats["human_links_refused"]
    summary.guards["review"] = stats["review_cap"]
    summary.guards["review_folded"] = stats["review_folded"]
    # archives whose links reached two different people: they joined neither (linkage.cluster)
    summary.guards["contested_archives"] = stats["contested"]
    return LinkResult(grouped, decisions, summary, archives, rejects, raw)


def _cluster_sizes(grouped: dict[str, str], items: list[dict[str, Any]]) -> dict[str, int]:
    """Size of the cluster of each archive in a review pair (1 if alone), from the groups in
    memory: reading a million-row clusters.csv back took seconds."""
    sizes = Counter(grouped.values())
    ends = {a for item in items for a in (item["archive_id_l"], item["archive_id_r"])}
    return {a: sizes[grouped[a]] if a in grouped else 1 for a in ends}


def _run_on_spark(input_path: Path | str, out_dir: Path | str, model_path: Path | str | None,
                  config_path: Path | str | None, human: HumanDecisions | None,
                  show_progress: bool | None, *, stateful: bool) -> RunSummary:
    """The Spark backend (linkage.spark), whose pyspark is an optional extra."""
    if stateful:
        raise ConfigError("the nightly state (--state) runs on the duckdb backend only")
    try:
        from linkage.spark.run import run_spark  # pyspark: the optional [spark] extra
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("pyspark", "py4j"):
            raise
        raise ConfigError(
            "the spark backend needs pyspark and Java 17: pip install 'linkage[spark]' "
            f"({exc.name or 'pyspark'} is missing)") from None
    return run_spark(input_path, out_dir, model_path, config_path, human, show_progress)


def run(
    input_path: Path | str,
    out_dir: Path | str,
    model_path: Path | str | None = None,
    config_path: Path | str | None = None,
    human: HumanDecisions | None = None,
    show_progress: bool | None = None,
    *,
    state_path: Path | str | None = None,
    full: bool = False,
    allow_vanished: bool = False,
    backend: str | None = None,
) -> RunSummary:
    """Link ``input_path`` and write clusters.csv, decisions.csv, rejects.csv, summary.json.

    ``backend`` ("duckdb" or "spark"; default: the config's [engine] backend) says where
    standardisation and scoring run; Spark runs are stateless (linkage.spark).

    With ``state_path`` the run is the nightly job (linkage.state.nightly): it links only
    what changed since the last run against the durable state, keeps person IDs stable and
    emits only new decisions and corrections; ``full`` re-scores everything.  Without it,
    every run is independent (stateless).  ``allow_vanished`` lets a stateful run accept
    an export that lacks many of last night's archives (see linkage.state.nightly).
    """
    # Before anything is created (the out folder, its lock, a state's lock): a mistyped
    # input path must leave nothing behind.
    if not Path(input_path).is_file():
        raise missing_input(input_path)
    if (backend or load_config(config_path).engine.backend) == "spark":
        return _run_on_spark(input_path, out_dir, model_path, config_path, human, show_progress,
                             stateful=state_path is not None)
    if state_path is not None:
        return run_stateful(input_path, out_dir, state_path, model_path, config_path,
                            full=full, allow_vanished=allow_vanished, human=human,
                            show_progress=show_progress)
    return run_stateless(input_path, out_dir, model_path, config_path, human, show_progress, link)


LinkStep = Callable[
    [duckdb.DuckDBPyConnection, Path, Config, dict[str, Any], HumanDecisions, StageTimer], "LinkResult"]


def run_stateless(input_path: Path | str, out_dir: Path | str, model_path: Path | str | None,
                  config_path: Path | str | None, human: HumanDecisions | None,
                  show_progress: bool | None, link_step: LinkStep) -> RunSummary:
    """One independent run: lock the out folder, ``link_step`` (read to decide: DuckDB's
    :func:`link`, or Spark's), then publish the set.  The backends differ only in the step."""
    config = load_config(config_path)
    model_file = Path(model_path) if model_path else default_model_path()
    model = load_model_dict(model_file)
    out = Path(out_dir)
    with OutputLock(out):
        if human is None:
            human = load_human_decisions(out)
        timer = StageTimer(show=show_progress)
        con = connect_for(config)
        try:
            result = link_step(con, Path(input_path), config, model, human, timer)
            result.summary.model = str(model_file)
            publish_run(con, out, result, timer)
        finally:
            con.close()
    return result.summary


def publish_run(con: duckdb.DuckDBPyConnection, out: Path, result: LinkResult,
                timer: StageTimer) -> None:
    """The write stage of a stateless run: the output set and its review queue, published
    together (linkage.outputs)."""
    if result.archives is None or result.rejects is None or result.raw is None:
        raise ValueError("a stateless run's result names the archives, raw rows and rejects it wrote from")
    with timer.stage("write"), cyclic_gc_paused():
        items = review_items(con, result.decisions, result.archives.name, result.raw.name)
        sizes = _cluster_sizes(result.person_of, items)
        write_outputs(con, out, result, result.archives.name, result.rejects.name, timer,
                      on_publish=lambda n: publish_queue(out, items, sizes, n),
                      queue_generation=lambda: queue_generation(out))
