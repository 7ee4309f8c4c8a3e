"""The output folder under faults: kills inside publication, two runs at once, an archive
the queue cannot place.  Probes like the outside reliability test's, on the real CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from linkage.crash import CRASH_ENV
from linkage.outputs import OutputLock, current_generation
from linkage.shipped import example_input_path
from tests.helpers import read_csv

PUBLISH_POINTS = ("publish_complete", "publish_queued", "publish_swapped")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """The bundled example (A) and the same export with its last 60 rows cut (B)."""
    root = tmp_path_factory.mktemp("inputs")
    lines = example_input_path().read_text(encoding="utf-8").splitlines(keepends=True)
    a, b = root / "a.csv", root / "b.csv"
    a.write_text("".join(lines), encoding="utf-8")
    b.write_text("".join(lines[:-60]), encoding="utf-8")
    return {"a": a, "b": b}


def _cli(args: list[str], crash: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop(CRASH_ENV, None)
    if crash:
        env[CRASH_ENV] = crash
    return subprocess.run([sys.executable, "-m", "linkage.cli", *args], env=env,
                          capture_output=True, text=True)


def _one_run(out: Path) -> int:
    """Assert the visible set is one run's, and return how many archives it linked."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    clusters = read_csv(out / "clusters.csv")
    assert len(clusters) == summary["archives"], "clusters.csv and summary.json of two runs"
    decided = {r["archive_id"] for r in read_csv(out / "decisions.csv")}
    assert decided <= {r["archive_id"] for r in clusters}
    return summary["archives"]


def _queue_generation(out: Path) -> int | None:
    con = sqlite3.connect(out / "review.db")
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'output_generation'").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else None


@pytest.mark.parametrize("point", PUBLISH_POINTS)
def test_a_kill_inside_publication_leaves_one_run_visible(inputs, tmp_path, point):
    out = tmp_path / "out"
    assert _cli(["run", str(inputs["a"]), "--out", str(out)]).returncode == 0
    first = _one_run(out)
    killed = _cli(["run", str(inputs["b"]), "--out", str(out)], crash=point)
    assert killed.returncode == 137
    visible = _one_run(out)
    if point == "publish_swapped":  # past the swap: the new set is the visible one
        assert visible < first
    else:  # the swap never happened: the old set is still the visible one
        assert visible == first
    if point == "publish_queued":  # ...but the queue names the new one: a reader settles it
        assert _queue_generation(out) == current_generation(out) + 1
        assert _cli(["review", "stats", "--run", str(out)]).returncode == 0
        assert _one_run(out) < first and _queue_generation(out) == current_generation(out)
    rerun = _cli(["run", str(inputs["b"]), "--out", str(out)])
    assert rerun.returncode == 0, rerun.stderr
    assert _one_run(out) < first
    assert _queue_generation(out) == current_generation(out)  # queue and files: one run
    leftovers = [p.name for p in (out / ".generations").iterdir() if not p.name.startswith("g")]
    assert leftovers == []


def test_a_second_run_on_a_busy_out_exits_1_before_any_work(inputs, tmp_path):
    out = tmp_path / "out"
    with OutputLock(out):
        result = _cli(["run", str(inputs["a"]), "--out", str(out)])
    assert result.returncode == 1
    assert "another linkage run is writing to this folder" in result.stderr
    assert not (out / "clusters.csv").exists()


