"""One ``linkage`` command in its own process, timed: what every benchmark script measures.

Its own process, so wall time includes interpreter start-up as a site's cron job pays it,
and peak memory is that run's alone.  The load average before the run is kept with the
time: on a shared machine it says how much a figure can be trusted.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TimedRun:
    """What a timed command printed, how long it took, and the load it started under."""

    stdout: str
    stderr: str
    seconds: float
    load_before: tuple[float, float, float]
    cpu_seconds: float  # user + system of the command: steadier than wall time under load


def timed_linkage(args: list[str], cwd: Path, label: str) -> TimedRun:
    """Run ``python -m linkage.cli ARGS``; a failure stops the benchmark, naming ``label``."""
    command = [sys.executable, "-m", "linkage.cli", *args]
    load_before = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{label} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return TimedRun(done.stdout, done.stderr, seconds, load_before, cpu)
