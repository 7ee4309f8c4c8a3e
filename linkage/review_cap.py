"""A cap on the review rows of one group of archives, so one resident exported 500 times
does not bury the reviewers under 100k pairs.

A group is a connected component of the review pairs and the clusters: archives that a
chain of review pairs or automatic links ties together.  In a real population a group
holds a few review pairs (twins, namesakes, a household); one resident's 500 archives made
123k, all of them the same question.  When a group has more than ``[limits]
max_review_rows_per_group`` review rows, only that many are listed:

* first the pairs that tie the group's clusters together (strongest first, one per
  cluster joined, as in a spanning tree), so a reviewer's "same" on the listed pairs can
  still join the whole group;
* then the strongest of the rest.

Each listed row of a capped group says so in its ``reason``; summary.json counts the
groups and the rows not listed (``guards.review``), and a warning names each capped group
by its size and county code only.  The rows not listed come back on a later run once
reviewers have decided the listed ones.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from linkage.schema import COUNTY_CODE_WIDTH

log = logging.getLogger(__name__)

_LISTED = 100  # capped groups listed in summary.json (the rest are counted)
_LOGGED = 10


@dataclass(frozen=True)
class CappedGroup:
    archives: int
    review_pairs: int
    listed: int
    county: str  # the county code most of the group's review rows are managed in


@dataclass
class ReviewCapReport:
    """Goes to summary.json under guards.review."""

    max_review_rows_per_group: int
    groups_capped: int = 0
    review_rows_not_listed: int = 0
    groups: list[CappedGroup] = field(default_factory=list)
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = data["groups"][:_LISTED]
        data["groups_not_listed"] = max(0, len(self.groups) - _LISTED)
        return data


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent.setdefault(x, x)
        while parent != x:
            grand = self.parent.setdefault(parent, parent)
            self.parent[x] = grand
            x, parent = parent, grand
        return x

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True


def cap_review_rows(
    decisions: list[dict[str, Any]], person_of: Mapping[str, str], cap: int
) -> tuple[list[dict[str, Any]], ReviewCapReport]:
    """``decisions`` with at most ``cap`` review rows per group, and what was left out.

    ``person_of``: archive -> person of the archives in clusters (any other archive is on
    its own).  Rows other than review rows pass unchanged, in their order.
    """
    report = ReviewCapReport(max_review_rows_per_group=cap)
    review = [d for d in decisions if d["action"] == "review"]
    if len(review) <= cap:
        return decisions, report

    def node(archive: str) -> str:
        person = person_of.get(archive)
        return f"P\x00{person}" if person is not None else f"A\x00{archive}"

    groups = _Union()
    for d in review:
        groups.union(node(d["archive_id"]), node(d["survivor_archive_id"]))
    members: dict[str, list[dict[str, Any]]] = {}
    for d in review:
        members.setdefault(groups.find(node(d["archive_id"])), []).append(d)

    left_out: set[int] = set()
    relabel: dict[int, dict[str, Any]] = {}
    for root in sorted(k for k, rows in members.items() if len(rows) > cap):
        rows = members[root]
        keep = _choose(rows, cap, node)
        archives = len({a for d in rows for a in (d["archive_id"], d["survivor_archive_id"])})
        county = Counter(str(d.get("from_region") or "")[:COUNTY_CODE_WIDTH] for d in rows).most_common(1)[0][0]
        group = CappedGroup(archives=archives, review_pairs=len(rows), listed=len(keep),
                            county=county)
        report.groups.append(group)
        note = (f"{len(keep)} of {len(rows):,} review pairs of a group of {archives:,} "
                "archives listed ([limits] max_review_rows_per_group)")
        kept_ids = {id(d) for d in keep}
        for d in rows:
            if id(d) in kept_ids:
                reason = d.get("reason") or ""
                relabel[id(d)] = {**d, "reason": f"{reason}; {note}" if reason else note}
            else:
                left_out.add(id(d))
    report.groups.sort(key=lambda g: (-g.review_pairs, g.county))
    report.groups_capped = len(report.groups)
    report.review_rows_not_listed = len(left_out)
    if not report.groups_capped:
        return decisions, report
    report.reason = (
        f"groups with more than {cap} review pairs list only {cap}: the pairs that tie the "
        "group's clusters together, then the strongest; the rest return once those are decided")
    for group in report.groups[:_LOGGED]:
        log.warning("review cap: a group of %s archives in county %s has %s review pairs; "
                    "%d listed", f"{group.archives:,}", group.county or "?",
                    f"{group.review_pairs:,}", group.listed)
    if report.groups_capped > _LOGGED:
        log.warning("review cap: %d more groups capped (summary.json counts them)",
                    report.groups_capped - _LOGGED)
    log.warning("review cap: %s review rows not listed in %d groups ([limits] "
                "max_review_rows_per_group = %d)", f"{len(left_out):,}", report.groups_capped, cap)
    out = [relabel.get(id(d), d) for d in decisions if id(d) not in left_out]
    return out, report


def _choose(rows: list[dict[str, Any]], cap: int, node: Any) -> list[dict[str, Any]]:
    """The rows a capped group lists: a spanning forest over its clusters, then the
    strongest of the rest (strongest first, ties by archive numbers)."""
    def strength(d: dict[str, Any]) -> tuple[float, str, str]:
        p = d.get("match_probability")
        return (-(p if p is not None else 0.0), d["archive_id"], d["survivor_archive_id"])

    ordered = sorted(rows, key=strength)
    forest = _Union()
    keep: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for d in ordered:
        if forest.union(node(d["archive_id"]), node(d["survivor_archive_id"])):
            keep.append(d)
            if len(keep) == cap:
                return keep
        else:
            rest.append(d)
    return keep + rest[:cap - len(keep)]
