"""A real terminal (pexpect pty): single keypresses, quitting, and being killed mid-session."""

from __future__ import annotations

import signal
import sqlite3
import sys
from datetime import timedelta

import pexpect
import pytest

from linkage.review.store import ReviewStore, new_token, publish_queue, store_path, utc_now


def item(a: str, b: str, p: float) -> dict:
    out = {"archive_id_l": a, "archive_id_r": b, "match_probability": p, "match_weight": 0.1,
           "evidence": "name=一致 +8.0", "reason": "score between review and automatic thresholds"}
    for side in ("l", "r"):
        out.update({f"{side}_name": "测试丁", f"{side}_id_number": "110105195003040011",
                    f"{side}_phone": "13900001111", f"{side}_county": "110105",
                    f"{side}_region_code": "110105001201"})
    return out


@pytest.fixture
def run_dir(tmp_path):
    publish_queue(tmp_path, [item("A1", "A2", 0.51), item("B1", "B2", 0.6), item("C1", "C2", 0.7)])
    return tmp_path


def spawn(run_dir, reviewer: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable, ["-m", "linkage.review", "--run", str(run_dir), "--reviewer", reviewer],
        cwd=str(run_dir), dimensions=(50, 140), encoding="utf-8", timeout=20,
    )


def test_decide_one_pair_with_a_keypress_and_quit(run_dir):
    child = spawn(run_dir, "tty-reviewer")
    child.expect("pair A1 / A2")
    child.expect(r"\[q\]uit")
    child.send("s")  # one keypress, no Enter
    child.expect("pair B1 / B2")
    child.expect("recorded #1: A1 / A2 same")
    child.send("q")
    child.expect("bye: 1 decisions recorded")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    with ReviewStore(store_path(run_dir)) as store:
        standing = store.standing()
        assert {p: (d.verdict, d.reviewer, d.source) for p, d in standing.items()} == {
            ("A1", "A2"): ("same", "tty-reviewer", "session")}
        assert store.item(("B1", "B2")).claimed_by is None  # quitting gave it back


def test_killing_a_session_loses_nothing_decided(run_dir):
    child = spawn(run_dir, "killed")
    child.expect("pair A1 / A2")
    child.expect(r"\[q\]uit")
    child.send("d")
    child.expect("pair B1 / B2")  # drawn only after A1/A2 was committed
    child.expect(r"\[q\]uit")
    child.kill(signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close(force=True)
    assert child.signalstatus == signal.SIGKILL

    con = sqlite3.connect(store_path(run_dir))
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    with ReviewStore(store_path(run_dir)) as store:
        assert {p: d.verdict for p, d in store.standing().items()} == {("A1", "A2"): "different"}
        # Only the pair on screen is in limbo: leased to the dead session until the lease ends.
        assert store.item(("B1", "B2")).claimed_by == "killed"
        assert store.claim_next("next", new_token()).pair == ("C1", "C2")
    later = ReviewStore(store_path(run_dir), clock=lambda: utc_now() + timedelta(minutes=11))
    with later:
        assert later.claim_next("later", new_token()).pair == ("B1", "B2")


def test_two_reviewer_processes_at_once_get_different_pairs(run_dir):
    one = spawn(run_dir, "first")
    one.expect(r"pair (\w+) / (\w+)")
    first_pair = (one.match.group(1), one.match.group(2))
    one.expect(r"\[q\]uit")
    two = spawn(run_dir, "second")
    two.expect(r"pair (\w+) / (\w+)")
    second_pair = (two.match.group(1), two.match.group(2))
    two.expect(r"\[q\]uit")
    assert first_pair != second_pair
    for child in (one, two):
        child.send("s")
        child.expect("recorded #")
        child.send("q")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    with ReviewStore(store_path(run_dir)) as store:
        standing = store.standing()
    assert standing[first_pair].reviewer == "first"
    assert standing[second_pair].reviewer == "second"
    assert len(standing) == 2
