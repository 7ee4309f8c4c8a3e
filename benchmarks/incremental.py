"""Benchmark: a nightly increment against a large state, next to a full rebuild of the same night.

    python benchmarks/incremental.py [--population DIR] [--persons 1000000] [--seed 7]
                                     [--new 8000] [--changed 2000] [--work DIR]
                                     [--publish]

Night 1 is the population without ``--new`` archives (held back); it builds the state (a
full run).  Night 2 brings the held-back archives and edits ``--changed`` others (a new
phone number): ``--new + --changed`` new-or-changed archives.  Night 2 is then run

* incrementally, against the state of night 1 (what cron does every night);
* as a full rebuild (``--full``) on a copy of the same state;
* incrementally once more with nothing changed (a rerun);
* stateless (``linkage run`` without ``--state``), for reference.

Each run is a separate ``linkage -v run`` process, timed wall-clock; the incremental and the
full result must be identical (clusters.csv, decisions.csv), which is checked.  Results go
to ``incremental.json`` and ``incremental.md`` in WORK/results (``--publish``:
benchmarks/results), with the machine, the load
before each run, the commands and the per-stage seconds from each run's log.  Synthetic
data only (linkage.synth; the population is generated if missing).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

from linkage.bench.publish import results_dir as pick_results
from linkage.bench.report import code_label, machine_facts
from linkage.bench.timed import timed_linkage

ROOT = Path(__file__).resolve().parent.parent


def make_nights(archives: Path, work: Path, new: int, changed: int) -> tuple[Path, Path]:
    """Night 1 without ``new`` archives; night 2 with them and ``changed`` edits."""
    night1, night2 = work / f"night1-{new}-{changed}.csv", work / f"night2-{new}-{changed}.csv"
    if night1.exists() and night2.exists():
        return night1, night2
    with archives.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        rows = list(reader)
    ranked = sorted(rows, key=lambda r: hashlib.md5(r["archive_id"].encode()).hexdigest())
    held = {r["archive_id"] for r in ranked[:new]}
    edited = {r["archive_id"] for r in ranked[new:new + changed]}
    with night1.open("w", encoding="utf-8", newline="") as h1, night2.open("w", encoding="utf-8", newline="") as h2:
        w1, w2 = csv.DictWriter(h1, fieldnames=fields), csv.DictWriter(h2, fieldnames=fields)
        w1.writeheader()
        w2.writeheader()
        for row in rows:
            if row["archive_id"] not in held:
                w1.writerow(row)
            if row["archive_id"] in edited:
                row = dict(row, phone="139" + row["archive_id"][-8:])
            w2.writerow(row)
    return night1, night2


def timed_run(args: list[str], label: str) -> dict:
    done = timed_linkage(["-v", "run", *args], ROOT, label)
    seconds, load_before = done.seconds, done.load_before
    out = Path(args[args.index("--out") + 1])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # Every stage's time, from the -v log (summary.json is written before the last stages).
    stages = {m.group(1): float(m.group(2)) for m in re.finditer(r"stage (\w+) done in ([\d.]+)s", done.stderr)}
    print(f"{label}: {seconds:.1f} s — {done.stdout.strip()}", flush=True)
    return {
        "label": label,
        "command": "linkage run " + " ".join(args),
        "wall_seconds": round(seconds, 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "stage_seconds": stages,
        "peak_memory_mb": summary.get("peak_memory_mb"),
        "mode": summary.get("mode", "stateless"),
        "changes": summary.get("changes") or {},
        "archives": summary.get("archives"),
        "pairs_compared": summary.get("pairs_compared"),
        "pairs_stored": summary.get("pairs_stored"),
        "pairs_kept": summary.get("pairs_kept"),
        "reclustered": summary.get("reclustered", summary.get("archives")),
        "person_ids": summary.get("person_ids"),
        "decisions_emitted": summary.get("decisions_emitted"),
    }


def same_file(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


def write_results(results_dir: Path, payload: dict) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "incremental.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    runs = {r["label"]: r for r in payload["runs"]}
    inc, full, rerun = runs["night 2 incremental"], runs["night 2 full rebuild"], runs["night 2 rerun"]
    m = payload["machine"]
    lines = [
        "# Incremental nightly run vs full rebuild",
        "",
        f"Generated {payload['generated_at']} by `{payload['command']}`.",
        "",
        f"Machine: {m['cpu']}, {m['logical_cores']} cores, {m['ram_gb']} GB RAM; Python {m['python']}, "
        f"DuckDB {m['duckdb']}, Splink {m['splink']}; code at {code_label(m)}.  Shared machine: the "
        "1-minute load average before each run is listed (other work was running).",
        "",
        f"State: {runs['night 1 (builds the state)']['archives']:,} archives after night 1.  "
        f"Night 2: {inc['changes']['new']:,} new + {inc['changes']['changed']:,} changed archives "
        f"= {inc['changes']['new'] + inc['changes']['changed']:,}.",
        "",
        "| run | wall s | load before | pairs scored | archives re-clustered | peak MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in payload["runs"]:
        lines.append(f"| {r['label']} | {r['wall_seconds']:.1f} | {r['load_average_before'][0]:.1f} | "
                     f"{r['pairs_compared']:,} | {r['reclustered']:,} | {r['peak_memory_mb']:.0f} |")
    lines += [
        "",
        f"**Incremental night: {inc['wall_seconds']:.1f} s; full rebuild of the same night: "
        f"{full['wall_seconds']:.1f} s; ratio {payload['ratio_incremental_to_full']:.3f} "
        f"({payload['ratio_incremental_to_full'] * 100:.1f} %).**  A rerun with nothing changed: "
        f"{rerun['wall_seconds']:.1f} s.  A stateless `linkage run` of the same night: "
        f"{runs['night 2 stateless (no --state)']['wall_seconds']:.1f} s (ratio "
        f"{payload['ratio_incremental_to_stateless']:.3f}).",
        "",
        f"Incremental and full rebuild outputs identical (clusters.csv, decisions.csv): "
        f"{payload['identical_outputs']}.",
        "",
        "Per-stage seconds (from each run's `-v` log; process start-up and imports are in "
        "the wall time only):",
        "",
        "| stage | " + " | ".join(r["label"] for r in payload["runs"]) + " |",
        "|---|" + "---:|" * len(payload["runs"]),
    ]
    stages: list[str] = []
    for r in payload["runs"]:
        stages += [s for s in r["stage_seconds"] if s not in stages]
    for stage in stages:
        lines.append(f"| {stage} | " + " | ".join(
            f"{r['stage_seconds'].get(stage, 0):.1f}" for r in payload["runs"]) + " |")
    lines += ["", "Commands:", ""] + [f"    {r['command']}" for r in payload["runs"]] + [""]
    (results_dir / "incremental.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--population", type=Path, default=None,
                        help="Folder with archives.csv (default: the population `linkage bench` "
                             "uses for --persons/--seed, generated if missing).")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--new", type=int, default=8000)
    parser.add_argument("--changed", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work" / "incremental")
    parser.add_argument("--publish", action="store_true",
                        help="write the tables to benchmarks/results (default: WORK/results)")
    args = parser.parse_args()

    if args.population is None:
        from linkage.bench.layout import population_dir

        args.population = population_dir(ROOT / "benchmarks" / "work", args.persons, args.seed)
    archives = args.population / "archives.csv"
    if not archives.is_file():
        from linkage.synth import generate_population

        generate_population(args.persons, args.seed, args.population)
    args.work.mkdir(parents=True, exist_ok=True, mode=0o700)
    night1, night2 = make_nights(archives, args.work, args.new, args.changed)
    state, out = args.work / "state" / "state.duckdb", args.work / "out"
    full_state, full_out = args.work / "full-state" / "state.duckdb", args.work / "full-out"
    for path in (state.parent, out, full_state.parent, full_out):
        shutil.rmtree(path, ignore_errors=True)

    runs = [timed_run([str(night1), "--state", str(state), "--out", str(out)], "night 1 (builds the state)")]
    full_state.parent.mkdir(parents=True)
    for suffix in ("", ".wal"):
        if Path(f"{state}{suffix}").exists():
            shutil.copy2(f"{state}{suffix}", f"{full_state}{suffix}")
    shutil.copytree(out, full_out)
    runs.append(timed_run([str(night2), "--state", str(state), "--out", str(out)], "night 2 incremental"))
    incremental_out = args.work / "night2-incremental-out"
    shutil.rmtree(incremental_out, ignore_errors=True)
    shutil.copytree(out, incremental_out)
    runs.append(timed_run([str(night2), "--state", str(full_state), "--out", str(full_out), "--full"],
                          "night 2 full rebuild"))
    runs.append(timed_run([str(night2), "--state", str(state), "--out", str(out)], "night 2 rerun"))
    stateless_out = args.work / "stateless-out"
    shutil.rmtree(stateless_out, ignore_errors=True)
    runs.append(timed_run([str(night2), "--out", str(stateless_out)], "night 2 stateless (no --state)"))
    identical = all(same_file(incremental_out / f, full_out / f) for f in ("clusters.csv", "decisions.csv"))
    inc, full = runs[1]["wall_seconds"], runs[2]["wall_seconds"]
    payload = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/incremental.py " + " ".join(sys.argv[1:]),
        "machine": machine_facts(),
        "population": str(archives),
        "new": args.new, "changed": args.changed,
        "runs": runs,
        "ratio_incremental_to_full": round(inc / full, 4),
        "ratio_incremental_to_stateless": round(inc / runs[4]["wall_seconds"], 4),
        "identical_outputs": identical,
    }
    results_dir = pick_results(args.work, args.publish)
    write_results(results_dir, payload)
    print(f"incremental {inc:.1f} s, full {full:.1f} s, ratio {inc / full:.3f}; identical: {identical}")


if __name__ == "__main__":
    main()
