"""A wheel carries the default config, model and example: sites install packages, not checkouts."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

from click.testing import CliRunner

from linkage import shipped
from linkage.cli import cli
from linkage.config import REPO_ROOT


def test_wheel_ships_defaults_and_example(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "-w", str(tmp_path), str(REPO_ROOT)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("linkage-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, name in shipped.SHIPPED_FILES:
        assert f"linkage/_shipped/{folder}/{name}" in names
        packaged = zipfile.ZipFile(wheel).read(f"linkage/_shipped/{folder}/{name}")
        assert packaged == (REPO_ROOT / folder / name).read_bytes()
    assert "linkage/data/example/archives.csv" in names


def test_setup_py_ships_the_same_files_as_shipped_lists() -> None:
    tree = ast.parse((REPO_ROOT / "setup.py").read_text(encoding="utf-8"))
    listed = [ast.literal_eval(node.value) for node in ast.walk(tree)
              if isinstance(node, ast.Assign)
              and any(getattr(t, "id", None) == "SHIPPED_FILES" for t in node.targets)]
    assert listed == [shipped.SHIPPED_FILES]


def test_defaults_resolve_without_options() -> None:
    assert shipped.default_config_path().is_file()
    assert shipped.default_model_path().is_file()
    assert shipped.example_input_path().is_file()


def test_run_example_needs_no_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--example", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "clusters.csv").is_file()


def test_run_wants_input_or_example(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "INPUT or --example" in result.output
