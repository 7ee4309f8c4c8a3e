"""Blocking rules judged one by one: the pairs each makes against the true pairs only it finds.

    python benchmarks/blocking.py [--generators synth,independent,gen3] [--persons 30000]
                                  [--seed 101] [--config configs/default.toml]
                                  [--work benchmarks/work/blocking] [--no-engine]

For each generator (benchmarks/populations.py, one truth format): standardise the population
as a run does, then for every rule of ``[blocking] rules`` count

* the pairs it proposes, per archive (a rule that grows with the square of the population
  shows up as pairs per archive rising with size);
* the true pairs it proposes, and the true pairs no other rule proposes (what it alone is for);
* the archives of its largest block;

and the share of all true pairs that some rule proposes (blocking recall: a pair no rule
proposes is never scored).  Unless ``--no-engine``, the engine then runs on the population
(``linkage run --config``) and ``benchmarks/independent/evaluate.py`` gives recall automatic,
with review, and movers linked, so a change of the rules is measured where it counts.
Writes ``blocking.json`` and ``blocking.md`` under ``--work`` (never benchmarks/results).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "independent"))

from evaluate import evaluate  # noqa: E402
from populations import generate  # noqa: E402

from linkage.bench.rule_pairs import rule_statistics  # noqa: E402
from linkage.config import load_config  # noqa: E402
from linkage.pipeline import connect_for, prepare_model_input  # noqa: E402
from linkage.progress import StageTimer  # noqa: E402


def analyse(archives_dir: Path, config_path: Path | None) -> dict[str, Any]:
    config = load_config(config_path)
    con = connect_for(config)
    try:
        prepared = prepare_model_input(con, archives_dir / "archives.csv", config, StageTimer(show=False))
        con.execute("CREATE TABLE _truth AS SELECT archive_id, person_id FROM read_csv(?, all_varchar = true)",
                    [str(archives_dir / "truth.csv")])
        return rule_statistics(con, prepared.model_input.name, "_truth", config.blocking_rules)
    finally:
        con.close()


def engine(archives_dir: Path, out: Path, config_path: Path | None) -> dict[str, Any]:
    args = [sys.executable, "-m", "linkage.cli", "run", str(archives_dir / "archives.csv"), "--out", str(out)]
    if config_path:
        args += ["--config", str(config_path)]
    start = time.perf_counter()
    subprocess.run(args, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    m = evaluate(archives_dir, out)
    return {"seconds": round(seconds, 1), "precision_auto": m["precision_auto"],
            "recall_auto": m["recall_auto"], "recall_with_review": m["recall_with_review"],
            "movers_linked_share": m["movers_linked_share"], "review_rows": m["review_rows"]}


def markdown(results: list[dict[str, Any]], command: str) -> str:
    lines = [f"# Blocking rules, one by one\n\nCommand: `{command}`\n"]
    for r in results:
        s = r["rules"]
        lines += [f"## {r['generator']}: {s['archives']:,} archives, {s['true_pairs']:,} true pairs\n",
                  f"Pairs proposed {s['pairs']:,} ({s['pairs'] / s['archives']:.2f} per archive), "
                  f"blocking recall {s['blocking_recall']:.5f}.\n",
                  "| rule | pairs | per archive | pairs only this rule | true pairs | true only this rule | largest block |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, x in s["by_rule"].items():
            lines.append(f"| {name} | {x['pairs']:,} | {x['pairs'] / s['archives']:.3f} | "
                         f"{x['pairs_only']:,} | {x['true_pairs']:,} | {x['true_only']:,} | {x['largest_block']:,} |")
        if "engine" in r:
            e = r["engine"]
            lines.append(f"\nEngine: precision {e['precision_auto']:.5f}, recall auto {e['recall_auto']:.4f}, "
                         f"with review {e['recall_with_review']:.4f}, movers linked "
                         f"{e['movers_linked_share']:.4f}, review rows {e['review_rows']:,}.\n")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generators", default="synth,independent,gen3")
    parser.add_argument("--persons", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work" / "blocking")
    parser.add_argument("--label", default="default", help="names the engine output folders")
    parser.add_argument("--no-engine", action="store_true")
    args = parser.parse_args()
    results = []
    for generator in args.generators.split(","):
        pop = generate(generator, args.persons, args.seed, args.work / f"{generator}_{args.persons}_{args.seed}")
        result: dict[str, Any] = {"generator": generator, "persons": args.persons,
                                  "rules": analyse(pop, args.config)}
        if not args.no_engine:
            result["engine"] = engine(pop, args.work / f"out_{generator}_{args.persons}_{args.label}", args.config)
        results.append(result)
        print(json.dumps({k: v for k, v in result.items() if k != "rules"} |
                         {"pairs": result["rules"]["pairs"], "blocking_recall": result["rules"]["blocking_recall"]}),
              flush=True)
    command = "python benchmarks/blocking.py " + " ".join(sys.argv[1:])
    (args.work / f"blocking_{args.label}.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.work / f"blocking_{args.label}.md").write_text(markdown(results, command), encoding="utf-8")
    print(f"-> {args.work / f'blocking_{args.label}.md'}")


if __name__ == "__main__":
    main()
