"""Pause Python's cyclic garbage collector over a step that builds many small objects.

Why: the collector runs every few hundred allocations and, as objects survive, rescans
the older generations, which by then hold every long-lived object of the run (the scored
pairs' dicts, the archive facts).  Building hundreds of thousands of tuples, dicts and sets
that form no reference cycles, it cost 30-50% of the step: at 1M archives the clustering's
union-find took 1.65 s with it and 0.87 s without.  Reference counting still frees
everything at once; a cycle made meanwhile waits for the collector to resume.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """The cyclic collector off for the block (if it was on), then back as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
