"""The DuckDB connection every step takes as a parameter, and the one way to hand it an
in-memory table.

Why here, at the bottom: the runs open the connection and every step below them uses it;
when ``connect`` lived in the stateless run (pipeline.py) the state package had to import a
run to get it, which made an import cycle.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from linkage.config import Config

SPILL_PREFIX = "linkage-duckdb-"
_SPILL_NAME_RE = re.compile(r"(\d+)-[A-Za-z0-9_]+")
_LEGACY_SPILL_AGE_SECONDS = 3600


def connect(threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose spill files are private to this user.

    The spill folder is named after this process, so the next run can remove the folders
    of runs that were killed (they may hold personal data) without touching a live one."""
    _remove_dead_spill_folders()
    spill = tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-")
    os.chmod(spill, 0o700)
    atexit.register(shutil.rmtree, spill, True)  # spill files may hold personal data
    con = duckdb.connect(config={"temp_directory": spill})
    con.execute(f"SET threads = {threads or os.cpu_count() or 2}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    return con


def connect_for(config: Config) -> duckdb.DuckDBPyConnection:
    """:func:`connect` with the config's ``[engine]`` threads and memory limit."""
    return connect(config.engine.threads or None, config.engine.memory_limit)


def _remove_dead_spill_folders() -> None:
    """Spill folders of our own runs whose process is gone (killed: atexit never ran).

    A folder named ``linkage-duckdb-PID-xxxx`` goes when PID is dead; a folder without a
    PID (written by an older version) only when it is empty and an hour old, so a run of
    that version starting this very moment keeps its folder."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SPILL_PREFIX}*"):
        try:
            info = folder.stat()
        except OSError:
            continue
        if info.st_uid != os.getuid():
            continue
        named = _SPILL_NAME_RE.fullmatch(folder.name[len(SPILL_PREFIX):])
        if named is None:
            if time.time() - info.st_mtime > _LEGACY_SPILL_AGE_SECONDS:
                try:
                    folder.rmdir()
                except OSError:
                    pass
            continue
        try:
            os.kill(int(named.group(1)), 0)
            continue  # alive
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue  # alive under another user


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[str]:
    """``table`` visible to SQL as ``name`` for the block, and gone after it (also on error),
    so no in-memory view outlives the step that made it."""
    con.register(name, table)
    try:
        yield name
    finally:
        con.unregister(name)


def id_table(ids: Iterable[str]) -> pa.Table:
    """A one-column ``archive_id`` table of the distinct ``ids``, in no set order: every
    caller joins or filters on it, which no order changes (sorting 5M archive IDs in
    Python took 3 s of a run)."""
    return pa.table({"archive_id": pa.array(list(set(ids)), pa.string())})
