"""A nightly run killed at any stage leaves the state as it was, and the next run completes.

The run is the real CLI in a subprocess; LINKAGE_TEST_CRASH_AT=<stage> makes it exit 137 at
that stage (linkage.crash.crash_point), like a kill -9.  Before the commit, the state
must equal the state before the run; after it, the state of an uninterrupted run.  Either
way a rerun must produce what an uninterrupted run produces, and no decision is lost: the
decision log ends up the same.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from linkage.config import REPO_ROOT
from linkage.crash import CRASH_ENV
from linkage.pipeline import run
from linkage.schema import INPUT_COLUMNS
from linkage.synth import generate_population

from helpers import read_csv

pytestmark = pytest.mark.slow

BEFORE_COMMIT = ("read", "standardise", "score", "cluster", "decide", "stage", "commit_mid")
# publish_*: inside the publication of the output set (linkage.outputs): the generation is
# complete on disk / the review queue names it / .current was swapped, links not yet made.
AFTER_COMMIT = ("commit", "publish_complete", "publish_queued", "publish_swapped", "publish")
NOT_VISIBLE = ("commit", "publish_complete")  # the night's outputs never became visible
# Columns that differ between two runs of the same night by nature (clock, timings).
_VOLATILE = {"runs": {"started_at", "finished_at", "summary"}}


def snapshot(state: Path) -> dict[str, list[tuple]]:
    """Every table of the state, rows sorted, clock columns left out."""
    con = duckdb.connect(str(state))
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        result = {}
        for table in tables:
            columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()
                       if r[0] not in _VOLATILE.get(table, set())]
            rows = con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            result[table] = sorted(rows, key=repr)
        return result
    finally:
        con.close()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, model_path):
    """Night 1 committed; night 2's input (new archives and edits); an uninterrupted night 2."""
    root = tmp_path_factory.mktemp("crash")
    generate_population(500, 41, root / "population")
    with (root / "population" / "archives.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    held = {r["archive_id"] for r in rows if int(hashlib.md5(r["archive_id"].encode()).hexdigest(), 16) % 5 == 0}
    nights = {}
    for name, selected in (("night1", [r for r in rows if r["archive_id"] not in held]),
                           ("night2", [dict(r, phone=r["phone"][:-1] + "7") if i % 40 == 0 else r
                                       for i, r in enumerate(rows)])):
        path = root / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(INPUT_COLUMNS))
            writer.writeheader()
            writer.writerows(selected)
        nights[name] = path
    base = root / "base"
    run(nights["night1"], base / "out", model_path, show_progress=False, state_path=base / "state.duckdb")
    reference = root / "reference"
    shutil.copytree(base, reference, symlinks=True)
    run(nights["night2"], reference / "out", model_path, show_progress=False,
        state_path=reference / "state.duckdb")
    return {"base": base, "reference": reference, "night2": nights["night2"], "model": model_path,
            "before": snapshot(base / "state.duckdb"), "after": snapshot(reference / "state.duckdb")}


def _crash(baseline, tmp_path: Path, stage: str) -> Path:
    work = tmp_path / "work"
    shutil.copytree(baseline["base"], work, symlinks=True)
    env = dict(os.environ, **{CRASH_ENV: stage})
    done = subprocess.run(
        [sys.executable, "-m", "linkage.cli", "run", str(baseline["night2"]), "--state",
         str(work / "state.duckdb"), "--out", str(work / "out"), "--model", str(baseline["model"])],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 137, done.stderr[-2000:]
    return work


@pytest.mark.parametrize("stage", BEFORE_COMMIT + AFTER_COMMIT)
def test_a_killed_run_leaves_the_state_whole_and_the_next_run_completes(baseline, tmp_path, stage):
    work = _crash(baseline, tmp_path, stage)
    expected = baseline["before"] if stage in BEFORE_COMMIT else baseline["after"]
    assert snapshot(work / "state.duckdb") == expected
    if stage in BEFORE_COMMIT:  # the outputs of the last committed night are untouched
        assert (work / "out" / "decisions.csv").read_bytes() == (
            baseline["base"] / "out" / "decisions.csv").read_bytes()

    summary = run(baseline["night2"], work / "out", baseline["model"], show_progress=False,
                  state_path=work / "state.duckdb")
    reference = baseline["reference"] / "out"
    assert read_csv(work / "out" / "decision_log.csv") == read_csv(reference / "decision_log.csv")
    assert read_csv(work / "out" / "clusters.csv") == read_csv(reference / "clusters.csv")
    if stage in BEFORE_COMMIT:  # the rerun is night 2: the same decisions, the same IDs
        assert read_csv(work / "out" / "decisions.csv") == read_csv(reference / "decisions.csv")
    else:  # night 2 happened; the rerun emits nothing new
        assert summary.decisions_emitted == {}
    if stage in NOT_VISIBLE:  # ...but night 2's outputs were never published: handed over now
        assert read_csv(work / "out" / "decisions.csv") == read_csv(reference / "decisions.csv")
    if stage in AFTER_COMMIT and stage not in NOT_VISIBLE:  # published; never handed over twice
        assert read_csv(work / "out" / "decisions.csv") == []
    # Nothing half-done is left: no pending run, no staging, one current set.
    assert sorted(p.name for p in (work / "out").iterdir() if p.name.startswith(".")) == [
        ".current", ".generations", ".lock"]
    assert not [p for p in (work / "out" / ".generations").iterdir() if not p.name.startswith("g")]
