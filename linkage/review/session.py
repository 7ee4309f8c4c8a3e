"""A review session as a pure state machine: keys in, screens out; no terminal here.

    start() -> Screen                      the first pair (or household, or "nothing left")
    press(key) -> Screen                   s same · d different · k skip · u undo · n note
                                           ? help · q quit · up/down/pgup/pgdn scroll the
                                           evidence panel
    enter_note(text) -> Screen             the line typed after 'n' (empty cancels), or after
                                           's' on a household: "1,3 same; 2 different"

Every verdict is written to the store before ``press`` returns (its own transaction), so
killing the process loses at most the pair on screen; a reviewer who reopens gets the pair
their dead session held at once.  Pairs skipped in this session are not offered again in it;
they stay in the queue for the next session.  Undo takes back the session's most recent
step (a decision, a household's decisions, or a skip: 'undone' rows, history is never
rewritten) and puts those pairs back on screen.

When the queue holds several pairs touching one archive or one household, they come as one
screen (Mode.HOUSEHOLD, linkage.review.household): 's' asks which archives are one person,
'd' says all differ, 'k' skips them all; each pair still gets its own decision row.

With ``reveal`` every pair shown is logged in the store's audit table (reviewer, time, pair).
With ``blind`` the decisions are recorded as blind (the engine's score was hidden).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from linkage.errors import ReviewError
from linkage.review.household import archives_of, parse_groups, verdicts
from linkage.review.store import Decision, Pair, QueueFilter, QueueItem, ReviewStore, new_token

KEYS_HELP: tuple[tuple[str, str], ...] = (
    ("s", "same person (household: then type which archives, e.g. 1,3 same; 2 different)"),
    ("d", "different people (household: every archive a different person)"),
    ("k", "skip (comes back next session)"),
    ("u", "undo the last decision or skip"),
    ("n", "add a note to this pair's decision"),
    ("↑ ↓ PgUp PgDn", "scroll the evidence panel"),
    ("?", "this help"),
    ("q", "quit (the pair on screen goes back to the queue)"),
)
SCROLL_KEYS = {"up": -1, "down": 1, "pgup": -5, "pgdn": 5}


class Mode(Enum):
    PAIR = "pair"            # a pair on screen, waiting for a verdict
    HOUSEHOLD = "household"  # several pairs of one household on screen
    NOTE = "note"            # waiting for a line of note text
    GROUPS = "groups"        # waiting for "1,3 same; 2 different"
    HELP = "help"            # help shown; any key returns
    EMPTY = "empty"          # nothing left to claim
    DONE = "done"            # quit


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
    group: tuple[QueueItem, ...] = ()
    scroll: int = 0

    @property
    def archives(self) -> list[tuple[str, dict]]:
        """The household's archives, numbered 1..n by position."""
        return archives_of(self.group)


