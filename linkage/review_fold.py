"""One review row per pair of persons: the question a reviewer answers is "are these two
people one?", and it is asked once, however many of their archives pair up.

When archive x scores in the review band with archives a and b, and a and b were joined
automatically (one person), the queue used to hold x-a and x-b: the same question twice,
and a clerk's "same" on either joins all three (a reviewer's link joins the clusters).
Measured at 30,000 persons, seed 202, shipped model: 661 review rows on the independent
generator asked 542 questions, 497 on generator3 452, 142 on the repo synth 131.

The row kept is the most telling one: a row held back by a guard or a cluster rule (its
reason names what to look at: twins, a newborn placeholder, no ID...) before a band row, then the highest match
probability, then the archive IDs (so the same input always keeps the same row, night
after night, and a verdict on it is found again).  A pair of persons that a reviewer has
already told apart (a "different" between any two of their archives) is not asked again:
the clustering never joins them, so the answer would change nothing.

Evaluation counts the folded pairs as found when the kept row is (evaluate.py joins the two
clusters a review row names), and summary.json counts what was folded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from linkage.model.verdicts import BAND_REASON


@dataclass
class ReviewFoldReport:
    """Goes to summary.json under guards.review_folded."""

    rows_in: int = 0
    rows_out: int = 0
    same_persons_folded: int = 0      # rows asking a question another row asks
    reviewer_told_apart: int = 0      # rows between persons a reviewer already separated

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _person(person_of: Mapping[str, str], archive: str) -> str:
    person = person_of.get(archive)
    return f"P\x00{person}" if person is not None else f"A\x00{archive}"


def _telling_first(row: Mapping[str, Any]) -> tuple[int, float, str, str]:
    probability = row.get("match_probability")
    return (1 if row.get("reason") == BAND_REASON else 0,
            -(probability if probability is not None else 0.0),
            str(row["archive_id"]), str(row["survivor_archive_id"]))


def fold_review_rows(
    decisions: list[dict[str, Any]],
    person_of: Mapping[str, str],
    cannot_links: Iterable[tuple[str, str]] = (),
) -> tuple[list[dict[str, Any]], ReviewFoldReport]:
    """``decisions`` with one review row per pair of persons, and what was folded.

    ``person_of``: archive -> person of the archives in clusters (any other archive is a
    person on its own).  ``cannot_links``: pairs reviewers said are different people.
    Rows other than review rows pass unchanged, in their order."""
    review = [d for d in decisions if d["action"] == "review"]
    report = ReviewFoldReport(rows_in=len(review))
    apart = {frozenset((_person(person_of, a), _person(person_of, b))) for a, b in cannot_links}
    kept: dict[frozenset[str], dict[str, Any]] = {}
    for row in sorted(review, key=_telling_first):
        persons = frozenset((_person(person_of, row["archive_id"]),
                             _person(person_of, row["survivor_archive_id"])))
        if persons in apart:
            report.reviewer_told_apart += 1
        elif persons in kept:
            report.same_persons_folded += 1
        else:
            kept[persons] = row
    kept_ids = {id(row) for row in kept.values()}
    out = [d for d in decisions if d["action"] != "review" or id(d) in kept_ids]
    report.rows_out = len(kept)
    return out, report
