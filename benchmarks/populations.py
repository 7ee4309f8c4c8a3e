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
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENERATORS = ("synth", "independent", "gen3", "gen4")

# linkage synth hard-negative tags -> the independent evaluator's types
_SYNTH_HARDNEG_TYPES = {
    "twins": "twin", "spouses": "spouse", "child_parent_id": "child_parent_id",
    "namesake_cross_county": "namesake_cross_county", "same_name_dob_county": "namesake_same_county",
}


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


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _synth_truth(out_dir: Path) -> None:
    """Rewrite linkage synth's truth into the independent evaluator's format."""
    archives = {r["archive_id"]: r for r in _read(out_dir / "archives.csv")}
    truth = _read(out_dir / "truth.csv")
    rows = []
    county_of_person: dict[str, dict[str, str]] = {}
    movers = []
    for r in truth:
        kind, _, corruptions = r["kind"].partition(":")
        county = archives[r["archive_id"]]["region_code"][:6]
        tags = [t for t in corruptions.split("+") if t]
        rows.append({"archive_id": r["archive_id"], "person_id": r["person_id"], "kind": kind,
                     "county": county, "tags": " ".join(tags + ([kind] if kind != "original" else []))})
        county_of_person.setdefault(r["person_id"], {})[kind] = county
    for r in truth:
        kind = r["kind"].partition(":")[0]
        first = county_of_person[r["person_id"]].get("original")
        if kind == "moved" and first and first != archives[r["archive_id"]]["region_code"][:6]:
            movers.append({"person_id": r["person_id"], "old_county": first,
                           "new_county": archives[r["archive_id"]]["region_code"][:6],
                           "new_archive_id": r["archive_id"]})
    person = {r["archive_id"]: r["person_id"] for r in truth}
    hardneg = []
    for r in _read(out_dir / "hard_negatives.csv"):
        a, b = person.get(r["archive_id_l"]), person.get(r["archive_id_r"])
        if a and b and a != b:
            hardneg.append({"person_a": a, "person_b": b,
                            "type": _SYNTH_HARDNEG_TYPES.get(r["tag"], r["tag"])})
    _write(out_dir / "truth.csv", ["archive_id", "person_id", "kind", "county", "tags"], rows)
    _write(out_dir / "hardneg.csv", ["person_a", "person_b", "type"], hardneg)
    _write(out_dir / "movers.csv", ["person_id", "old_county", "new_county", "new_archive_id"], movers)
