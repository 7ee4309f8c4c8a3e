"""Households that moved together: a pair whose two archives' addresses are also the
addresses of another candidate pair.

A resident who moved to another county rarely moves alone: a spouse or a child moves with
them, so the old household's address and the new one's hold two candidate pairs, one per
mover.  Two namesakes born on one day in two counties (what an ID-less pair across counties
may also be) would need a second such coincidence in the same two households.  The second
pair is the evidence a reviewer would look for; linkage.decide.moved_with_household says
which pairs it may settle.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pyarrow as pa

from linkage.connection import registered

Pair = tuple[str, str]
_PAIRS = "_comove_pairs"


def moved_together(con: duckdb.DuckDBPyConnection, features: str, pairs: Iterable[Pair]) -> set[Pair]:
    """The pairs (a, b) of ``pairs`` for which another pair (c, d) of ``pairs`` has c at a's
    address and d at b's (a and b at two different addresses), c and d being other people
    than a and b: other names (in pinyin).  Not another archive of a or b: two namesakes
    with a duplicate archive each at their own address would otherwise vouch for each other."""
    return {pair for pair, _ in supporting_pairs(con, features, pairs)}


def supporting_pairs(con: duckdb.DuckDBPyConnection, features: str,
                     pairs: Iterable[Pair]) -> list[tuple[Pair, Pair]]:
    """(pair, another pair that vouches for it), for the pairs of moved_together, in the
    order of ``pairs``; the witness is the first such pair of ``pairs``, oriented like the
    pair it vouches for.  The nightly run joins the two in one scope
    (linkage.state.affected), so that it decides them as a run over everything does.

    One join in DuckDB: the same pairs looked up by their two addresses (the Python loop
    over a few hundred thousand pairs took a second of a 1M run)."""
    pairs = list(pairs)
    if not pairs:
        return []
    table = pa.table({
        "i": pa.array(range(len(pairs)), pa.int64()),
        "a": pa.array([a for a, _ in pairs], pa.string()),
        "b": pa.array([b for _, b in pairs], pa.string()),
    })
    with registered(con, _PAIRS, table):
        rows = con.execute(_SUPPORT_SQL.format(features=features, pairs=_PAIRS, first=_FIRST)).fetchall()
    return [((a, b), (c, d)) for _, a, b, c, d in rows]


# Both orientations of every pair whose two archives have addresses (and names), at two
# different addresses; a pair (a, b) is vouched for by the first other orientation (c, d)
# with c at a's address and d at b's, under other names on both sides.  The first few
# orientations of each address pair are tried first: a witness among them is the first of
# all, and nearly every pair has one there (a pair is excluded only by sharing a name with
# it).  Only the pairs left look further, so thousands of pairs between two coarse
# addresses (a village renamed, no house numbers) are not joined with each other.
_FIRST = 4
_SUPPORT_SQL = """
WITH ends AS (
    SELECT p.i, p.a, p.b, fa.address_norm AS addr_a, fb.address_norm AS addr_b,
           fa.name_py AS name_a, fb.name_py AS name_b
    FROM {pairs} p
    JOIN {features} fa ON fa.archive_id = p.a
    JOIN {features} fb ON fb.archive_id = p.b
    WHERE fa.address_norm IS NOT NULL AND fa.name_py IS NOT NULL
      AND fb.address_norm IS NOT NULL AND fb.name_py IS NOT NULL
      AND fa.address_norm <> fb.address_norm
),
oriented AS (
    SELECT *, row_number() OVER (PARTITION BY addr_c, addr_d ORDER BY i) AS rank
    FROM (SELECT i, a AS c, b AS d, addr_a AS addr_c, addr_b AS addr_d, name_a AS name_c,
                 name_b AS name_d FROM ends
          UNION ALL
          SELECT i, b, a, addr_b, addr_a, name_b, name_a FROM ends)
),
first_found AS (
    SELECT e.i, e.a, e.b, arg_min(o.c, o.i) AS c, arg_min(o.d, o.i) AS d
    FROM ends e
    JOIN oriented o ON o.addr_c = e.addr_a AND o.addr_d = e.addr_b AND o.rank <= {first}
    WHERE o.name_c <> e.name_a AND o.name_d <> e.name_b
    GROUP BY e.i, e.a, e.b
),
later_found AS (
    SELECT e.i, e.a, e.b, arg_min(o.c, o.i) AS c, arg_min(o.d, o.i) AS d
    FROM (SELECT * FROM ends ANTI JOIN first_found USING (i)) e
    JOIN oriented o ON o.addr_c = e.addr_a AND o.addr_d = e.addr_b AND o.rank > {first}
    WHERE o.name_c <> e.name_a AND o.name_d <> e.name_b
    GROUP BY e.i, e.a, e.b
)
SELECT * FROM first_found
UNION ALL
SELECT * FROM later_found
ORDER BY i
"""
