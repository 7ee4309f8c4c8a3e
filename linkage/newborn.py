"""Newborn placeholder archives and the one named archive they can belong to.

A newborn's archive is often opened before the child is named (王芳之子, 婴儿, 王女婴); the
child's later archive carries the given name, the same birth date and the same household
(address or phone).  When exactly one named archive of that birth date lives in that
household, it is the child.  Twins give two such archives, and then only an ID or a
reviewer can say whose placeholder it was (linkage.decide.pair_guard).

Counted on the whole model input, not on the scored pairs: a twin whose pair scored low
(another sex) still makes the placeholder ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pyarrow as pa

_IDS = "_newborn_ids"


def sole_named_archive(con: duckdb.DuckDBPyConnection, features: str,
                       archive_ids: Iterable[str]) -> dict[str, str]:
    """Placeholder archive -> the only named archive with its birth date in its household,
    for those of ``archive_ids`` that are placeholders with exactly one such archive."""
    ids = sorted(set(archive_ids))
    if not ids:
        return {}
    con.register(_IDS, pa.table({"archive_id": pa.array(ids, pa.string())}))
    try:
        rows = con.execute(f"""
            WITH p AS (
                SELECT archive_id, dob_best, address_norm, phone_norm FROM {features}
                SEMI JOIN {_IDS} USING (archive_id)
                WHERE name_placeholder AND dob_best IS NOT NULL
            )
            SELECT p.archive_id, min(f.archive_id)
            FROM p JOIN {features} f
              ON f.dob_best = p.dob_best AND f.archive_id <> p.archive_id
             AND NOT coalesce(f.name_placeholder, false)
             AND (f.address_norm = p.address_norm OR f.phone_norm = p.phone_norm)
            GROUP BY p.archive_id
            HAVING count(DISTINCT f.archive_id) = 1
        """).fetchall()
    finally:
        con.unregister(_IDS)
    return {placeholder: named for placeholder, named in rows}
