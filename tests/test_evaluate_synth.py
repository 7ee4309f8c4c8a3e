"""benchmarks/independent/evaluate.py scores a `linkage synth` folder as it is (acceptance
review: it failed with KeyError 'tags' unless benchmarks/populations.py had rewritten the
truth first); the in-memory conversion gives what the rewritten files give."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator_helpers import ROOT, load_script
from linkage.pipeline import run
from linkage.synth import generate_population

EVALUATE = ROOT / "benchmarks/independent/evaluate.py"
EVAL = load_script("independent_evaluate_synth", EVALUATE)
POPULATIONS = load_script("benchmark_populations", ROOT / "benchmarks/populations.py")


@pytest.fixture(scope="module")
def synth_run(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("synth")
    population, out = folder / "pop", folder / "out"
    generate_population(1500, 4, population)
    run(population / "archives.csv", out, show_progress=False)
    return population, out


def test_evaluate_reads_a_synth_folder_as_written(synth_run) -> None:
    population, out = synth_run
    assert EVAL.is_synth_truth(population)
    result = subprocess.run([sys.executable, str(EVALUATE), str(population), str(out), "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["archives"] == len((population / "archives.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert metrics["true_pairs"] > 0 and metrics["movers"] > 0
    assert sum(metrics["hard_negative_person_pairs"].values()) > 0
    assert not (population / "hardneg.csv").exists()  # nothing written beside the data


def test_in_memory_conversion_equals_the_rewritten_files(synth_run, tmp_path) -> None:
    population, out = synth_run
    rewritten = tmp_path / "rewritten"
    shutil.copytree(population, rewritten)
    POPULATIONS._synth_truth(rewritten)
    assert not EVAL.is_synth_truth(rewritten)
    as_is, converted = EVAL.evaluate(population, out), EVAL.evaluate(rewritten, out)
    assert as_is == converted
