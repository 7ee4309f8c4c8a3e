"""A real terminal (pexpect pty): single keypresses, quitting, and being killed mid-session."""

from __future__ import annotations

import signal
import subprocess
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


# -- the screen as a reviewer sees it: a terminal emulator (pyte) behind the pty -------------

import time  # noqa: E402

import pyte  # noqa: E402

from linkage.standardise.id_number import check_digit  # noqa: E402


def valid_id(body17: str) -> str:
    return body17 + check_digit(body17)


ID_A = valid_id("62080219670417002")  # encodes 1967-04-17; A's record says 1966-03-31
ID_B = valid_id("62080219920509004")
HOUSE_PHONE = "13909330021"


def person(out: dict, s: str, name: str, sex: str, born: str, id_number: str, phone: str,
           region: str = "620802001003") -> None:
    out.update({f"{s}_name": name, f"{s}_sex": sex, f"{s}_birth_date": born, f"{s}_id_number": id_number,
                f"{s}_id_status": "valid" if id_number else "blank", f"{s}_phone": phone,
                f"{s}_phone_norm": phone, f"{s}_region_code": region, f"{s}_county": region[:6],
                f"{s}_township": region[:9], f"{s}_address": "甘肃省平凉市崆峒区中街街道民主路5号1单元301室",
                f"{s}_address_skeleton": "中街街道民主路#号#单元#室", f"{s}_created_date": "20201009",
                f"{s}_last_service_date": "2024-01-31"})


def queued(a: str, b: str, p: float, left: tuple, right: tuple, evidence: str, reason: str) -> dict:
    out = {"archive_id_l": a, "archive_id_r": b, "match_probability": p, "match_weight": 1.2,
           "evidence": evidence, "reason": reason}
    person(out, "l", *left)
    person(out, "r", *right)
    return out


A = ("王桂英", "2", "1966-03-31", ID_A, HOUSE_PHONE)
B = ("王桂英", "女", "1992-05-09", ID_B, HOUSE_PHONE)
C = ("王秀兰", "女", "1900-01-01", "", HOUSE_PHONE)
EVIDENCE = ("name=一致 +1.8; id=均有效但不同 -2.0; dob=不同 -8.1; sex=一致 +1.0; "
            "location=同址同电话 +13.2")
SAME_HOUSE = "name=形近字 +2.0; id=空 0; dob=不同 -8.1; sex=一致 +1.0; location=同址同电话 +13.2"
A_ID, B_ID, C_ID = "62080200100300001", "62080200100300002", "62080200100300003"


def _terminal_env() -> dict[str, str]:
    """The environment without COLUMNS/LINES, which would override the pty's real size."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    return env


class Terminal:
    """A review session in a pty of a given size, read through a VT100 emulator."""

    def __init__(self, run_dir, reviewer: str, rows: int, cols: int, *extra: str) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.child = pexpect.spawn(
            sys.executable, ["-m", "linkage.review", "--run", str(run_dir), "--reviewer", reviewer, *extra],
            cwd=str(run_dir), dimensions=(rows, cols), timeout=20, env=_terminal_env())

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, needle: str, timeout: float = 20) -> str:
        """Feed output to the emulator until ``needle`` is on screen (and output settles)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.stream.feed(self.child.read_nonblocking(65536, timeout=0.2))
            except pexpect.TIMEOUT:
                if needle in self.text():
                    return self.text()
            except pexpect.EOF:
                if needle in self.text():
                    return self.text()
                raise AssertionError(f"{needle!r} never shown:\n{self.text()}") from None
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not on screen:\n{self.text()}")

    def send(self, keys: str) -> None:
        self.child.send(keys)

    def quit(self) -> None:
        self.child.send("q")
        self.child.expect(pexpect.EOF)
        self.child.close()


@pytest.fixture
def desk(tmp_path):
    publish_queue(tmp_path, [queued(A_ID, B_ID, 0.62, A, B, EVIDENCE, "names differ")])
    return tmp_path


