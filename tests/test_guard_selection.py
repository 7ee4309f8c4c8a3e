"""The guard's choice of blocks to drop, walked over block sizes, equals the plain rule it
replaced: every group of blocks ordered largest first (ties by first hash, then members),
a group dropped while it is over the block limit or the bound minus the pairs of every
group before it is still over the budget (one window over millions of groups at 5M)."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.blocking_guard import _BLOCKS, _dropped_sizes, _select

REFERENCE = f"""
    WITH g AS (SELECT members, n, any_value(pairs) AS pairs, min(key_hash) AS first_hash
               FROM {_BLOCKS} GROUP BY members, n),
         ranked AS (SELECT *, coalesce(sum(pairs) OVER (ORDER BY pairs DESC, first_hash, members
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
                    FROM g),
         chosen AS (SELECT members, n FROM ranked WHERE pairs > $limit OR $bound - before > $budget)
    SELECT b.unit, b.key_hash FROM {_BLOCKS} b JOIN chosen c USING (members, n)
"""

blocks = st.lists(
    st.tuples(st.integers(0, 3),              # unit
              st.integers(0, 40),             # key hash
              st.integers(2, 9),              # archives
              st.integers(0, 12)),            # members (the same archives share it)
    max_size=40)


@settings(max_examples=60, deadline=None)
@given(blocks, st.integers(0, 40), st.integers(0, 200))
def test_dropped_blocks_are_those_of_the_window_rule(rows, block_limit, budget):
    con = duckdb.connect()
    con.execute(f"CREATE TEMP TABLE {_BLOCKS} (unit INTEGER, key_hash UBIGINT, n BIGINT, "
                "pairs HUGEINT, members UBIGINT)")
    seen = set()
    for unit, key_hash, n, members in rows:
        if (unit, key_hash) in seen:
            continue  # a key set's blocks have distinct hashes
        seen.add((unit, key_hash))
        con.execute(f"INSERT INTO {_BLOCKS} VALUES (?, ?, ?, ?, ?)",
                    [unit, key_hash, n, n * (n - 1) // 2, members])
    estimated = int(con.execute(f"SELECT coalesce(sum(pairs), 0) FROM {_BLOCKS}").fetchone()[0])
    repeated = int(con.execute(f"""SELECT coalesce(sum(pairs * (copies - 1)), 0) FROM
        (SELECT any_value(pairs) AS pairs, count(*) AS copies FROM {_BLOCKS} GROUP BY members, n)""").fetchone()[0])
    expected = sorted(con.execute(REFERENCE, {"limit": block_limit, "bound": estimated - repeated,
                                              "budget": budget}).fetchall())
    bound, dropped = _select(con, block_limit, budget, estimated)
    assert bound == estimated - repeated
    assert sorted((b.unit, b.key_hash) for b, _ in dropped) == expected
    assert all(why == ("block limit" if b.pairs > block_limit else "total limit") for b, why in dropped)


def _walk(groups: list[int], block_limit: int, excess: int) -> list[int]:
    """The plain rule over single groups (pairs of each, already largest first): the
    indices dropped."""
    dropped, before = [], 0
    for i, pairs in enumerate(groups):
        if pairs > block_limit or excess - before > 0:
            dropped.append(i)
        before += pairs
    return dropped


@settings(max_examples=400, deadline=None)
@given(st.lists(st.integers(1, 60), max_size=60), st.integers(0, 70), st.floats(0, 1.2))
def test_the_walk_over_sizes_drops_what_the_walk_over_groups_drops(pairs, block_limit, share):
    groups = sorted(pairs, reverse=True)
    excess = int(sum(groups) * share) - int(sum(groups) * 0.1)  # budget a share of the bound
    sizes = [(p, groups.count(p)) for p in sorted(set(groups), reverse=True)]
    floor, partial = _dropped_sizes(sizes, block_limit, excess)
    chosen = [i for i, p in enumerate(groups) if floor is not None and p >= floor]
    if partial is not None:
        size, take = partial
        chosen += [i for i, p in enumerate(groups) if p == size][:take]
    assert sorted(chosen) == _walk(groups, block_limit, excess)
