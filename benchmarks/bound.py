"""What automatic recall the compared fields allow at precision 0.999, per generator: an
oracle bound (linkage/bench/bound.py) beside what the engine reaches.

    python benchmarks/bound.py [--generators synth,independent,gen3,gen4] [--persons 30000]
                               [--seeds 202,303] [--work benchmarks/work/bound] [--publish]

For every generator and seed: generate the population (benchmarks/populations.py), score
every pair the blocking rules propose with the shipped model, and let an oracle that knows
the truth link whole patterns of evidence, purest first, while precision stays >= 0.999.
Then run the engine (`linkage run`) and score it with benchmarks/independent/evaluate.py.
An oracle fitted on the very population it is scored on is optimistic; where even it stays
below a target (issue 9: automatic recall >= 0.95), that target needs facts the input does
not carry.  Writes bound.{json,md} under ``--work``; ``--publish`` also to benchmarks/results.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "independent"))

from evaluate import evaluate  # noqa: E402
from populations import available, generate  # noqa: E402

from linkage.bench.bound import bounds, best_single_threshold, scored_pairs_with_truth  # noqa: E402
from linkage.bench.publish import results_dir  # noqa: E402
from linkage.bench.report import machine_facts, machine_line  # noqa: E402
from linkage.config import load_config  # noqa: E402
from linkage.model.settings import load_model_dict  # noqa: E402
from linkage.pipeline import connect_for, prepare_model_input  # noqa: E402
from linkage.progress import StageTimer  # noqa: E402
from linkage.shipped import default_model_path  # noqa: E402

PRECISION = 0.999


def measure(pop: Path, out: Path) -> dict[str, Any]:
    """The oracle bounds and the engine's run on one population."""
    config = load_config(None)
    model = load_model_dict(default_model_path())
    con = connect_for(config)
    try:
        prepared = prepare_model_input(con, pop / "archives.csv", config, StageTimer(show=False))
        con.execute("CREATE TABLE _truth AS SELECT archive_id, person_id FROM read_csv(?, all_varchar = true)",
                    [str(pop / "truth.csv")])
        pairs, true_pairs = scored_pairs_with_truth(con, prepared.model_input.name, "_truth", model, config)
    finally:
        con.close()
    oracle = bounds(pairs, true_pairs, PRECISION)
    single, threshold = best_single_threshold(pairs, true_pairs, PRECISION)
    subprocess.run([sys.executable, "-m", "linkage.cli", "run", str(pop / "archives.csv"), "--out", str(out)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    m = evaluate(pop, out)
    return {
        "true_pairs": true_pairs, "blocked_pairs": len(pairs),
        "true_pairs_blocked": sum(1 for p in pairs if p.same),
        "oracle": [b.__dict__ for b in oracle],
        "single_threshold": {**single.__dict__, "threshold": threshold},
        "engine": {"precision_auto": m["precision_auto"], "recall_auto": m["recall_auto"],
                   "recall_with_review": m["recall_with_review"], "review_share": m["review_share"]},
    }


def markdown(payload: dict[str, Any]) -> str:
    machine = payload["machine"]
    lines = [
        "# Automatic recall: what the compared fields allow (oracle bound) and what the engine reaches",
        "",
        f"Run {payload['started']} with `{payload['command']}` ({payload['seconds']} s). "
        + machine_line(machine),
        "",
        "Every pair the blocking rules propose is scored with the shipped model.  The oracle knows "
        "the truth of the population it is scored on: it groups pairs into patterns (the five "
        "comparison levels, then also how common the name is, how big the shared village is and "
        "how many of the two archives have a phone, each as a power of two), and links the purest "
        f"patterns first while precision stays >= {PRECISION}.  Fitted on the data it is scored "
        "on, it is optimistic (a pattern of one pair is always pure): no decision over these "
        "facts does better on that population.  `single threshold` is the model's probability "
        "with the best one threshold for that population and no guards.  `engine` is `linkage run` "
        "as shipped (guards, thresholds), scored by benchmarks/independent/evaluate.py.",
        "",
        "| population | true pairs | blocked | oracle: levels | + name frequency | + village size "
        "| + phones present | single threshold | engine recall auto | engine precision | engine with review |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in payload["populations"]:
        o = [b["recall"] for b in r["oracle"]]
        e = r["engine"]
        lines.append(
            f"| {r['generator']} seed {r['seed']} | {r['true_pairs']:,} | {r['true_pairs_blocked'] / r['true_pairs']:.3f} | "
            + " | ".join(f"{x:.3f}" for x in o)
            + f" | {r['single_threshold']['recall']:.3f} | {e['recall_auto']:.3f} | {e['precision_auto']:.5f} "
              f"| {e['recall_with_review']:.3f} |")
    lines += ["", "`blocked`: share of the true pairs some blocking rule proposes (a pair never "
              "proposed is never scored, by the engine or the oracle).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generators", default="synth,independent,gen3,gen4")
    parser.add_argument("--persons", type=int, default=30_000)
    parser.add_argument("--seeds", default="202,303")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work" / "bound")
    parser.add_argument("--publish", action="store_true", help="also write bound.{json,md} to benchmarks/results")
    args = parser.parse_args()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    start = time.perf_counter()
    results = []
    for generator in [g for g in args.generators.split(",") if g]:
        if not available(generator):
            print(f"[{generator}] generator not present, skipped", flush=True)
            continue
        for seed in (int(s) for s in args.seeds.split(",")):
            pop = generate(generator, args.persons, seed, args.work / f"{generator}_{args.persons}_{seed}")
            row = {"generator": generator, "seed": seed, "persons": args.persons,
                   **measure(pop, args.work / f"out_{generator}_{args.persons}_{seed}")}
            results.append(row)
            print(json.dumps({"generator": generator, "seed": seed,
                              "oracle": [round(b["recall"], 4) for b in row["oracle"]],
                              "engine": row["engine"]["recall_auto"]}), flush=True)
    payload = {"started": started, "seconds": round(time.perf_counter() - start, 1),
               "command": "python benchmarks/bound.py " + " ".join(sys.argv[1:]),
               "machine": machine_facts(), "precision": PRECISION, "populations": results}
    for folder in {args.work, results_dir(args.work, args.publish)}:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "bound.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (folder / "bound.md").write_text(markdown(payload), encoding="utf-8")
        print(f"-> {folder / 'bound.md'}")


if __name__ == "__main__":
    main()
