"""The durable state file: an embedded DuckDB database attached to a run as ``st``.

Why DuckDB: the state holds a million archives' features and the pairs between them, and
each night joins tonight's changes against them; DuckDB does that in place, in one file,
with transactions.  A run computes everything in its in-memory connection, then writes the
state in ONE transaction (:func:`transaction`) after its outputs are staged: a run killed at
any point leaves the state exactly as the last committed run left it.

Tables::

    meta            key -> value: schema_version, next_person_number, features_signature,
                    model_signature
    runs            one row per committed run: mode (full|incremental) and why, counts
                    (input, new, changed, vanished, pairs scored and kept, decisions
                    emitted), the summary JSON
    archives        the current archives: every model_input column (standardised features,
                    so unchanged archives are never standardised again) + ``fingerprint``
                    (md5 of the raw input fields), ``first_run``, ``changed_run``
    persons         archive_id -> person_id, current archives only
    person_ids      every person ID ever issued: status active|merged|retired,
                    created_run, ended_run, merged_into (IDs are never reused)
    pairs           pairwise evidence: every pair blocking proposed between current archives
                    (archive_id_l < archive_id_r), AS SCORED: probability, weight, gamma_*
                    and w_* per comparison, tfmax_* (the term frequency it was scored with),
                    prior_weight, match_key.  Refreshed to tonight's term frequencies and
                    prior in memory each night (linkage.state.evidence explains why all
                    pairs, not only the kept ones); rewritten only where archives changed
    decision_log    APPEND-ONLY: every decision ever emitted, with run_id, its order in the
                    run (seq) and ``supersedes``
    standing        derived index: the decision standing per key (a retired archive, or a
                    review pair), so a run emits only what changed
    kept            the pairs last night's clustering saw, and the class of each (how many
                    of the review / automatic / ID-less automatic thresholds it reached)
    human           the reviewer and un-merge links last night's clustering applied
                    (these two tell tonight which persons can have changed:
                    linkage.state.affected)
    area_history    APPEND-ONLY: per night, per county and township, the figures of
                    summary.json a burn-down needs (archives, persons, duplicates, review
                    pairs), written in the night's transaction (linkage report reads it)
    unmerges        operator un-merges: when, who, why, which archive or person
    unmerge_links   the cannot-links each un-merge created (also in the review store)

The file, its WAL and the lock file are created owner-readable only.  Reviewers' verdicts
are NOT here: they live in the review store (``out_dir/review.db``), which reviewers write
concurrently; a run only reads it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from typing import Any

import duckdb
import pyarrow as pa

from linkage.connection import registered
from linkage.errors import StateError

ALIAS = "st"
SCHEMA_VERSION = "1"
OWNER_ONLY = 0o600

_FIXED_TABLES = """
CREATE TABLE IF NOT EXISTS st.meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS st.runs (
    run_id INTEGER PRIMARY KEY, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
    mode VARCHAR, full_reason VARCHAR, input_rows BIGINT, archives BIGINT,
    new_archives BIGINT, changed_archives BIGINT, vanished_archives BIGINT,
    pairs_scored BIGINT, pairs_kept BIGINT, decisions_emitted BIGINT, summary VARCHAR
);
CREATE TABLE IF NOT EXISTS st.persons (archive_id VARCHAR, person_id VARCHAR);
CREATE TABLE IF NOT EXISTS st.person_ids (
    person_id VARCHAR, status VARCHAR, created_run INTEGER, ended_run INTEGER, merged_into VARCHAR
);
CREATE TABLE IF NOT EXISTS st.decision_log (
    decision_id VARCHAR, run_id INTEGER, seq INTEGER, action VARCHAR, archive_id VARCHAR,
    survivor_archive_id VARCHAR, from_region VARCHAR, to_region VARCHAR,
    match_probability DOUBLE, match_weight DOUBLE, evidence VARCHAR, person_id VARCHAR,
    decided_by VARCHAR, reason VARCHAR, supersedes VARCHAR
);
CREATE TABLE IF NOT EXISTS st.standing (
    key_kind VARCHAR, key_a VARCHAR, key_b VARCHAR, decision_id VARCHAR
);
CREATE TABLE IF NOT EXISTS st.unmerges (
    unmerge_id INTEGER PRIMARY KEY, unmerged_at TIMESTAMPTZ, unmerged_by VARCHAR, reason VARCHAR,
    archive_id VARCHAR, person_id VARCHAR, links INTEGER
);
CREATE TABLE IF NOT EXISTS st.kept (
    archive_id_l VARCHAR, archive_id_r VARCHAR, class INTEGER
);
CREATE TABLE IF NOT EXISTS st.human (
    archive_id_l VARCHAR, archive_id_r VARCHAR, verdict VARCHAR
);
CREATE TABLE IF NOT EXISTS st.area_history (
    run_id INTEGER, level VARCHAR, area VARCHAR, archives BIGINT, persons BIGINT,
    duplicate_archives BIGINT, merges BIGINT, migrations_in BIGINT, migrations_out BIGINT,
    review_pairs BIGINT
);
CREATE TABLE IF NOT EXISTS st.unmerge_links (
    unmerge_id INTEGER, archive_id_l VARCHAR, archive_id_r VARCHAR
);
"""

DECISION_LOG_COLUMNS: tuple[str, ...] = (
    "decision_id", "run_id", "seq", "action", "archive_id", "survivor_archive_id",
    "from_region", "to_region", "match_probability", "match_weight", "evidence", "person_id",
    "decided_by", "reason", "supersedes",
)


@contextmanager
def owner_only() -> Iterator[None]:
    """Files created inside (state, WAL, outputs, spill) are readable by the owner only."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _split(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def attach_state(con: duckdb.DuckDBPyConnection, path: Path, *, create: bool = True) -> bool:
    """Attach the state file as ``st``; create its tables if new.  Returns True if it was new.

    Call inside :func:`owner_only` and while holding the :class:`~linkage.state.lock.StateLock`.
    """
    path = Path(path)
    existed = path.exists()
    if not existed and not create:
        raise StateError(f"no state at {path}: run `linkage run ... --state {path}` first")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    quoted = str(path).replace("'", "''")
    try:
        con.execute(f"ATTACH '{quoted}' AS {ALIAS}")
    except duckdb.Error as exc:
        raise open_error(path, exc) from None
    if existed:
        check_whole(con, path)
    tables = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ?", [ALIAS]).fetchall()[0][0]
    if tables:  # else: new, or created by a run that died before its first commit
        try:
            row = con.execute("SELECT value FROM st.meta WHERE key = 'schema_version'").fetchall()
        except duckdb.CatalogException:
            raise StateError(f"{path}: not a linkage state file") from None
        version = row[0][0] if row else None
        if version != SCHEMA_VERSION:
            raise StateError(f"{path}: state schema {version}, this version reads {SCHEMA_VERSION}")
    with transaction(con):  # tables added since the file was made appear empty
        for statement in _split(_FIXED_TABLES):
            con.execute(statement)
        if not tables:
            con.execute("INSERT INTO st.meta VALUES ('schema_version', ?), ('next_person_number', '1')",
                        [SCHEMA_VERSION])
    protect(path)
    return not tables


