"""Stable person IDs: who keeps which ID when tonight's clusters differ from last night's.

Other systems file a resident's health records under the person_id, so an ID must stay with
its resident for as long as the resident exists, and must never come back as someone else:

* an archive whose cluster did not change keeps its person's ID;
* clusters that merge keep the OLDER ID (the smaller number: issued earlier); the younger
  IDs end as ``merged`` into it;
* a cluster that splits: the part holding most of the person's archives keeps the ID (ties:
  the part with the smallest archive_id); the other parts get new IDs;
* ...except that an archive an operator un-merged from the person (``linkage unmerge
  ARCHIVE``) is the one that leaves: a part made only of such archives never keeps the ID
  while another part does, whatever the sizes or archive numbers.  Other systems hold the
  ID for the rest of the person; the archive that was wrongly joined takes a new one;
* an ID none of whose archives exists any more ends as ``retired``;
* new IDs come from a counter kept in the state and are never reused.

Pure functions over plain mappings, so the rules are tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

PREFIX = "P"
DIGITS = 10


def format_person_id(number: int) -> str:
    """``P0000000042``: fixed width, so sorting the text sorts by age."""
    return f"{PREFIX}{number:0{DIGITS}d}"


def _age(person_id: str) -> tuple[int, str]:
    """Sort key: older (smaller, issued earlier) IDs first."""
    return (len(person_id), person_id)


@dataclass
class PersonIdChanges:
    """Tonight's person of each archive, and what happened to IDs on the way."""

    person_of: dict[str, str]
    next_number: int
    created: list[str] = field(default_factory=list)
    merged: dict[str, str] = field(default_factory=dict)  # ended ID -> the older ID it joined
    split: list[str] = field(default_factory=list)  # IDs whose archives now form several persons
    retired: list[str] = field(default_factory=list)  # IDs with no archive left

    def counts(self) -> dict[str, int]:
        """The ``person_ids`` section of summary.json."""
        return {
            "created": len(self.created),
            "merged": len(self.merged),
            "split": len(self.split),
            "retired": len(self.retired),
        }


def assign_person_ids(
    clusters: Iterable[Iterable[str]], previous: Mapping[str, str], next_number: int,
    leaving: Mapping[str, str] | None = None,
) -> PersonIdChanges:
    """Give every cluster a person ID, keeping last night's IDs wherever the rules allow.

    ``clusters``: tonight's persons as sets of archive_ids (singletons included).
    ``previous``: last night's person of every archive in ``clusters`` that had one, and of
    every archive that has vanished since; an ID found only among vanished archives retires.
    ``next_number``: the counter; IDs below it were issued before and are never reissued.
    ``leaving``: archive -> the person ID an operator un-merged it from; a part of that
    person made only of such archives does not keep the ID if another part exists.
    """
    leaving = leaving or {}
    groups = [sorted(cluster) for cluster in clusters]
    groups.sort(key=lambda members: members[0])  # deterministic whatever the input order
    # person ID -> {cluster index -> its archives in that cluster}
    parts: dict[str, dict[int, list[str]]] = {}
    for index, members in enumerate(groups):
        for archive in members:
            old = previous.get(archive)
            if old is not None:
                parts.setdefault(old, {}).setdefault(index, []).append(archive)

    claims: dict[int, list[str]] = {}
    split: list[str] = []
    for person_id, by_cluster in parts.items():
        # The larger part keeps the ID; ties go to the part holding the smallest archive_id.
        # Parts that are only un-merged archives leave, unless nothing else is left.
        staying = [i for i in by_cluster
                   if any(leaving.get(a) != person_id for a in by_cluster[i])] or list(by_cluster)
        heir = min(staying, key=lambda i: (-len(by_cluster[i]), by_cluster[i][0]))
        claims.setdefault(heir, []).append(person_id)
        if len(by_cluster) > 1:
            split.append(person_id)

    changes = PersonIdChanges(person_of={}, next_number=next_number, split=sorted(split, key=_age))
    for index, members in enumerate(groups):
        claimed = sorted(claims.get(index, ()), key=_age)
        if claimed:
            person_id = claimed[0]
            for younger in claimed[1:]:
                changes.merged[younger] = person_id
        else:
            person_id = format_person_id(changes.next_number)
            changes.next_number += 1
            changes.created.append(person_id)
        for archive in members:
            changes.person_of[archive] = person_id

    in_use = set(parts)
    changes.retired = sorted({p for p in previous.values() if p not in in_use}, key=_age)
    return changes
