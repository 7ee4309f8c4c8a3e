"""The command line: help for every command, clear errors and the documented exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from linkage.cli import cli


def _linkage(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "linkage.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    for path, command in _commands(cli):
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example" in (command.help or ""), f"{' '.join(path)} lacks an Example"


def test_missing_input_file_is_a_user_error(tmp_path):
    result = _linkage("run", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: input file not found: {tmp_path / 'nope.csv'}"
    assert "Traceback" not in result.stderr


def test_missing_columns_are_listed(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("archive_id,sex\n1,男\n", encoding="utf-8")
    result = _linkage("run", str(source), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "missing required column(s): name, region_code" in result.stderr


def test_bad_option_is_a_user_error_and_bad_config_names_the_key(tmp_path):
    assert _linkage("run").returncode == 1
    config = tmp_path / "bad.toml"
    config.write_text("[columns]\n", encoding="utf-8")
    source = tmp_path / "in.csv"
    source.write_text("archive_id,name,region_code\n1,王芳,620802100201\n", encoding="utf-8")
    result = _linkage("run", str(source), "--out", str(tmp_path / "o"), "--config", str(config))
    assert result.returncode == 1
    assert "missing section [thresholds]" in result.stderr


def test_run_prints_a_summary_without_pii(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(
        "姓名,档案编号,行政区划代码,身份证号,出生日期,性别\n"
        "王芳,62080210020100001,620802100201,11010519491231002X,1949-12-31,女\n"
        "王芳,62080210020100002,620802100201,11010519491231002x,1949/12/31,2\n",
        encoding="utf-8")
    result = _linkage("run", str(source), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "2 archives (0 rejected)" in result.stdout
    assert "1 merges" in result.stdout
    for secret in ("王芳", "11010519491231002X", "1949"):
        assert secret not in result.stdout + result.stderr


def test_train_refuses_a_runs_decisions_csv_as_labels_and_says_what_it_takes(tmp_path):
    from linkage.config import REPO_ROOT

    decisions = tmp_path / "out" / "decisions.csv"
    decisions.parent.mkdir()
    decisions.write_text("action,archive_id,survivor_archive_id,decided_by,person_id\n"
                         "merge,A2,A1,reviewer,P1\n", encoding="utf-8")
    model = tmp_path / "m.json"
    result = _linkage("train", str(REPO_ROOT / "linkage" / "data" / "example" / "archives.csv"),
                      "--labels", str(decisions), "--out", str(model))
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"Error: {decisions}: this is a run's decisions.csv, not reviewers' verdicts")
    assert "review.db" in result.stderr and "`linkage review export`" in result.stderr
    assert "Traceback" not in result.stderr and not model.exists()


def test_a_run_that_fails_early_leaves_no_output_folder_behind(tmp_path):
    """Acceptance: `linkage run nonexist.csv --out out/zz` exited 1 but left an empty out/zz
    holding a .lock.  Nothing is created for a missing input (nor a state's lock), and a run
    that fails before writing removes the folders it made; an existing folder stays."""
    out = tmp_path / "out" / "zz"
    result = _linkage("run", str(tmp_path / "nonexist.csv"), "--out", str(out))
    assert result.returncode == 1 and "input file not found" in result.stderr
    assert not (tmp_path / "out").exists()
    state = tmp_path / "st" / "state.duckdb"
    result = _linkage("run", str(tmp_path / "nonexist.csv"), "--out", str(out), "--state", str(state))
    assert result.returncode == 1 and not (tmp_path / "out").exists() and not (tmp_path / "st").exists()
    source = tmp_path / "in.csv"
    source.write_text("archive_id,sex\n1,男\n", encoding="utf-8")  # missing columns: fails inside the lock
    result = _linkage("run", str(source), "--out", str(out))
    assert result.returncode == 1 and "missing required column(s)" in result.stderr
    assert not (tmp_path / "out").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine", encoding="utf-8")
    assert _linkage("run", str(source), "--out", str(kept)).returncode == 1
    assert (kept / "notes.txt").read_text(encoding="utf-8") == "mine"
