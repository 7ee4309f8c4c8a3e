"""Numbered records of a CSV text, where one broken row never takes the rows after it.

Why not plain ``csv.reader``: a field that opens a quote and never closes it makes the csv
module read every following line into that one field (one stray quote in row 5 turned 40
records into "9 archives"), or fail the whole file with "field larger than field limit".
Here the csv module still parses (its C parser is fast and exact), but a record may run
over at most ``max_record_lines`` physical lines; a record that runs longer, or spans lines
and has the wrong number of fields, or holds a line that is a whole record by itself, is an
unbalanced quote: the line it starts on is
rejected alone and parsing resumes on the next line.

Row numbers are the rows a spreadsheet shows: the header is row 1, every record after it
one row, a blank line one (empty) row, a quoted line break no new row.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

UNBALANCED_QUOTE = "unbalanced quote: a quoted field starts here and never closes"


@dataclass(frozen=True)
class Record:
    """One spreadsheet row: its fields, or None with a reason when it cannot be read."""

    row: int
    fields: list[str] | None
    problem: str | None = None
    # The physical line a broken record starts on, so the caller can still name the archive.
    line: str | None = None


class _LineFeeder:
    """Feeds physical lines to csv.reader and stops one record from eating the file."""

    def __init__(self, lines: Sequence[str], start: int, max_record_lines: int) -> None:
        self.lines = lines
        self.next_index = start
        self.record_start = start
        self.max_record_lines = max_record_lines

    def __iter__(self) -> "_LineFeeder":
        return self

    def __next__(self) -> str:
        if self.next_index >= len(self.lines):
            raise StopIteration
        if self.next_index - self.record_start >= self.max_record_lines:
            raise StopIteration  # the open quote has run on too long: end this record here
        line = self.lines[self.next_index]
        self.next_index += 1
        return line


def _swallows_a_record(lines: Sequence[str], begun: int, spanned: int, width: int) -> bool:
    """True when a line inside a multi-line record reads, on its own, as a whole record:
    then the quote that opened the record was a stray one that a later quote happened to
    close, not a line break typed inside a field."""
    for line in lines[begun + 1:begun + spanned]:
        alone = next(csv.reader([line]), [])
        if len(alone) == width and '"' not in line:
            return True
    return False


def split_lines(text: str) -> list[str]:
    """Physical lines with their line ends kept (only \\n and \\r\\n end a line, unlike
    str.splitlines, which would also break on U+2028 and friends inside a field)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line + "\n" for line in lines]


def read_records(lines: Sequence[str], width: int, max_record_lines: int,
                 start: int = 1) -> Iterator[Record]:
    """Records of ``lines[start:]`` (``lines[0]`` is the header), numbered as rows 2, 3, ….

    Blank lines are yielded as rows with no fields (``fields == []``) so they keep their
    row number; callers skip them.
    """
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)  # field length is judged per row by the caller
    try:
        row = start
        position = start
        while position < len(lines):
            feeder = _LineFeeder(lines, position, max_record_lines)
            reader = csv.reader(feeder)
            restart_at = None
            while True:
                feeder.record_start = feeder.next_index
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    fields = None
                begun = feeder.record_start
                spanned = feeder.next_index - begun
                row += 1
                if fields is None or (spanned > 1 and (
                        spanned >= max_record_lines or len(fields) != width
                        or _swallows_a_record(lines, begun, spanned, width))):
                    yield Record(row, None, UNBALANCED_QUOTE, lines[begun])
                    restart_at = begun + 1
                    break
                if len(fields) == 1 and not fields[0].strip():
                    fields = []  # a blank or whitespace-only line
                yield Record(row, fields)
            if restart_at is None:
                break
            position = restart_at
    finally:
        csv.field_size_limit(previous_limit)
