"""Read the small tables shipped in ``linkage/data`` for the generator.

Each file starts with a ``# source: ...`` line naming where it came from and its licence;
that line is skipped here.  Files are read through importlib.resources so the generator
works from an installed wheel as well as from the work tree.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=None)
def read_table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of ``linkage/data/<name>`` as dicts, comment lines dropped."""
    text = resources.files("linkage").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return tuple(csv.DictReader(io.StringIO("\n".join(lines))))
