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
from linkage.errors import InputError, StateError
from linkage.pipeline import run
from linkage.state.lock import StateLock, lock_path
from linkage.state.unmerge import unmerge
from linkage.synth import generate_population

from helpers import read_csv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> Path:
    """800 generated persons and four households (from generator3) whose newborn placeholder
    archive and named child's archive score below the review threshold: kept and joined by
    the newborn rule, on a night as on a stateless run."""
    folder = tmp_path_factory.mktemp("population")
    generate_population(800, 31, folder)
    path = folder / "archives.csv"
    newborns = (Path(__file__).parent / "fixtures" / "newborn_households.csv").read_text(encoding="utf-8")
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in newborns.splitlines()[1:]))
    return path


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
    newborn_merges = [d for d in read_csv(out / "decisions.csv")
                      if d["action"] == "merge" and "name=新生儿占位" in d["evidence"]]
    assert len(newborn_merges) >= 4


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


def test_an_unmerged_archive_gets_a_new_person_id_and_the_rest_keep_theirs(first_night, archives, model_path,
                                                                          tmp_path):
    """README: un-merging ARCHIVE gives it its own person ID; the rest of the person keeps
    the ID other systems hold.  The archive taken out is the smaller archive number of a
    two-archive person, where the split's tie rule alone would have let it keep the ID."""
    state, out = _copy_night(first_night, tmp_path)
    people: dict[str, list[str]] = {}
    for row in read_csv(out / "clusters.csv"):
        people.setdefault(row["person_id"], []).append(row["archive_id"])
    person, (leaving, staying) = next((p, sorted(m)) for p, m in sorted(people.items()) if len(m) == 2)
    unmerge(state, out, archive_id=leaving, by="op", reason="two residents")
    summary = run(archives, out, model_path, show_progress=False, state_path=state)
    clusters = {r["archive_id"]: r["person_id"] for r in read_csv(out / "clusters.csv")}
    assert clusters[staying] == person
    assert clusters[leaving] != person and clusters[leaving] not in people
    assert summary.person_ids["split"] == 1 and summary.person_ids["created"] == 1
    run(archives, out, model_path, show_progress=False, state_path=state)  # and it sticks
    again = {r["archive_id"]: r["person_id"] for r in read_csv(out / "clusters.csv")}
    assert (again[staying], again[leaving]) == (person, clusters[leaving])


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
    assert result.exit_code != 0 and "--full and --allow-vanished need --state" in result.output


def _copy_night(first_night, tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the first night's state and outputs, to run a second night on."""
    state, out = first_night
    shutil.copy2(state, tmp_path / "state.duckdb")
    shutil.copytree(out, tmp_path / "out")
    return tmp_path / "state.duckdb", tmp_path / "out"


def _write(rows: list[dict[str, str]], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _linked_archive(out: Path) -> tuple[str, str]:
    """An archive that shares its person with another, and that person."""
    people: dict[str, list[str]] = {}
    for row in read_csv(out / "clusters.csv"):
        people.setdefault(row["person_id"], []).append(row["archive_id"])
    person, members = next((p, m) for p, m in sorted(people.items()) if len(m) > 1)
    return members[0], person


def test_a_rejected_row_keeps_last_nights_archive_and_its_person(first_night, archives, model_path, tmp_path):
    state, out = _copy_night(first_night, tmp_path)
    archive, person = _linked_archive(out)
    rows = read_csv(archives)
    broken = _write([dict(r, region_code="62080") if r["archive_id"] == archive else r for r in rows],
                    tmp_path / "night2.csv")
    summary = run(broken, out, model_path, show_progress=False, state_path=state)
    assert summary.changes["vanished"] == 0 and summary.changes["kept_rejected"] == 1
    assert summary.archives == len(rows) and summary.decisions_emitted == {}
    assert {"row": str(rows.index(next(r for r in rows if r["archive_id"] == archive)) + 2),
            "archive_id": archive, "field": "region_code"}.items() <= read_csv(out / "rejects.csv")[0].items()
    assert {r["archive_id"]: r["person_id"] for r in read_csv(out / "clusters.csv")}[archive] == person
    assert summary.person_ids.get("retired", 0) == 0


def test_an_export_missing_many_archives_is_refused_unless_allowed(first_night, archives, model_path, tmp_path):
    state, out = _copy_night(first_night, tmp_path)
    rows = read_csv(archives)
    short = _write(rows[: len(rows) // 2], tmp_path / "cut_short.csv")
    before = (state.read_bytes(), (out / "decisions.csv").read_bytes())
    result = CliRunner().invoke(cli, ["run", str(short), "--state", str(state), "--out", str(out),
                                      "--model", str(model_path)])
    assert isinstance(result.exception, InputError)  # `linkage` maps it to exit code 1
    assert "missing from this export" in str(result.exception)
    assert "--allow-vanished" in str(result.exception)
    assert (state.read_bytes(), (out / "decisions.csv").read_bytes()) == before
    summary = run(short, out, model_path, show_progress=False, state_path=state, allow_vanished=True)
    assert summary.changes["vanished"] == len(rows) - len(rows) // 2


def test_an_export_with_no_usable_row_is_a_clear_error(first_night, archives, model_path, tmp_path):
    state, out = _copy_night(first_night, tmp_path)
    bad = _write([dict(r, archive_id=f"9{i}", region_code="x") for i, r in enumerate(read_csv(archives)[:3])],
                 tmp_path / "bad.csv")
    expected = "every row was rejected.*nothing was published. region_code: 3 rows, first at row 2"
    for target in (state, tmp_path / "first_night.duckdb"):
        with pytest.raises(InputError, match=expected):
            run(bad, out, model_path, show_progress=False, state_path=target, allow_vanished=True)


def test_reviewer_verdicts_survive_a_lost_output_folder(first_night, archives, model_path, tmp_path):
    state, out = _copy_night(first_night, tmp_path)
    archive, person = _linked_archive(out)
    partner = next(r["archive_id"] for r in read_csv(out / "clusters.csv")
                   if r["person_id"] == person and r["archive_id"] != archive)
    result = CliRunner().invoke(cli, ["review", "decide", "--run", str(out), archive, partner, "different"])
    assert result.exit_code == 0, result.output
    run(archives, out, model_path, show_progress=False, state_path=state)
    fresh = tmp_path / "new_out"  # the platform points --out somewhere new: no review.db there
    for full in (True, False):  # and on every night after, not just the first
        run(archives, fresh, model_path, show_progress=False, state_path=state, full=full)
        people = {r["archive_id"]: r["person_id"] for r in read_csv(fresh / "clusters.csv")}
        assert people[archive] != people[partner]


def test_a_recovered_night_hands_its_decisions_over_only_once(tmp_path):
    from linkage.state.publish import pending_dir, recover_pending

    out = tmp_path / "out"
    for run_id in (7, 8):
        folder = pending_dir(out, run_id)
        folder.mkdir(parents=True)
        (folder / "decisions.csv").write_text("action,archive_id\nmerge,1\n", encoding="utf-8")
        (folder / "summary.json").write_text("{}", encoding="utf-8")
    # Run 7 committed, run 8 did not: 7 is published with an empty decisions.csv (tonight's
    # run repeats its rows), 8 is discarded.
    assert recover_pending(out, lambda run: run == 7, hand_over=True) == [7]
    assert read_csv(out / "decisions.csv") == [] and (out / "summary.json").is_file()
    assert not list(out.glob(".pending-run-*"))
