"""One review row per pair of persons (linkage.review_fold), and that a run asks each
question once."""

from __future__ import annotations

from linkage.model.verdicts import BAND_REASON
from linkage.review_fold import fold_review_rows

TWINS = "names one character apart (twins?)"


def _row(a: str, b: str, p: float | None, reason: str = BAND_REASON, action: str = "review") -> dict:
    return {"action": action, "archive_id": a, "survivor_archive_id": b,
            "match_probability": p, "reason": reason}


def _pairs(rows: list[dict]) -> list[tuple[str, str]]:
    return [(d["archive_id"], d["survivor_archive_id"]) for d in rows if d["action"] == "review"]


def test_one_row_per_pair_of_persons_keeps_the_strongest():
    rows = [_row("a1", "P", None, "", "merge"), _row("x", "a1", 0.7), _row("x", "a2", 0.9),
            _row("y", "a1", 0.6)]
    kept, report = fold_review_rows(rows, {"a1": "P1", "a2": "P1"})
    assert _pairs(kept) == [("x", "a2"), ("y", "a1")]
    assert kept[0] is rows[0]  # other rows pass unchanged, in order
    assert (report.rows_in, report.rows_out, report.same_persons_folded) == (3, 2, 1)


def test_a_guarded_row_is_kept_before_a_band_row():
    """The guard's reason names what to look at (twins): the reviewer must see it."""
    rows = [_row("x", "a1", 0.95), _row("x", "a2", 0.6, TWINS)]
    kept, _ = fold_review_rows(rows, {"a1": "P1", "a2": "P1"})
    assert [d["reason"] for d in kept] == [TWINS]


def test_two_persons_of_other_archives_are_two_questions():
    rows = [_row("x", "a1", 0.7), _row("x", "b1", 0.7), _row("a1", "b1", 0.6)]
    kept, report = fold_review_rows(rows, {})
    assert len(kept) == 3 and report.same_persons_folded == 0


def test_persons_a_reviewer_told_apart_are_not_asked_again():
    rows = [_row("x", "a2", 0.8), _row("y", "a2", 0.8)]
    kept, report = fold_review_rows(rows, {"a1": "P1", "a2": "P1"}, cannot_links=[("a1", "x")])
    assert _pairs(kept) == [("y", "a2")] and report.reviewer_told_apart == 1


def test_the_kept_row_does_not_depend_on_input_order():
    rows = [_row("x", "a1", 0.8), _row("x", "a2", 0.8), _row("a3", "x", 0.8)]
    person_of = {"a1": "P1", "a2": "P1", "a3": "P1"}
    first = _pairs(fold_review_rows(rows, person_of)[0])
    assert first == _pairs(fold_review_rows(rows[::-1], person_of)[0]) == [("a3", "x")]
