"""Which queued pairs are worth a reviewer's time first: a measured rank per pair.

Some patterns the engine queues are almost never one person.  Measured with
benchmarks/review_queue.py on four populations (linkage synth seeds 7 and 11, 100k and 300k
persons; benchmarks/independent/generate.py seeds 7 and 8, 40k and 100k persons; 4,379
queued pairs against the generators' truth; benchmarks/results/review_queue.md):

    class                                                  queued  true matches
    ID agrees (exact, one digit or swap, bad check)           206   88 %
    other pairs without ID agreement                        3,948   68 %
    names one character apart (一字之差), no ID agreement      188   17 %
    surname only (仅同姓), no ID agreement, no newborn name     24    8 %
    reason "valid IDs of two different people"                  7    0 %
    reason "an archive predates the other record's birth"       6    0 %

So the last four are queued last (ranks 2 and 3), not dropped: some still hold true matches,
and dropping pairs is the engine's decision (linkage.decide), not the desk's.  A newborn
placeholder name (王芳之子) never counts as "surname only": the child's later archive carries
a different given name by nature.  ``review stats`` reports the queue by class.
"""

from __future__ import annotations

from typing import Any

from linkage.review.facts import evidence_levels, name_flags

ID_AGREES = frozenset({"id.exact", "id.one_typo", "id.exact_bad_checksum"})

# code -> (rank: lower is shown first, label for listings and stats)
CLASSES: dict[str, tuple[int, str]] = {
    "id_agrees": (0, "ID agrees"),
    "other": (0, "no ID agreement"),
    "one_char_no_id": (2, "names one character apart, no ID agreement"),
    "surname_only_no_id": (3, "surname only, no ID agreement"),
    "ids_two_people": (3, "valid IDs of two different people"),
    "predates_birth": (3, "an archive predates the other's birth"),
}
# The engine's reasons (linkage.cluster, linkage.decide) that were never a true match.
NEVER_REASONS = {"valid IDs of two different people": "ids_two_people",
                 "an archive predates the other record's birth": "predates_birth"}


def classify(evidence: str | None, left: dict[str, Any], right: dict[str, Any],
             reason: str | None = None) -> str:
    """The class code of one queued pair, from the engine's reason, its comparison levels and
    both names."""
    if reason in NEVER_REASONS:
        return NEVER_REASONS[reason]
    levels = evidence_levels(evidence)
    name, id_level = levels.get("name"), levels.get("id")
    if id_level in ID_AGREES:
        return "id_agrees"
    newborn = any(f.startswith("newborn") for side in (left, right) for f in name_flags(side))
    if name == "name.surname_only" and not newborn:
        return "surname_only_no_id"
    if name == "name.one_char":
        return "one_char_no_id"
    return "other"


def rank(code: str) -> int:
    return CLASSES.get(code, (0, code))[0]


def label(code: str) -> str:
    return CLASSES.get(code, (0, code or "unclassified"))[1]
