"""The review session as a state machine: keys in, screens out, decisions in the store."""

from __future__ import annotations

import pytest

from linkage.review.session import Mode, Session
from linkage.review.store import QueueFilter, ReviewStore, publish_queue, store_path


def item(a: str, b: str, p: float, county: str = "110105") -> dict:
    out = {"archive_id_l": a, "archive_id_r": b, "match_probability": p, "match_weight": 0.5,
           "evidence": "name=一致 +8.0", "reason": "score between review and automatic thresholds"}
    for side in ("l", "r"):
        out.update({f"{side}_name": "测试乙", f"{side}_id_number": "110105195003040011",
                    f"{side}_phone": "13900001111", f"{side}_county": county,
                    f"{side}_township": county + "001", f"{side}_region_code": county + "001201"})
    return out


@pytest.fixture
def store(tmp_path):
    # Closest to 0.5 first: A (0.51), B (0.60), C (0.90).
    publish_queue(tmp_path, [item("C1", "C2", 0.90), item("A1", "A2", 0.51), item("B1", "B2", 0.60)])
    with ReviewStore(store_path(tmp_path)) as s:
        yield s


def verdicts(store: ReviewStore) -> dict:
    return {pair: d.verdict for pair, d in store.standing().items()}


def test_walks_the_queue_in_order_and_records_each_decision(store):
    session = Session(store, "r1")
    screen = session.start()
    assert (screen.mode, screen.item.pair, screen.available) == (Mode.PAIR, ("A1", "A2"), 2)
    screen = session.press("s")
    assert verdicts(store) == {("A1", "A2"): "same"}  # committed before the next screen
    assert screen.item.pair == ("B1", "B2") and "recorded" in screen.message
    screen = session.press("d")
    assert screen.item.pair == ("C1", "C2")
    screen = session.press("s")
    assert screen.mode is Mode.EMPTY and screen.item is None and screen.decided == 3
    assert verdicts(store) == {("A1", "A2"): "same", ("B1", "B2"): "different", ("C1", "C2"): "same"}
    assert session.press("q").mode is Mode.DONE


def test_undo_takes_back_the_last_decision_and_shows_that_pair_again(store):
    session = Session(store, "r1")
    session.start()
    session.press("s")
    screen = session.press("d")  # B different; C on screen
    screen = session.press("u")
    assert screen.item.pair == ("B1", "B2") and "undone" in screen.message
    assert verdicts(store) == {("A1", "A2"): "same"}
    screen = session.press("u")
    assert screen.item.pair == ("A1", "A2") and verdicts(store) == {}
    assert session.press("u").message == "nothing to undo"
    assert [d.verdict for d in store.history()] == ["same", "different", "undone", "undone"]
    # The pair C that was on screen went back to the queue, free for anyone.
    assert store.item(("C1", "C2")).claimed_by is None


def test_note_is_saved_with_the_next_decision(store):
    session = Session(store, "r1")
    session.start()
    screen = session.press("n")
    assert screen.mode is Mode.NOTE
    screen = session.enter_note("  same phone, new address  ")
    assert screen.mode is Mode.PAIR and screen.note == "same phone, new address"
    session.press("d")
    assert store.history()[-1].note == "same phone, new address"
    screen = session.press("n")
    screen = session.enter_note("")
    assert screen.message == "note cancelled" and screen.note == ""


def test_skip_moves_on_returns_next_session_and_can_be_undone(store):
    session = Session(store, "r1")
    session.start()
    screen = session.press("k")
    assert screen.item.pair == ("B1", "B2") and screen.skipped == 1
    assert verdicts(store) == {}
    assert store.history()[-1].verdict == "skip"
    screen = session.press("u")
    assert screen.item.pair == ("A1", "A2") and screen.skipped == 0
    session.press("k")
    session.press("s")
    screen = session.press("s")
    assert screen.mode is Mode.EMPTY and screen.skipped == 1
    session.press("q")
    again = Session(store, "r1")
    assert again.start().item.pair == ("A1", "A2")  # the skipped pair is back


def test_help_unknown_keys_and_quit_release_the_pair(store):
    session = Session(store, "r1")
    session.start()
    screen = session.press("?")
    assert screen.mode is Mode.HELP
    screen = session.press("x")  # any key leaves help
    assert screen.mode is Mode.PAIR and screen.item.pair == ("A1", "A2")
    assert "unknown key" in session.press("z").message
    assert store.item(("A1", "A2")).claimed_by == "r1"
    screen = session.press("q")
    assert screen.mode is Mode.DONE
    assert store.item(("A1", "A2")).claimed_by is None
    assert session.press("s").mode is Mode.DONE
    assert verdicts(store) == {}


def test_resumes_where_the_reviewer_stopped(store):
    first = Session(store, "r1")
    first.start()
    first.press("s")
    first.press("q")
    second = Session(store, "r1")
    assert second.start().item.pair == ("B1", "B2")


def test_two_sessions_see_different_pairs(store):
    one, two = Session(store, "r1"), Session(store, "r2")
    a, b = one.start(), two.start()
    assert a.item.pair != b.item.pair
    assert b.held_by_others == 1


def test_filters_and_size_order(tmp_path):
    publish_queue(tmp_path, [item("A1", "A2", 0.5, "110105"), item("B1", "B2", 0.9, "110106")])
    with ReviewStore(store_path(tmp_path)) as store:
        session = Session(store, "r1", queue_filter=QueueFilter(counties=("110106",)))
        screen = session.start()
        assert screen.item.pair == ("B1", "B2") and screen.available == 0
        assert session.press("s").mode is Mode.EMPTY


def test_reveal_is_audited_per_pair_shown_and_masked_sessions_are_not(store):
    Session(store, "r1").start()
    assert store.audit_log() == []
    session = Session(store, "r2", reveal=True)
    session.start()
    session.press("s")
    log = store.audit_log()
    assert [(r[1], r[2]) for r in log] == [("r2", "reveal"), ("r2", "reveal")]
    assert {(r[3], r[4]) for r in log} == {("B1", "B2"), ("C1", "C2")}  # A is held by r1
