"""One process at a time on a state file: an exclusive ``flock`` on ``<state>.lock``.

Why a lock file and not DuckDB's own locking: DuckDB refuses a second writer with an
engine error that names internals; we want a clear, early "state is in use by another
run" before any work is done (a nightly run and an operator's ``linkage unmerge`` can
overlap).  ``flock`` locks die with the process, so a killed run never leaves a stale lock.

The lock file is created owner-readable only (0600) and kept, empty, between runs.
"""

from __future__ import annotations

from pathlib import Path

from linkage.errors import StateError
from linkage.file_lock import ExclusiveLock


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


class StateLock(ExclusiveLock):
    """``with StateLock(path):`` holds the state exclusively, or raises StateError at once."""

    def __init__(self, state_path: Path | str) -> None:
        super().__init__(lock_path(Path(state_path)))

    def busy(self) -> Exception:
        return StateError(f"state is in use by another run ({self.path.name} is locked)")
