"""Small helpers shared by the tests that read the engine's output files."""

from __future__ import annotations

import csv
from pathlib import Path


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of an output CSV as dicts (UTF-8, header row)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_archives(path: Path, rows: list[dict[str, str]]) -> Path:
    """Rows as an input CSV with the schema's columns (UTF-8, header row)."""
    from linkage.schema import INPUT_COLUMNS

    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(INPUT_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def bucket(archive_id: str, n: int) -> int:
    """A stable pseudo-random bucket of an archive (for picking archives to edit or drop)."""
    import hashlib

    return int(hashlib.md5(archive_id.encode()).hexdigest(), 16) % n
