"""The stateful nightly run: link only what changed since the last run, keep person IDs, emit
only new decisions and corrections, and change the state in one transaction.

    lock → read → changes → standardise (new/changed only) → score (what changed, against
    everyone; stored pairs refreshed) → cluster (affected components) → person IDs →
    decision diff → outputs (pending) → ONE state transaction → publish → review queue

Only the archives whose persons can have changed are re-clustered (linkage.state.affected);
everyone else's person, ID and decisions stand.  A full rebuild (``--full``, the first run,
or a changed model/standardisation) takes the same road with every archive treated as
changed, so both give the same clusters, person IDs and decisions.

``LINKAGE_TEST_CRASH_AT=<stage>`` (see linkage.crash.crash_point) kills the process at a
stage boundary; tests use it to prove a killed run leaves the state as it was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from linkage.blocking_guard import guard_blocking
from linkage.config import Config, load_config
from linkage.human import HumanDecisions
from linkage.errors import InputError, PublishPending
from linkage.ingest import read_input
from linkage.model.features import MODEL_INPUT_TABLE, build_model_input
from linkage.model.shared_phones import (
    NONE_SHARED, SharedPhones, blank_phone_sql, shared_phone_table, warn_shared_phones,
)
from linkage.model.settings import level_codes, load_model_dict
from linkage.newborn import newborn_pair_sql
from linkage.connection import connect_for, id_table, registered
from linkage.contracts import FEATURES_TABLE, RunSummary
from linkage.resolve import cluster_and_decide, comove_seeds
from linkage.shipped import default_model_path
from linkage.crash import crash_point
from linkage.outputs import OutputLock
from linkage.progress import StageTimer
from linkage.review.store import (
    ReviewStore, load_human_decisions, publish_queue, queue_generation, store_path,
)
from linkage.review_items import review_items
from linkage.standardise.table import standardise_table
from linkage.state import db
from linkage.state.affected import HUMAN_TABLE, SCOPE_TABLE, affected_archives, human_table
from linkage.state.changes import detect_changes
from linkage.state.commit import CommitTables, NightRecord, commit_night
from linkage.state.decision_log import RETIRE_ACTIONS, Correction, LogUpdate, diff_decisions
from linkage.state.evidence import full_pairs, incremental_pairs, keep
from linkage.state.lock import StateLock
from linkage.state.persons import NIGHT_PERSONS, PersonIndex, stable_person_ids
from linkage.state.publish import prepare_pending, publish_pending, recover_pending, stage_outputs
from linkage.state.scoring import Scorer
from linkage.state.signatures import features_signature, model_signature
from linkage.state.standing_scores import with_tonights_scores
from linkage.state.unmerge import UnmergeNote, unmerge_links, with_unmerges
from linkage.summary import AREA_HISTORY_TABLE

log = logging.getLogger(__name__)

STATE_ONLY_COLUMNS = ("fingerprint", "first_run", "changed_run")
RESTORED_BY = "linkage-state"  # the "reviewer" of verdicts restored from the state
GUARD_META = "blocking_guard_signature"  # the blocks last night's blocking guard skipped
SHARED_PHONES_META = "shared_phones_signature"  # the numbers last night's model input blanked
SHARED_PHONES_TABLE = "night_shared_phones"  # tonight's set (phone), read by MODEL_INPUT_TABLE
POPULATION_VIEW = "night_population"  # tonight's archives as standardised (what the state keeps)
DELTA_SCORED_VIEW = "night_delta_scored"  # DELTA_TABLE with tonight's shared numbers blank
STORED_SCORED_VIEW = "night_stored_scored"  # st.archives with tonight's shared numbers blank
# This module's own tables (the other night_* tables belong to the state modules that make them).
RAW_DELTA_TABLE = "night_raw_delta"  # raw rows of tonight's new and changed archives
DELTA_TABLE = "night_delta"  # model_input rows of new and changed archives (standardised tonight)
UNCHANGED_VIEW = "night_unchanged"  # tonight's population less the delta: scored against it
SCOPE_PAIRS_TABLE = "night_scope_pairs"  # kept pairs touching a re-clustered archive


@dataclass
class NightSummary(RunSummary):
    """RunSummary plus what a stateful run adds to summary.json."""

    run_id: int = 0
    mode: str = ""  # full | incremental
    full_reason: str = ""
    state: str = ""
    changes: dict[str, int] = field(default_factory=dict)
    pairs_stored: int = 0
    pairs_kept: int = 0
    reclustered: int = 0
    person_ids: dict[str, int] = field(default_factory=dict)
    decisions_emitted: dict[str, int] = field(default_factory=dict)


def run_stateful(
    input_path: Path | str,
    out_dir: Path | str,
    state_path: Path | str,
    model_path: Path | str | None = None,
    config_path: Path | str | None = None,
    *,
    full: bool = False,
    allow_vanished: bool = False,
    human: HumanDecisions | None = None,
    show_progress: bool | None = None,
) -> NightSummary:
    """One night against the state at ``state_path`` (created on first use).

    ``allow_vanished``: accept an export missing more of last night's archives than the
    config's ``[nightly] max_vanished_share`` (otherwise the run stops: a cut-short file
    would retire those residents' person IDs)."""
    config = load_config(config_path)
    model_file = Path(model_path) if model_path else default_model_path()
    model = load_model_dict(model_file)
    with OutputLock(Path(out_dir)), StateLock(state_path), db.owner_only():
        con = connect_for(config)
        try:
            night = _Night(con, config, model, Path(input_path), Path(out_dir), Path(state_path),
                           StageTimer(show=show_progress))
            night.summary.model = str(model_file)
            with db.damage_reported(Path(state_path)):
                return night.run(full, human, allow_vanished)
        finally:
            con.close()


