"""One benchmark step in its own process: ``python -m linkage.bench.worker STEP ...``.

Why a separate process per system: peak memory must belong to one system, not to whatever
ran before it in the same interpreter, and a system over its time limit must be stoppable
without leaving DuckDB threads behind.  The worker writes facts only (times, counts, memory)
to ``status.json`` as stages end and ``result.json`` when done; never record values.

Steps:
    generate PERSONS SEED OUT_DIR            synthetic population (archives, truth, hard negatives)
    system NAME ARCHIVES_CSV OUT_DIR SEED    run one system; clusters to OUT_DIR
"""

from __future__ import annotations

import dataclasses
import json
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from linkage.bench.layout import (
    CLUSTERS_FILE,
    ENGINE_DIR,
    POPULATION_MARKER,
    RESULT_FILE,
    STATUS_FILE,
    generator_fingerprint,
)
from linkage.outputs import write_json_atomic

if TYPE_CHECKING:
    from linkage.bench.baselines import Progress


def peak_rss_mb() -> float:
    """Peak resident memory of this process (and any children it waited for), in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)  # Linux reports KiB


def _as_dict(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def generate(persons: int, seed: int, out_dir: Path) -> dict[str, Any]:
    from linkage.synth import generate_population

    start = time.perf_counter()
    summary = generate_population(persons, seed, out_dir)
    return {"persons": persons, "seed": seed, "generator": generator_fingerprint(),
            "seconds": round(time.perf_counter() - start, 3),
            "peak_rss_mb": peak_rss_mb(), "summary": _as_dict(summary)}


def run_engine(archives: Path, out_dir: Path) -> dict[str, Any]:
    """The shipped engine with the shipped model (no training), as `linkage run` does it."""
    from linkage.pipeline import run

    summary = run(archives, out_dir / ENGINE_DIR, show_progress=False)
    facts = _as_dict(summary)
    stages = dict(summary.stage_seconds)
    if not stages:  # the run's timer is written to summary.json rather than returned
        written = json.loads((out_dir / ENGINE_DIR / "summary.json").read_text(encoding="utf-8"))
        stages = dict(written.get("stage_seconds") or {})
    return {
        "stage_seconds": stages,
        "pairs_compared": int(summary.pairs_compared),
        "pairs_by_rule": dict(summary.pairs_by_rule),
        "engine_summary": {k: facts.get(k) for k in (
            "archives", "rejected_rows", "clusters", "persons", "merges", "migrations",
            "review_pairs", "peak_memory_mb")},
    }


def run_baseline(name: str, archives: Path, out_dir: Path, seed: int, progress: Progress) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from linkage.bench import baselines

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        if name == "id_only":
            result = baselines.id_only(con, archives, progress)
        elif name == "splink_plain":
            result = baselines.splink_plain(con, archives, progress, seed=seed)
        else:
            raise ValueError(f"unknown system {name!r}")
    finally:
        con.close()
    pq.write_table(result.clusters, out_dir / CLUSTERS_FILE)
    return {"stage_seconds": result.stage_seconds, "pairs_compared": result.pairs_compared,
            "pairs_by_rule": result.pairs_by_rule}


def run_system(name: str, archives: Path, out_dir: Path, seed: int) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    status = out_dir / STATUS_FILE

    def progress(stage: str, facts: dict[str, Any]) -> None:
        write_json_atomic(status, {"status": "running", **facts, "peak_rss_mb": peak_rss_mb()})

    start = time.perf_counter()
    if name == "linkage":
        facts = run_engine(archives, out_dir)
    else:
        facts = run_baseline(name, archives, out_dir, seed, progress)
    return {"status": "ok", "wall_seconds": round(time.perf_counter() - start, 3), **facts,
            "peak_rss_mb": peak_rss_mb()}


def _error_text(exc: Exception) -> str:
    """Our own errors carry no PII by contract; others (DuckDB, Splink) may quote values,
    so only their type goes into result.json (the traceback stays in the local worker log)."""
    from linkage.errors import LinkageError

    if isinstance(exc, LinkageError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__} (details in worker.log)"


def main(argv: list[str]) -> int:
    step = argv[0]
    if step == "generate":
        persons, seed, out_dir = int(argv[1]), int(argv[2]), Path(argv[3])
        out_dir.mkdir(parents=True, exist_ok=True)
        result = generate(persons, seed, out_dir)
        write_json_atomic(out_dir / POPULATION_MARKER, {"status": "ok", **result})
        return 0
    if step == "system":
        name, archives, out_dir, seed = argv[1], Path(argv[2]), Path(argv[3]), int(argv[4])
        try:
            result = run_system(name, archives, out_dir, seed)
        except Exception as exc:  # recorded, not raised: one failing system must not stop the others
            traceback.print_exc()  # to the worker log; messages from our code carry no PII
            result = {"status": "failed", "error": _error_text(exc), "peak_rss_mb": peak_rss_mb()}
        write_json_atomic(out_dir / RESULT_FILE, result)
        return 0 if result["status"] == "ok" else 1
    raise SystemExit(f"unknown step {step!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
