"""Stage timing and a progress display that appears only on a terminal.

Stages are reported by name and elapsed time only: nothing here sees record values.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

log = logging.getLogger("linkage")


class _RssSampler:
    """Samples this process's RSS on a background thread while a stage runs: the stage's
    peak, to within one interval.  (Resetting the kernel's high-water mark would be exact,
    but it would also falsify the peak that /usr/bin/time and other outside tools read.)"""

    INTERVAL_SECONDS = 0.05

    def __init__(self, process: psutil.Process) -> None:
        self._process = process
        self.peak_mb = process.memory_info().rss / 2**20
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.INTERVAL_SECONDS):
            try:
                self.peak_mb = max(self.peak_mb, self._process.memory_info().rss / 2**20)
            except psutil.Error:
                return

    def __enter__(self) -> "_RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._process.memory_info().rss / 2**20)


class StageTimer:
    """Times named stages and tracks the process's peak resident memory, overall (the OS's
    own figure) and per stage (sampled every 50 ms)."""

    def __init__(self, show: bool | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.stage_peak_mb: dict[str, float] = {}
        self.peak_rss_mb = 0.0
        self._running: dict[str, _RssSampler] = {}
        self._process = psutil.Process(os.getpid())
        self._show = sys.stderr.isatty() if show is None else show
        self._console = None
        if self._show:
            from rich.console import Console

            self._console = Console(stderr=True)

    def _sample_memory(self) -> None:
        rss = self._process.memory_info().rss / 2**20
        self.peak_rss_mb = max(self.peak_rss_mb, rss)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        self._sample_memory()
        with _RssSampler(self._process) as sampler:
            self._running[name] = sampler
            try:
                if self._console is not None:
                    with self._console.status(f"[bold]{name}[/]…"):
                        yield
                else:
                    yield
            finally:
                self._running.pop(name, None)
        elapsed = time.perf_counter() - start
        self._sample_memory()
        self.peak_rss_mb = max(self.peak_rss_mb, sampler.peak_mb)
        self.stage_peak_mb[name] = round(max(self.stage_peak_mb.get(name, 0.0), sampler.peak_mb), 1)
        self.seconds[name] = round(self.seconds.get(name, 0.0) + elapsed, 3)
        log.info("stage %s done in %.2fs", name, elapsed)
        if self._console is not None:
            self._console.print(f"[green]✓[/] {name} [dim]{elapsed:.1f}s[/]")

    def stage_peaks_so_far(self) -> dict[str, float]:
        """Peak MB of every stage done, and of each stage still running up to now: the write
        stage puts summary.json together before it ends, and its peak so far is what it
        can report."""
        peaks = dict(self.stage_peak_mb)
        rss = self._process.memory_info().rss / 2**20
        for name, sampler in self._running.items():
            peaks[name] = round(max(peaks.get(name, 0.0), sampler.peak_mb, rss), 1)
        return peaks

    def peak_memory_mb(self) -> float:
        """Peak RSS of this process as the OS reports it (Linux ru_maxrss), else sampled."""
        try:
            import resource

            return max(self.peak_rss_mb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        except (ImportError, AttributeError):
            return self.peak_rss_mb