# DuckDB 2.0 (pinned) lays a database file out as three 4 KiB headers, then its blocks.
_FILE_HEADERS_BYTES = 3 * 4096
RESTORE_ADVICE = (
    "restore it from its backup (README, 'The state file': back it up like the archives) and "
    "run again; without a backup, move it aside: the next run starts a new state and issues "
    "every person ID anew")


def damaged(path: Path, what: str) -> StateError:
    """The error for a state file that is there but broken: it names the file, says what
    is wrong and what to do (a run cannot repair it: the person IDs live only there)."""
    return StateError(f"{path}: the state file is damaged ({what}); {RESTORE_ADVICE}")


def open_error(path: Path, exc: duckdb.Error) -> StateError:
    """A clear error for a state file DuckDB would not open: in use, not readable, or
    damaged (cut short, overwritten, not a database at all)."""
    text = str(exc)
    if "Could not set lock" in text or "Conflicting lock" in text:
        return StateError(f"{path}: the state is in use by another process (a `duckdb` shell?)")
    if "Permission denied" in text:
        return StateError(f"{path}: cannot read the state file (permission denied)")
    if "not a valid DuckDB database" in text:
        return damaged(path, "it is not a DuckDB database")
    if "Could not read enough bytes" in text:
        return damaged(path, f"cut short at {Path(path).stat().st_size:,} bytes")
    if "Corrupt database file" in text:
        return damaged(path, "a block fails its checksum")
    return damaged(path, f"DuckDB cannot open it: {type(exc).__name__}")


