"""Everything the state learns from one night, written in ONE transaction.

Why one transaction: a run killed anywhere — before, during or after this — must leave the
state either exactly as the last night left it, or exactly as this night leaves it, never
in between.  DuckDB rolls an unfinished transaction back when the file is next opened.

A DuckDB transaction may write to one database only, so everything it copies is first put
into small in-memory tables (:func:`_stage`), and the transaction itself only moves rows
from memory into ``st``.  Work is proportional to the night's changes, except on a full
rebuild, which rewrites the archives and pairs tables.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from linkage.connection import registered
from linkage.config import Thresholds
from linkage.crash import crash_point
from linkage.state import db
from linkage.state.affected import KEPT_TABLE_SQL, class_sql
from linkage.state.decision_log import LogUpdate, decision_key
from linkage.state.persons import PersonIndex


@dataclass(frozen=True)
class CommitTables:
    """The names of the night's tables the commit copies from, as the steps that made them
    returned them (linkage.state.changes, .evidence, .affected, linkage.summary)."""

    changes: str  # archive_id, change: new | changed | vanished
    stale: str  # archive_id of changed and vanished archives
    fingerprints: str  # archive_id, fingerprint of tonight's population
    delta: str  # model input rows standardised tonight
    fresh_pairs: str  # pairs scored tonight
    kept_pairs: str  # the pairs clustering read
    human: str  # reviewers' verdicts and un-merges, as applied tonight
    area_history: str  # per-area figures of the night


@dataclass
class NightRecord:
    """What a night hands to the commit."""

    run_id: int
    full: bool
    has_archives: bool  # the state had committed archives before tonight
    started: datetime
    summary: Any  # NightSummary (a dataclass; stored as JSON in ``runs``)
    persons: PersonIndex
    update: LogUpdate
    thresholds: Thresholds
    features_signature: str
    model_signature: str
    # Tonight's whole population, as the nightly run named it (a full night stores it all).
    model_input: str
    tables: CommitTables
    meta: dict[str, str] = field(default_factory=dict)  # further st.meta keys of the night


def commit_night(con: duckdb.DuckDBPyConnection, night: NightRecord, state_path: Path) -> None:
    """Write the night into ``st`` in one transaction (crash point ``commit_mid`` inside)."""
    _stage(con, night)
    run, summary, t = night.run_id, night.summary, night.tables
    with db.transaction(con):
        if night.full:
            con.execute("CREATE OR REPLACE TABLE st.archives AS SELECT * FROM _c_archives")
            con.execute(f"CREATE OR REPLACE TABLE st.pairs AS SELECT * FROM {t.fresh_pairs}")
        else:
            con.execute(f"DELETE FROM st.archives WHERE archive_id IN (SELECT archive_id FROM {t.changes})")
            con.execute("INSERT INTO st.archives BY NAME SELECT * FROM _c_archives")
            con.execute(f"""
                DELETE FROM st.pairs
                WHERE archive_id_l IN (SELECT archive_id FROM {t.stale})
                   OR archive_id_r IN (SELECT archive_id FROM {t.stale})
            """)
            con.execute(f"INSERT INTO st.pairs BY NAME SELECT * FROM {t.fresh_pairs}")
        con.execute(f"""
            DELETE FROM st.persons WHERE archive_id IN (SELECT archive_id FROM _c_person_delta)
               OR archive_id IN (SELECT archive_id FROM {t.changes} WHERE change = 'vanished')
        """)
        con.execute("INSERT INTO st.persons SELECT archive_id, person_id FROM _c_person_delta")
        con.execute("INSERT INTO st.person_ids SELECT person_id, 'active', ?, NULL, NULL "
                    "FROM _c_ids_created", [run])
        con.execute("""
            UPDATE st.person_ids SET status = e.status, ended_run = ?, merged_into = e.merged_into
            FROM _c_ids_ended e WHERE st.person_ids.person_id = e.person_id
        """, [run])
        con.execute("DELETE FROM st.kept")
        con.execute("INSERT INTO st.kept " + KEPT_TABLE_SQL.format(
            cls=class_sql(night.thresholds), pairs=t.kept_pairs))
        con.execute("DELETE FROM st.human")
        con.execute(f"INSERT INTO st.human SELECT archive_id_l, archive_id_r, verdict FROM {t.human}")
        con.execute("INSERT INTO st.decision_log BY NAME SELECT * FROM _c_emitted")
        con.execute("DELETE FROM st.standing WHERE decision_id IN (SELECT decision_id FROM _c_unstand)")
        con.execute("INSERT INTO st.standing BY NAME SELECT * FROM _c_stand")
        con.execute(f"INSERT INTO st.area_history SELECT ?, * FROM {t.area_history}", [run])
        con.execute("INSERT INTO st.runs VALUES (?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            run, night.started, summary.mode, summary.full_reason, summary.input_rows,
            summary.archives, summary.changes.get("new", 0), summary.changes.get("changed", 0),
            summary.changes.get("vanished", 0), summary.pairs_compared, summary.pairs_kept,
            len(night.update.emitted), json.dumps(asdict(summary), ensure_ascii=False, default=str),
        ])
        db.set_meta(con, "next_person_number", str(night.persons.changes.next_number))
        db.set_meta(con, "features_signature", night.features_signature)
        db.set_meta(con, "model_signature", night.model_signature)
        for key, value in sorted(night.meta.items()):
            db.set_meta(con, key, value)
        crash_point("commit_mid")
    db.protect(state_path)


def _stage(con: duckdb.DuckDBPyConnection, night: NightRecord) -> None:
    """The in-memory tables the transaction copies from."""
    run = night.run_id
    old = "st.archives" if night.has_archives else (
        "(SELECT NULL::VARCHAR AS archive_id, NULL::VARCHAR AS fingerprint, "
        "NULL::INTEGER AS first_run, NULL::INTEGER AS changed_run WHERE false)")
    source = night.model_input if night.full else night.tables.delta
    con.execute(f"""
        CREATE OR REPLACE TABLE _c_archives AS
        SELECT m.*, f.fingerprint, coalesce(o.first_run, {run}) AS first_run,
               CASE WHEN o.archive_id IS NULL OR o.fingerprint <> f.fingerprint
                    THEN {run} ELSE o.changed_run END AS changed_run
        FROM {source} m
        JOIN {night.tables.fingerprints} f USING (archive_id)
        LEFT JOIN (SELECT archive_id, fingerprint, first_run, changed_run FROM {old}) o
            USING (archive_id)
    """)
    ids = night.persons.changes
    _table(con, "_c_person_delta", {"archive_id": [a for a, _ in night.persons.delta],
                                    "person_id": [p for _, p in night.persons.delta]})
    _table(con, "_c_ids_created", {"person_id": ids.created})
    ended = [(p, "merged", into) for p, into in ids.merged.items()]
    ended += [(p, "retired", None) for p in ids.retired]
    _table(con, "_c_ids_ended", {"person_id": [e[0] for e in ended], "status": [e[1] for e in ended],
                                 "merged_into": [e[2] for e in ended]})
    db.decision_rows_table(con, night.update.emitted, "_c_emitted")
    keys = [decision_key(d) for d in night.update.stand]
    _table(con, "_c_stand", {"key_kind": [k[0] for k in keys], "key_a": [k[1] for k in keys],
                             "key_b": [k[2] for k in keys],
                             "decision_id": [d["decision_id"] for d in night.update.stand]})
    _table(con, "_c_unstand", {"decision_id": night.update.unstand})


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list[Any]]) -> None:
    """A small in-memory VARCHAR table from Python lists."""
    with registered(con, "_rows", pa.table({c: pa.array(v, pa.string()) for c, v in columns.items()})):
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _rows")
