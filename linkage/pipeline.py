"""The nightly batch: input table -> clusters, merge/migrate/review decisions, summary.

    read (ingest) → standardise → model input → score (Splink) → cluster → decide → write

Each stage owns its SQL; this module only sequences them, times them and hands the
results to the output writer.  ``run`` is the library entry point the CLI calls.
"""

from __future__ import annotations

import logging
import atexit
from collections import Counter
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from linkage.blocking_guard import guard_blocking
from linkage.cluster import ClusterResult, Edge, constrained_clusters
from linkage import shipped
from linkage.outputs import OutputLock
from linkage.config import Config, load_config
from linkage.errors import ConfigError
from linkage.decide import ArchiveFacts, apart_by_ids, born_before_created, decide_cluster, pair_guard
from linkage.human import HumanDecisions
from linkage.ingest import RAW_TABLE, REJECTS_TABLE, IngestResult, read_input
from linkage.model.features import MODEL_INPUT_TABLE, build_model_input
from linkage.model.score import SCORED_PAIRS, ScoreReport, comparison_names, format_evidence, score_pairs
from linkage.model.settings import level_codes, level_labels, load_model_dict
from linkage.model.verdicts import BAND_REASON, PatternDecision, PatternRules
from linkage.progress import StageTimer
from linkage.csvsafe import neutralise
from linkage.review_cap import cap_review_rows
from linkage.state.decision_log import with_ids
from linkage.standardise.table import standardise_table

if TYPE_CHECKING:
    from linkage.model.train import TrainingReport

log = logging.getLogger(__name__)

FEATURES_TABLE = "features"
DECISION_COLUMNS = (
    "action", "archive_id", "survivor_archive_id", "from_region", "to_region",
    "match_probability", "match_weight", "evidence", "person_id", "decided_by", "reason",
    "decision_id", "supersedes",
)
# decisions.csv: the columns above, then the reviewer's note on the verdict that made a row
# (spreadsheet-safe); the state's decision_log keeps DECISION_COLUMNS only.
DECISION_CSV_COLUMNS = (*DECISION_COLUMNS, "note")


def default_model_path() -> Path:
    return shipped.default_model_path()


@dataclass
class RunSummary:
    """What a run did, in counts and seconds; written (with per-area counts) to summary.json."""

    input_rows: int = 0
    archives: int = 0
    rejected_rows: int = 0
    encoding: str = ""
    pairs_compared: int = 0
    pairs_by_rule: dict[str, int] = field(default_factory=dict)
    clusters: int = 0
    persons: int = 0
    merges: int = 0
    migrations: int = 0
    review_pairs: int = 0
    human_links_applied: int = 0
    # Reviewer "same" verdicts that a "different" verdict on the same people forbade.
    human_links_refused: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    peak_memory_mb: float = 0.0
    model: str = ""
    config: str = ""
    input_file: str = ""
    guards: dict[str, Any] = field(default_factory=dict)  # linkage.blocking_guard, review_cap


@dataclass
class LinkResult:
    """In-memory result of linking, before anything is written."""

    person_of: dict[str, str]  # archives in a group of two or more; any other is alone
    decisions: list[dict[str, Any]]
    summary: RunSummary


SPILL_PREFIX = "linkage-duckdb-"