def check_whole(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a state file too short to hold the blocks its header says are in use (a copy
    or disk cut short): DuckDB opens it and fails only when a query reaches a missing
    block, deep in a run.  Used blocks, not all: DuckDB cuts free blocks off the end of
    the file but still counts them.  A cut that leaves this many bytes but loses a used
    block behind a free one is caught when it is read (:func:`damage_reported`)."""
    blocks, block_size = con.execute(
        "SELECT used_blocks, block_size FROM pragma_database_size() WHERE database_name = ?",
        [ALIAS]).fetchall()[0]
    expected = _FILE_HEADERS_BYTES + int(blocks) * int(block_size)
    size = Path(path).stat().st_size
    if size < expected:
        con.execute(f"DETACH {ALIAS}")
        raise damaged(path, f"cut short: {size:,} bytes, its blocks in use need {expected:,}")


@contextmanager
def damage_reported(path: Path) -> Iterator[None]:
    """Turn DuckDB's read failures on the state file into :func:`damaged`: a block whose
    checksum fails ("Corrupt database file") or that lies past the file's end.  The state is
    the only database file a run reads, so a corrupt block is the state's."""
    try:
        yield
    except duckdb.Error as exc:
        text = str(exc)
        if "Corrupt database file" in text:
            raise damaged(path, "a block fails its checksum") from None
        named = any(str(p) in text for p in (Path(path).absolute(), Path(path).resolve()))
        if isinstance(exc, duckdb.IOException) and named and "Could not read enough bytes" in text:
            raise damaged(path, "a block lies past the end of the file") from None
        raise


def protect(path: Path) -> None:
    """Narrow the state file and its WAL to 0600 (a guard if they were made elsewhere)."""
    for candidate in (Path(path), Path(str(path) + ".wal")):
        if candidate.exists():
            os.chmod(candidate, OWNER_ONLY)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def get_meta(con: duckdb.DuckDBPyConnection, key: str, default: str | None = None) -> str | None:
    rows = con.execute("SELECT value FROM st.meta WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else default


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("DELETE FROM st.meta WHERE key = ?", [key])
    con.execute("INSERT INTO st.meta VALUES (?, ?)", [key, value])


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
        [ALIAS, table],
    ).fetchall()
    return bool(rows[0][0])


def last_run_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT coalesce(max(run_id), 0) FROM st.runs").fetchall()[0][0])


def run_committed(con: duckdb.DuckDBPyConnection, run_id: int) -> bool:
    return bool(con.execute("SELECT count(*) FROM st.runs WHERE run_id = ?", [run_id]).fetchall()[0][0])


def decision_rows_table(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], name: str) -> None:
    """An in-memory table ``name`` of decision rows in the decision_log's columns."""
    table = pa.table({
        c: pa.array([d.get(c) for d in rows],
                    pa.float64() if c in ("match_probability", "match_weight")
                    else pa.int32() if c in ("run_id", "seq") else pa.string())
        for c in DECISION_LOG_COLUMNS})
    with registered(con, "_decision_rows", table):
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _decision_rows")
