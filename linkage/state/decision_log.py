"""Which decisions a stateful run emits: new ones, and corrections of ones that no longer hold.

The platform acts on decisions.csv (retires archives, moves residents between counties), so
a run must never hand it the same instruction twice, and must say so when an instruction it
already gave turns out wrong.  Every run computes the full set of decisions that hold
tonight; this module compares that set with the decisions still *standing* (emitted before
and not superseded) and returns only the difference:

* a decision whose key has no standing decision, or whose content differs from it, is
  emitted (its ``supersedes`` names the standing one it replaces, if any);
* a standing retire decision (merge/migrate of archive X into S) with no counterpart
  tonight is corrected when both archives still exist: ``unmerge`` when X and S are no
  longer the same person, ``correct`` when they are but X is now the survivor;
* when X or S has vanished from the input the decision is taken as carried out (a retired
  archive leaves the export): nothing is emitted;
* a review decision with no counterpart tonight simply stops standing.

Keys: a retire decision stands per retired archive (``archive_id``); a review per pair.
Emitted decisions are never rewritten: the log is append-only, and "standing" is a separate
index the state keeps per key.

``decision_id`` is derived from the decision's content and how many times that exact content
was emitted before (``D`` + 15 hex digits), so the same decision gets the same ID in a
stateless run, in the first stateful run and in a re-run after a crash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

RETIRE_ACTIONS = ("merge", "migrate")
_ORDER = {"unmerge": 0, "correct": 1, "merge": 2, "migrate": 3, "review": 4}
CONTENT_FIELDS = ("action", "archive_id", "survivor_archive_id", "from_region", "to_region", "supersedes")


def decision_key(decision: Mapping[str, Any]) -> tuple[str, str, str]:
    """What a decision stands for: one retire decision per archive, one review per pair."""
    if decision["action"] in RETIRE_ACTIONS:
        return ("retire", decision["archive_id"], "")
    return (decision["action"], decision["archive_id"], decision["survivor_archive_id"])


def content_of(decision: Mapping[str, Any]) -> tuple[str, ...]:
    """The part of a decision the platform acts on (scores and evidence text excluded)."""
    return tuple(str(decision.get(name) or "") for name in CONTENT_FIELDS)


def decision_id(content: tuple[str, ...], ordinal: int = 1) -> str:
    """Stable ID of the ``ordinal``-th emission of ``content``."""
    text = "\x1f".join(content) + f"\x1f#{ordinal}"
    return "D" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:15]


def with_ids(decisions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stateless runs: every decision is a first emission (``supersedes`` empty)."""
    out = []
    for d in decisions:
        row = {**d, "supersedes": d.get("supersedes") or ""}
        row["decision_id"] = decision_id(content_of(row))
        out.append(row)
    return out


@dataclass
class LogUpdate:
    """What tonight adds to the log and how the standing index changes."""

    emitted: list[dict[str, Any]] = field(default_factory=list)
    stand: list[dict[str, Any]] = field(default_factory=list)  # emitted rows that now stand
    unstand: list[str] = field(default_factory=list)  # decision_ids that stop standing

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.emitted:
            counts[row["action"]] = counts.get(row["action"], 0) + 1
        return dict(sorted(counts.items()))


@dataclass(frozen=True)
class Correction:
    """Why a standing retire decision no longer holds: who says so and in what words."""

    decided_by: str
    reason: str


def diff_decisions(
    current: Iterable[dict[str, Any]],
    standing: Iterable[dict[str, Any]],
    emitted_before: Mapping[tuple[str, ...], int],
    archives_now: Callable[[str], bool],
    person_of: Mapping[str, str],
    explain: Callable[[str, str], Correction],
) -> LogUpdate:
    """Tonight's emissions, given every decision that holds now and those standing.

    ``emitted_before``: how often each content was emitted in earlier runs (for the IDs).
    ``archives_now``: whether an archive is in tonight's input.
    ``explain(x, s)``: why retired archive ``x`` and its survivor ``s`` are apart now.
    """
    update = LogUpdate()
    by_key = {decision_key(d): d for d in standing}
    seen: dict[tuple[str, ...], int] = dict(emitted_before)

    def emit(row: dict[str, Any]) -> None:
        content = content_of(row)
        seen[content] = seen.get(content, 0) + 1
        row["decision_id"] = decision_id(content, seen[content])
        update.emitted.append(row)

    for d in sorted(current, key=_sort_key):
        old = by_key.pop(decision_key(d), None)
        if old is not None and content_of({**d, "supersedes": ""}) == content_of({**old, "supersedes": ""}):
            continue  # emitted before and still holds
        row = {**d, "supersedes": old["decision_id"] if old is not None else ""}
        if old is not None:
            update.unstand.append(old["decision_id"])
        emit(row)
        update.stand.append(row)

    for key, old in sorted(by_key.items()):
        update.unstand.append(old["decision_id"])
        if old["action"] not in RETIRE_ACTIONS:
            continue  # a review pair that is no longer in question
        retired, survivor = old["archive_id"], old["survivor_archive_id"]
        if not archives_now(retired):
            continue  # carried out: the retired archive left the export
        if not archives_now(survivor):
            apart, why = False, Correction(
                "engine", "survivor left the export: this archive is now its person's survivor")
        else:
            apart = person_of.get(retired) != person_of.get(survivor)
            why = explain(retired, survivor) if apart else Correction(
                "engine", "survivor changed: this archive is now its person's survivor")
        emit({
            **{k: old.get(k) for k in ("archive_id", "survivor_archive_id", "from_region", "to_region")},
            "action": "unmerge" if apart else "correct",
            "match_probability": None, "match_weight": None, "evidence": "",
            "person_id": person_of.get(retired, ""),
            "decided_by": why.decided_by, "reason": why.reason,
            "supersedes": old["decision_id"],
        })
    update.emitted.sort(key=_sort_key)
    return update


def _sort_key(d: Mapping[str, Any]) -> tuple[int, str, str]:
    return (_ORDER.get(d["action"], 9), d["archive_id"], d["survivor_archive_id"] or "")
