"""The person index in the state: tonight's clusters in, stable person IDs out.

The ID rules (linkage.state.person_ids) only look at the archives re-clustered tonight (the
scope, linkage.state.affected) and at vanished ones; every other archive keeps its person
and its ID without being looked at.  The full index stays in DuckDB (``night_persons``):
a million archive → person rows never pass through Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from linkage.connection import registered
from linkage.state.person_ids import PersonIdChanges, assign_person_ids

NIGHT_PERSONS = "night_persons"  # archive_id, person_id: tonight's full person index


@dataclass
class PersonIndex:
    """Tonight's person of the re-clustered archives, and what changed since the state."""

    person_of: dict[str, str]  # re-clustered (scope) archives only
    changes: PersonIdChanges
    delta: list[tuple[str, str]]  # (archive_id, person_id) rows to (re)write in st.persons


def _pairs(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, str]:
    table = con.sql(sql).to_arrow_table()
    return dict(zip(table.column(0).to_pylist(), table.column(1).to_pylist()))


def _leaving(con: duckdb.DuckDBPyConnection, previous: dict[str, str]) -> dict[str, str]:
    """Archives an operator un-merged (``linkage unmerge ARCHIVE``) that still hold the person
    ID they were un-merged from: they, not the rest of the person, take a new ID when the
    person splits.  Once the archive has another ID the un-merge has been carried out and
    no longer counts; a whole person dissolved (``--person``) names no archive."""
    rows = con.execute(
        "SELECT archive_id, person_id FROM st.unmerges WHERE archive_id IS NOT NULL").fetchall()
    return {a: p for a, p in rows if previous.get(a) == p}


def stable_person_ids(
    con: duckdb.DuckDBPyConnection,
    linked: Sequence[Sequence[str]],
    next_number: int,
    *,
    scope: str,
    current: str,
    changes: str,
    has_state: bool,
) -> PersonIndex:
    """Person IDs for tonight, and NIGHT_PERSONS.

    ``linked``: tonight's persons of two or more archives (all inside the scope); ``scope``:
    a table of the archive_ids re-clustered tonight; ``current``: a table of tonight's
    archive_ids; ``changes``: archive_id, change ('new' | 'changed' | 'vanished').
    """
    linked_ids = [a for members in linked for a in members]
    previous: dict[str, str] = {}
    with registered(con, "_linked_now", pa.table({"archive_id": pa.array(linked_ids, pa.string())})):
        if has_state:
            # Last night's persons of the scope and of vanished archives, all their archives.
            previous = _pairs(con, f"""
                SELECT archive_id, person_id FROM st.persons
                WHERE person_id IN (
                    SELECT person_id FROM st.persons
                    WHERE archive_id IN (SELECT archive_id FROM {scope})
                       OR archive_id IN (SELECT archive_id FROM {changes} WHERE change = 'vanished'))
            """)
        alone = [r[0] for r in con.execute(f"""
            SELECT archive_id FROM {scope} ANTI JOIN _linked_now USING (archive_id)
        """).fetchall()]
    clusters = [list(m) for m in linked] + [[a] for a in alone]
    result = assign_person_ids(clusters, previous, next_number,
                               leaving=_leaving(con, previous) if has_state else None)
    delta = sorted((a, p) for a, p in result.person_of.items() if previous.get(a) != p)
    rows = pa.table({"archive_id": pa.array([d[0] for d in delta], pa.string()),
                     "person_id": pa.array([d[1] for d in delta], pa.string())})
    old = "st.persons" if has_state else "(SELECT ''::VARCHAR AS archive_id, ''::VARCHAR AS person_id WHERE false)"
    with registered(con, "_delta", rows):
        con.execute(f"""
            CREATE OR REPLACE TABLE {NIGHT_PERSONS} AS
            SELECT archive_id, person_id FROM {old}
            WHERE archive_id IN (SELECT archive_id FROM {current})
              AND archive_id NOT IN (SELECT archive_id FROM _delta)
            UNION ALL
            SELECT archive_id, person_id FROM _delta
        """)
    return PersonIndex(result.person_of, result, delta)
