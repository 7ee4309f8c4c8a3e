"""The terminal edge of a review session: draw a Screen with rich, read keys, loop.

The screen is laid out for the terminal it is on, 80x24 included: a fixed header line, the
pair (or the household's archives) in full, and below them an evidence panel that is the
only part that scrolls (arrow keys, PgUp/PgDn), then the counts and the key line.  Nothing
scrolls off the top: exactly one line fewer than the terminal's height is printed.

Under masking the screen still shows every consistency fact the engine computed
(linkage.review.facts): "ID encodes 1967-04-17 ≠ record", check digit fails, 15-digit
legacy, placeholder dates, newborn placeholder names; and normalised values beside raw ones
("2 → 女", "20201009 → 2020-10-09").

Single keypresses (click.getchar) when stdin is a terminal; one key per line otherwise
(pipes, scripts, CliRunner), and then the whole screen is printed with no height limit.
Nothing here decides anything: see linkage.review.session.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import click
from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment, Segments
from rich.table import Table
from rich.text import Text

from linkage.review import triage
from linkage.review.facts import pair_flags, shown_date, shown_sex, side_flags
from linkage.review.mask import id_relation, mask_id, mask_phone, phone_key, phone_relation
from linkage.review.session import KEYS_HELP, Mode, Screen, Session
from linkage.review.store import QueueItem

KEY_LINE = "[s]ame  [d]ifferent  s[k]ip  [u]ndo  [n]ote  [?]help  [q]uit  ↑↓ scroll"
DIFFERS = "≠"
FLAG = "⚑ "
GROUPS_PROMPT = "which archives are one person? e.g. 1,3 same; 2 different (Enter: cancel)"
# Escape sequences click.getchar returns for the keys that scroll the evidence panel.
_SCROLL_SEQUENCES = {"\x1b[A": "up", "\x1b[B": "down", "\x1b[5~": "pgup", "\x1b[6~": "pgdn",
                     "\x1bOA": "up", "\x1bOB": "down"}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _region(side: dict[str, Any]) -> str:
    code = _text(side.get("region_code"))
    if len(code) == 12 and code.isdigit():
        return f"{code[:6]}/{code[6:9]}/{code[9:]}"
    return code


def _id_shown(side: dict[str, Any], reveal: bool) -> str:
    value = _text(side.get("id_number")) if reveal else mask_id(side.get("id_number"))
    status = side.get("id_status")
    status_text = f"[{status}]" if status else ""
    return f"{value} {status_text}".strip() if value else (status_text or "-")


def _norm_date(raw: Any) -> str:
    """The normalised date alone (the raw form only when it is not a date)."""
    return shown_date(raw).split(" → ")[-1]


def _dates(side: dict[str, Any]) -> str:
    created, last = _norm_date(side.get("created_date")), _norm_date(side.get("last_service_date"))
    return f"{created or '-'} / {last or '-'}"


# (label, flags key, value shown given a side and reveal, value compared for "differs")
_ROWS: tuple[tuple[str, str, Callable[[dict[str, Any], bool], str], Callable[[dict[str, Any]], str]], ...] = (
    ("姓名 name", "name",
     lambda s, _r: _text(s["name"]) + (f" ({_text(s['name_py'])})" if s.get("name_py") else ""),
     lambda s: _text(s["name"])),
    ("性别 sex", "", lambda s, _r: shown_sex(s["sex"]), lambda s: shown_sex(s["sex"])[-1:]),
    ("出生 born", "birth", lambda s, _r: shown_date(s["birth_date"]),
     lambda s: shown_date(s["birth_date"])[-10:]),
    ("身份证 ID", "id", _id_shown, lambda s: _text(s["id_number"])),
    ("地区 area", "", lambda s, _r: _region(s), lambda s: _text(s["region_code"])),
    ("住址 addr", "", lambda s, _r: _text(s["address"]), lambda s: _text(s["address"])),
    ("电话 phone", "", lambda s, r: _text(s["phone"]) if r else mask_phone(s["phone"]),
     lambda s: phone_key(s["phone"])),
    ("建档/服务", "", lambda s, _r: _dates(s),
     lambda s: _text(s["created_date"]) + _text(s["last_service_date"])),
)


def _cell(value: str, flags: list[str], style: str) -> Text:
    text = Text(value or "-", style=style)
    for flag in flags:
        text.append("\n" + FLAG + flag, style="bold red")
    return text


def pair_table(item: QueueItem, reveal: bool = False) -> Table:
    """Both archives side by side; differing rows marked ≠; facts flagged under their row."""
    left, right = item.side("l"), item.side("r")
    flags = {"l": side_flags(left), "r": side_flags(right)}
    for side, extra in pair_flags(item.evidence, left, right).items():
        if side in flags:
            flags[side]["id"] = flags[side]["id"] + [f for f in extra if f.startswith("ID")]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1),
                  header_style="bold", expand=False)
    table.add_column("", no_wrap=True)
    table.add_column(DIFFERS, width=1, no_wrap=True)
    table.add_column(f"A {item.archive_id_l}", overflow="fold", ratio=1)
    table.add_column(f"B {item.archive_id_r}", overflow="fold", ratio=1)
    for label, key, shown, compared in _ROWS:
        a, b = compared(left), compared(right)
        differs = bool(a and b and a != b) or bool(a) != bool(b)
        style = "bold yellow" if differs else ""
        table.add_row(label, DIFFERS if differs else "",
                      _cell(shown(left, reveal), flags["l"].get(key, []) if key else [], style),
                      _cell(shown(right, reveal), flags["r"].get(key, []) if key else [], style))
    return table


# The household table's columns that are never cut (an archive number, ID or phone shown
# short is a wrong one), and those that give way first.
_HOUSEHOLD_COLUMNS = ("#", "archive", "name", "sex", "born", "ID", "phone")
_NAME_ROOM = 6  # cells for the name column (three characters) before other layouts are tried


@dataclass(frozen=True)
class HouseholdTable:
    """The household's archives, numbered for the reviewer's "1,3 same; 2 different", laid
    out for the width it is drawn at (a rich renderable).

    Archive numbers, IDs and phones are never cut, whatever the width: at 80 columns a
    20-digit archive number left the phone column 10 cells, and 18286483665 showed as
    1828648366, a wrong number.  The name wraps instead; then the columns close up (one
    space apart); then sex and birth date go under the name; and on a terminal too narrow
    for all of that, each archive is a line of its own, wrapped between fields only.
    """

    rows: tuple[tuple[str, ...], ...]  # one per archive, in _HOUSEHOLD_COLUMNS order
    statuses: tuple[str, ...]          # the ID's status shown under it ("" when valid)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        widths = {column: max([cell_len(column)] + [cell_len(row[i]) for row in self.rows])
                  for i, column in enumerate(_HOUSEHOLD_COLUMNS)}
        under = max(cell_len(f"{row[3]} {row[4]}") for row in self.rows)  # "女 1966-03-31"
        for gap, stacked in ((2, False), (1, False), (1, True)):
            columns = [c for c in _HOUSEHOLD_COLUMNS if not (stacked and c in ("sex", "born"))]
            name_need = min(widths["name"], _NAME_ROOM)
            name_want = widths["name"]
            if stacked:
                name_need, name_want = max(name_need, under), max(name_want, under)
            room = width - sum(widths[c] for c in columns if c != "name") - gap * (len(columns) - 1)
            if room >= name_need:
                yield self._table(columns, widths, min(name_want, room), gap)
                return
        yield from self._lines(width)

    def _table(self, columns: list[str], widths: dict[str, int], name_width: int, gap: int) -> Table:
        stacked = "sex" not in columns
        table = Table(box=None, pad_edge=False, padding=(0, 1) if gap == 2 else (0, 1, 0, 0),
                      header_style="bold underline")
        for column in columns:
            header = "name, sex, born" if stacked and column == "name" else column
            table.add_column(header, width=name_width if column == "name" else widths[column],
                             no_wrap=column != "name", overflow="fold")
        for row, status in zip(self.rows, self.statuses):
            cells = dict(zip(_HOUSEHOLD_COLUMNS, row))
            if stacked:
                cells["name"] = f"{cells['name']}\n{cells['sex']} {cells['born']}"
            if status:
                cells["ID"] = f"{cells['ID']}\n{status}"  # under the ID: the status may fold
            table.add_row(*(Text(cells[c]) for c in columns))  # Text: "[blank]" is no markup
        return table

    def _lines(self, width: int) -> Iterator[Text]:
        """One archive per line, continued (indented) between fields, never inside one."""
        yield Text("  ".join(_HOUSEHOLD_COLUMNS), style="bold underline")
        for row, status in zip(self.rows, self.statuses):
            fields = [*row[:6], *([status] if status else []), row[6]]
            line = fields[0]
            for field in fields[1:]:
                if cell_len(f"{line}  {field}") > width:
                    yield Text(line, overflow="fold")
                    line = "   " + field
                else:
                    line = f"{line}  {field}"
            yield Text(line, overflow="fold")


def household_table(screen: Screen) -> HouseholdTable:
    """The household's archives as a table fitted to the terminal's width at drawing time."""
    rows, statuses = [], []
    for number, (archive, side) in enumerate(screen.archives, start=1):
        shown_id = _text(side.get("id_number")) if screen.reveal else mask_id(side.get("id_number"))
        status = f"[{side['id_status']}]" if side.get("id_status") not in (None, "", "valid", "blank") else ""
        if not shown_id:
            shown_id, status = status, ""  # no ID: its status (if any) in its place, else "-"
        rows.append((
            str(number), archive, _text(side.get("name")) or "-",
            shown_sex(side.get("sex")).split("→")[-1].strip() or "-",
            shown_date(side.get("birth_date")).split("→")[-1].strip() or "-",
            shown_id or "-",
            (_text(side.get("phone")) if screen.reveal else mask_phone(side.get("phone"))) or "-",
        ))
        statuses.append(status)
    return HouseholdTable(tuple(rows), tuple(statuses))


def household_flags(screen: Screen) -> list[Text]:
    """Each archive's consistency facts, by number, under the household table."""
    lines = []
    for number, (_archive, side) in enumerate(screen.archives, start=1):
        for flag in (f for group in side_flags(side).values() for f in group):
            lines.append(Text(f"{number}: {FLAG}{flag}", style="bold red"))
    return lines


