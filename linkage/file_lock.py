"""One process at a time on a resource: an exclusive ``flock`` on a lock file.

Why ``flock``: it dies with the process, so a killed run never leaves a stale lock, and a
second process learns at once (non-blocking) that the resource is busy, before any work.
Used for the durable state (linkage.state.lock) and for an output folder (linkage.outputs).
The lock file is created owner-readable only (0600) and kept, empty, between runs.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

OWNER_ONLY = 0o600


class ExclusiveLock:
    """``with ExclusiveLock(path):`` holds ``path`` exclusively, or raises :meth:`busy` at once."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def busy(self) -> Exception:
        """The error raised when another process holds the lock (subclasses say what is busy)."""
        return BlockingIOError(f"{self.path.name} is locked by another process")

    def cannot_create(self, exc: OSError) -> Exception:
        """The error raised when the lock file cannot be created."""
        return exc

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, OWNER_ONLY)
        except OSError as exc:
            raise self.cannot_create(exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self.busy() from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "ExclusiveLock":
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
