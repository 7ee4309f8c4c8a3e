"""Atomic, owner-only output files.

A single file is written to a temporary sibling, flushed to disk and renamed over the target,
so a reader sees the old file or the new one, never half of one.  A set of files (one run's
outputs) is staged in ``DIR/.staging`` and marked complete before any is moved into place;
if a run dies while moving them, the next run (or :func:`recover_staged_outputs`) finishes
the move, so DIR never stays a mixture of two runs.  ``summary.json`` moves last: when it
is there, the rest is of the same run.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

OWNER_ONLY = 0o600
STAGING = ".staging"
COMPLETE_MARKER = "COMPLETE"


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, owner-readable only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, OWNER_ONLY)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_json_atomic(path: Path, payload: Any) -> None:
    text = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=False, default=str) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 CSV (no BOM) with ``\\n`` line ends; None becomes an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue().encode("utf-8")


def copy_query_csv(con: "duckdb.DuckDBPyConnection", query: str, target: Path) -> None:
    """A query's rows as a CSV file written by DuckDB, as csv_bytes would write them (UTF-8,
    ``\n`` line ends, a header) but without passing every row through Python; atomic and
    owner-readable only."""
    tmp = Path(target).with_name(f".{Path(target).name}.tmp")
    quoted = str(tmp).replace("'", "''")
    con.execute(f"COPY ({query}) TO '{quoted}' (FORMAT csv, HEADER true, NEW_LINE '\n')")
    os.chmod(tmp, OWNER_ONLY)
    os.replace(tmp, target)


class StagedOutputs:
    """Stage files for DIR, then publish them together."""

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # a new folder: ours only
        self.staging = self.out_dir / STAGING
        recover_staged_outputs(self.out_dir)
        if self.staging.exists():
            shutil.rmtree(self.staging)  # an unfinished staging of a run that died: discard
        self.staging.mkdir(parents=True, mode=0o700)
        self._names: list[str] = []

    def add(self, name: str, data: bytes) -> None:
        write_bytes_atomic(self.staging / name, data)
        self._names.append(name)

    def add_from_file(self, name: str, source: Path) -> None:
        """Move an already-written file (e.g. a DuckDB COPY) into the staging area."""
        os.chmod(source, OWNER_ONLY)
        os.replace(source, self.staging / name)
        self._names.append(name)

    def publish(self) -> None:
        """Mark the staged set complete, then move every file into DIR (summary.json last)."""
        order = sorted(self._names, key=lambda n: (n == "summary.json", n))
        write_bytes_atomic(self.staging / COMPLETE_MARKER, "\n".join(order).encode("utf-8"))
        recover_staged_outputs(self.out_dir)


def recover_staged_outputs(out_dir: Path) -> None:
    """Finish moving a completely staged set of outputs; a partial staging is left to discard."""
    staging = Path(out_dir) / STAGING
    marker = staging / COMPLETE_MARKER
    if not marker.is_file():
        return
    for name in marker.read_text(encoding="utf-8").split():
        source = staging / name
        if source.exists():
            os.replace(source, Path(out_dir) / name)
    _fsync_dir(Path(out_dir))
    shutil.rmtree(staging, ignore_errors=True)
