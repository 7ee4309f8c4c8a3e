"""The scale benchmark in one command (issue 12).

    python benchmarks/scale.py [--sizes 10000,100000,1000000,5000000] [--seed 7]
                               [--work benchmarks/work/scale] [--plain-at 1000000] [--publish]
                               [--results benchmarks/results] [--common-names-at 1000000]

Per size: archives, wall and CPU seconds, peak RSS, seconds and peak memory per stage, pairs
per archive per blocking rule; at 1M, pre-trained plain Splink on the same input in the same
run (trained first, outside its timing); then, at ``--common-names-at`` persons, a population
of benchmarks/generator4 (四川 南充, written blind: a concentrated name mix, 36k distinct names
in 1.12M archives, where the synth has 164k), engine and plain Splink again, because blocking
cost follows the name mix.  Writes scale.json and scale.md under --work;
``--publish`` also writes benchmarks/results/scale.{json,md} (one run, one machine: the
published table is replaced, never merged).  On a quiet 2-core machine the whole run takes
about 15 minutes, most of it generating and running 5M, plus ~6 minutes the first time
generator4's 1M population is made (it is reused while generator4 is unchanged).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from linkage.bench.publish import results_dir  # noqa: E402
from linkage.bench.scale import (  # noqa: E402
    LARGE_MEMORY_LIMIT, PLAIN_AT, SIZES, OtherPopulation, cached_population, render, run_scale,
)
from linkage.outputs import write_bytes_atomic  # noqa: E402

GENERATOR4 = ROOT / "benchmarks" / "generator4"
GENERATOR4_SEED = 11


def generator4_population(work: Path, persons: int) -> OtherPopulation:
    """generator4 at ``persons`` (made in a child, reused while generator4's code is the same)."""
    def make() -> tuple[Path, dict[str, Any]]:
        folder = work / f"generator4_{persons}_seed{GENERATOR4_SEED}"
        digest = hashlib.sha256()
        for path in sorted(GENERATOR4.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return cached_population(folder, digest.hexdigest()[:16],
                                 [str(GENERATOR4 / "generate.py"), "--persons", str(persons), "--seed",
                                  str(GENERATOR4_SEED), "--out", str(folder)],
                                 work / f"generator4_{persons}.log")

    return OtherPopulation(f"generator4 (seed {GENERATOR4_SEED}, common names)",
                           f"generator4_{persons}", persons, make)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work" / "scale")
    parser.add_argument("--plain-at", type=int, default=PLAIN_AT,
                        help="size at which plain Splink runs too (0: never)")
    parser.add_argument("--large-memory-limit", default=LARGE_MEMORY_LIMIT,
                        help="[engine] memory_limit for the engine from 2M persons on")
    parser.add_argument("--common-names-at", type=int, default=PLAIN_AT,
                        help="persons of the generator4 population run beside the synth (0: none)")
    parser.add_argument("--publish", action="store_true", help="write benchmarks/results/scale.{json,md}")
    parser.add_argument("--results", type=Path, default=None,
                        help="where --publish writes [default: benchmarks/results]")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    command = "python benchmarks/scale.py " + " ".join(sys.argv[1:])
    others = [generator4_population(args.work, args.common_names_at)] if args.common_names_at else []
    results = run_scale(sizes, args.seed, args.work, args.plain_at or None, command=command.strip(),
                        large_memory_limit=args.large_memory_limit, others=others)
    target = (args.results or results_dir(args.work, True)) if args.publish else results_dir(args.work, False)
    if args.publish:
        target.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(target / "scale.json", (json.dumps(results, indent=1) + "\n").encode("utf-8"))
        write_bytes_atomic(target / "scale.md", render(results).encode("utf-8"))
        print(f"published -> {target / 'scale.md'}")
    else:
        print(f"-> {args.work / 'scale.md'} (add --publish to write benchmarks/results)")


if __name__ == "__main__":
    main()