def _engine_lines(item: QueueItem, blind: bool) -> list[Text]:
    lines: list[Text] = []
    left, right = item.side("l"), item.side("r")
    for flag in pair_flags(item.evidence, left, right)["pair"]:
        lines.append(Text(FLAG + flag, style="bold red"))
    if blind:
        lines.append(Text("score and evidence hidden (--blind)", style="dim"))
        return lines
    p = "?" if item.match_probability is None else f"{item.match_probability:.4f}"
    w = "" if item.match_weight is None else f"  weight {item.match_weight:+.2f}"
    lines.append(Text(f"engine: p = {p}{w}", style="bold"))
    if item.reason:
        lines.append(Text(f"why review: {item.reason}"))
    if item.triage and triage.rank(item.triage):
        lines.append(Text(f"queued late: {triage.label(item.triage)} (rarely one person)", style="dim"))
    for part in (item.evidence or "").split(";"):
        if part.strip():
            lines.append(Text(f"  {part.strip()}"))
    return lines


def _household_lines(screen: Screen) -> list[Text]:
    numbering = {archive: n for n, (archive, _) in enumerate(screen.archives, start=1)}
    lines = [Text(f"{len(screen.group)} queued pairs among these archives:", style="bold")]
    for item in screen.group:
        a, b = numbering[item.archive_id_l], numbering[item.archive_id_r]
        if screen.blind:
            lines.append(Text(f"  {a}-{b}"))
            continue
        p = "?" if item.match_probability is None else f"{item.match_probability:.2f}"
        lines.append(Text(f"  {a}-{b}  p={p}  {item.reason}"))
        lines.append(Text("       " + "  ".join(
            part.strip() for part in (item.evidence or "").split(";") if part.strip()), style="dim"))
    return lines


