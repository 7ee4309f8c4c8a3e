"""What the review queue holds, measured against truth: the share of true matches per reason
and per triage class, and how many screens the household view needs.

    python benchmarks/review_queue.py [--population KIND:PERSONS:SEED ...]
                                      [--work benchmarks/work/review_queue] [--publish]

KIND is ``synth`` (``linkage synth``) or ``independent`` (benchmarks/independent/generate.py).
Each population is generated into ``--work`` (reused when already there), run through the
engine (``linkage.pipeline.run``), and every queued pair is looked up in the generator's
truth.  A simulated reviewer who answers from the truth then works the queue through the
real session (linkage.review.session) on a copy of the store, to count screens with and
without the household view.  Prints a markdown report; ``--publish`` also writes it to
benchmarks/results/review_queue.md, with the machine and the command.

This is the measurement behind linkage/review/triage.py: which classes go last.
"""

from __future__ import annotations

import argparse
import collections
import csv
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # the repository
DEFAULT = ["synth:100000:7", "synth:300000:11", "independent:40000:7", "independent:100000:8"]


def population(kind: str, persons: int, seed: int, work: Path) -> tuple[Path, Path]:
    """(run output folder, truth.csv) for one population, generating and running as needed."""
    folder = work / f"{kind}-{persons}-{seed}"
    data, out = folder / "data", folder / "out"
    if not (data / "truth.csv").is_file():
        if kind == "synth":
            from linkage.synth import generate_population

            generate_population(persons, seed, data)
        else:
            subprocess.run([sys.executable, str(HERE / "independent" / "generate.py"), "--persons",
                            str(persons), "--seed", str(seed), "--out", str(data)], check=True)
    if not (out / "decisions.csv").is_file():
        from linkage.pipeline import run

        run(data / "archives.csv", out, show_progress=False)
    return out, data / "truth.csv"


def measure(out: Path, truth_csv: Path) -> dict:
    """Counts of queued pairs and of true matches by reason and by class; screens needed."""
    from linkage.review import triage
    from linkage.review.session import Mode, Session
    from linkage.review.store import ReviewStore, store_path

    with truth_csv.open(encoding="utf-8") as handle:
        person = {r["archive_id"]: r["person_id"] for r in csv.DictReader(handle)}
    by_reason: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    by_class: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    copy = out / "review_sim.db"
    shutil.copy(store_path(out), copy)
    with ReviewStore(copy) as store:
        for item in store.list_queue(status="open"):
            same = person[item.archive_id_l] == person[item.archive_id_r]
            code = triage.classify(item.evidence, item.side("l"), item.side("r"), item.reason)
            for tally, key in ((by_reason, item.reason), (by_class, triage.label(code))):
                tally[key][0] += 1
                tally[key][1] += same
        pairs = sum(n for n, _ in by_reason.values())
        session = Session(store, "simulated")
        screen, screens = session.start(), 0
        while screen.mode in (Mode.PAIR, Mode.HOUSEHOLD):
            screens += 1
            if screen.mode is Mode.PAIR:
                a, b = screen.item.pair
                screen = session.press("s" if person[a] == person[b] else "d")
                continue
            groups: dict[str, list[int]] = collections.defaultdict(list)
            for number, (archive, _) in enumerate(screen.archives, start=1):
                groups[person[archive]].append(number)
            line = "; ".join(",".join(map(str, g)) + " same" for g in groups.values() if len(g) > 1)
            if line:
                session.press("s")
                screen = session.enter_note(line)
            else:
                screen = session.press("d")
        wrong = sum((d.verdict == "same") != (person[p[0]] == person[p[1]])
                    for p, d in store.standing().items())
    copy.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    return {"reason": by_reason, "class": by_class, "pairs": pairs, "screens": screens, "wrong": wrong}


def table(title: str, rows: dict[str, list[int]]) -> list[str]:
    lines = [f"| {title} | queued | true matches | share |", "|---|---:|---:|---:|"]
    for key, (n, same) in sorted(rows.items(), key=lambda kv: (-kv[1][0], kv[0])):
        lines.append(f"| {key} | {n} | {same} | {same / n:.0%} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", action="append", default=None,
                        help="KIND:PERSONS:SEED (repeatable); default: the four measured ones")
    parser.add_argument("--work", type=Path, default=HERE / "work" / "review_queue")
    parser.add_argument("--publish", action="store_true", help="write benchmarks/results/review_queue.md")
    args = parser.parse_args()
    specs = args.population or DEFAULT
    total_reason: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    total_class: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    report = ["# The review queue against truth", ""]
    for spec in specs:
        kind, persons, seed = spec.split(":")
        out, truth = population(kind, int(persons), int(seed), args.work)
        m = measure(out, truth)
        for total, part in ((total_reason, m["reason"]), (total_class, m["class"])):
            for key, (n, same) in part.items():
                total[key][0] += n
                total[key][1] += same
        report.append(f"- {kind} {int(persons):,} persons, seed {seed}: {m['pairs']} queued pairs, "
                      f"{m['screens']} screens with the household view, {m['wrong']} verdicts "
                      "stored wrong by the simulated reviewer")
    report += ["", *table("triage class (all populations)", total_class), "",
               *table("engine's reason (all populations)", total_reason), ""]
    command = shlex.join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    text = "\n".join(report) + f"\nCommand: `python {command}`\n"
    print(text)
    if args.publish:
        from linkage.bench.report import code_label, machine_facts
        from linkage.outputs import write_bytes_atomic

        facts = machine_facts()
        text += ("\nMachine: " + ", ".join(f"{k} {v}" for k, v in facts.items()
                                          if k not in ("git", "code_signature"))
                 + f"; code at {code_label(facts)}\n")
        write_bytes_atomic(HERE / "results" / "review_queue.md", text.encode("utf-8"))


if __name__ == "__main__":
    main()