def connect(threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose spill files are private to this user.

    The spill folder is named after this process, so the next run can remove the folders
    of runs that were killed (they may hold personal data) without touching a live one."""
    _remove_dead_spill_folders()
    spill = tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-")
    os.chmod(spill, 0o700)
    atexit.register(shutil.rmtree, spill, True)  # spill files may hold personal data
    con = duckdb.connect(config={"temp_directory": spill})
    con.execute(f"SET threads = {threads or os.cpu_count() or 2}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    return con


_SPILL_NAME_RE = re.compile(r"(\d+)-[A-Za-z0-9_]+")
_LEGACY_SPILL_AGE_SECONDS = 3600


def connect_for(config: Config) -> duckdb.DuckDBPyConnection:
    """:func:`connect` with the config's ``[engine]`` threads and memory limit."""
    return connect(config.engine.threads or None, config.engine.memory_limit)


def _remove_dead_spill_folders() -> None:
    """Spill folders of our own runs whose process is gone (killed: atexit never ran).

    A folder named ``linkage-duckdb-PID-xxxx`` goes when PID is dead; a folder without a
    PID (written by an older version) only when it is empty and an hour old, so a run of
    that version starting this very moment keeps its folder."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SPILL_PREFIX}*"):
        try:
            info = folder.stat()
        except OSError:
            continue
        if info.st_uid != os.getuid():
            continue
        named = _SPILL_NAME_RE.fullmatch(folder.name[len(SPILL_PREFIX):])
        if named is None:
            if time.time() - info.st_mtime > _LEGACY_SPILL_AGE_SECONDS:
                try:
                    folder.rmdir()
                except OSError:
                    pass
            continue
        try:
            os.kill(int(named.group(1)), 0)
            continue  # alive
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue  # alive under another user


def prepare_model_input(
    con: duckdb.DuckDBPyConnection, input_path: Path, config: Config, timer: StageTimer
) -> IngestResult:
    """read → standardise → model input; shared by ``run`` and ``train``."""
    with timer.stage("read"):
        ingested = read_input(con, input_path, config)
    with timer.stage("standardise"):
        standardise_table(con, RAW_TABLE, FEATURES_TABLE)
        build_model_input(con, FEATURES_TABLE, MODEL_INPUT_TABLE)
    return ingested


def train(
    input_path: Path | str,
    model_out: Path | str,
    config_path: Path | str | None = None,
    labels_path: Path | str | None = None,
    show_progress: bool | None = None,
) -> "TrainingReport":
    """Train a model on an input table (unsupervised, plus reviewer labels if given)."""
    from linkage.model.train import train_model

    config = load_config(config_path)
    timer = StageTimer(show=show_progress)
    con = connect_for(config)
    try:
        prepare_model_input(con, Path(input_path), config, timer)
        labels_table = None
        if labels_path is not None:
            from linkage.model.labels import load_labels

            labels_table = load_labels(con, Path(labels_path))
        with timer.stage("train"):
            return train_model(con, MODEL_INPUT_TABLE, config, Path(model_out), labels_table)
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
    ingested = prepare_model_input(con, input_path, config, timer)
    summary.input_rows, summary.archives = ingested.rows_read, ingested.rows_accepted
    summary.rejected_rows, summary.encoding = ingested.rows_rejected, ingested.encoding
    with timer.stage("score"):
        guarded, guard = guard_blocking(con, MODEL_INPUT_TABLE, config)
        summary.guards["blocking"] = guard.as_dict()
        report: ScoreReport = score_pairs(con, MODEL_INPUT_TABLE, model, guarded)
    summary.pairs_compared, summary.pairs_by_rule = report.pairs_compared, report.pairs_by_rule
    return cluster_and_count(con, model, config, human, summary, timer)


def cluster_and_count(con: duckdb.DuckDBPyConnection, model: dict[str, Any], config: Config,
                      human: HumanDecisions, summary: RunSummary, timer: StageTimer) -> LinkResult:
    """The cluster stage over the scored pairs, and the counts it puts in the summary (shared
    by the DuckDB and the Spark run, which differ only up to scoring)."""
    with timer.stage("cluster"):
        person_of, decisions, stats = cluster_and_decide(
            con, model, config, human, all_archives=False)
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
    return LinkResult(grouped, decisions, summary)


def _cluster_sizes(grouped: dict[str, str], items: list[dict[str, Any]]) -> dict[str, int]:
    """Size of the cluster of each archive in a review pair (1 if alone), from the groups in
    memory: reading a million-row clusters.csv back took seconds."""
    sizes = Counter(grouped.values())
    ends = {a for item in items for a in (item["archive_id_l"], item["archive_id_r"])}
    return {a: sizes[grouped[a]] if a in grouped else 1 for a in ends}


def _register_ids(con: duckdb.DuckDBPyConnection, name: str, ids: Iterable[str]) -> None:
    con.register(name, pa.table({"archive_id": pa.array(sorted(set(ids)), pa.string())}))


def _archive_facts(
    con: duckdb.DuckDBPyConnection, features: str, ids: Iterable[str]
) -> dict[str, ArchiveFacts]:
    """Facts of the given archives only: at 1M archives, fetching everyone's took seconds."""
    _register_ids(con, "_facts_ids", ids)
    rows = con.execute(f"""
        SELECT archive_id, region_code, created_date, last_service_date, coalesce(id_valid, false),
               (name_clean IS NOT NULL)::INT + (sex IS NOT NULL)::INT + (dob IS NOT NULL)::INT
               + (id_norm IS NOT NULL)::INT + (address_norm IS NOT NULL)::INT
               + (phone_norm IS NOT NULL)::INT + (last_service_date IS NOT NULL)::INT,
               dob_best
        FROM {features} SEMI JOIN _facts_ids USING (archive_id)
    """).fetchall()
    con.unregister("_facts_ids")
    return {r[0]: ArchiveFacts(*r) for r in rows}


def _valid_ids(con: duckdb.DuckDBPyConnection, features: str,
               ids: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Checksum-valid IDs of the given archives: those consistent with their own record
    (strong), and all of them."""
    _register_ids(con, "_valid_ids", ids)
    rows = con.execute(
        f"SELECT archive_id, id_norm, coalesce(id_consistent, false) FROM {features} "
        "SEMI JOIN _valid_ids USING (archive_id) WHERE id_valid"
    ).fetchall()
    con.unregister("_valid_ids")
    return {a: i for a, i, strong in rows if strong}, {a: i for a, i, _ in rows}


def _pair_rows(con: duckdb.DuckDBPyConnection, sql: str, names: list[str],
               codes: dict[str, dict[int, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(a, b) -> probability, weight, gammas, per-comparison weights and level codes."""
    k = len(names)
    info: dict[tuple[str, str], dict[str, Any]] = {}
    for row in con.execute(sql).fetchall():
        gammas = dict(zip(names, row[4:4 + k]))
        info[(row[0], row[1])] = {
            "p": float(row[2]), "w": float(row[3]), "gammas": gammas,
            "weights": dict(zip(names, row[4 + k:4 + 2 * k])),
            "levels": {n: codes[n].get(int(g), "") for n, g in gammas.items()},
        }
    return info


def cluster_and_decide(
    con: duckdb.DuckDBPyConnection,
    model: dict[str, Any],
    config: Config,
    human: HumanDecisions,
    *,
    pairs_table: str = SCORED_PAIRS,
    features_table: str = MODEL_INPUT_TABLE,
    all_archives: bool = True,
) -> tuple[dict[str, str], list[dict[str, Any]], dict[str, Any]]:
    """Constrained clustering of scored pairs, then merge/migrate/review rows.

    Only archives that an automatic edge or a reviewer's "same" could join take part in
    the (Python) clustering; every other archive is a person on its own.  The result is the
    same as clustering everyone, at a fraction of the cost: at 1M archives, building a
    Python object per archive and per kept pair dominated the whole run.

    The returned map covers every archive of ``features_table``, or, with
    ``all_archives=False``, only those that took part (any other archive is alone).
    """
    th = config.thresholds
    labels, codes = level_labels(model), level_codes(model)
    names = comparison_names(model)
    columns = ("archive_id_l, archive_id_r, match_probability, match_weight, "
               + ", ".join(f"gamma_{n}" for n in names) + ", " + ", ".join(f"w_{n}" for n in names))
    # Pairs that may join archives or go to review: few, and fetched with their evidence.
    pair_info = _pair_rows(con, f"""
        SELECT {columns} FROM {pairs_table}
        WHERE match_probability >= {th.review_match_probability!r}
        ORDER BY archive_id_l, archive_id_r
    """, names, codes)
    auto_pairs = [pair for pair, info in pair_info.items()
                  if info["p"] >= th.auto_match_probability and not human.decided(*pair)]
    review_candidates = [pair for pair, info in pair_info.items()
                         if info["p"] < th.auto_match_probability and not human.decided(*pair)
                         and not apart_by_ids(info["levels"])]
    present = _present(con, features_table, {a for pair in human.must_links for a in pair})
    must_links = [pair for pair in sorted(human.must_links) if pair[0] in present and pair[1] in present]
    facts = _archive_facts(con, features_table, {a for pair in auto_pairs + review_candidates + must_links
                                                 for a in pair})

    def guard(pair: tuple[str, str], probability: float) -> str:
        return pair_guard(pair_info[pair]["levels"], probability, th.auto_match_probability_without_id,
                          born_before_created(facts[pair[0]], facts[pair[1]]))

    # Patterns reviewers consistently settled (model.verdicts): join or stop queueing.  What
    # a learned "same" may overrule is judged on the pair's guard without the thresholds
    # (a twin-looking pair stays with the reviewers whatever its score).
    learned_rules = PatternRules.from_model(model)
    learned: dict[tuple[str, str], PatternDecision] = {}

    def learned_decision(pair: tuple[str, str], reason: str) -> PatternDecision | None:
        if not learned_rules.counts:
            return None
        return learned_rules.decide(pair_info[pair]["levels"], reason, guard(pair, 1.0))

    for pair in review_candidates:
        decision = learned_decision(pair, BAND_REASON)
        if decision is not None:
            learned[pair] = decision
    review_candidates = [pair for pair in review_candidates if pair not in learned]
    learned_auto = [pair for pair in sorted(learned) if learned[pair].action == "auto"]
    involved = ({a for pair in auto_pairs for a in pair} | {a for pair in must_links for a in pair}
                | {a for pair in learned_auto for a in pair})

    edges: list[Edge] = []
    for a, b in auto_pairs:
        info = pair_info[(a, b)]
        reason = guard((a, b), info["p"])
        if reason:
            decision = learned_decision((a, b), reason)
            if decision is not None:
                learned[(a, b)] = decision
                reason = "" if decision.action == "auto" else reason
        edges.append(Edge(a, b, info["p"], auto_eligible=not reason, guard_reason=reason))
    edges += [Edge(a, b, pair_info[(a, b)]["p"], auto_eligible=True) for a, b in learned_auto]
    # Low-scoring pairs matter only between archives that could end up in one group.
    _register_ids(con, "_involved", involved)
    clearly_different = [
        (a, b) for a, b in con.execute(f"""
            SELECT archive_id_l, archive_id_r FROM {pairs_table}
            WHERE match_probability < {th.review_match_probability!r}
              AND archive_id_l IN (SELECT archive_id FROM _involved)
              AND archive_id_r IN (SELECT archive_id FROM _involved)
        """).fetchall()
        if not human.decided(a, b)
    ]
    con.unregister("_involved")

    strong_ids, valid_ids = _valid_ids(con, features_table, involved)
    result: ClusterResult = constrained_clusters(
        archives=sorted(involved),
        edges=edges,
        strong_ids=strong_ids,
        cannot_links=human.cannot_links,
        must_links=must_links,
        clearly_different=clearly_different,
        max_size=th.max_auto_cluster_size,
        valid_ids=valid_ids,
    )
    members: dict[str, list[str]] = {}
    for archive, root in sorted(result.root_of.items()):
        members.setdefault(root, []).append(archive)
    groups = {root: group for root, group in members.items() if len(group) > 1}
    person_of: dict[str, str] = {}
    if all_archives:
        person_of = {a: f"P{a}" for (a,) in con.execute(f"SELECT archive_id FROM {features_table}").fetchall()}
    person_of.update({archive: f"P{root}" for archive, root in result.root_of.items()})
    pair_info.update(_pairs_within_groups(con, pairs_table, columns, groups, names, codes))

    def evidence(a: str, b: str) -> tuple[float | None, float | None, str]:
        info = pair_info.get((a, b) if a < b else (b, a))
        if info is None:
            return None, None, "reviewer decision (pair not scored this run)"
        text = format_evidence(labels, info["gammas"], info["weights"])
        note = learned.get((a, b) if a < b else (b, a))
        if note is not None:
            text = f"{text}; {note.note()}"
        return round(info["p"], 6), round(info["w"], 3), text

    decisions: list[dict[str, Any]] = []
    human_same = human.must_links
    for root, group in groups.items():
        group_facts = [facts[a] for a in group]
        for d in decide_cluster(group_facts):
            # The evidence of this very pair when it was scored; otherwise of the link that
            # brought the archive in, saying so (a chain never passes off as a direct match).
            direct = tuple(sorted((d.archive_id, d.survivor_archive_id)))
            best = d.survivor_archive_id if direct in pair_info else _best_partner(
                d.archive_id, group, pair_info)
            prob, weight, text = evidence(d.archive_id, best)
            if best != d.survivor_archive_id:
                text = f"via {best}: {text}"
            human_pairs = [pair for other in group if (
                pair := (d.archive_id, other) if d.archive_id < other else (other, d.archive_id)
            ) in human_same]
            by_human = bool(human_pairs)
            note = "; ".join(human.notes[p] for p in human_pairs if human.notes.get(p))
            decisions.append({
                "action": d.action, "archive_id": d.archive_id,
                "survivor_archive_id": d.survivor_archive_id,
                "from_region": d.from_region, "to_region": d.to_region,
                "match_probability": prob, "match_weight": weight, "evidence": text,
                "person_id": person_of[d.archive_id],
                "decided_by": "reviewer" if by_human else "engine", "reason": "",
                "note": neutralise(note),
            })

    review_reasons: dict[tuple[str, str], str] = {
        pair: BAND_REASON for pair in review_candidates
    }
    for edge, reason in result.refused:
        pair = (edge.left, edge.right)
        if pair in learned and learned[pair].action == "drop":
            continue  # reviewers consistently said "different" to this pattern
        if not apart_by_ids(pair_info.get(pair, {}).get("levels", {})):
            review_reasons.setdefault(pair, reason)
    for (a, b), reason in sorted(review_reasons.items()):
        if a in person_of and person_of.get(a) == person_of.get(b):
            continue  # already joined through stronger pairs
        prob, weight, text = evidence(a, b)
        decisions.append({
            "action": "review", "archive_id": a, "survivor_archive_id": b,
            "from_region": facts[a].region_code, "to_region": facts[b].region_code,
            "match_probability": prob, "match_weight": weight, "evidence": text,
            "person_id": "", "decided_by": "engine", "reason": reason,
        })
    decisions, capped = cap_review_rows(decisions, person_of, config.limits.max_review_rows_per_group)
    order = {"merge": 0, "migrate": 1, "review": 2}
    decisions.sort(key=lambda d: (order[d["action"]], d["archive_id"], d["survivor_archive_id"]))
    stats = {
        "clusters": len(groups),
        "learned_auto": sum(1 for d in learned.values() if d.action == "auto"),
        "learned_drop": sum(1 for d in learned.values() if d.action == "drop"),
        "human_links_applied": len(human.must_links) + len(human.cannot_links),
        "human_links_refused": len(result.must_links_refused),
        "review_cap": capped.as_dict(),
    }
    if result.must_links_refused:
        log.warning("%d reviewer 'same' verdict(s) not applied: another verdict says the two "
                    "groups hold different people (archives %s)", len(result.must_links_refused),
                    "; ".join(f"{a}/{b}" for a, b in result.must_links_refused[:10]))
    return person_of, with_ids(decisions), stats


def _present(con: duckdb.DuckDBPyConnection, features: str, ids: set[str]) -> set[str]:
    """Which of ``ids`` are archives of this run (reviewers' links may name vanished ones)."""
    if not ids:
        return set()
    _register_ids(con, "_maybe_present", ids)
    rows = con.execute(
        f"SELECT archive_id FROM {features} SEMI JOIN _maybe_present USING (archive_id)").fetchall()
    con.unregister("_maybe_present")
    return {r[0] for r in rows}


def _pairs_within_groups(
    con: duckdb.DuckDBPyConnection, pairs_table: str, columns: str, groups: dict[str, list[str]],
    names: list[str], codes: dict[str, dict[int, str]],
) -> dict[tuple[str, str], dict[str, Any]]:
    """Every scored pair inside a multi-archive group, whatever its score (for evidence)."""
    if not groups:
        return {}
    con.register("_group_of", pa.table({
        "archive_id": pa.array([a for g in groups.values() for a in g], pa.string()),
        "root": pa.array([r for r, g in groups.items() for _ in g], pa.string()),
    }))
    info = _pair_rows(con, f"""
        SELECT {", ".join("p." + c.strip() for c in columns.split(","))}
        FROM {pairs_table} p
        JOIN _group_of gl ON gl.archive_id = p.archive_id_l
        JOIN _group_of gr ON gr.archive_id = p.archive_id_r
        WHERE gl.root = gr.root
    """, names, codes)
    con.unregister("_group_of")
    return info


def _best_partner(archive: str, group: list[str], pair_info: dict) -> str:
    """The cluster member this archive is most strongly linked to (for its evidence)."""
    best, best_p = group[0] if group[0] != archive else group[-1], -1.0
    for other in group:
        if other == archive:
            continue
        info = pair_info.get((archive, other) if archive < other else (other, archive))
        if info is not None and info["p"] > best_p:
            best, best_p = other, info["p"]
    return best


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
    if (backend or load_config(config_path).engine.backend) == "spark":
        return _run_on_spark(input_path, out_dir, model_path, config_path, human, show_progress,
                             stateful=state_path is not None)
    if state_path is not None:
        from linkage.state.nightly import run_stateful

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
    from linkage.review.store import load_human_decisions

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
    from linkage.review.store import publish_queue, queue_generation
    from linkage.review_items import review_items
    from linkage.summary import write_outputs

    with timer.stage("write"):
        items = review_items(con, result.decisions, MODEL_INPUT_TABLE)
        sizes = _cluster_sizes(result.person_of, items)
        write_outputs(con, out, result, MODEL_INPUT_TABLE, REJECTS_TABLE, timer,
                      on_publish=lambda n: publish_queue(out, items, sizes, n),
                      queue_generation=lambda: queue_generation(out))