def _phone_unused(left: dict[str, Any], right: dict[str, Any]) -> str:
    """" (not evidence)" when a typed number was not used by the engine: on too many archives
    to be a household's (linkage.model.shared_phones), or not a phone number at all."""
    typed = [side for side in (left, right) if (side.get("phone") or "").strip()]
    return " (not evidence)" if any(side.get("phone_norm") is None for side in typed) else ""


def _counts(screen: Screen) -> str:
    left = f"{screen.available} left after this" if screen.item is not None else f"{screen.available} left"
    return (f"{left} · {screen.held_by_others} with others · "
            f"{screen.skipped} skipped · {screen.decided} decided")


def _parts(screen: Screen) -> tuple[list[RenderableType], list[Text], list[RenderableType]]:
    """(fixed top, evidence panel lines, fixed bottom) for a pair or household screen."""
    item = screen.item
    assert item is not None
    top: list[RenderableType] = []
    if screen.mode is Mode.HOUSEHOLD or len(screen.group) > 1:
        header = f"household: {len(screen.archives)} archives, {len(screen.group)} pairs"
    else:
        header = f"pair {item.archive_id_l} / {item.archive_id_r} · {item.cluster_size} archives at stake"
    if screen.reveal:
        header += " · REVEALED (logged)"
    if screen.blind:
        header += " · blind"
    top.append(Text(header, style="bold reverse", no_wrap=True, overflow="ellipsis"))
    if len(screen.group) > 1:
        top.append(household_table(screen))
        top.extend(household_flags(screen))
        panel = _household_lines(screen)
    else:
        top.append(pair_table(item, screen.reveal))
        left, right = item.side("l"), item.side("r")
        top.append(Text(f"ID: {id_relation(left['id_number'], right['id_number'])} · "
                        f"phone: {phone_relation(left['phone'], right['phone'])}{_phone_unused(left, right)}"))
        panel = _engine_lines(item, screen.blind)
    bottom: list[RenderableType] = [Text(_counts(screen), no_wrap=True, overflow="ellipsis")]
    if screen.note:
        bottom.append(Text(f"note: {screen.note}", no_wrap=True, overflow="ellipsis"))
    bottom.append(Text(KEY_LINE, style="dim", no_wrap=True, overflow="ellipsis"))
    if screen.message:
        bottom.append(Text(screen.message, style="italic"))
    if screen.mode is Mode.NOTE:
        bottom.append(Text("type the note, Enter (empty cancels); goes into decisions.csv: no names or IDs"))
    if screen.mode is Mode.GROUPS:
        bottom.append(Text(GROUPS_PROMPT))
    return top, panel, bottom


