"""The benchmark: same synthetic archives, every system, side by side.

For each size: generate (or reuse) a population, run each system in its own worker process
(so time limits can be enforced and peak memory is that system's alone), score its clusters
against the truth (:mod:`linkage.bench.metrics`), and write ``results.json`` and
``RESULTS.md`` (:mod:`linkage.bench.report`) atomically after every scenario, so a long run
that is stopped still leaves the finished scenarios behind.

Scenarios already in ``results.json`` for other sizes (same seed, same machine) are kept, so
10k/100k and a later 1M run end up in one table (a results.json from another machine is
replaced, never merged); re-running some systems on an unchanged population keeps
the others' results (each system records its own command and date).
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import psutil

from linkage.bench import metrics, report
from linkage.bench.layout import (
    CLUSTERS_FILE,
    ENGINE_DIR,
    POPULATION_FILES,
    POPULATION_MARKER,
    RESULT_FILE,
    STATUS_FILE,
    generator_fingerprint,
    population_dir,
)
from linkage.bench.publish import same_machine
from linkage.errors import LinkageError
from linkage.outputs import write_bytes_atomic, write_json_atomic

log = logging.getLogger(__name__)

SYSTEMS = ("linkage", "id_only", "splink_plain")
# Plain Splink's blocks (one birth date, one raw ID — placeholders such as 无 included — one
# name) grow quadratically with the population; it gets a cap so the benchmark ends.  A
# system stopped at its cap is recorded as skipped, with its pair count and stage reached.
DEFAULT_TIME_LIMITS: dict[str, float] = {"splink_plain": 15 * 60}
BENCHMARK_ONLY_STAGES = ("count_pairs",)  # measured for the report, not part of the system
RESULTS_JSON = "results.json"
RESULTS_MD = "RESULTS.md"
_POLL_SECONDS = 0.2


class BenchError(LinkageError):
    """A benchmark that cannot be run as asked (unknown system, generation failed)."""


@dataclass(frozen=True)
class ChildOutcome:
    returncode: int | None
    timed_out: bool
    seconds: float
    polled_peak_rss_mb: float


def _child_env() -> dict[str, str]:
    """The worker must import this same ``linkage``, installed or not."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _tree_rss(process: psutil.Process) -> int:
    try:
        procs = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_child(args: Sequence[str], log_path: Path, time_limit: float | None) -> ChildOutcome:
    """Run ``python -m linkage.bench.worker ARGS``; kill it (only it) past ``time_limit``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "linkage.bench.worker", *args]
    start = time.perf_counter()
    peak = 0
    timed_out = False
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=_child_env())
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            peak = max(peak, _tree_rss(watched))
            if time_limit is not None and time.perf_counter() - start > time_limit:
                proc.kill()
                proc.wait()
                timed_out = True
                break
            time.sleep(_POLL_SECONDS)
    return ChildOutcome(proc.returncode, timed_out, round(time.perf_counter() - start, 3),
                        round(peak / 2**20, 1))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def ensure_population(persons: int, seed: int, work_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The population for (persons, seed): reused when complete, generated otherwise."""
    pop = population_dir(work_dir, persons, seed)
    marker = _read_json(pop / POPULATION_MARKER)
    if (marker and marker.get("status") == "ok" and marker.get("persons") == persons
            and marker.get("seed") == seed and marker.get("generator") == generator_fingerprint()
            and all((pop / f).is_file() for f in POPULATION_FILES)):
        return pop, {**marker, "reused": True}
    if pop.exists():
        shutil.rmtree(pop)  # a half-written population from a stopped run
    log.info("generating %d persons (seed %d)", persons, seed)
    outcome = run_child(["generate", str(persons), str(seed), str(pop)], pop.parent / f"{pop.name}.log", None)
    marker = _read_json(pop / POPULATION_MARKER)
    if outcome.returncode != 0 or not marker:
        raise BenchError(f"generating {persons} persons failed; see {pop.parent / (pop.name + '.log')}")
    return pop, {**marker, "reused": False}