@dataclass(frozen=True)
class _Done:
    """One entry of the undo stack: decisions (one per pair), or a skip (decisions empty)."""

    pairs: tuple[Pair, ...]
    decisions: tuple[Decision, ...]


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
        households: bool = True,
    ) -> None:
        self.store = store
        self.reviewer = reviewer
        self.filter = queue_filter
        self.reveal = reveal
        self.blind = blind
        self.households = households
        self.token = token or new_token()
        self.group: tuple[QueueItem, ...] = ()
        self.note = ""
        self.scroll = 0
        self.skipped: set[Pair] = set()
        self.stack: list[_Done] = []
        self.decided = 0
        self.mode = Mode.EMPTY
        self._before = Mode.EMPTY

    @property
    def item(self) -> QueueItem | None:
        return self.group[0] if self.group else None

    @property
    def _on_screen(self) -> Mode:
        return Mode.HOUSEHOLD if len(self.group) > 1 else Mode.PAIR

    # -- transitions ------------------------------------------------------------------------

    def start(self) -> Screen:
        return self._next("")

    def press(self, key: str) -> Screen:
        raw = (key or "").strip().lower()
        if self.mode is Mode.DONE:
            return self._screen("session is over")
        if self.mode is Mode.HELP:
            self.mode = self._before
            return self._screen()
        if self.mode in (Mode.NOTE, Mode.GROUPS):
            return self.enter_note(key)
        if raw in SCROLL_KEYS:
            self.scroll = max(0, self.scroll + SCROLL_KEYS[raw])
            return self._screen()
        key = raw[:1]
        if key == "q":
            return self.quit()
        if key == "?":
            self._before, self.mode = self.mode, Mode.HELP
            return self._screen()
        if key == "u":
            return self._undo()
        if self.mode is Mode.EMPTY:
            if key in ("s", "d", "k", "n", ""):
                return self._next("")  # look again: others may have released or published
            return self._screen(f"unknown key {key!r}: ? for help")
        if key == "s":
            if self.mode is Mode.HOUSEHOLD:
                self.mode = Mode.GROUPS
                return self._screen()
            return self._decide([(self.group[0].pair, "same")])
        if key == "d":
            return self._decide([(item.pair, "different") for item in self.group])
        if key == "k":
            return self._skip()
        if key == "n":
            self._before, self.mode = self.mode, Mode.NOTE
            return self._screen()
        return self._screen(f"unknown key {key!r}: ? for help" if key else "")

    def enter_note(self, text: str) -> Screen:
        """The line typed after 'n' (a note) or after 's' on a household (which are one)."""
        if self.mode is Mode.GROUPS:
            return self._household_line(text)
        if self.mode is not Mode.NOTE:
            return self._screen("no note asked for")
        self.mode = self._on_screen
        text = (text or "").strip()
        if not text:
            return self._screen("note cancelled")
        self.note = text
        return self._screen("note will be saved with the decision")

    def quit(self) -> Screen:
        """Give the pairs on screen back to the queue and stop."""
        if self.mode is not Mode.DONE:
            self.store.release(self.token)
            self.group, self.mode = (), Mode.DONE
        return self._screen(f"{self.decided} decisions recorded")

    # -- steps ------------------------------------------------------------------------------

    def _household_line(self, text: str) -> Screen:
        self.mode = Mode.HOUSEHOLD
        if not (text or "").strip():
            return self._screen("cancelled: nothing recorded")
        numbering = {archive: n for n, (archive, _) in enumerate(archives_of(self.group), start=1)}
        try:
            persons = parse_groups(text, len(numbering))
        except ReviewError as exc:
            return self._screen(str(exc))
        return self._decide(verdicts(self.group, numbering, persons), typed=text.strip())

    def _decide(self, chosen: list[tuple[Pair, str]], typed: str = "") -> Screen:
        decisions = self.store.decide_many(chosen, self.reviewer, note=self.note, source="session",
                                           token=self.token, blind=self.blind)
        self.stack.append(_Done(tuple(d.pair for d in decisions), tuple(decisions)))
        self.decided += len(decisions)
        numbers = [self.store.decision_number(d.decision_id) for d in decisions]
        if len(decisions) == 1:
            a, b = decisions[0].pair
            message = f"recorded #{numbers[0]}: {a} / {b} {decisions[0].verdict}"
        else:
            same = sum(d.verdict == "same" for d in decisions)
            message = (f"recorded #{numbers[0]}-#{numbers[-1]}: {len(decisions)} pairs "
                       f"({same} same, {len(decisions) - same} different)"
                       + (f" from {typed!r}" if typed else ""))
        return self._next(message)

    def _skip(self) -> Screen:
        pairs = tuple(item.pair for item in self.group)
        self.store.decide_many([(p, "skip") for p in pairs], self.reviewer, note=self.note,
                               source="session", token=self.token, blind=self.blind)
        self.skipped.update(pairs)
        self.stack.append(_Done(pairs, ()))
        what = f"{pairs[0][0]} / {pairs[0][1]}" if len(pairs) == 1 else f"{len(pairs)} pairs"
        return self._next(f"skipped {what}")

    def _undo(self) -> Screen:
        if not self.stack:
            return self._screen("nothing to undo")
        last = self.stack.pop()
        what = f"{last.pairs[0][0]} / {last.pairs[0][1]}" if len(last.pairs) == 1 else f"{len(last.pairs)} pairs"
        if not last.decisions:
            self.skipped.difference_update(last.pairs)
            self.store.release(self.token)
            items = [i for i in (self.store.claim(p, self.reviewer, self.token) if n == 0 else
                                 self._lease_more(p) for n, p in enumerate(last.pairs)) if i]
            message = f"skip undone: {what}"
        else:
            numbers = [self.store.decision_number(d.decision_id) for d in last.decisions]
            try:
                _, items = self.store.undo_many([d.decision_id for d in last.decisions],
                                                self.reviewer, token=self.token)
            except ReviewError as exc:
                return self._screen(str(exc))
            self.decided -= len(last.decisions)
            label = f"#{numbers[0]}" if len(numbers) == 1 else f"#{numbers[0]}-#{numbers[-1]}"
            verdict = f" {last.decisions[0].verdict}" if len(last.decisions) == 1 else ""
            message = f"undone {label}: {what}{verdict}"
        if not items:
            self.group, self.mode = (), Mode.EMPTY
            return self._screen(f"{message} (now held by another reviewer)")
        self._show(tuple(items))
        return self._screen(message)

    def _lease_more(self, pair: Pair) -> QueueItem | None:
        """Lease one more pair to this session without giving back what it holds."""
        return self.store.claim_also(pair, self.reviewer, self.token)

    def _next(self, message: str) -> Screen:
        group = self.store.claim_group(self.reviewer, self.token, self.filter, self.skipped,
                                       household=self.households)
        if not group:
            self.group, self.note, self.mode = (), "", Mode.EMPTY
            return self._screen(message)
        self._show(tuple(group))
        return self._screen(message)

    def _show(self, group: tuple[QueueItem, ...]) -> None:
        self.group, self.note, self.scroll = group, "", 0
        self.mode = self._on_screen
        if self.reveal:
            for item in group:
                self.store.log_access(self.reviewer, "reveal", item.pair)

    def _screen(self, message: str = "") -> Screen:
        counts = self.store.counts(self.token, self.filter, self.skipped, reviewer=self.reviewer)
        return Screen(
            mode=self.mode, item=self.item, note=self.note, message=message,
            available=max(counts.available - len(self.group), 0),
            held_by_others=counts.held_by_others, skipped=len(self.skipped), decided=self.decided,
            reveal=self.reveal, blind=self.blind, group=self.group, scroll=self.scroll,
        )

    def screen(self) -> Screen:
        """The current screen again (e.g. after the terminal was resized)."""
        return self._screen()