@pytest.fixture
def household_desk(tmp_path):
    reason = "score between review and automatic thresholds"
    publish_queue(tmp_path, [
        queued(A_ID, B_ID, 0.55, A, B, SAME_HOUSE, reason),
        queued(A_ID, C_ID, 0.58, A, C, SAME_HOUSE, reason),
        queued(B_ID, C_ID, 0.60, B, C, SAME_HOUSE, reason),
    ])
    return tmp_path


def test_80x24_keeps_the_header_and_shows_the_decisive_fact_masked(desk):
    term = Terminal(desk, "wang", 24, 80)
    screen = term.wait_for("[q]uit")
    lines = term.screen.display
    assert lines[0].startswith(f"pair {A_ID} / {B_ID}")
    assert "ID encodes 1967-04-17 ≠" in screen  # without --reveal
    assert ID_A not in screen.replace(" ", "") and HOUSE_PHONE not in screen
    assert "620802********" in screen and "139****0021" in screen
    assert "2 → 女" in screen and "20201009" not in screen or "2020-10-09" in screen
    assert "evidence 1-" in screen  # the panel says it scrolls: it does not fit
    term.send("\x1b[B")  # arrow down: only the evidence panel moves
    screen = term.wait_for("evidence 2-")
    assert term.screen.display[0].startswith(f"pair {A_ID}")
    assert "[q]uit" in screen
    term.quit()
    assert term.child.exitstatus == 0


def test_200x50_shows_the_whole_pair_and_evidence_without_scrolling(desk):
    term = Terminal(desk, "wang", 50, 200)
    screen = term.wait_for("[q]uit")
    assert term.screen.display[0].startswith(f"pair {A_ID} / {B_ID}")
    assert "ID encodes 1967-04-17 ≠ record (1 y 17 d apart)" in screen, screen
    assert "location=同址同电话 +13.2" in screen and "evidence 1-" not in screen
    assert "甘肃省平凉市崆峒区中街街道民主路5号1单元301室" in screen  # the address in one line
    term.quit()


def test_80x24_household_settled_in_one_step(household_desk):
    term = Terminal(household_desk, "wang", 24, 80)
    screen = term.wait_for("[q]uit")
    assert term.screen.display[0].startswith("household: 3 archives, 3 pairs")
    for number, archive in ((1, A_ID), (2, B_ID), (3, C_ID)):
        assert f"{number}  {archive}" in screen
    assert "1: ⚑ ID encodes 1967-04-17 ≠ record" in screen
    assert "3: ⚑ placeholder birth date" in screen
    term.send("s")
    term.wait_for("which archives are one person?")
    term.send("1,3 same; 2 different\r")
    screen = term.wait_for("recorded #1-#3: 3 pairs (1 same, 2 different)")
    assert "Nothing left to review here." in screen
    term.quit()
    with ReviewStore(store_path(household_desk)) as store:
        assert {p: (d.verdict, d.reviewer) for p, d in store.standing().items()} == {
            (A_ID, B_ID): ("different", "wang"), (A_ID, C_ID): ("same", "wang"),
            (B_ID, C_ID): ("different", "wang")}


