"""Write CSV files atomically and readable by the owner only.

The outputs hold (synthetic) personal data in the shape of real data, so they are treated
like real outputs: a temp file in the target directory, fsync, ``os.replace``, mode 0o600.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from linkage.outputs import write_chunks_atomic

_NEEDS_QUOTES = (",", '"', "\n", "\r")
# Rows turned into text at a time: the file streams out in slices, so 5M archives never sit
# in memory as Python strings at once (10 GB at 5M persons before; the bytes are the same).
CHUNK_ROWS = 100_000


def _cell(value: str) -> str:
    """RFC 4180 quoting where a value holds a separator, quote or line break."""
    if any(ch in value for ch in _NEEDS_QUOTES):
        return '"' + value.replace('"', '""') + '"'
    return value


def _column(values: np.ndarray) -> list[str]:
    cells = [str(v) for v in np.asarray(values).tolist()]
    joined = "\x00".join(cells)
    if any(ch in joined for ch in _NEEDS_QUOTES):  # rare: quote cell by cell
        cells = [_cell(c) for c in cells]
    return cells


def csv_text(header: Sequence[str], columns: Sequence[np.ndarray]) -> str:
    """The whole file as text: header, then one line per row, LF endings."""
    return "".join(_csv_chunks(header, columns))


def _csv_chunks(header: Sequence[str], columns: Sequence[np.ndarray]) -> Iterator[str]:
    """The file's text in slices of CHUNK_ROWS rows (a quoted cell is quoted the same way
    whichever slice it falls in: quoting is decided per cell)."""
    yield ",".join(header) + "\n"
    rows = len(columns[0]) if columns else 0
    for start in range(0, rows, CHUNK_ROWS):
        part = [np.asarray(c)[start:start + CHUNK_ROWS] for c in columns]
        lines = map(",".join, zip(*(_column(c) for c in part)))
        yield "\n".join(lines) + "\n"


def write_csv(path: Path, header: Sequence[str], columns: Sequence[np.ndarray]) -> None:
    """Write ``path`` atomically (UTF-8, mode 0o600), streamed in slices of rows."""
    write_chunks_atomic(path, (chunk.encode("utf-8") for chunk in _csv_chunks(header, columns)))