def test_concurrent_runs_never_mix_their_outputs(inputs, tmp_path):
    out = tmp_path / "out"
    for _ in range(3):
        procs = [subprocess.Popen([sys.executable, "-m", "linkage.cli", "run", str(inputs[k]),
                                   "--out", str(out)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for k in ("a", "b")]
        codes = [p.wait(timeout=300) for p in procs]
        assert sorted(codes) in ([0, 0], [0, 1])
        for proc, code in zip(procs, codes):
            if code == 1:
                assert "another linkage run" in proc.stderr.read()
        _one_run(out)
        assert _queue_generation(out) == current_generation(out)


def test_out_that_is_a_file_fails_up_front(inputs, tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("not a folder")
    result = _cli(["run", str(inputs["a"]), "--out", str(target)])
    assert result.returncode == 1 and "must be a folder" in result.stderr


def test_a_rejected_archive_in_a_review_pair_does_not_break_the_night(inputs, tmp_path):
    out, state = tmp_path / "out", tmp_path / "state.duckdb"
    assert _cli(["run", str(inputs["a"]), "--out", str(out), "--state", str(state)]).returncode == 0
    rejected_before = len(read_csv(out / "rejects.csv"))
    pair = next(r for r in read_csv(out / "decisions.csv") if r["action"] == "review")
    rows = read_csv(inputs["a"])
    for row in rows:
        if row["archive_id"] == pair["archive_id"]:
            row["region_code"] = row["region_code"][:11]  # a mistyped 11-digit code
    night2 = tmp_path / "night2.csv"
    with night2.open("w", encoding="utf-8", newline="") as handle:
        import csv as _csv

        writer = _csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = _cli(["run", str(night2), "--out", str(out), "--state", str(state)])
    assert done.returncode == 0, done.stderr
    rejects = read_csv(out / "rejects.csv")
    assert len(rejects) == rejected_before + 1
    assert {"archive_id": pair["archive_id"], "field": "region_code"}.items() <= next(
        r for r in rejects if r["archive_id"] == pair["archive_id"]).items()
    assert _queue_generation(out) == current_generation(out)


def test_a_reader_fault_never_retires_person_ids(inputs, tmp_path):
    """One unbalanced quote in tonight's export: its row is rejected (and kept as last
    night's), every row after it is still read, nothing vanishes, no person ID retires."""
    out, state = tmp_path / "out", tmp_path / "state.duckdb"
    assert _cli(["run", str(inputs["a"]), "--out", str(out), "--state", str(state)]).returncode == 0
    lines = inputs["a"].read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[4].split(",")
    fields[1] = '"' + fields[1]  # row 5 opens a quote it never closes
    lines[4] = ",".join(fields)
    night2 = tmp_path / "night2.csv"
    night2.write_text("".join(lines), encoding="utf-8")
    done = _cli(["-v", "run", str(night2), "--out", str(out), "--state", str(state)])
    assert done.returncode == 0, done.stderr
    assert "0 vanished" in done.stdout and "0 retired" in done.stdout
    rejects = read_csv(out / "rejects.csv")
    assert any(r["row"] == "5" and r["field"] == "*" for r in rejects)


def test_a_report_never_replaces_the_published_set(inputs, tmp_path):
    from linkage.report import build_report

    out = tmp_path / "out"
    assert _cli(["run", str(inputs["a"]), "--out", str(out)]).returncode == 0
    generation = current_generation(out)
    build_report(out)
    assert current_generation(out) == generation
    _one_run(out)
    assert (out / "report.html").is_file()


def _internal_error(tmp_path: Path, verbose: bool) -> subprocess.CompletedProcess:
    """The real CLI with one fault injected into the engine (a bug, as a user would hit it)."""
    argv = ["linkage", *(["-v"] if verbose else []), "run", "--example",
            "--out", str(tmp_path / "out")]
    code = ("import sys, linkage.pipeline as p\n"
            "def broken(*a, **k):\n    raise ZeroDivisionError('injected')\n"
            "p.link = broken\n"
            "from linkage.cli import main\n"
            f"sys.argv = {argv!r}\n"
            "main()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_internal_errors_exit_2_and_show_a_traceback_only_with_v(tmp_path):
    quiet = _internal_error(tmp_path, verbose=False)
    assert quiet.returncode == 2 and "Internal error (ZeroDivisionError)" in quiet.stderr
    assert "Traceback" not in quiet.stderr
    loud = _internal_error(tmp_path, verbose=True)
    assert loud.returncode == 2 and "Traceback (most recent call last)" in loud.stderr


def test_spill_folders_of_dead_runs_are_removed(tmp_path, monkeypatch):
    import tempfile

    from linkage.connection import SPILL_PREFIX, connect

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    left = tmp_path / f"{SPILL_PREFIX}{dead}-abc"
    (left / "spill").mkdir(parents=True)
    alive = tmp_path / f"{SPILL_PREFIX}{os.getpid()}-live"
    alive.mkdir()
    con = connect(threads=1)
    con.close()
    assert not left.exists()  # a killed run's folder (it may hold personal data) is gone
    assert alive.exists()     # a live process's folder is left alone


def test_exam_results_beside_a_run_leave_its_set_alone(inputs, tmp_path):
    from linkage.exams import run_exams

    out = tmp_path / "out"
    assert _cli(["run", str(inputs["a"]), "--out", str(out)]).returncode == 0
    generation = current_generation(out)
    exams = tmp_path / "exams.csv"
    exams.write_text("exam_id,archive_id,exam_date,region_code,height,weight,waist,"
                     "sbp_left,dbp_left,sbp_right,dbp_right,pulse\n"
                     "E1,62010200100200001,2023-05-01,620102001002,160,60,80,130,80,132,82,72\n",
                     encoding="utf-8")
    run_exams(exams, out)
    assert current_generation(out) == generation
    _one_run(out)
    assert (out / "exam_summary.json").is_file()
