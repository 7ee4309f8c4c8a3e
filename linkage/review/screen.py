"""The terminal edge of a review session: draw a Screen with rich, read keys, loop.

Single keypresses (click.getchar) when stdin is a terminal; one key per line otherwise
(pipes, scripts, CliRunner).  Nothing here decides anything: see linkage.review.session.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import click
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from linkage.review.mask import id_relation, mask_id, mask_phone, phone_relation
from linkage.review.session import KEYS_HELP, Mode, Screen, Session
from linkage.review.store import QueueItem

KEY_LINE = "[s]ame  [d]ifferent  s[k]ip  [u]ndo  [n]ote  [?]help  [q]uit"
DIFFERS = "≠"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _region(side: dict[str, Any]) -> str:
    code = _text(side.get("region_code"))
    if len(code) == 12 and code.isdigit():
        return f"{code[:6]} / {code[6:9]} / {code[9:]}"
    return code


def _with_status(shown: str, status: Any) -> str:
    status_text = f"[{status}]" if status else ""
    return f"{shown}  {status_text}".strip() if shown else (status_text or "-")


# (label, value for display given a side and reveal, value compared for "differs")
_ROWS: tuple[tuple[str, Callable[[dict[str, Any], bool], str], Callable[[dict[str, Any]], str]], ...] = (
    ("name 姓名", lambda s, _r: _text(s["name"]) + (f" ({_text(s['name_py'])})" if s.get("name_py") else ""),
     lambda s: _text(s["name"])),
    ("sex 性别", lambda s, _r: _text(s["sex"]), lambda s: _text(s["sex"])),
    ("birth date 出生日期", lambda s, _r: _text(s["birth_date"]), lambda s: _text(s["birth_date"])),
    ("ID 身份证号", lambda s, r: _with_status(_text(s["id_number"]) if r else mask_id(s["id_number"]),
                                            s.get("id_status")), lambda s: _text(s["id_number"])),
    ("county/township/village", lambda s, _r: _region(s), lambda s: _text(s["region_code"])),
    ("address 住址", lambda s, _r: _text(s["address"]), lambda s: _text(s["address"])),
    ("phone 电话", lambda s, r: _text(s["phone"]) if r else mask_phone(s["phone"]),
     lambda s: _text(s["phone"])),
    ("created 建档日期", lambda s, _r: _text(s["created_date"]), lambda s: _text(s["created_date"])),
    ("last service 末次服务", lambda s, _r: _text(s["last_service_date"]),
     lambda s: _text(s["last_service_date"])),
)


def pair_table(item: QueueItem, reveal: bool = False) -> Table:
    """Both archives side by side; differing rows marked ≠ and highlighted."""
    left, right = item.side("l"), item.side("r")
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("")
    table.add_column(DIFFERS, width=1)
    table.add_column(f"A  {item.archive_id_l}", overflow="fold")
    table.add_column(f"B  {item.archive_id_r}", overflow="fold")
    for label, shown, compared in _ROWS:
        a, b = compared(left), compared(right)
        differs = bool(a and b and a != b) or bool(a) != bool(b)
        style = "bold yellow" if differs else ""
        table.add_row(label, DIFFERS if differs else "", Text(shown(left, reveal) or "-", style=style),
                      Text(shown(right, reveal) or "-", style=style))
    return table


def _engine(item: QueueItem) -> RenderableType:
    p = "?" if item.match_probability is None else f"{item.match_probability:.4f}"
    w = "" if item.match_weight is None else f"  weight {item.match_weight:+.2f}"
    lines = [Text(f"engine: p = {p}{w}", style="bold")]
    if item.reason:
        lines.append(Text(f"why review: {item.reason}"))
    for part in (item.evidence or "").split(";"):
        if part.strip():
            lines.append(Text(f"  {part.strip()}"))
    return Group(*lines)


def render(screen: Screen) -> RenderableType:
    """The whole screen for one state of the session."""
    parts: list[RenderableType] = []
    left = f"{screen.available} left after this one" if screen.item is not None else f"{screen.available} left"
    counts = (f"{left} · {screen.held_by_others} with other reviewers · "
              f"{screen.skipped} skipped · {screen.decided} decided")
    if screen.mode is Mode.DONE:
        return Text(f"bye: {screen.message}" if screen.message else "bye")
    if screen.mode is Mode.HELP:
        table = Table(title="keys", show_header=False)
        for key, meaning in KEYS_HELP:
            table.add_row(key, meaning)
        return Group(table, Text("press any key to go back"))
    if screen.item is None:
        parts.append(Text("Nothing left to review here.", style="bold"))
        parts.append(Text(counts))
        parts.append(Text("u undo · q quit · any other key looks again"))
    else:
        item = screen.item
        header = f"pair {item.archive_id_l} / {item.archive_id_r} · {item.cluster_size} archives at stake"
        if screen.reveal:
            header += " · IDENTIFIERS REVEALED (logged)"
        parts.append(Text(header, style="bold"))
        parts.append(pair_table(item, screen.reveal))
        left, right = item.side("l"), item.side("r")
        parts.append(Text(
            f"ID: {id_relation(left['id_number'], right['id_number'])} · "
            f"phone: {phone_relation(left['phone'], right['phone'])}"
        ))
        if not screen.blind:
            parts.append(_engine(item))
        parts.append(Text(counts))
        if screen.note:
            parts.append(Text(f"note: {screen.note}"))
        parts.append(Text(KEY_LINE, style="dim"))
    if screen.message:
        parts.append(Text(screen.message, style="italic"))
    if screen.mode is Mode.NOTE:
        parts.append(Text("type the note and press Enter (empty cancels):"))
    return Group(*parts)


@dataclass
class KeySource:
    """Where keys and note lines come from."""

    single_keys: bool
    stream: TextIO

    def key(self) -> str:
        """One key; 'q' at end of input or on Ctrl-C / Ctrl-D."""
        if self.single_keys:
            try:
                return click.getchar()
            except (KeyboardInterrupt, EOFError):
                return "q"
        line = self.stream.readline()
        if line == "":
            return "q"
        return line.strip()[:1]

    def line(self) -> str:
        try:
            text = self.stream.readline()
        except (KeyboardInterrupt, EOFError):
            return ""
        return text.rstrip("\r\n")


def terminal_keys() -> KeySource:
    stream = sys.stdin
    return KeySource(single_keys=stream.isatty(), stream=stream)


def run_terminal(session: Session, console: Console, keys: KeySource) -> Screen:
    """Drive ``session`` from ``keys`` until the reviewer quits; returns the last screen."""
    screen = session.start()
    try:
        while True:
            if console.is_terminal:
                console.clear()
            console.print(render(screen))
            if screen.mode is Mode.DONE:
                return screen
            if screen.mode is Mode.NOTE:
                screen = session.enter_note(keys.line())
            else:
                screen = session.press(keys.key())
    except KeyboardInterrupt:
        screen = session.quit()
        console.print(render(screen))
        return screen