def _load() -> float | None:
    """1-minute load average: the machine may be shared, and a busy one slows every system."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def run_system(system: str, archives: Path, out_dir: Path, seed: int, time_limit: float | None) -> dict[str, Any]:
    """Run one system in a worker; facts about the run (status, times, memory, pairs)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    log.info("running %s", system)
    outcome = run_child(["system", system, str(archives), str(out_dir), str(seed)],
                        out_dir / "worker.log", time_limit)
    result = _read_json(out_dir / RESULT_FILE)
    if outcome.timed_out or result is None:
        status = _read_json(out_dir / STATUS_FILE) or {}
        result = {
            "status": "skipped" if outcome.timed_out else "failed",
            "reason": (f">{_duration(time_limit)}" if outcome.timed_out and time_limit
                       else f"worker exited with code {outcome.returncode}"),
            "stage_seconds": status.get("stage_seconds", {}),
            "stopped_in": status.get("current_stage"),
            "pairs_compared": status.get("pairs_compared"),
            "pairs_by_rule": status.get("pairs_by_rule", {}),
            "wall_seconds": outcome.seconds,
            "peak_rss_mb": status.get("peak_rss_mb", 0.0),
        }
    result["peak_rss_mb"] = max(float(result.get("peak_rss_mb") or 0.0), outcome.polled_peak_rss_mb)
    if result.get("status") == "ok":
        extra = sum(result.get("stage_seconds", {}).get(s, 0.0) for s in BENCHMARK_ONLY_STAGES)
        result["seconds"] = round(result["wall_seconds"] - extra, 3)
    return result


def _load_population(con: duckdb.DuckDBPyConnection, pop: Path) -> int:
    for table, name in (("pop_truth", "truth.csv"), ("pop_hard_negatives", "hard_negatives.csv")):
        con.execute(f"CREATE OR REPLACE TABLE {table} AS "
                    f"SELECT * FROM read_csv(?, header = true, all_varchar = true)", [str(pop / name)])
    con.execute("CREATE OR REPLACE TABLE pop_regions AS SELECT archive_id, region_code, created_date "
                "FROM read_csv(?, header = true, all_varchar = true)", [str(pop / "archives.csv")])
    return int(con.execute("SELECT count(*) FROM pop_regions").fetchall()[0][0])


