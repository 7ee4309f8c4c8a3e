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

from collections import defaultdict
from collections.abc import Iterable

import duckdb

from linkage.connection import id_table, registered

Pair = tuple[str, str]
_IDS = "_comove_ids"


def moved_together(con: duckdb.DuckDBPyConnection, features: str, pairs: Iterable[Pair]) -> set[Pair]:
    """The pairs (a, b) of ``pairs`` for which another pair (c, d) of ``pairs`` has c at a's
    address and d at b's (a and b at two different addresses), c and d being other people
    than a and b: other names (in pinyin).  Not another archive of a or b: two namesakes
    with a duplicate archive each at their own address would otherwise vouch for each other."""
    return {pair for pair, _ in supporting_pairs(con, features, pairs)}


def supporting_pairs(con: duckdb.DuckDBPyConnection, features: str,
                     pairs: Iterable[Pair]) -> list[tuple[Pair, Pair]]:
    """(pair, another pair that vouches for it), for the pairs of moved_together.  The
    nightly run joins the two in one scope (linkage.state.affected), so that it decides
    them as a run over everything does."""
    pairs = list(pairs)
    ids = {archive for pair in pairs for archive in pair}
    if not ids:
        return []
    with registered(con, _IDS, id_table(ids)):
        rows = con.execute(
            f"SELECT archive_id, address_norm, name_py FROM {features} SEMI JOIN {_IDS} USING (archive_id) "
            "WHERE address_norm IS NOT NULL AND name_py IS NOT NULL").fetchall()
    address = {archive: addr for archive, addr, _ in rows}
    name = {archive: name_py for archive, _, name_py in rows}
    by_addresses: dict[tuple[str, str], list[Pair]] = defaultdict(list)
    for a, b in pairs:
        if a in address and b in address and address[a] != address[b]:
            by_addresses[(address[a], address[b])].append((a, b))
            by_addresses[(address[b], address[a])].append((b, a))
    found = []
    for a, b in pairs:
        if a not in address or b not in address or address[a] == address[b]:
            continue
        for c, d in by_addresses[(address[a], address[b])]:
            if name[c] != name[a] and name[d] != name[b]:
                found.append(((a, b), (c, d)))
                break
    return found
