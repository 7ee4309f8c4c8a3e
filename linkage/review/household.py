"""The household view: queued pairs that touch one archive or one household, settled at once.

Three of the first four pairs of a real queue were one archive against different members of
one household (same surname and phone).  Shown one pair at a time, the reviewer answers the
same question three times; shown as a small table of archives, they answer once:
"1,3 same; 2 different".  Each verdict is still stored per pair (the store's rows stay
pairwise, so the engine, stats and training read them as before).

    household(first, candidates)   which other queued pairs join the first one on screen
    archives_of(items)             the archives of a group, numbered 1..n in a stable order
    parse_groups(text, n)          "1,3 same; 2 different" -> person label per archive number
    verdicts(items, numbering, persons)   one same/different per queued pair

Pure functions; the store leases the pairs, the session records the verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from linkage.errors import ReviewError

if TYPE_CHECKING:
    from linkage.review.store import Pair, QueueItem

MAX_ARCHIVES = 6
MAX_PAIRS = 10
SYNTAX = '"1,3 same; 2 different" (archives listed as same are one person; the rest each differ)'


# A dwelling's number: a house or flat number (12号, 301室, 5户) or a number that ends the
# address (3栋2单元502).  An address without one names a village, a group (3组) or a
# building, where many households live.
_DWELLING_RE = re.compile(r"[0-9](?:号|室|户)|[0-9]$")


def _address(record: dict) -> str | None:
    """The record's address_norm (linkage.standardise.address: the same house written 三组十二号
    or 3社12号 reads 3组12号) if it names one dwelling, else None.  A review.db published
    before address_norm was kept has none: its pairs group by archive and phone only, until
    the next run republishes them."""
    norm = record.get("address_norm")
    if not norm or not _DWELLING_RE.search(str(norm)):
        return None
    return str(norm)


def _keys(item: "QueueItem", sides: str = "lr") -> set[tuple[str, ...]]:
    """Household keys of a pair's archives: the phone, and the normalised address (with its
    house number) in its village.  Not the address skeleton: with its numbers blanked,
    龙洞村3组12号 and 龙洞村5组8号 are one skeleton, and a whole village was one household."""
    keys: set[tuple[str, ...]] = set()
    for side in sides:
        record = item.side(side)
        if record.get("phone_norm"):
            keys.add(("phone", str(record["phone_norm"])))
        address = _address(record)
        if address and record.get("region_code"):
            keys.add(("address", str(record["region_code"]), address))
    return keys


def household(first: "QueueItem", candidates: Sequence["QueueItem"]) -> list["QueueItem"]:
    """Queued pairs to show with ``first``: those sharing an archive with the group (followed
    transitively) or touching the first pair's household (same phone or dwelling address),
    in ``candidates`` order, up to MAX_ARCHIVES archives and MAX_PAIRS pairs."""
    archives = set(first.pair)
    keys = _keys(first)
    chosen: list[QueueItem] = []
    changed = True
    while changed:
        changed = False
        for item in candidates:
            if item.pair == first.pair or item in chosen or len(chosen) + 1 >= MAX_PAIRS:
                continue
            new = set(item.pair) - archives
            if len(archives) + len(new) > MAX_ARCHIVES:
                continue
            if set(item.pair) & archives or _keys(item) & keys:
                chosen.append(item)
                archives |= new
                changed = True
    return chosen


def archives_of(items: Sequence["QueueItem"]) -> list[tuple[str, dict]]:
    """(archive_id, display fields) for each archive of the group, numbered by position + 1:
    the first pair's two archives first, then in order of appearance."""
    seen: dict[str, dict] = {}
    for item in items:
        for side, archive in (("l", item.archive_id_l), ("r", item.archive_id_r)):
            if archive not in seen:
                seen[archive] = item.side(side)
    return list(seen.items())


_PART_RE = re.compile(r"^\s*(?P<numbers>[0-9][0-9 ,，、]*)\s*(?P<word>same|s|different|diff|d)?\s*$",
                      re.IGNORECASE)


def parse_groups(text: str, n: int) -> dict[int, int]:
    """Archive number (1..n) -> person label, from the reviewer's line.

    ``1,3 same; 2 different``: 1 and 3 are one person, 2 another; archives not named are each
    a person of their own.  ``1,2,3`` alone means all three are one person.  Several "same"
    groups may be given (``1,2 same; 3,4 same``).  Raises ReviewError on anything else.
    """
    persons = {i: i for i in range(1, n + 1)}
    named: set[int] = set()
    parts = [p for p in re.split(r"[;；]", text or "") if p.strip()]
    if not parts:
        raise ReviewError(f"nothing typed: use {SYNTAX}")
    for part in parts:
        match = _PART_RE.match(part)
        if match is None:
            raise ReviewError(f"cannot read {part.strip()!r}: use {SYNTAX}")
        numbers = [int(x) for x in re.findall(r"[0-9]+", match.group("numbers"))]
        word = (match.group("word") or "same").lower()
        bad = [x for x in numbers if not 1 <= x <= n]
        if bad:
            raise ReviewError(f"no archive {bad[0]} here (1 to {n})")
        again = [x for x in numbers if x in named]
        if again:
            raise ReviewError(f"archive {again[0]} is named twice")
        named.update(numbers)
        if word.startswith("s"):
            if len(numbers) < 2:
                raise ReviewError(f"'same' needs two or more archives: {part.strip()!r}")
            for x in numbers:
                persons[x] = numbers[0]
    return persons


def verdicts(items: Sequence["QueueItem"], numbering: dict[str, int],
             persons: dict[int, int]) -> list[tuple["Pair", str]]:
    """One verdict per queued pair: same when both archives are one person."""
    out = []
    for item in items:
        a, b = numbering[item.archive_id_l], numbering[item.archive_id_r]
        out.append((item.pair, "same" if persons[a] == persons[b] else "different"))
    return out
