"""``linkage unmerge``: separate an archive from its person (or dissolve a person) for good.

An automatic merge is an automated decision on health records (PIPL Art. 24): it must be
reversible by a person, and the reversal must stick.  An un-merge therefore:

* records who, when and why in the state (``unmerges``) and the cannot-links it creates
  (``unmerge_links``): the archive against every other archive of its person, or, with
  ``--person``, every pair of the person's archives;
* writes the same cannot-links into the review store as reviewer "different" verdicts with a
  note, so the next run — which reads reviewers' verdicts from there — keeps them apart, and
  a reviewer can still see, and deliberately reverse, them;
* changes nothing else: the next run re-clusters, gives the separated archive a new person
  ID (the rest of the person keeps its ID: linkage.state.person_ids, "leaving") and emits an
  ``unmerge`` row for every merge it emitted that no longer holds.

The state's copy of the links is applied by the run too, for pairs the review store has no
verdict on (a lost or replaced out folder must not undo an un-merge).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path

import duckdb

from linkage.connection import connect
from linkage.errors import StateError
from linkage.outputs import OutputLock
from linkage.human import HumanDecisions
from linkage.review.store import ReviewStore, queue_generation, store_path
from linkage.state.db import attach_state, damage_reported, owner_only, run_committed, transaction
from linkage.state.lock import StateLock
from linkage.state.publish import recover_pending


@dataclass(frozen=True)
class UnmergeResult:
    unmerge_id: int
    person_id: str
    archives: int  # archives separated
    links: int  # cannot-links recorded


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def unmerge(
    state_path: Path | str,
    out_dir: Path | str,
    *,
    archive_id: str | None = None,
    person_id: str | None = None,
    reason: str = "",
    by: str = "",
) -> UnmergeResult:
    """Separate ``archive_id`` from its person, or dissolve ``person_id`` (exactly one)."""
    if (archive_id is None) == (person_id is None):
        raise StateError("name exactly one archive (ARCHIVE_ID) or one person (--person)")
    by = (by or "").strip()
    if not by or len(by) > 64:
        raise StateError("say who un-merges (--by NAME, 1 to 64 characters)")
    state_path = Path(state_path)
    if not state_path.exists():
        raise StateError(f"no state at {state_path}: run `linkage run ... --state` first")
    with OutputLock(Path(out_dir)), StateLock(state_path), owner_only(), damage_reported(state_path):
        con = connect(threads=1)
        try:
            attach_state(con, state_path, create=False)
            recover_pending(Path(out_dir), lambda run: run_committed(con, run),
                            queue_generation=lambda: queue_generation(Path(out_dir)))
            person, members = _members(con, archive_id, person_id)
            if archive_id is not None:
                links = sorted(_pair(archive_id, m) for m in members if m != archive_id)
            else:
                links = sorted(_pair(a, b) for a, b in combinations(sorted(members), 2))
            if not links:
                raise StateError(
                    f"archive {archive_id} is alone in its person: nothing to un-merge"
                    if archive_id is not None else f"person {person_id} has one archive only")
            # The state's record first: it alone keeps them apart if we die before the
            # review store has the verdicts (the run applies the state's un-merge links
            # wherever reviewers have not decided), and it says who and why.
            unmerge_id = _record(con, by, reason, archive_id, person, links)
            note = f"unmerge: {reason}".strip() if reason else "unmerge"
            with ReviewStore(store_path(out_dir)) as store:
                standing = store.standing()
                for pair in links:
                    current = standing.get(pair)
                    if current is None or current.verdict != "different":
                        store.decide(pair, "different", by, note=note, source="cli")
        finally:
            con.close()
    return UnmergeResult(unmerge_id, person, 1 if archive_id else len(members), len(links))


def _members(con: duckdb.DuckDBPyConnection, archive_id: str | None,
             person_id: str | None) -> tuple[str, list[str]]:
    if archive_id is not None:
        rows = con.execute("SELECT person_id FROM st.persons WHERE archive_id = ?", [archive_id]).fetchall()
        if not rows:
            raise StateError(f"archive {archive_id} is not in the state")
        person_id = rows[0][0]
    members = [r[0] for r in con.execute(
        "SELECT archive_id FROM st.persons WHERE person_id = ? ORDER BY archive_id", [person_id]
    ).fetchall()]
    if not members:
        ended = con.execute("SELECT status, merged_into FROM st.person_ids WHERE person_id = ?",
                            [person_id]).fetchall()
        if ended and ended[0][1]:
            raise StateError(f"person {person_id} was merged into {ended[0][1]}: un-merge there")
        raise StateError(f"person {person_id} is not in the state"
                         + (f" ({ended[0][0]})" if ended else ""))
    return str(person_id), members


def _record(con: duckdb.DuckDBPyConnection, by: str, reason: str, archive_id: str | None,
            person_id: str, links: list[tuple[str, str]]) -> int:
    with transaction(con):
        unmerge_id = int(con.execute(
            "SELECT coalesce(max(unmerge_id), 0) + 1 FROM st.unmerges").fetchall()[0][0])
        con.execute("INSERT INTO st.unmerges VALUES (?, ?, ?, ?, ?, ?, ?)", [
            unmerge_id, datetime.now(timezone.utc), by, reason, archive_id, person_id, len(links)])
        con.executemany("INSERT INTO st.unmerge_links VALUES (?, ?, ?)",
                        [[unmerge_id, a, b] for a, b in links])
    return unmerge_id


@dataclass(frozen=True)
class UnmergeNote:
    by: str
    reason: str


def unmerge_links(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], UnmergeNote]:
    """Every cannot-link an un-merge created (the latest un-merge's note per pair)."""
    rows = con.execute("""
        SELECT l.archive_id_l, l.archive_id_r, u.unmerged_by, u.reason
        FROM st.unmerge_links l JOIN st.unmerges u USING (unmerge_id)
        ORDER BY u.unmerge_id
    """).fetchall()
    return {(a, b): UnmergeNote(by, reason or "") for a, b, by, reason in rows}


def with_unmerges(human: HumanDecisions, links: dict[tuple[str, str], UnmergeNote]) -> HumanDecisions:
    """Reviewers' verdicts, plus the un-merge cannot-links the review store has no verdict on."""
    extra = frozenset(pair for pair in links if not human.decided(*pair))
    if not extra:
        return human
    return HumanDecisions(human.must_links, human.cannot_links | extra, human.notes)