def test_the_same_reviewer_reopening_after_kill_9_gets_their_pair_back(household_desk):
    first = Terminal(household_desk, "wang", 24, 80, "--reveal")
    first.wait_for("[q]uit")
    first.child.kill(signal.SIGKILL)
    first.child.close(force=True)
    other = Terminal(household_desk, "li", 24, 80)
    screen = other.wait_for("Nothing left")  # the whole household is still leased to wang
    assert "3 with others" in screen
    other.quit()
    again = Terminal(household_desk, "wang", 24, 80)
    again.wait_for("[q]uit")
    assert again.screen.display[0].startswith("household: 3 archives, 3 pairs")
    again.quit()
    # The audit lists the reveal of the killed session, archive numbers only.
    result = subprocess.run(
        [sys.executable, "-m", "linkage.review", "audit", "--run", str(household_desk), "--format", "csv"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.count(",wang,reveal,") == 3 and ID_A not in result.stdout


# -- 20-digit archive numbers (generator4, real county exports): nothing may be cut ---------

LONG_A, LONG_B, LONG_C = "51132210100100000075", "51132210100100000076", "51132210100100000077"
LONG_PHONE = "18286483665"


@pytest.fixture
def long_id_desk(tmp_path):
    reason = "score between review and automatic thresholds"
    a = ("王桂英", "2", "1966-03-31", ID_A, LONG_PHONE)
    b = ("王桂英", "女", "1992-05-09", ID_B, LONG_PHONE)
    c = ("王秀兰", "女", "1900-01-01", "", LONG_PHONE)
    publish_queue(tmp_path, [
        queued(LONG_A, LONG_B, 0.55, a, b, SAME_HOUSE, reason),
        queued(LONG_A, LONG_C, 0.58, a, c, SAME_HOUSE, reason),
        queued(LONG_B, LONG_C, 0.60, b, c, SAME_HOUSE, reason),
    ])
    return tmp_path


@pytest.mark.parametrize("reveal", [False, True])
def test_80x24_household_with_20_digit_archives_never_cuts_a_phone_or_id(long_id_desk, reveal):
    """Acceptance: 18286483665 was shown as 182****366 (and, revealed, as 1828648366, a
    wrong number).  Every archive number, ID and phone is whole on its row."""
    term = Terminal(long_id_desk, "wang", 24, 80, *(["--reveal"] if reveal else []))
    term.wait_for("[q]uit")
    lines = term.screen.display
    assert lines[0].startswith("household: 3 archives, 3 pairs")
    phone = LONG_PHONE if reveal else "182****3665"
    ids = (ID_A, ID_B) if reveal else ("620802********0024", "620802********004X")
    rows = {n: next(line for line in lines if line.startswith(f"{n} ")) for n in (1, 2, 3)}
    for n, archive in ((1, LONG_A), (2, LONG_B), (3, LONG_C)):
        assert archive in rows[n] and phone in rows[n].split(), rows[n]
        assert "1966-03-31" in rows[1] and "1992-05-09" in rows[2]
    assert ids[0] in rows[1] and ids[1] in rows[2]
    assert "女" in rows[1] and "女" in rows[2]
    screen = term.text()
    assert "1: ⚑ ID encodes 1967-04-17 ≠ record" in screen
    term.quit()


@pytest.mark.parametrize("reveal", [False, True])
def test_household_table_at_any_width_keeps_numbers_ids_and_phones_whole(long_id_desk, reveal):
    """From a wide terminal down to 30 columns: the layout gives way (name wraps, columns
    close up, sex and birth date go under the name, one line per archive), never a number."""
    import io

    from rich.cells import cell_len
    from rich.console import Console

    from linkage.review.screen import household_table
    from linkage.review.session import Session

    with ReviewStore(store_path(long_id_desk)) as store:
        screen = Session(store, "wang", reveal=reveal).start()
    table = household_table(screen)
    phone = LONG_PHONE if reveal else "182****3665"
    ids = (ID_A, ID_B) if reveal else ("620802********0024", "620802********004X")
    for width in range(30, 141):
        console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
        console.print(table)
        lines = console.export_text().splitlines()
        assert all(cell_len(line) <= width for line in lines), width
        tokens = [token for line in lines for token in line.split()]
        for needle in (LONG_A, LONG_B, LONG_C, *ids):
            assert needle in tokens, (width, needle, lines)
        assert tokens.count(phone) == 3, (width, lines)
        assert "1966-03-31" in tokens and "1992-05-09" in tokens, (width, lines)
        assert tokens.count("女") >= 2, (width, lines)
