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
from linkage.state.affected import HUMAN_TABLE, KEPT_TABLE_SQL, class_sql
from linkage.state.changes import CHANGES_TABLE, DELTA_TABLE, FINGERPRINTS_TABLE, STALE_TABLE
from linkage.state.decision_log import LogUpdate, decision_key
from linkage.state.evidence import FRESH_PAIRS, KEPT_PAIRS
from linkage.state.persons import PersonIndex
from linkage.summary import AREA_HISTORY_TABLE


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
    meta: dict[str, str] = field(default_factory=dict)  # further st.meta keys of the night


def commit_night(con: duckdb.DuckDBPyConnection, night: NightRecord, state_path: Path) -> None:
    """Write the night into ``st`` in one transaction (crash point ``commit_mid`` inside)."""
    _stage(con, night)
    run, summary = night.run_id, night.summary
    with db.transaction(con):
        if night.full:
            con.execute("CREATE OR REPLACE TABLE st.archives AS SELECT * FROM _c_archives")
            con.execute(f"CREATE OR REPLACE TABLE st.pairs AS SELECT * FROM {FRESH_PAIRS}")
        else:
            con.execute(f"DELETE FROM st.archives WHERE archive_id IN (SELECT archive_id FROM {CHANGES_TABLE})")
            con.execute("INSERT INTO st.archives BY NAME SELECT * FROM _c_archives")
            con.execute(f"""
                DELETE FROM st.pairs
                WHERE archive_id_l IN (SELECT archive_id FROM {STALE_TABLE})
                   OR archive_id_r IN (SELECT archive_id FROM {STALE_TABLE})
            """)
            con.execute(f"INSERT INTO st.pairs BY NAME SELECT * FROM {FRESH_PAIRS}")
        con.execute(f"""
            DELETE FROM st.persons WHERE archive_id IN (SELECT archive_id FROM _c_person_delta)
               OR archive_id IN (SELECT archive_id FROM {CHANGES_TABLE} WHERE change = 'vanished')
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
            cls=class_sql(night.thresholds), pairs=KEPT_PAIRS))
        con.execute("DELETE FROM st.human")
        con.execute(f"INSERT INTO st.human SELECT archive_id_l, archive_id_r, verdict FROM {HUMAN_TABLE}")
        con.execute("INSERT INTO st.decision_log BY NAME SELECT * FROM _c_emitted")
        con.execute("DELETE FROM st.standing WHERE decision_id IN (SELECT decision_id FROM _c_unstand)")
        con.execute("INSERT INTO st.standing BY NAME SELECT * FROM _c_stand")
        con.execute(f"INSERT INTO st.area_history SELECT ?, * FROM {AREA_HISTORY_TABLE}", [run])
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
    source = night.model_input if night.full else DELTA_TABLE
    con.execute(f"""
        CREATE OR REPLACE TABLE _c_archives AS
        SELECT m.*, f.fingerprint, coalesce(o.first_run, {run}) AS first_run,
               CASE WHEN o.archive_id IS NULL OR o.fingerprint <> f.fingerprint
                    THEN {run} ELSE o.changed_run END AS changed_run
        FROM {source} m
        JOIN {FINGERPRINTS_TABLE} f USING (archive_id)
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