class _Night:
    """The steps of one stateful run, sharing one connection and one summary."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: Config, model: dict[str, Any],
                 input_path: Path, out: Path, state_path: Path, timer: StageTimer) -> None:
        self.con, self.config, self.model = con, config, model
        self.input_path, self.out, self.state_path, self.timer = input_path, out, state_path, timer
        self.summary = NightSummary(config=config.source, state=str(state_path),
                                    input_file=str(input_path))
        self.started = datetime.now(timezone.utc)
        # Set once by run() before the steps that read them.
        self.run_id = 0
        self.has_archives = False  # the state holds archives from an earlier night
        # Tonight's accepted input rows and refused rows, as read_input named them.
        self.raw_table = self.rejects_table = ""
        # The tables tonight's steps made, by the names their results gave (detect_changes,
        # full_pairs / incremental_pairs, keep).
        self.changes_table = self.fingerprints_table = self.stale_table = self.kept_table = ""
        self.fresh_pairs = self.kept_pairs = ""
        self.recovered: list[int] = []  # committed runs whose outputs were published only now
        self.unmerged: dict[tuple[str, str], UnmergeNote] = {}
        self.human = HumanDecisions()  # reviewers' verdicts plus operators' un-merges

    def run(self, full: bool, human: HumanDecisions | None, allow_vanished: bool) -> NightSummary:
        con, summary = self.con, self.summary
        new_state = db.attach_state(con, self.state_path)
        # Runs committed but not published (a crash in between): their outputs are published
        # now, and their decisions are handed over again in tonight's decisions.csv, since
        # tonight's outputs replace theirs before the platform could read them.
        self.recovered = recover_pending(self.out, lambda run: db.run_committed(con, run),
                                         hand_over=True,
                                         queue_generation=lambda: queue_generation(self.out))
        self.run_id = summary.run_id = db.last_run_id(con) + 1
        self.has_archives = db.table_exists(con, "archives")

        with self.timer.stage("read"):
            ingested = read_input(con, self.input_path, self.config)
        self.raw_table, self.rejects_table = ingested.raw.name, ingested.rejects.name
        summary.input_rows, summary.archives = ingested.rows_read, ingested.rows_accepted
        summary.rejected_rows, summary.encoding = ingested.rows_rejected, ingested.encoding
        summary.unreadable_birth_dates = ingested.unreadable_birth_dates
        crash_point("read")

        summary.full_reason = self._full_reason(full, new_state)
        summary.mode = "full" if summary.full_reason else "incremental"
        if summary.full_reason:
            log.info("full rebuild: %s", summary.full_reason)
        with self.timer.stage("changes"):
            changed = detect_changes(con, ingested.raw.name,
                                     "st.archives" if self.has_archives else None, ingested.rejects.name)
        counts = changed.counts
        self.changes_table, self.fingerprints_table = changed.changes.name, changed.fingerprints.name
        self.stale_table, self.kept_table = changed.stale.name, changed.kept.name
        summary.changes = counts.as_dict()
        summary.archives += counts.kept_rejected
        if summary.archives == 0:
            raise InputError(f"{self.input_path}: none of its {summary.input_rows} rows could be "
                             f"used ({_first_reject(con, ingested.rejects.name)}); nothing was changed")
        if not allow_vanished:
            self._check_vanished(counts.vanished)
        self._count_shared_phones(ingested.shared_phones)

        with self.timer.stage("standardise"):
            self._standardise(summary.mode == "full", ingested.raw.name)
        crash_point("standardise")

        with self.timer.stage("score"):
            guard_signature = self._score(summary.mode == "full")
        crash_point("score")

        if human is None:
            human = self._human_decisions()
        self.unmerged = unmerge_links(con)
        self.human = with_unmerges(human, self.unmerged)
        with self.timer.stage("cluster"):
            clustered, fresh = self._cluster(summary.mode == "full")
        crash_point("cluster")

        with self.timer.stage("person_ids"):
            groups: dict[str, list[str]] = {}
            for archive, label in clustered.items():
                groups.setdefault(label, []).append(archive)
            linked = [sorted(m) for m in groups.values() if len(m) > 1]
            group_of = {a: members for members in linked for a in members}
            next_number = int(db.get_meta(con, "next_person_number", "1") or 1)
            persons = stable_person_ids(
                con, linked, next_number, scope=SCOPE_TABLE, current=self.fingerprints_table,
                changes=self.changes_table, has_state=not new_state)
        for d in fresh:
            if d["person_id"]:
                d["person_id"] = persons.person_of[d["archive_id"]]
        with self.timer.stage("decide"):
            decisions, update = self._decide(fresh, persons, group_of)
        self._count(decisions, persons, update)
        crash_point("decide")

        with self.timer.stage("write"):
            pending = prepare_pending(self.out, self.run_id)
            stage_outputs(con, pending, decisions, update.emitted, summary, self.timer,
                          self.recovered, archives=MODEL_INPUT_TABLE, rejects=self.rejects_table)
            # The review queue is prepared before the commit: whatever can fail in it
            # (an archive the queue cannot place) fails while nothing is committed yet.
            items, sizes = self._review_queue(decisions)
        crash_point("stage")

        with self.timer.stage("commit"):
            commit_night(con, NightRecord(
                run_id=self.run_id, full=summary.mode == "full", has_archives=self.has_archives,
                started=self.started, summary=summary, persons=persons, update=update,
                thresholds=self.config.thresholds, features_signature=features_signature(),
                model_signature=model_signature(self.model, self.config),
                model_input=POPULATION_VIEW, meta={GUARD_META: guard_signature,
                                                       SHARED_PHONES_META: self.shared.signature()},
                tables=CommitTables(
                    changes=self.changes_table, stale=self.stale_table,
                    fingerprints=self.fingerprints_table, delta=DELTA_TABLE,
                    fresh_pairs=self.fresh_pairs, kept_pairs=self.kept_pairs,
                    human=HUMAN_TABLE, area_history=AREA_HISTORY_TABLE),
            ), self.state_path)
        crash_point("commit")

        with self.timer.stage("publish"):
            try:
                publish_pending(self.out, pending,
                                on_publish=lambda n: publish_queue(self.out, items, sizes, n),
                                queue_generation=lambda: queue_generation(self.out))
            except Exception as exc:
                raise PublishPending(self.run_id, pending) from exc
        crash_point("publish")
        summary.stage_seconds = dict(self.timer.seconds)
        log.info("run %d (%s): %s; %d archives re-clustered; person IDs %s; emitted %s",
                 self.run_id, summary.mode, summary.changes, summary.reclustered,
                 summary.person_ids, summary.decisions_emitted)
        return summary

    # -- steps ------------------------------------------------------------------------------

    def _human_decisions(self) -> HumanDecisions:
        """Reviewers' standing verdicts from DIR/review.db.  If that store is gone (a new or
        wiped --out), it is first re-created from the verdicts last night applied, kept in
        the state, so a lost folder never lets the engine merge what a reviewer kept apart,
        tonight or any later night."""
        if not store_path(self.out).exists() and self.has_archives:
            rows = self.con.execute(
                "SELECT archive_id_l, archive_id_r, verdict FROM st.human ORDER BY ALL").fetchall()
            if rows:
                log.warning("no review store in %s: restoring the %d verdicts kept in the state",
                            self.out, len(rows))
                with ReviewStore(store_path(self.out)) as store:
                    for a, b, verdict in rows:
                        store.decide((a, b), verdict, RESTORED_BY, source="import",
                                     note="restored from the nightly state: review.db was missing")
        return load_human_decisions(self.out)

    def _check_vanished(self, vanished: int) -> None:
        """Refuse an export that lacks too many of last night's archives (cut short?)."""
        if not vanished:
            return
        stored = int(self.con.execute("SELECT count(*) FROM st.archives").fetchall()[0][0])
        limit = self.config.nightly.max_vanished_share
        if vanished > limit * stored:
            raise InputError(
                f"{self.input_path}: {vanished} of last night's {stored} archives "
                f"({vanished / stored:.1%}) are missing from this export, more than the "
                f"{limit:.0%} allowed ([nightly] max_vanished_share) — is the file cut short? "
                "If these archives really left, run again with --allow-vanished; "
                "nothing was changed")

    def _full_reason(self, full: bool, new_state: bool) -> str:
        if full:
            return "--full"
        if new_state or not self.has_archives:
            return "first run"
        if db.get_meta(self.con, "features_signature") != features_signature():
            return "standardisation changed"
        if db.get_meta(self.con, "model_signature") != model_signature(self.model, self.config):
            return "model or scoring settings changed"
        return ""

    def _count_shared_phones(self, shared: SharedPhones) -> None:
        """Tonight's numbers on too many archives to be a household's, counted over every row
        of the export (linkage.ingest; the archives kept from last night have theirs there).
        The state stores every number as standardised (never blanked), and MODEL_INPUT_TABLE
        blanks tonight's set; stored pairs were scored with last night's set, so a night whose
        set differs rebuilds in full."""
        con, summary = self.con, self.summary
        self.shared = shared
        warn_shared_phones(shared)
        summary.guards["shared_phones"] = shared.as_dict()
        with registered(con, "_night_shared", shared_phone_table(shared)):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {SHARED_PHONES_TABLE} AS SELECT phone FROM _night_shared")
        if summary.mode == "incremental" and db.get_meta(con, SHARED_PHONES_META) != shared.signature():
            summary.mode = "full"
            summary.full_reason = "the phone numbers on too many archives to count changed"
            log.info("full rebuild: %s", summary.full_reason)

    def _standardise(self, full: bool, raw: str) -> None:
        """Standardise tonight's new and changed rows of ``raw`` only (DELTA_TABLE); everyone
        else's features come from the state.  MODEL_INPUT_TABLE is tonight's whole population, as a view:
        consumers read the few columns they need straight from the state file.  DELTA_TABLE and
        POPULATION_VIEW keep every phone number; MODEL_INPUT_TABLE blanks tonight's shared ones."""
        con = self.con
        which = "" if full else (
            f"SEMI JOIN (SELECT archive_id FROM {self.changes_table} WHERE change <> 'vanished') c "
            "USING (archive_id)")
        con.execute(f"CREATE OR REPLACE TABLE {RAW_DELTA_TABLE} AS SELECT r.* FROM {raw} r {which}")
        if con.execute(f"SELECT count(*) FROM {RAW_DELTA_TABLE}").fetchall()[0][0]:
            standardise_table(con, RAW_DELTA_TABLE, FEATURES_TABLE)
            build_model_input(con, FEATURES_TABLE, DELTA_TABLE, shared=NONE_SHARED)
        else:
            con.execute(f"CREATE OR REPLACE TABLE {DELTA_TABLE} AS SELECT * EXCLUDE "
                        f"({', '.join(STATE_ONLY_COLUMNS)}) FROM st.archives LIMIT 0")
        if full and self.has_archives:
            # Archives rejected tonight stay as last standardised (linkage.state.changes).
            con.execute(f"""
                CREATE OR REPLACE VIEW {POPULATION_VIEW} AS
                SELECT * FROM {DELTA_TABLE}
                UNION ALL BY NAME
                SELECT * EXCLUDE ({", ".join(STATE_ONLY_COLUMNS)})
                FROM st.archives SEMI JOIN {self.kept_table} USING (archive_id)
            """)
        elif full:
            con.execute(f"CREATE OR REPLACE VIEW {POPULATION_VIEW} AS SELECT * FROM {DELTA_TABLE}")
        else:
            # Unchanged archives keep their stored features, and the row number they had
            # when they were standardised (nothing downstream reads it).
            con.execute(f"""
                CREATE OR REPLACE VIEW {POPULATION_VIEW} AS
                SELECT * EXCLUDE ({", ".join(STATE_ONLY_COLUMNS)})
                FROM st.archives ANTI JOIN {self.changes_table} USING (archive_id)
                UNION ALL BY NAME
                SELECT * FROM {DELTA_TABLE}
            """)
        # What scoring and clustering read: the numbers of tonight's set blanked (the state
        # keeps them as standardised, so a later night's set blanks them afresh).  With no
        # such number (the usual night) the stored archives are read as they are: the
        # incremental joins are faster on a table than on a view.
        blank = f"* REPLACE ({blank_phone_sql(SHARED_PHONES_TABLE)} AS phone_norm)"
        con.execute(f"CREATE OR REPLACE VIEW {MODEL_INPUT_TABLE} AS SELECT {blank} FROM {POPULATION_VIEW}")
        self.delta_scored, self.stored_scored = DELTA_TABLE, "st.archives"
        if self.shared.phones:
            self.delta_scored, self.stored_scored = DELTA_SCORED_VIEW, STORED_SCORED_VIEW
            con.execute(f"CREATE OR REPLACE VIEW {DELTA_SCORED_VIEW} AS SELECT {blank} FROM {DELTA_TABLE}")
            if self.has_archives:
                con.execute(f"CREATE OR REPLACE VIEW {STORED_SCORED_VIEW} AS SELECT {blank} FROM st.archives")
        con.execute(f"""
            CREATE OR REPLACE VIEW {UNCHANGED_VIEW} AS
            SELECT * FROM {MODEL_INPUT_TABLE} ANTI JOIN {DELTA_TABLE} USING (archive_id)
        """)

    def _score(self, full: bool) -> str:
        """Score tonight's pairs (evidence.NightPairs) and keep those clustering needs; returns the signature of the
        blocks the blocking guard skipped (kept in the state for the next night)."""
        guarded, guard = guard_blocking(self.con, MODEL_INPUT_TABLE, self.config)
        self.summary.guards["blocking"] = guard.as_dict()
        if not full and guard.signature != (db.get_meta(self.con, GUARD_META, "") or ""):
            # Stored pairs were made under other skips: only a full rebuild decides as one.
            full, self.summary.mode = True, "full"
            self.summary.full_reason = "the blocks the blocking guard skips changed"
            log.info("full rebuild: %s", self.summary.full_reason)
        scorer = Scorer(self.con, self.model, guarded, MODEL_INPUT_TABLE)
        try:
            if full:
                pairs = full_pairs(scorer, MODEL_INPUT_TABLE)
            else:
                pairs = incremental_pairs(scorer, self.delta_scored, UNCHANGED_VIEW, self.stale_table,
                                          "st.pairs", self.stored_scored)
            kept = keep(self.con, pairs.all.name, self.config.thresholds,
                        newborn_pair_sql(level_codes(self.model)))
        finally:
            scorer.close()
        self.summary.pairs_compared = scorer.pairs_scored
        self.summary.pairs_by_rule = scorer.pairs_by_rule
        count = lambda table: int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        self.fresh_pairs, self.kept_pairs = pairs.fresh.name, kept.name
        self.summary.pairs_stored = count(pairs.all.name)
        self.summary.pairs_kept = count(kept.name)
        return guard.signature

    def _review_queue(self, decisions: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Every review pair that holds tonight (pairs not handed over go stale in the
        store), with the size of the persons at stake."""
        items = review_items(self.con, decisions, MODEL_INPUT_TABLE, self.raw_table)
        wanted = {a for item in items for a in (item["archive_id_l"], item["archive_id_r"])}
        with registered(self.con, "_wanted", id_table(wanted)):
            sizes = dict(self.con.execute(f"""
                SELECT p.archive_id, s.n FROM {NIGHT_PERSONS} p SEMI JOIN _wanted USING (archive_id)
                JOIN (SELECT person_id, count(*) AS n FROM {NIGHT_PERSONS} GROUP BY person_id) s USING (person_id)
            """).fetchall())
        return items, sizes

    def _cluster(self, full: bool) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """Cluster the archives whose persons may have changed (all of them in a full run);
        returns their cluster labels and decisions (linkage.state.affected explains why the
        rest stand)."""
        con = self.con
        human_table(con, self.human, HUMAN_TABLE)
        if full:
            con.execute(f"CREATE OR REPLACE TABLE {SCOPE_TABLE} AS SELECT archive_id FROM {self.fingerprints_table}")
            human, pairs = self.human, self.kept_pairs
        else:
            scope = affected_archives(con, pairs=self.kept_pairs, human=self.human, human_now=HUMAN_TABLE,
                                      changes=self.changes_table, current=self.fingerprints_table,
                                      thresholds=self.config.thresholds,
                                      always=comove_seeds(con, self.model, self.kept_pairs,
                                                          self.config.thresholds))
            with registered(con, "_scope", id_table(scope)):
                con.execute(f"CREATE OR REPLACE TABLE {SCOPE_TABLE} AS SELECT * FROM _scope")
            human = HumanDecisions(
                frozenset(p for p in self.human.must_links if p[0] in scope and p[1] in scope),
                self.human.cannot_links, self.human.notes)
            pairs = SCOPE_PAIRS_TABLE
            con.execute(f"""
                CREATE OR REPLACE TABLE {pairs} AS SELECT * FROM {self.kept_pairs}
                WHERE archive_id_l IN (SELECT archive_id FROM {SCOPE_TABLE})
                   OR archive_id_r IN (SELECT archive_id FROM {SCOPE_TABLE})
            """)
        self.summary.reclustered = int(con.execute(f"SELECT count(*) FROM {SCOPE_TABLE}").fetchall()[0][0])
        clustered, decisions, stats = cluster_and_decide(
            con, self.model, self.config, human, pairs_table=pairs,
            features_table=MODEL_INPUT_TABLE, all_archives=False)
        self.summary.human_links_refused = stats["human_links_refused"]
        self.summary.guards["review"] = stats["review_cap"]
        self.summary.guards["review_folded"] = stats["review_folded"]
        self.summary.guards["contested_archives"] = stats["contested"]  # in tonight's scope
        return clustered, decisions

    def _decide(self, fresh: list[dict[str, Any]], persons: PersonIndex,
                group_of: dict[str, list[str]]) -> tuple[list[dict[str, Any]], LogUpdate]:
        """Compare the re-clustered archives' decisions with those standing; returns every
        decision that holds tonight (standing ones outside the scope, and ``fresh``), and
        what tonight adds to the decision log."""
        con = self.con
        cursor = con.execute(
            "SELECT l.* FROM st.decision_log l SEMI JOIN st.standing s USING (decision_id)")
        names = [c[0] for c in cursor.description]
        standing = [dict(zip(names, row)) for row in cursor.fetchall()]
        vanished = {r[0] for r in con.execute(
            f"SELECT archive_id FROM {self.changes_table} WHERE change = 'vanished'").fetchall()}
        touched = set(persons.person_of) | vanished
        in_scope = [d for d in standing
                    if d["archive_id"] in touched or d["survivor_archive_id"] in touched]
        outside = [d for d in standing
                   if not (d["archive_id"] in touched or d["survivor_archive_id"] in touched)]
        before = {
            tuple("" if v is None else str(v) for v in row[:-1]): int(row[-1])
            for row in con.execute("""
                SELECT action, archive_id, survivor_archive_id, from_region, to_region,
                       supersedes, count(*)
                FROM st.decision_log GROUP BY ALL
            """).fetchall()
        }
        person_of = persons.person_of

        def explain(retired: str, survivor: str) -> Correction:
            return _explain(retired, survivor, self.human, self.unmerged,
                            group_of.get(survivor, [survivor]))

        update = diff_decisions(fresh, in_scope, before, lambda a: a not in vanished,
                                person_of, explain)
        for seq, row in enumerate(update.emitted, start=1):
            row["run_id"], row["seq"] = self.run_id, seq
        # Standing decisions outside the scope still hold; their person IDs are tonight's.
        retired = [d["archive_id"] for d in outside if d["action"] in RETIRE_ACTIONS]
        now = self._persons_of(retired)
        for d in outside:
            if d["action"] in RETIRE_ACTIONS:
                d["person_id"] = now.get(d["archive_id"], d["person_id"])
        return with_tonights_scores(con, outside, self.kept_pairs, self.model) + fresh, update

    def _persons_of(self, archives: list[str]) -> dict[str, str]:
        with registered(self.con, "_wanted", id_table(archives)):
            return dict(self.con.execute(
                f"SELECT archive_id, person_id FROM {NIGHT_PERSONS} SEMI JOIN _wanted USING (archive_id)"
            ).fetchall())

    def _count(self, decisions: list[dict[str, Any]], persons: PersonIndex, update: LogUpdate) -> None:
        """The summary's counts: every decision and person that holds tonight."""
        s = self.summary
        s.persons, s.clusters = (int(x) for x in self.con.execute(f"""
            SELECT count(*), count(*) FILTER (WHERE n > 1)
            FROM (SELECT person_id, count(*) AS n FROM {NIGHT_PERSONS} GROUP BY person_id)
        """).fetchall()[0])
        s.merges = sum(1 for d in decisions if d["action"] == "merge")
        s.migrations = sum(1 for d in decisions if d["action"] == "migrate")
        s.review_pairs = sum(1 for d in decisions if d["action"] == "review")
        s.human_links_applied = len(self.human.must_links) + len(self.human.cannot_links)
        s.person_ids = persons.changes.counts()
        s.decisions_emitted = update.counts()


def _explain(retired: str, survivor: str, human: HumanDecisions,
             unmerged: dict[tuple[str, str], UnmergeNote], survivor_people: list[str]) -> Correction:
    """Why a retired archive and its survivor are no longer one person."""
    def pair(a: str, b: str) -> tuple[str, str]:
        return (a, b) if a < b else (b, a)

    candidates = [pair(retired, survivor)] + [pair(retired, m) for m in survivor_people if m != retired]
    for p in candidates:
        if p in unmerged:
            note = unmerged[p]
            return Correction("operator", f"un-merged by {note.by}" + (f": {note.reason}" if note.reason else ""))
    for p in candidates:
        if p in human.cannot_links:
            return Correction("reviewer", "reviewer said different people")
    return Correction("engine", "data changed: no longer the same person")


def _first_reject(con: duckdb.DuckDBPyConnection, rejects: str) -> str:
    """The first rejected row, as rejects.csv would show it (row, field, reason; no values)."""
    rows = con.execute(f"SELECT row, field, reason FROM {rejects} ORDER BY row LIMIT 1").fetchall()
    if not rows:
        return "no rows"
    row, column, reason = rows[0]
    return f"first at row {row}, field {column}: {reason}"
