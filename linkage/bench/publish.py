"""Where a benchmark writes its tables: the work folder by default, benchmarks/results only
when asked (``--publish``).

A default that wrote benchmarks/results let a quick run on another CPU overwrite the
committed tables, and then mix two machines in one scaling line (issue 11).  Every benchmark
script and ``linkage bench`` pick their results folder here, and a published table only keeps
earlier rows measured on the same machine (:func:`same_machine`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = REPO_ROOT / "benchmarks" / "results"
# The facts that make two runs comparable; versions and the git commit may differ.
MACHINE_IDENTITY = ("cpu", "logical_cores", "physical_cores", "ram_gb")


def results_dir(work_dir: Path, publish: bool) -> Path:
    """benchmarks/results with ``publish``, else ``work_dir/results`` (never the committed
    tables)."""
    return PUBLISHED if publish else Path(work_dir) / "results"


def same_machine(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two ``machine_facts()`` describe one machine (so their rows may share a table)."""
    if not a or not b:
        return False
    return all(a.get(k) == b.get(k) for k in MACHINE_IDENTITY)
