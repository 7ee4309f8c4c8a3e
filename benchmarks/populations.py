"""Populations from every generator, in one truth format (the independent evaluator's).

    generate(generator, persons, seed, out_dir) -> out_dir

Generators:

* ``synth``: the repo's own ``linkage synth`` (the generator the engine was developed on);
  its truth (truth.csv kinds, hard_negatives.csv archive pairs) is rewritten into the
  independent format: truth.csv with county and tags, hardneg.csv person pairs with a type,
  movers.csv.
* ``independent``: ``benchmarks/independent/generate.py`` (河南省周口市, harsher corruptions).
* ``gen3``: ``benchmarks/generator3`` when present (written without reading the engine),
  already in the independent format.
* ``gen4``: ``benchmarks/generator4`` when present (四川省南充市, also written blind, after
  the engine had been shaped on the other three), already in the independent format.

Every population is then scored by ``benchmarks/independent/evaluate.py`` alone, so the
generators are measured by one yardstick.
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENERATORS = ("synth", "independent", "gen3", "gen4")



def _evaluator() -> ModuleType:
    """benchmarks/independent/evaluate.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("independent_evaluate", HERE / "independent" / "evaluate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def available(generator: str) -> bool:
    if generator == "gen3":
        return (HERE / "generator3" / "generate.py").is_file()
    if generator == "gen4":
        return (HERE / "generator4" / "generate.py").is_file()
    return generator in GENERATORS


def generate(generator: str, persons: int, seed: int, out_dir: Path) -> Path:
    """Write archives.csv, truth.csv, hardneg.csv and movers.csv to ``out_dir``."""
    out_dir = Path(out_dir)
    if (out_dir / "truth.csv").is_file() and (out_dir / "movers.csv").is_file():
        return out_dir  # a seed always gives the same population
    python = sys.executable
    if generator == "synth":
        subprocess.run([python, "-m", "linkage.cli", "synth", "--persons", str(persons),
                        "--seed", str(seed), "--out", str(out_dir)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        _synth_truth(out_dir)
    elif generator == "independent":
        subprocess.run([python, str(HERE / "independent" / "generate.py"), "--persons",
                        str(persons), "--seed", str(seed), "--out", str(out_dir)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    elif generator == "gen3" and available("gen3"):
        subprocess.run([python, str(HERE / "generator3" / "generate.py"), "--persons",
                        str(persons), "--seed", str(seed), "--out", str(out_dir)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    elif generator == "gen4" and available("gen4"):
        subprocess.run([python, str(HERE / "generator4" / "generate.py"), "--persons",
                        str(persons), "--seed", str(seed), "--out", str(out_dir)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    else:
        raise ValueError(f"unknown or missing generator {generator!r}")
    return out_dir


def _write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _synth_truth(out_dir: Path) -> None:
    """Rewrite linkage synth's truth into the independent evaluator's format (the conversion
    is the evaluator's own, which also reads a synth folder as it is)."""
    rows, hardneg, movers = _evaluator().synth_truth(out_dir)
    _write(out_dir / "truth.csv", ["archive_id", "person_id", "kind", "county", "tags"], rows)
    _write(out_dir / "hardneg.csv", ["person_a", "person_b", "type"], hardneg)
    _write(out_dir / "movers.csv", ["person_id", "old_county", "new_county", "new_archive_id"], movers)
