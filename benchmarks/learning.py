"""The learning benchmark: does the engine travel, and does learning from reviewers pay?

    python benchmarks/learning.py [--persons 25000] [--generators synth,independent,gen3,gen4]
                                  [--seeds 101,202] [--work benchmarks/work/learning] [--publish]

For each generator, two populations with different seeds: A is the site's first export,
B is another population of the same kind (next year's export, or the neighbouring city).

1. ``shipped``: B linked with models/default.json, as a new site would on day one;
2. ``site``: ``linkage train A --out site.json`` (unsupervised, the site's own export),
   then B linked with it;
3. night 1: A linked with site.json; a simulated reviewer settles every review row from
   the truth (``same``/``different``, written as a labels CSV like ``linkage review
   export`` does);
4. ``learned``: ``linkage train A --labels verdicts.csv --out learned.json``, then B linked
   with it - B's pairs were never reviewed, so nothing is learned by heart;
5. ``shipped + verdicts``: night 1 on A with the shipped model, its queue settled the same
   way, ``linkage train A --labels verdicts_shipped.csv --base models/default.json`` (the
   shipped m, u and prior kept), then B - for a site that stayed with the shipped model.

Each run is scored by ``benchmarks/independent/evaluate.py`` (one yardstick for all four
generators): precision, recall automatic and counting review, review rows, hard negatives
joined (twins, children under a parent's ID, spouses' IDs) and movers.  Everything goes to
``--work``; ``--publish`` writes benchmarks/results/learning.{json,md} with the machine facts.
"""

from __future__ import annotations

import argparse
import csv
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

from linkage.bench.report import code_label, machine_facts  # noqa: E402

STEPS = ("shipped", "site", "learned", "shipped_learned")
HARD = ("twin", "child_parent_id", "spouse_id")