def _height(console: Console, width: int, parts: list[RenderableType]) -> int:
    if not parts:
        return 0
    return len(console.render_lines(Group(*parts), console.options.update_width(width), pad=False))


def _window(console: Console, width: int, panel: list[Text], room: int, scroll: int) -> list[Text]:
    """The visible slice of the evidence panel, with a position line when it overflows."""
    lines: list[Text] = []
    for text in panel:
        lines.extend(text.wrap(console, width))
    if len(lines) <= room:
        return lines
    room = max(room - 1, 1)
    start = min(scroll, max(len(lines) - room, 0))
    shown = lines[start:start + room]
    more = Text(f"evidence {start + 1}-{start + len(shown)} of {len(lines)} · ↑↓ PgUp PgDn to scroll",
                style="dim", no_wrap=True, overflow="ellipsis")
    return [more, *shown]


def render(screen: Screen, console: Console | None = None, height: int | None = None) -> RenderableType:
    """The whole screen for one state of the session; with ``console`` and ``height`` it is
    fitted to height - 1 lines (only the evidence panel shrinks and scrolls)."""
    if screen.mode is Mode.DONE:
        return Text(f"bye: {screen.message}" if screen.message else "bye")
    if screen.mode is Mode.HELP:
        table = Table(title="keys", show_header=False, box=box.SIMPLE)
        for key, meaning in KEYS_HELP:
            table.add_row(key, meaning)
        return Group(table, Text("press any key to go back"))
    if screen.item is None:
        parts: list[RenderableType] = [Text("Nothing left to review here.", style="bold"),
                                       Text(_counts(screen)),
                                       Text("u undo · q quit · any other key looks again")]
        if screen.message:
            parts.append(Text(screen.message, style="italic"))
        return Group(*parts)
    top, panel, bottom = _parts(screen)
    if console is None or height is None:
        return Group(*top, *panel, *bottom)
    width = console.size.width
    bottom_height = _height(console, width, bottom)
    room = max(height - 1 - _height(console, width, top) - bottom_height, 1)
    upper = console.render_lines(Group(*top, *_window(console, width, panel, room, screen.scroll)),
                                 console.options.update_width(width), pad=False)
    # A pair taller than the terminal loses its last table lines, never the header or keys.
    upper = upper[:max(height - 1 - bottom_height, 1)]
    segments = [segment for line in upper for segment in (*line, Segment.line())]
    return Group(Segments(segments), *bottom)


@dataclass
class KeySource:
    """Where keys and note lines come from."""

    single_keys: bool
    stream: TextIO

    def key(self) -> str:
        """One key ('up'/'down'/'pgup'/'pgdn' for scrolling); 'q' at end of input or on
        Ctrl-C / Ctrl-D."""
        if self.single_keys:
            try:
                key = click.getchar()
            except (KeyboardInterrupt, EOFError):
                return "q"
            return _SCROLL_SEQUENCES.get(key, key)
        line = self.stream.readline()
        if line == "":
            return "q"
        word = line.strip().lower()
        return word if word in ("up", "down", "pgup", "pgdn") else word[:1]

    def line(self) -> str:
        try:
            text = self.stream.readline()
        except (KeyboardInterrupt, EOFError):
            return ""
        return text.rstrip("\r\n")


def terminal_keys() -> KeySource:
    stream = sys.stdin
    return KeySource(single_keys=stream.isatty(), stream=stream)


def _draw(console: Console, screen: Screen) -> None:
    if console.is_terminal:
        console.clear()
        console.print(render(screen, console, console.size.height))
    else:
        console.print(render(screen))


def run_terminal(session: Session, console: Console, keys: KeySource) -> Screen:
    """Drive ``session`` from ``keys`` until the reviewer quits; returns the last screen."""
    screen = session.start()
    try:
        while True:
            _draw(console, screen)
            if screen.mode is Mode.DONE:
                return screen
            if screen.mode in (Mode.NOTE, Mode.GROUPS):
                screen = session.enter_note(keys.line())
            else:
                screen = session.press(keys.key())
    except KeyboardInterrupt:
        screen = session.quit()
        console.print(render(screen))
        return screen
