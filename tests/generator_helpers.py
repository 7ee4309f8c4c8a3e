"""What the tests of the blind population generators (benchmarks/generator3, generator4)
share: loading a benchmark script by path, reading its CSV files, and an ID check digit
written out independently of both the engine and the generators."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
INPUT_COLUMNS = ["archive_id", "name", "sex", "birth_date", "id_number", "region_code",
                 "address", "phone", "created_date", "last_service_date"]
FILES = ("archives.csv", "truth.csv", "hardneg.csv", "movers.csv", "manifest.json")


def load_script(name: str, path: Path) -> ModuleType:
    """Import a benchmark script by path (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def gb11643_check(body17: str) -> str:
    """GB 11643 MOD 11-2, written out here rather than taken from a generator."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights)) % 11]
