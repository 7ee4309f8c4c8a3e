"""Write CSV files atomically and readable by the owner only.

The outputs hold (synthetic) personal data in the shape of real data, so they are treated
like real outputs: a temp file in the target directory, fsync, ``os.replace``, mode 0o600.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from linkage.outputs import write_bytes_atomic

_NEEDS_QUOTES = (",", '"', "\n", "\r")


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
    rows = map(",".join, zip(*(_column(c) for c in columns)))
    return "\n".join([",".join(header), *rows]) + "\n"


def write_csv(path: Path, header: Sequence[str], columns: Sequence[np.ndarray]) -> None:
    """Write ``path`` atomically (UTF-8, mode 0o600)."""
    write_bytes_atomic(path, csv_text(header, columns).encode("utf-8"))
