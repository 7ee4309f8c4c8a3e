"""The scale benchmark: one command, 10k/100k/1M/5M persons, the engine's cost curve and, at
1M, pre-trained plain Splink on the same input in the same run (issue 12).

Every system runs in its own child process, measured by the kernel (``os.wait4``): wall
seconds, CPU seconds (user + system: what a loaded, shared machine distorts least) and peak
RSS.  The engine's own summary.json adds seconds and peak memory per stage and the pairs per
blocking rule; pairs per archive per rule show a rule that grows with the square of the
population.  Populations come from ``linkage synth`` (generation timed too, not counted in
the run) and are reused while the generator is unchanged.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from linkage.bench.layout import generator_fingerprint
from linkage.bench.report import machine_facts, machine_line
from linkage.config import default_config_path
from linkage.outputs import write_bytes_atomic, write_json_atomic

SIZES = (10_000, 100_000, 1_000_000, 5_000_000)
PLAIN_AT = 1_000_000
# From this size on the engine runs with a larger DuckDB memory limit than the shipped one
# (1500MB, for a 4 GB box): at 5M persons 1500MB spilled 12 GB to disk; the target there is
# 8 GB of peak memory.
LARGE_FROM = 2_000_000
LARGE_MEMORY_LIMIT = "6GB"
# The engine's timed stages (linkage.progress.StageTimer): "cluster" includes the decisions;
# writing the outputs and start-up are the rest of the wall time, shown as their own column.
STAGES = ("read", "standardise", "score", "cluster")


def timed_child(args: list[str], log: Path) -> dict[str, Any]:
    """Run ``python args`` to the end; the kernel's wall/CPU/peak figures for it alone
    (ru_maxrss of wait4 covers the child and its own children)."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    log.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with log.open("wb") as out:
        child = subprocess.Popen([sys.executable, *args], stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    child.returncode = code
    return {"ok": code == 0, "exit_code": code, "wall_seconds": round(wall, 2),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "load_average_at_start": round(load, 2)}


def cached_population(folder: Path, fingerprint: str, generate: list[str],
                      log: Path) -> tuple[Path, dict[str, Any]]:
    """``folder`` with archives.csv: reused if made by the generator whose code hashes to
    ``fingerprint``, else made by ``python generate`` in a child (its kernel figures kept)."""
    marker = folder / "population.json"
    if marker.is_file():
        facts = json.loads(marker.read_text(encoding="utf-8"))
        if facts.get("generator") == fingerprint and (folder / "archives.csv").is_file():
            return folder, {**facts, "reused": True}
    facts = timed_child(generate, log)
    if not facts["ok"]:
        raise RuntimeError(f"generating {folder.name} failed; see {log}")
    facts["generator"] = fingerprint
    write_json_atomic(marker, facts)
    return folder, {**facts, "reused": False}


def population(work: Path, persons: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """archives.csv for ``persons`` (generated in a child, or reused if the generator matches)."""
    folder = work / f"persons{persons}_seed{seed}"
    return cached_population(folder, generator_fingerprint(),
                             ["-m", "linkage.cli", "synth", "--persons", str(persons), "--seed", str(seed),
                              "--out", str(folder)], work / f"synth_{persons}.log")


def large_config(work: Path, memory_limit: str) -> Path:
    """The shipped config with ``[engine] memory_limit`` raised (for the largest sizes)."""
    text, found = re.subn(r'(?m)^memory_limit = .*$', f'memory_limit = "{memory_limit}"',
                          default_config_path().read_text(encoding="utf-8"))
    if found != 1:
        raise RuntimeError("configs/default.toml has no single [engine] memory_limit line")
    path = work / f"config_memory_{memory_limit}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_engine(folder: Path, work: Path, persons: int, config: Path | None = None,
               tag: str | None = None) -> dict[str, Any]:
    """The engine on ``folder``'s archives.csv; ``tag`` names its files (default: persons)."""
    name = tag or str(persons)
    out = work / f"engine_{name}"
    args = ["-m", "linkage.cli", "run", str(folder / "archives.csv"), "--out", str(out)]
    if config is not None:
        args += ["--config", str(config)]
    facts = timed_child(args, work / f"engine_{name}.log")
    facts["config"] = str(config.name) if config else "configs/default.toml"
    if facts["ok"]:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        archives = summary["archives"]
        facts.update(
            archives=archives, pairs_compared=summary["pairs_compared"],
            pairs_per_archive=round(summary["pairs_compared"] / archives, 3) if archives else None,
            pairs_per_archive_by_rule={k: round(v / archives, 4) for k, v in summary["pairs_by_rule"].items()},
            pairs_by_rule=summary["pairs_by_rule"], stage_seconds=summary.get("stage_seconds", {}),
            stage_peak_mb=summary.get("stage_peak_mb", {}),
            guard={k: summary["guards"]["blocking"].get(k) for k in
                   ("pairs_estimated", "pairs_estimated_after_guard", "blocks_dropped")})
    return facts


def run_plain(folder: Path, work: Path, persons: int, tag: str | None = None) -> dict[str, Any]:
    """Train plain Splink (untimed), then time its run on the same archives.csv."""
    name = tag or str(persons)
    model, trained = work / f"plain_model_{name}.json", work / f"plain_train_{name}.json"
    training = timed_child(["-m", "linkage.bench.plain_splink", "train", str(folder / "archives.csv"),
                            str(model), str(trained)], work / f"plain_train_{name}.log")
    if not training["ok"]:
        return {"ok": False, "training": training}
    facts_file = work / f"plain_run_{name}.json"
    facts = timed_child(["-m", "linkage.bench.plain_splink", "run", str(folder / "archives.csv"),
                         str(model), str(work / f"plain_out_{name}"), str(facts_file)],
                        work / f"plain_run_{name}.log")
    if facts["ok"]:
        facts.update(json.loads(facts_file.read_text(encoding="utf-8")))
        by_rule = json.loads(trained.read_text(encoding="utf-8"))["pairs_by_rule"]
        facts["pairs_by_rule"] = by_rule
        facts["pairs_compared"] = sum(by_rule.values())
    facts["training_seconds_not_counted"] = training["wall_seconds"]
    return facts


@dataclass(frozen=True)
class OtherPopulation:
    """A population from another generator, run at one size beside the synth's (engine and
    plain Splink): the synth's name mix is one of many, and blocking cost follows it."""

    label: str  # shown in scale.md
    tag: str  # names its files under the work folder
    persons: int
    make: Callable[[], tuple[Path, dict[str, Any]]]  # -> folder with archives.csv, generation facts


def run_other(other: OtherPopulation, work: Path) -> dict[str, Any]:
    """Engine and pre-trained plain Splink on ``other``: one row of scale.json's ``others``."""
    folder, generation = other.make()
    row: dict[str, Any] = {"population": other.label, "persons": other.persons, "generation": generation,
                           "engine": run_engine(folder, work, other.persons, tag=other.tag)}
    row["plain_splink"] = plain = run_plain(folder, work, other.persons, tag=other.tag)
    if plain.get("ok") and row["engine"].get("ok"):
        row["engine_over_plain"] = {
            k: round(row["engine"][k] / plain[k], 3) for k in ("wall_seconds", "cpu_seconds", "peak_rss_mb")}
    return row


def run_scale(sizes: list[int], seed: int, work: Path, plain_at: int | None = PLAIN_AT,
              command: str | None = None, large_memory_limit: str = LARGE_MEMORY_LIMIT,
              others: Sequence[OtherPopulation] = ()) -> dict[str, Any]:
    """Every size in turn, then each other population; returns what scale.json holds (also
    written to ``work``)."""
    work.mkdir(parents=True, exist_ok=True, mode=0o700)
    results: dict[str, Any] = {
        "benchmark": "scale", "command": command or shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_facts(), "seed": seed, "plain_at": plain_at,
        "memory_limit_from": {"persons": LARGE_FROM, "memory_limit": large_memory_limit}, "sizes": [],
    }
    start = time.perf_counter()
    for persons in sizes:
        folder, generation = population(work, persons, seed)
        config = large_config(work, large_memory_limit) if persons >= LARGE_FROM else None
        row: dict[str, Any] = {"persons": persons, "generation": generation,
                               "engine": run_engine(folder, work, persons, config)}
        if plain_at is not None and persons == plain_at:
            row["plain_splink"] = plain = run_plain(folder, work, persons)
            engine = row["engine"]
            if plain.get("ok") and engine.get("ok"):
                row["engine_over_plain"] = {
                    k: round(engine[k] / plain[k], 3) for k in ("wall_seconds", "cpu_seconds", "peak_rss_mb")}
        results["sizes"].append(row)
        results["seconds"] = round(time.perf_counter() - start, 1)
        write_json_atomic(work / "scale.json", results)
        write_bytes_atomic(work / "scale.md", render(results).encode("utf-8"))
    for other in others:
        results.setdefault("others", []).append(run_other(other, work))
        results["seconds"] = round(time.perf_counter() - start, 1)
        write_json_atomic(work / "scale.json", results)
        write_bytes_atomic(work / "scale.md", render(results).encode("utf-8"))
    return results


def _mb(value: Any) -> str:
    return "–" if value in (None, "") else f"{float(value):,.0f}"


def render(results: dict[str, Any]) -> str:
    """scale.md: one machine, one run."""
    m = results["machine"]
    lines = [
        "# Scale: the engine from 10k to 5M persons, plain Splink at 1M, one machine, one run",
        "",
        machine_line(m),
        "",
        f"Run {results['started']} with `{results['command']}` ({results.get('seconds', 0):.0f} s in all). "
        "Each system in its own process, measured by the kernel (wait4): wall seconds, CPU "
        "seconds (user + system) and peak RSS.  Load average (1 min) at the start of each run "
        "in the last column: on a busy machine, judge by CPU seconds and by the ratio to plain "
        "Splink measured in the same run.  From "
        f"{results.get('memory_limit_from', {}).get('persons', LARGE_FROM):,} persons on, the engine runs "
        f"with `[engine] memory_limit = \"{results.get('memory_limit_from', {}).get('memory_limit', LARGE_MEMORY_LIMIT)}\"` "
        "(the shipped 1500MB is for a 4 GB box).",
        "",
        "| persons | archives | system | wall s | CPU s | peak RSS MB | pairs | pairs/archive | load |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["sizes"]:
        e = row["engine"]
        lines.append(f"| {row['persons']:,} | {e.get('archives', 0):,} | linkage | {e['wall_seconds']} | "
                     f"{e['cpu_seconds']} | {_mb(e['peak_rss_mb'])} | {e.get('pairs_compared', 0):,} | "
                     f"{e.get('pairs_per_archive', '–')} | {e['load_average_at_start']} |")
        if "plain_splink" in row:
            p = row["plain_splink"]
            if p.get("ok"):
                lines.append(f"| {row['persons']:,} | {p.get('archives', 0):,} | plain Splink, pre-trained | "
                             f"{p['wall_seconds']} | {p['cpu_seconds']} | {_mb(p['peak_rss_mb'])} | "
                             f"{p.get('pairs_compared', 0):,} | "
                             f"{round(p.get('pairs_compared', 0) / max(p.get('archives', 1), 1), 3)} | "
                             f"{p['load_average_at_start']} |")
            else:
                lines.append(f"| {row['persons']:,} | | plain Splink, pre-trained | failed | | | | | |")
    ratio = next((r["engine_over_plain"] for r in results["sizes"] if "engine_over_plain" in r), None)
    if ratio:
        lines += ["", f"Engine / plain Splink at {results.get('plain_at') or 0:,} persons: wall {ratio['wall_seconds']}×, "
                      f"CPU {ratio['cpu_seconds']}×, peak RSS {ratio['peak_rss_mb']}× (plain Splink's "
                      "training ran before, outside its timing)."]
    lines += ["", "## Seconds and peak MB per stage (engine)", "",
              "`cluster` includes deciding merges, migrations and review rows; `rest` is the wall "
              "time outside the timed stages (interpreter start-up, loading the model, writing and "
              "publishing the outputs); `write MB` is the write stage's peak up to the moment "
              "summary.json is put together (its seconds are in `rest`).", "",
              "| persons | " + " | ".join(STAGES) + " | rest | write MB |",
              "|---:|" + "---:|" * (len(STAGES) + 2)]
    for row in results["sizes"]:
        e = row["engine"]
        cells = [f"{e.get('stage_seconds', {}).get(s, '–')} / {_mb(e.get('stage_peak_mb', {}).get(s))}"
                 for s in STAGES]
        timed = sum(float(v) for v in e.get("stage_seconds", {}).values())
        cells.append(f"{round(float(e['wall_seconds']) - timed, 1)} s" if "wall_seconds" in e else "–")
        cells.append(_mb(e.get("stage_peak_mb", {}).get("write")))
        lines.append(f"| {row['persons']:,} | " + " | ".join(cells) + " |")
    rules = list(dict.fromkeys(k for r in results["sizes"] for k in r["engine"].get("pairs_by_rule", {})))
    lines += ["", "## Pairs per archive, by blocking rule (a rule growing with the population grows here)", "",
              "Each pair counts under the first rule that proposes it (Splink's order).", "",
              "| rule | " + " | ".join(f"{r['persons']:,}" for r in results["sizes"]) + " |",
              "|---|" + "---:|" * len(results["sizes"])]
    for rule in rules:
        lines.append(f"| {rule} | " + " | ".join(
            str(r["engine"].get("pairs_per_archive_by_rule", {}).get(rule, "–")) for r in results["sizes"]) + " |")
    lines += _render_others(results.get("others", []))
    lines += ["", "## Generating the populations (`linkage synth`, not part of the runs)", "",
              "| persons | seconds | CPU s | peak RSS MB | reused |", "|---:|---:|---:|---:|---|"]
    for row in results["sizes"]:
        g = row["generation"]
        lines.append(f"| {row['persons']:,} | {g.get('wall_seconds')} | {g.get('cpu_seconds')} | "
                     f"{_mb(g.get('peak_rss_mb'))} | {'yes' if g.get('reused') else 'no'} |")
    return "\n".join(lines) + "\n"


def _render_others(others: list[dict[str, Any]]) -> list[str]:
    """The other generators' rows: engine and plain Splink on one input, pairs per rule."""
    if not others:
        return []
    lines = ["", "## Other populations: another generator's name mix, same run", "",
             "| population | persons | archives | system | wall s | CPU s | peak RSS MB | pairs | "
             "pairs/archive | engine / plain (wall, CPU) | load |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---|---:|"]
    for row in others:
        e, p, ratio = row["engine"], row.get("plain_splink", {}), row.get("engine_over_plain")
        over = f"{ratio['wall_seconds']}×, {ratio['cpu_seconds']}×" if ratio else "–"
        lines.append(f"| {row['population']} | {row['persons']:,} | {e.get('archives', 0):,} | linkage | "
                     f"{e['wall_seconds']} | {e['cpu_seconds']} | {_mb(e['peak_rss_mb'])} | "
                     f"{e.get('pairs_compared', 0):,} | {e.get('pairs_per_archive', '–')} | {over} | "
                     f"{e['load_average_at_start']} |")
        if p.get("ok"):
            lines.append(f"| {row['population']} | {row['persons']:,} | {p.get('archives', 0):,} | "
                         f"plain Splink, pre-trained | {p['wall_seconds']} | {p['cpu_seconds']} | "
                         f"{_mb(p['peak_rss_mb'])} | {p.get('pairs_compared', 0):,} | "
                         f"{round(p.get('pairs_compared', 0) / max(p.get('archives', 1), 1), 3)} | | "
                         f"{p['load_average_at_start']} |")
    for row in others:
        e = row["engine"]
        lines += ["", f"{row['population']}, engine pairs per archive by rule: " + ", ".join(
            f"{rule} {value}" for rule, value in e.get("pairs_per_archive_by_rule", {}).items()) + "."]
    return lines
