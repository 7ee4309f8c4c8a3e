"""One process at a time on a state file: an exclusive ``flock`` on ``<state>.lock``.

Why a lock file and not DuckDB's own locking: DuckDB refuses a second writer with an
engine error that names internals; we want a clear, early "state is in use by another
run" before any work is done (a nightly run and an operator's ``linkage unmerge`` can
overlap).  ``flock`` locks die with the process, so a killed run never leaves a stale lock.

The lock file is created owner-readable only (0600) and kept, empty, between runs.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from linkage.errors import StateError

OWNER_ONLY = 0o600


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


class StateLock:
    """``with StateLock(path):`` holds the state exclusively, or raises StateError at once."""

    def __init__(self, state_path: Path | str) -> None:
        self.path = lock_path(Path(state_path))
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, OWNER_ONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateError(f"state is in use by another run ({self.path.name} is locked)") from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "StateLock":
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
