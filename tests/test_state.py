"""The state file end to end on a small synthetic population: one run at a time, owner-only
files, the CLI, un-merge errors, full rebuilds when the model changes, and agreement with
a stateless run."""

from __future__ import annotations

import csv
import shutil
import stat
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.config import REPO_ROOT
from linkage.errors import StateError
from linkage.pipeline import run
from linkage.state.lock import StateLock, lock_path
from linkage.state.unmerge import unmerge
from linkage.synth import generate_population

pytestmark = pytest.mark.slow


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("population")
    generate_population(800, 31, folder)
    return folder / "archives.csv"


@pytest.fixture(scope="module")
def first_night(tmp_path_factory, archives, model_path) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("state")
    state, out = root / "state.duckdb", root / "out"
    run(archives, out, model_path, show_progress=False, state_path=state)
    return state, out


def test_state_lock_and_outputs_are_owner_only(first_night):
    state, out = first_night
    for path in (state, lock_path(state), *out.iterdir()):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert not [p for p in out.iterdir() if p.name.startswith(".pending-run-")]


def test_a_second_process_is_refused_while_the_state_is_in_use(first_night, archives, model_path):
    state, out = first_night
    with StateLock(state):
        with pytest.raises(StateError, match="state is in use by another run"):
            run(archives, out, model_path, show_progress=False, state_path=state)
        result = CliRunner().invoke(cli, ["run", str(archives), "--state", str(state), "--out", str(out),
                                          "--model", str(model_path)], standalone_mode=False)
        assert isinstance(result.exception, StateError)
        with pytest.raises(StateError, match="state is in use"):
            unmerge(state, out, archive_id="x", by="op")
    with StateLock(state):  # released again: the lock dies with its holder
        pass


def test_cli_maps_a_locked_state_to_exit_code_1(first_night, archives, model_path):
    import subprocess
    import sys

    state, out = first_night
    with StateLock(state):
        done = subprocess.run(
            [sys.executable, "-m", "linkage.cli", "run", str(archives), "--state", str(state),
             "--out", str(out), "--model", str(model_path)],
            capture_output=True, text=True, cwd=REPO_ROOT)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: state is in use by another run")


def test_first_stateful_run_agrees_with_a_stateless_run(first_night, archives, model_path, tmp_path):
    state, out = first_night
    run(archives, tmp_path, model_path, show_progress=False)

    def partition(folder: Path) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for row in read_csv(folder / "clusters.csv"):
            groups.setdefault(row["person_id"], set()).add(row["archive_id"])
        return {frozenset(g) for g in groups.values()}

    assert partition(tmp_path) == partition(out)
    stateless = {d["decision_id"]: d["action"] for d in read_csv(tmp_path / "decisions.csv")}
    logged = {d["decision_id"]: d["action"] for d in read_csv(out / "decision_log.csv")
              if d["run_id"] == "1"}
    assert stateless == logged and stateless


def test_a_changed_model_or_config_forces_a_full_rebuild(first_night, archives, model_path, tmp_path):
    state, out = first_night
    copy = tmp_path / "state.duckdb"
    shutil.copy2(state, copy)
    config = tmp_path / "config.toml"
    text = (REPO_ROOT / "configs" / "default.toml").read_text(encoding="utf-8")
    config.write_text(text.replace("max_auto_cluster_size = 8", "max_auto_cluster_size = 7"),
                      encoding="utf-8")
    summary = run(archives, tmp_path / "out", model_path, config, show_progress=False, state_path=copy)
    assert (summary.mode, summary.full_reason) == ("full", "model or scoring settings changed")
    summary = run(archives, tmp_path / "out", model_path, config, show_progress=False, state_path=copy)
    assert summary.mode == "incremental" and summary.decisions_emitted == {}


def test_unmerge_refuses_what_it_cannot_do(first_night, tmp_path):
    state, out = first_night
    with pytest.raises(StateError, match="not in the state"):
        unmerge(state, out, archive_id="nope", by="op")
    with pytest.raises(StateError, match="no state at"):
        unmerge(tmp_path / "missing.duckdb", out, archive_id="x", by="op")
    with pytest.raises(StateError, match="exactly one"):
        unmerge(state, out, by="op")
    con = duckdb.connect(str(state), read_only=True)
    alone = con.execute("""
        SELECT archive_id FROM persons WHERE person_id IN
            (SELECT person_id FROM persons GROUP BY 1 HAVING count(*) = 1) LIMIT 1
    """).fetchall()[0][0]
    con.close()
    with pytest.raises(StateError, match="alone in its person"):
        unmerge(state, out, archive_id=alone, by="op")
    result = CliRunner().invoke(cli, ["unmerge", "nope", "--state", str(state), "--out", str(out),
                                      "--by", "op"])
    assert result.exit_code != 0


def test_unmerge_of_a_whole_person_from_the_cli(first_night, archives, model_path, tmp_path):
    state, out = first_night
    work_state, work_out = tmp_path / "state.duckdb", tmp_path / "out"
    shutil.copy2(state, work_state)
    shutil.copytree(out, work_out)
    con = duckdb.connect(str(work_state), read_only=True)
    person, size = con.execute("""
        SELECT person_id, count(*) FROM persons GROUP BY 1 HAVING count(*) >= 2 ORDER BY 2 DESC, 1 LIMIT 1
    """).fetchall()[0]
    members = [r[0] for r in con.execute(
        "SELECT archive_id FROM persons WHERE person_id = ? ORDER BY 1", [person]).fetchall()]
    con.close()
    result = CliRunner().invoke(cli, ["unmerge", "--person", person, "--state", str(work_state),
                                      "--out", str(work_out), "--by", "op", "--reason", "test"])
    assert result.exit_code == 0, result.output
    assert f"{size} archives of {person}" in result.output
    summary = run(archives, work_out, model_path, show_progress=False, state_path=work_state)
    clusters = {r["archive_id"]: r["person_id"] for r in read_csv(work_out / "clusters.csv")}
    assert len({clusters[m] for m in members}) == size  # every archive on its own now
    assert person in {clusters[m] for m in members}  # one part (the smallest archive) kept it
    assert clusters[members[0]] == person
    rows = read_csv(work_out / "decisions.csv")
    assert {r["action"] for r in rows if r["archive_id"] in members} <= {"unmerge", "review"}
    assert summary.decisions_emitted.get("unmerge") == size - 1


def test_the_cli_run_reports_a_night(first_night, archives, model_path, tmp_path):
    state, out = first_night
    copy = tmp_path / "state.duckdb"
    shutil.copy2(state, copy)
    result = CliRunner().invoke(cli, ["run", str(archives), "--state", str(copy), "--out",
                                      str(tmp_path / "out"), "--model", str(model_path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("run 2 (incremental): 0 new, 0 changed, 0 vanished of ")
    assert result.output.rstrip().endswith(f"0 new decisions -> {tmp_path / 'out'}")
    result = CliRunner().invoke(cli, ["run", str(archives), "--full", "--out", str(tmp_path / "o2"),
                                      "--model", str(model_path)])
    assert result.exit_code != 0 and "--full needs --state" in result.output