def _csv(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    return f"read_csv('{quoted}', header = true, all_varchar = true, quote = '\"', escape = '\"')"


def score_system(con: duckdb.DuckDBPyConnection, system: str, out_dir: Path) -> dict[str, Any]:
    """Metrics of one finished system against the population loaded by _load_population."""
    if system == "linkage":
        engine = out_dir / ENGINE_DIR
        decisions = _csv(engine / "decisions.csv")
        predicted = f"SELECT archive_id, person_id AS cluster_id FROM {_csv(engine / 'clusters.csv')}"
        review = (f"SELECT archive_id AS archive_id_l, survivor_archive_id AS archive_id_r "
                  f"FROM {decisions} WHERE action = 'review'")
        moves = f"SELECT archive_id, to_region FROM {decisions} WHERE action IN ('merge', 'migrate')"
    else:
        quoted = str(out_dir / CLUSTERS_FILE).replace("'", "''")
        predicted = f"SELECT archive_id, cluster_id FROM read_parquet('{quoted}')"
        review = moves = None
    metrics.load_inputs(
        con, truth="SELECT archive_id, person_id, kind FROM pop_truth", predicted=predicted,
        hard_negatives="SELECT archive_id_l, archive_id_r, tag FROM pop_hard_negatives",
        review_pairs=review, moves=moves, regions="SELECT * FROM pop_regions",
    )
    return metrics.evaluate(con, with_decisions=system == "linkage").to_dict()


def _merge_previous(previous: dict[str, Any] | None, scenarios: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """This run's scenarios plus earlier ones of the same seed, by size.

    An earlier scenario of the same size and generator keeps the systems this run did not
    redo (each system carries its own command and date), so one system can be re-run alone.
    """
    earlier = {s["persons"]: s for s in (previous or {}).get("scenarios", []) if s.get("seed") == seed}
    merged = []
    for scenario in scenarios:
        before = earlier.pop(scenario["persons"], None)
        same_population = before is not None and (
            (before.get("generation") or {}).get("generator") == scenario["generation"].get("generator"))
        if before is not None and same_population:
            carried = {name: {"command": before.get("command"), "date": before.get("date"), **result,
                              "earlier_run": True}
                       for name, result in before.get("systems", {}).items()
                       if name not in scenario["systems"]}
            systems = {**carried, **scenario["systems"]}
            order = {name: i for i, name in enumerate(SYSTEMS)}
            scenario = {**scenario, "systems": dict(sorted(systems.items(), key=lambda kv: order.get(kv[0], 99)))}
        merged.append(scenario)
    return sorted([*earlier.values(), *merged], key=lambda s: s["persons"])


def _write_results(results_dir: Path, results: dict[str, Any]) -> None:
    write_json_atomic(results_dir / RESULTS_JSON, results)
    write_bytes_atomic(results_dir / RESULTS_MD, report.render_markdown(results).encode("utf-8"))


def run_benchmark(
    sizes: list[int],
    seed: int,
    work_dir: Path,
    results_dir: Path,
    systems: Sequence[str] = SYSTEMS,
    *,
    time_limits: Mapping[str, float | None] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Benchmark ``systems`` on populations of ``sizes`` persons; returns what results.json holds.

    ``time_limits`` (seconds per system run) default to :data:`DEFAULT_TIME_LIMITS`.
    ``command`` is recorded as the reproducing command (default: this process's argv).
    """
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise BenchError(f"unknown systems {unknown}; choose from {list(SYSTEMS)}")
    limits = dict(DEFAULT_TIME_LIMITS if time_limits is None else time_limits)
    work_dir, results_dir = Path(work_dir), Path(results_dir)
    command = command or shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
    previous = _read_json(results_dir / RESULTS_JSON)
    machine = report.machine_facts()
    if previous and not same_machine(previous.get("machine"), machine):
        # A table never mixes machines: earlier rows from another machine are not kept.
        log.warning("%s was measured on another machine; its scenarios are not carried over",
                    results_dir / RESULTS_JSON)
        previous = None
    scenarios: list[dict[str, Any]] = []
    results: dict[str, Any] = {}
    for persons in sizes:
        pop, generation = ensure_population(persons, seed, work_dir)
        scenario: dict[str, Any] = {
            "persons": persons, "seed": seed, "archives": 0, "command": command,
            "date": _now(),
            "generation": {k: generation.get(k) for k in ("seconds", "peak_rss_mb", "reused", "generator")},
            "systems": {},
        }
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        try:
            scenario["archives"] = archives = _load_population(con, pop)
            for system in systems:
                out_dir = pop / "runs" / system
                outcome = {"command": command, "date": _now(), "load_average_at_start": _load(),
                           **run_system(system, pop / "archives.csv", out_dir, seed, limits.get(system))}
                if outcome["status"] == "ok":
                    outcome["archives_per_second"] = round(archives / outcome["seconds"], 1) if outcome["seconds"] else None
                    outcome["metrics"] = score_system(con, system, out_dir)
                scenario["systems"][system] = outcome
                log.info("%s on %d archives: %s", system, archives, outcome["status"])
        finally:
            con.close()
        scenarios.append(scenario)
        all_scenarios = _merge_previous(previous, scenarios, seed)
        results = {
            "benchmark": "linkage bench",
            "machine": machine,
            "seed": seed,
            "systems": list(systems),
            "time_limits_seconds": limits,
            "scenarios": all_scenarios,
            "scaling": report.scaling(all_scenarios),
        }
        _write_results(results_dir, results)
    return results