def _run(args: list[str]) -> str:
    done = subprocess.run([sys.executable, "-m", "linkage.cli", *args], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"linkage {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def link(archives: Path, model: Path, out: Path) -> float:
    start = time.perf_counter()
    _run(["run", str(archives), "--out", str(out), "--model", str(model)])
    return time.perf_counter() - start


def simulated_reviewer(data: Path, out: Path, labels: Path) -> dict[str, int]:
    """Settle every review row of a run from the truth; write a labels CSV."""
    with (data / "truth.csv").open(encoding="utf-8", newline="") as handle:
        person = {r["archive_id"]: r["person_id"] for r in csv.DictReader(handle)}
    with (out / "decisions.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["action"] == "review"]
    counts = {"same": 0, "different": 0}
    with labels.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["archive_id_l", "archive_id_r", "verdict"])
        for r in rows:
            a, b = r["archive_id"], r["survivor_archive_id"]
            verdict = "same" if person[a] == person[b] else "different"
            counts[verdict] += 1
            writer.writerow([a, b, verdict])
    return counts


def _summary(m: dict[str, Any], seconds: float) -> dict[str, Any]:
    fp = m["false_links_by_type"]
    return {
        "archives": m["archives"], "true_pairs": m["true_pairs"],
        "precision_auto": m["precision_auto"], "recall_auto": m["recall_auto"],
        "recall_with_review": m["recall_with_review"], "review_rows": m["review_rows"],
        "review_share": m["review_share"], "false_pairs": m["false_positive_pairs"],
        "false_links_by_type": fp, "hard_joined": {k: fp.get(k, 0) for k in HARD},
        "review_nonmatch": sum(m["review_nonmatch_by_type"].values()),
        "movers_linked_share": m["movers_linked_share"],
        "mover_target_accuracy": m["mover_target_accuracy"],
        "engine_seconds": round(seconds, 1),
    }


def run_generator(generator: str, persons: int, seeds: tuple[int, int], work: Path) -> dict[str, Any]:
    base = work / f"{generator}_{persons}"
    base.mkdir(parents=True, exist_ok=True)
    a = generate(generator, persons, seeds[0], base / f"pop_{persons}_{seeds[0]}")
    b = generate(generator, persons, seeds[1], base / f"pop_{persons}_{seeds[1]}")
    shipped = ROOT / "models" / "default.json"
    site, learned = base / "site.json", base / "learned.json"
    result: dict[str, Any] = {"generator": generator, "persons": persons, "seeds": list(seeds)}
    _run(["train", str(a / "archives.csv"), "--out", str(site)])
    night1 = base / "night1"
    seconds = link(a / "archives.csv", site, night1)
    result["night1"] = _summary(evaluate(a, night1), seconds)
    result["verdicts"] = simulated_reviewer(a, night1, base / "verdicts.csv")
    result["train_labels_output"] = _run(
        ["train", str(a / "archives.csv"), "--labels", str(base / "verdicts.csv"), "--out", str(learned)])
    seconds = link(a / "archives.csv", shipped, base / "shipped_A")
    result["shipped_on_A"] = _summary(evaluate(a, base / "shipped_A"), seconds)
    # A site that stayed with the shipped model: its own night-1 queue, learned on top of it.
    shipped_learned = base / "shipped_learned.json"
    result["verdicts_shipped"] = simulated_reviewer(a, base / "shipped_A", base / "verdicts_shipped.csv")
    result["train_base_output"] = _run(
        ["train", str(a / "archives.csv"), "--labels", str(base / "verdicts_shipped.csv"),
         "--base", str(shipped), "--out", str(shipped_learned)])
    for step, model in zip(STEPS, (shipped, site, learned, shipped_learned)):
        out = base / f"{step}_B"
        seconds = link(b / "archives.csv", model, out)
        result[step] = _summary(evaluate(b, out), seconds)
        r = result[step]
        print(f"[{generator}] {step:8s} on B: P {r['precision_auto']:.5f} R {r['recall_auto']:.4f} "
              f"R+rev {r['recall_with_review']:.4f} review {r['review_share'] * 100:.2f}% "
              f"hard {r['hard_joined']}", flush=True)
    return result


def _row(name: str, r: dict[str, Any]) -> str:
    hard = ", ".join(f"{k} {v}" for k, v in r["hard_joined"].items())
    mover = r["mover_target_accuracy"]
    return (f"| {name} | {r['precision_auto']:.5f} | {r['recall_auto']:.4f} | "
            f"{r['recall_with_review']:.4f} | {r['review_rows']:,} ({r['review_share'] * 100:.2f}%) | "
            f"{r['false_pairs']} | {hard} | {r['review_nonmatch']} | "
            f"{r['movers_linked_share'] * 100:.1f}% / {'–' if mover is None else f'{mover * 100:.1f}%'} |")


def _targets(g: dict[str, Any], before: str, after: str) -> str:
    """The issue's targets for one round of learning (``after`` against shipped, on B)."""
    shipped, site, learned = g["shipped"], g[before], g[after]
    ratio = learned["review_rows"] / shipped["review_rows"] if shipped["review_rows"] else float("nan")
    gain = (learned["recall_auto"] - shipped["recall_auto"]) * 100
    twins = learned["hard_joined"].get("twin", 0)

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    return (f"Learning, before ({before}) → after ({after}): recall auto {site['recall_auto']:.4f} → "
            f"{learned['recall_auto']:.4f}, review rows {site['review_rows']:,} → "
            f"{learned['review_rows']:,}.  Against the shipped model (issue 9 targets): review rows "
            f"×{ratio:.2f} (≤ 0.6: {mark(ratio <= 0.6)}), recall auto {gain:+.1f} points (≥ +2: "
            f"{mark(gain >= 2)}), precision {learned['precision_auto']:.5f} (≥ 0.999: "
            f"{mark(learned['precision_auto'] >= 0.999)}), twins joined {twins} "
            f"({mark(twins == 0)}).")


def write_markdown(payload: dict[str, Any], path: Path) -> None:
    m = payload["machine"]
    lines = [
        "# Learning benchmark: shipped model, site-trained model, learned verdicts",
        "",
        "Per generator, population A is the site's first export and B another population of "
        "the same kind. `shipped`: B linked with models/default.json. `site`: `linkage train A "
        "--out site.json`, then B. `learned`: night 1 on A with site.json, a simulated reviewer "
        "settles every review row from the truth, `linkage train A --labels verdicts.csv --out "
        "learned.json`, then B (whose pairs were never reviewed); the verdicts are counted per "
        "kind of pair and decide a kind at 10 of 10 same (join) or 6 of 6 different (stop "
        "queueing), never overruling a guard that names a danger (linkage/model/verdicts.py). "
        "Before learning = site, after = learned. `shipped + verdicts`: night 1 on A with the "
        "shipped model, its queue settled the same way, `linkage train A --labels "
        "verdicts_shipped.csv --base models/default.json` (m, u and prior kept), then B. Scored by "
        "benchmarks/independent/evaluate.py. Hard negatives joined: false automatic links "
        "between twins, a child and the parent whose ID it carries, spouses sharing an ID.",
        "",
        f"Run {payload['started']} with `{payload['command']}` ({payload['seconds']:.0f} s in all).",
        "",
        f"Machine: {m['cpu']}, {m['logical_cores']} cores, {m['ram_gb']} GB RAM, {m['os']}; "
        f"Python {m['python']}, DuckDB {m['duckdb']}, Splink {m['splink']}; code at {code_label(m)}.",
        "",
    ]
    for g in payload["generators"]:
        lines += [
            f"## {g['generator']}: {g['persons']:,} persons, seeds A={g['seeds'][0]}, B={g['seeds'][1]}",
            "",
            f"Night 1 on A (site model): {g['night1']['review_rows']:,} review rows settled "
            f"({g['verdicts']['same']} same, {g['verdicts']['different']} different).",
            "",
            "| model on B | precision | recall auto | recall with review | review rows | false pairs "
            "| hard negatives joined | review rows on non-matches | movers linked / right county |",
            "|---|---:|---:|---:|---:|---:|---|---:|---:|",
            _row("shipped", g["shipped"]),
            _row("site (trained on A)", g["site"]),
            _row("learned (A + verdicts)", g["learned"]),
            _row("shipped + verdicts (`--base`)", g["shipped_learned"]),
            "",
            "- " + _targets(g, "site", "learned"),
            "- " + _targets(g, "shipped", "shipped_learned"),
            "",
            "`linkage train --labels` said (site model; night 1 with it):",
            "",
            "```",
            *g["train_labels_output"].replace(f"{ROOT}/", "").splitlines(),
            "```",
            "",
            f"`linkage train --labels --base models/default.json` said (night 1 on A with the "
            f"shipped model: {g['shipped_on_A']['review_rows']:,} review rows, "
            f"{g['verdicts_shipped']['same']} same, {g['verdicts_shipped']['different']} different):",
            "",
            "```",
            *g["train_base_output"].replace(f"{ROOT}/", "").splitlines(),
            "```",
            "",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=25000)
    parser.add_argument("--generators", default="synth,independent,gen3,gen4")
    parser.add_argument("--seeds", default="101,202", help="A,B")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work" / "learning")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--publish", action="store_true", help="write learning.{json,md} to --results")
    args = parser.parse_args()
    seed_a, seed_b = (int(s) for s in args.seeds.split(","))
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    start = time.perf_counter()
    generators = [g for g in args.generators.split(",") if g]
    results = []
    for g in generators:
        if not available(g):
            print(f"[{g}] generator not present, skipped", flush=True)
            continue
        results.append(run_generator(g, args.persons, (seed_a, seed_b), args.work))
    payload = {
        "started": started, "seconds": round(time.perf_counter() - start, 1),
        "command": "python benchmarks/learning.py " + " ".join(sys.argv[1:]),
        "machine": machine_facts(), "generators": results,
    }
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "learning.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n",
                                             encoding="utf-8")
    write_markdown(payload, args.work / "learning.md")
    if args.publish:
        args.results.mkdir(parents=True, exist_ok=True)
        (args.results / "learning.json").write_text(
            json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        write_markdown(payload, args.results / "learning.md")
        print(f"published -> {args.results / 'learning.md'}")
    else:
        print(f"-> {args.work / 'learning.md'} (add --publish to write benchmarks/results)")


if __name__ == "__main__":
    main()
