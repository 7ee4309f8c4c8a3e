"""The independent-generator benchmark in one command.

    python benchmarks/independent/run.py [--scenario NAME:PERSONS:SEED[:SEV] ...]
                                         [--work benchmarks/work/independent]
                                         [--publish] [--check-gb18030]

For each scenario: generate a population with ``generate.py`` into ``--work``, run the engine
on it exactly as a user would (``python -m linkage.cli run archives.csv --out DIR``, a separate
process, timed wall-clock), score it with ``evaluate.py`` and check the acceptance targets.
Writes ``independent.json`` (every metric) and ``independent.md`` (a table per scenario) to
WORK/results, or with ``--publish`` to benchmarks/results.  ``--check-gb18030`` also runs the engine on the GB18030, Chinese-header copy of
each input and checks that it gives the same clusters.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from evaluate import check_targets, evaluate  # noqa: E402
from generate import generate  # noqa: E402

from linkage.bench.publish import results_dir as pick_results  # noqa: E402
from linkage.bench.report import code_label, machine_facts  # noqa: E402
from linkage.bench.timed import timed_linkage  # noqa: E402

# as in the original run_all.sh: two full-severity seeds and a milder population
DEFAULT_SCENARIOS = ["s7:60000:7", "s11:80000:11", "mild:60000:23:0.5"]

INTRO = (
    "These populations come from `benchmarks/independent/generate.py`, a generator written "
    "independently of `linkage/synth` (the generator the engine was developed against): a "
    "different province (河南省周口市, with its pre-2000 4127xx ID codes, Xinjiang-issued IDs, IDs "
    "from elsewhere in Henan), harsher corruptions stacked on the same archive (missing, mistyped, "
    "15-digit, full-width, a spouse's or parent's ID; homophone, dialect, look-alike and "
    "traditional characters; lunar, swapped, shifted and 1900 birth dates; wrong sex; changed "
    "phones; near-empty records) and dense hard negatives (spouses, parents and children, "
    "siblings, twins with one character apart and consecutive IDs, namesakes sharing name and "
    "birth date, children filed under a parent's ID). The engine was not tuned on it: the numbers "
    "are a stress test on unfamiliar data, and a missed target says where the engine is weak."
)


def parse_scenario(spec: str) -> dict[str, Any]:
    """``NAME:PERSONS:SEED[:SEV]`` -> dict."""
    parts = spec.split(":")
    if len(parts) not in (3, 4):
        raise argparse.ArgumentTypeError(f"scenario {spec!r}: expected NAME:PERSONS:SEED[:SEV]")
    return {"name": parts[0], "persons": int(parts[1]), "seed": int(parts[2]),
            "sev": float(parts[3]) if len(parts) == 4 else 1.0}


def run_engine(archives: Path, out: Path) -> dict[str, Any]:
    """One ``linkage run`` in its own process; wall time includes interpreter start-up."""
    shutil.rmtree(out, ignore_errors=True)
    done = timed_linkage(["run", str(archives), "--out", str(out)], ROOT, f"engine on {archives}")
    seconds, load_before = done.seconds, done.load_before
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {
        "command": f"python -m linkage.cli run {_rel(str(archives))} --out {_rel(str(out))}",
        "wall_seconds": round(seconds, 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "stage_seconds": summary.get("stage_seconds"),
        "peak_memory_mb": summary.get("peak_memory_mb"),
        "pairs_compared": summary.get("pairs_compared"),
        "stdout": done.stdout.strip(),
    }


def _rel(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return path


def _sorted_lines(path: Path) -> list[str]:
    return sorted(path.read_text(encoding="utf-8").splitlines())


def run_scenario(sc: dict[str, Any], work: Path, check_gb: bool) -> dict[str, Any]:
    data, out = work / f"data_{sc['name']}", work / f"out_{sc['name']}"
    start = time.perf_counter()
    stats = generate(sc["persons"], sc["seed"], data, sc["sev"])
    gen_seconds = time.perf_counter() - start
    print(f"[{sc['name']}] generated {stats['archives']:,} archives in {gen_seconds:.1f} s", flush=True)
    engine = run_engine(data / "archives.csv", out)
    print(f"[{sc['name']}] engine {engine['wall_seconds']:.1f} s: {engine['stdout']}", flush=True)
    metrics = evaluate(data, out)
    result = {**sc,
              "generate_command": f"python benchmarks/independent/generate.py --persons {sc['persons']} "
                                  f"--seed {sc['seed']} --sev {sc['sev']} --out {_rel(str(data))}",
              "generate_seconds": round(gen_seconds, 1), "population": stats, "engine": engine,
              "metrics": metrics, "targets": check_targets(metrics)}
    if check_gb:
        gb_out = work / f"out_{sc['name']}_gb"
        result["gb18030_engine"] = run_engine(data / "archives_gb.csv", gb_out)
        result["gb18030_clusters_identical"] = _sorted_lines(out / "clusters.csv") == _sorted_lines(
            gb_out / "clusters.csv")
        print(f"[{sc['name']}] GB18030 copy gives identical clusters: {result['gb18030_clusters_identical']}",
              flush=True)
    met = sum(t["met"] for t in result["targets"])
    print(f"[{sc['name']}] targets met {met}/{len(result['targets'])}", flush=True)
    return result


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if key in ("precision_auto",):
        return f"{value:.5f}"
    if key in ("recall_auto", "recall_with_review"):
        return f"{value:.4f}"
    if key in ("review_share", "mover_target_accuracy"):
        return f"{value * 100:.2f}%"
    if key == "wrong_pairs_per_100k":
        return f"{value:.1f}"
    return str(value)


def write_results(results: Path, payload: dict[str, Any]) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / "independent.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n",
                                              encoding="utf-8")
    m = payload["machine"]
    lines = [
        "# Independent generator: stress test",
        "",
        INTRO,
        "",
        f"Run {payload['generated_at']} with `{payload['command']}` ({payload['total_seconds']:.0f} s in all).",
        "",
        f"Machine: {m['cpu']}, {m['logical_cores']} cores, {m['ram_gb']} GB RAM, {m['os']}; "
        f"Python {m['python']}, DuckDB {m['duckdb']}, Splink {m['splink']}; code at {code_label(m)}.",
        "",
    ]
    for sc in payload["scenarios"]:
        mt, eng, pop = sc["metrics"], sc["engine"], sc["population"]
        lines += [
            f"## {sc['name']}: seed {sc['seed']}, {sc['persons']:,} persons, severity {sc['sev']:g}",
            "",
            f"{pop['archives']:,} archives ({pop['dups']:,} same-county duplicates, {pop['movers']:,} movers); "
            f"{mt['true_pairs']:,} true pairs.  Engine {eng['wall_seconds']:.1f} s wall "
            f"(load {eng['load_average_before'][0]:.1f} before), peak {eng['peak_memory_mb']:.0f} MB: "
            f"`{eng['command']}`.",
            "",
            "| target | measured | met |",
            "|---|---:|:---:|",
        ]
        for t in sc["targets"]:
            lines.append(f"| {t['target']} | {_fmt(t['key'], t['value'])} | {'yes' if t['met'] else '**no**'} |")
        worst = [(tag, s) for tag, s in mt["recall_by_tag"].items() if s["pairs"] >= 20][:6]  # skip noise
        lines += [
            "",
            f"False auto links by type (archive pairs): {_counts(mt['false_links_by_type'])}.  "
            f"Review rows on non-matches: {_counts(mt['review_nonmatch_by_type'])}.  "
            f"Movers linked old ↔ new: {mt['movers_linked']:,} of {mt['movers']:,}.",
            "",
            "Hardest corruptions, ≥ 20 pairs (recall auto / counting review, pairs): " + "; ".join(
                f"{tag} {s['auto']:.2f} / {s['with_review']:.2f} ({s['pairs']})" for tag, s in worst) + ".",
            "",
        ]
        if "gb18030_clusters_identical" in sc:
            lines += [f"GB18030 / Chinese-header copy gives identical clusters: "
                      f"{'yes' if sc['gb18030_clusters_identical'] else '**no**'}.", ""]
    lines += ["All metrics, per-tag recall and the false links themselves: `independent.json`.", ""]
    (results / "independent.md").write_text("\n".join(lines), encoding="utf-8")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", type=parse_scenario, dest="scenarios",
                        help=f"NAME:PERSONS:SEED[:SEV], repeatable (default: {' '.join(DEFAULT_SCENARIOS)})")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work" / "independent",
                        help="scratch folder for populations and engine outputs")
    parser.add_argument("--publish", action="store_true",
                        help="write the tables to benchmarks/results (default: WORK/results)")
    parser.add_argument("--check-gb18030", action="store_true",
                        help="also run the GB18030, Chinese-header copy and compare clusters")
    args = parser.parse_args()
    scenarios = args.scenarios or [parse_scenario(s) for s in DEFAULT_SCENARIOS]
    args.work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results = [run_scenario(sc, args.work, args.check_gb18030) for sc in scenarios]
    payload = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python", "benchmarks/independent/run.py", *sys.argv[1:]]),
        "total_seconds": round(time.perf_counter() - start, 1),
        "machine": machine_facts(),
        "scenarios": results,
    }
    results_dir = pick_results(args.work, args.publish)
    write_results(results_dir, payload)
    print(f"wrote {_rel(str(results_dir / 'independent.md'))} and independent.json "
          f"({payload['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
