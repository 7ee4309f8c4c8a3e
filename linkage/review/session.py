"""A review session as a pure state machine: keys in, screens out; no terminal here.

    start() -> Screen                      the first pair (or "nothing left")
    press(key) -> Screen                   s same · d different · k skip · u undo · n note
                                           ? help · q quit
    enter_note(text) -> Screen             the line typed after 'n' (empty cancels)

Every verdict is written to the store before ``press`` returns (its own transaction), so
killing the process loses at most the pair on screen.  Pairs skipped in this session are
not offered again in it; they stay in the queue for the next session.  Undo takes back the
session's most recent decision or skip (an 'undone' row; history is never rewritten) and
puts that pair back on screen.

With ``reveal`` every pair shown is logged in the store's audit table (reviewer, time, pair).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from linkage.errors import ReviewError
from linkage.review.store import Decision, Pair, QueueFilter, QueueItem, ReviewStore, new_token

KEYS_HELP: tuple[tuple[str, str], ...] = (
    ("s", "same person"),
    ("d", "different people"),
    ("k", "skip (comes back next session)"),
    ("u", "undo the last decision or skip"),
    ("n", "add a note to this pair's decision"),
    ("?", "this help"),
    ("q", "quit (the pair on screen goes back to the queue)"),
)


class Mode(Enum):
    PAIR = "pair"    # a pair on screen, waiting for a verdict
    NOTE = "note"    # waiting for a line of note text
    HELP = "help"    # help shown; any key returns
    EMPTY = "empty"  # nothing left to claim
    DONE = "done"    # quit


@dataclass(frozen=True)
class Screen:
    """Everything the terminal edge needs to draw; no I/O decisions left to it."""

    mode: Mode
    item: QueueItem | None
    note: str = ""
    message: str = ""
    available: int = 0
    held_by_others: int = 0
    skipped: int = 0
    decided: int = 0
    reveal: bool = False
    blind: bool = False


@dataclass(frozen=True)
class _Done:
    """One entry of the undo stack: a decision, or a skip (decision is None)."""

    pair: Pair
    decision: Decision | None


class Session:
    def __init__(
        self,
        store: ReviewStore,
        reviewer: str,
        *,
        queue_filter: QueueFilter = QueueFilter(),
        reveal: bool = False,
        blind: bool = False,
        token: str | None = None,
    ) -> None:
        self.store = store
        self.reviewer = reviewer
        self.filter = queue_filter
        self.reveal = reveal
        self.blind = blind
        self.token = token or new_token()
        self.item: QueueItem | None = None
        self.note = ""
        self.skipped: set[Pair] = set()
        self.stack: list[_Done] = []
        self.decided = 0
        self.mode = Mode.EMPTY
        self._before_help = Mode.EMPTY

    # -- transitions ------------------------------------------------------------------------

    def start(self) -> Screen:
        return self._next("")

    def press(self, key: str) -> Screen:
        key = (key or "").strip()[:1].lower()
        if self.mode is Mode.DONE:
            return self._screen("session is over")
        if self.mode is Mode.HELP:
            self.mode = self._before_help
            return self._screen()
        if self.mode is Mode.NOTE:
            return self.enter_note(key)
        if key == "q":
            return self.quit()
        if key == "?":
            self._before_help, self.mode = self.mode, Mode.HELP
            return self._screen()
        if key == "u":
            return self._undo()
        if self.mode is Mode.EMPTY:
            if key in ("s", "d", "k", "n", ""):
                return self._next("")  # look again: others may have released or published
            return self._screen(f"unknown key {key!r}: ? for help")
        if key == "s":
            return self._decide("same")
        if key == "d":
            return self._decide("different")
        if key == "k":
            return self._skip()
        if key == "n":
            self.mode = Mode.NOTE
            return self._screen()
        return self._screen(f"unknown key {key!r}: ? for help" if key else "")

    def enter_note(self, text: str) -> Screen:
        if self.mode is not Mode.NOTE:
            return self._screen("no note asked for")
        self.mode = Mode.PAIR
        text = (text or "").strip()
        if not text:
            return self._screen("note cancelled")
        self.note = text
        return self._screen("note will be saved with the decision")

    def quit(self) -> Screen:
        """Give the pair on screen back to the queue and stop."""
        if self.mode is not Mode.DONE:
            self.store.release(self.token)
            self.item, self.mode = None, Mode.DONE
        return self._screen(f"{self.decided} decisions recorded")

    # -- steps ------------------------------------------------------------------------------

    def _decide(self, verdict: str) -> Screen:
        assert self.item is not None
        decision = self.store.decide(
            self.item.pair, verdict, self.reviewer, note=self.note, source="session", token=self.token
        )
        self.stack.append(_Done(self.item.pair, decision))
        self.decided += 1
        a, b = decision.pair
        return self._next(f"recorded #{decision.decision_id}: {a} / {b} {verdict}")

    def _skip(self) -> Screen:
        assert self.item is not None
        pair = self.item.pair
        self.store.decide(pair, "skip", self.reviewer, note=self.note, source="session", token=self.token)
        self.skipped.add(pair)
        self.stack.append(_Done(pair, None))
        return self._next(f"skipped {pair[0]} / {pair[1]}")

    def _undo(self) -> Screen:
        if not self.stack:
            return self._screen("nothing to undo")
        last = self.stack.pop()
        if last.decision is None:
            self.skipped.discard(last.pair)
            item = self.store.claim(last.pair, self.reviewer, self.token)
            message = f"skip undone: {last.pair[0]} / {last.pair[1]}"
        else:
            try:
                _, item = self.store.undo(last.decision.decision_id, self.reviewer, token=self.token)
            except ReviewError as exc:
                return self._screen(str(exc))
            self.decided -= 1
            message = f"undone #{last.decision.decision_id}: {last.pair[0]} / {last.pair[1]} {last.decision.verdict}"
        if item is None:
            return self._screen(f"{message} (now held by another reviewer)")
        self._show(item)
        return self._screen(message)

    def _next(self, message: str) -> Screen:
        item = self.store.claim_next(self.reviewer, self.token, self.filter, self.skipped)
        if item is None:
            self.item, self.note, self.mode = None, "", Mode.EMPTY
            return self._screen(message)
        self._show(item)
        return self._screen(message)

    def _show(self, item: QueueItem) -> None:
        self.item, self.note, self.mode = item, "", Mode.PAIR
        if self.reveal:
            self.store.log_access(self.reviewer, "reveal", item.pair)

    def _screen(self, message: str = "") -> Screen:
        counts = self.store.counts(self.token, self.filter, self.skipped)
        held_here = 1 if self.item is not None else 0
        return Screen(
            mode=self.mode, item=self.item, note=self.note, message=message,
            available=max(counts.available - held_here, 0), held_by_others=counts.held_by_others,
            skipped=len(self.skipped), decided=self.decided, reveal=self.reveal, blind=self.blind,
        )

    def screen(self) -> Screen:
        """The current screen again (e.g. after the terminal was resized)."""
        return self._screen()
