"""Benchmarks write to their work folder; only --publish touches benchmarks/results, and a
published table never mixes machines (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from linkage.bench import report
from linkage.bench.publish import PUBLISHED, results_dir, same_machine
from linkage.bench.runner import RESULTS_JSON, run_benchmark
from linkage.cli import cli

SEED = 7


def test_default_is_the_work_folder(tmp_path: Path) -> None:
    assert results_dir(tmp_path, publish=False) == tmp_path / "results"
    assert results_dir(tmp_path, publish=True) == PUBLISHED
    assert PUBLISHED.parts[-2:] == ("benchmarks", "results")


def test_same_machine_ignores_versions_not_hardware() -> None:
    here = report.machine_facts()
    assert same_machine(here, {**here, "git": "other", "duckdb": "0.0"})
    assert not same_machine(here, {**here, "cpu": "another CPU"})
    assert not same_machine(here, {**here, "logical_cores": 64})
    assert not same_machine(here, None)


def test_cli_bench_leaves_the_published_tables_alone(tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in PUBLISHED.glob("*") if p.is_file()}
    work = tmp_path / "work"
    result = CliRunner().invoke(cli, ["bench", "--sizes", "60", "--systems", "id_only",
                                      "--work", str(work)])
    assert result.exit_code == 0, result.output
    assert (work / "results" / "RESULTS.md").is_file()
    assert "Not published" in result.output
    assert {p: p.read_bytes() for p in PUBLISHED.glob("*") if p.is_file()} == before


def test_rows_from_another_machine_are_not_carried(tmp_path: Path) -> None:
    work, results = tmp_path / "work", tmp_path / "results"
    run_benchmark([60], SEED, work, results, systems=("id_only",), command="first")
    on_disk = json.loads((results / RESULTS_JSON).read_text(encoding="utf-8"))
    # The same file, as if measured elsewhere, with a size this run does not redo.
    on_disk["machine"]["cpu"] = "another CPU"
    on_disk["scenarios"].append({**on_disk["scenarios"][0], "persons": 99})
    (results / RESULTS_JSON).write_text(json.dumps(on_disk), encoding="utf-8")
    again = run_benchmark([60], SEED, work, results, systems=("id_only",), command="second")
    assert [s["persons"] for s in again["scenarios"]] == [60]
    assert again["machine"]["cpu"] == report.machine_facts()["cpu"]
    # On the same machine the other size is kept (10k/100k and a later 1M in one table).
    kept = json.loads((results / RESULTS_JSON).read_text(encoding="utf-8"))
    first = kept["scenarios"][0]
    kept["scenarios"].append({**first, "persons": 99, "archives": 2 * first["archives"]})
    (results / RESULTS_JSON).write_text(json.dumps(kept), encoding="utf-8")
    third = run_benchmark([60], SEED, work, results, systems=("id_only",), command="third")
    assert [s["persons"] for s in third["scenarios"]] == [60, 99]
