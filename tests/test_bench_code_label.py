"""A benchmark header names the code it measured, also from an installed wheel (no git
checkout): never the literal "None" (acceptance review of the wheel, issue 9)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from linkage.bench import report


def _header(machine: dict) -> str:
    text = report.render_markdown({"machine": machine, "scenarios": [], "scaling": {}})
    return next(line for line in text.splitlines() if line.startswith("Machine:"))


def test_outside_a_checkout_the_header_names_version_and_code_signature(tmp_path: Path) -> None:
    facts = report.machine_facts(code_root=tmp_path)
    assert facts["git"] is None
    assert facts["linkage"]
    assert len(facts["code_signature"]) == 12
    header = _header(facts)
    assert "None" not in header
    assert f"linkage {facts['linkage']} (installed package, no git commit, " \
           f"code signature {facts['code_signature']})." in header


def test_a_results_json_from_before_the_signature_renders_without_none() -> None:
    old = {"cpu": "c", "linkage": "0.1.0", "git": None}
    assert report.code_label(old) == "installed package, no git commit"
    assert "linkage 0.1.0 (installed package, no git commit)." in _header(old)


def test_a_checkout_counts_only_at_its_top_level(tmp_path: Path) -> None:
    """A venv inside another repository (site-packages below its top) must not borrow that
    repository's commit."""
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t",
                        *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "f.txt").write_text("x")
    git("add", "f.txt")
    git("commit", "-q", "-m", "one")
    site = tmp_path / "venv" / "lib" / "site-packages"
    site.mkdir(parents=True)
    assert report._git_commit(site) is None
    commit = report._git_commit(tmp_path)
    assert commit and "None" not in report.code_label({"git": commit})


def test_every_benchmark_header_names_the_code_through_code_label() -> None:
    """A header that prints machine["git"] itself prints "None" from a wheel."""
    root = Path(report.__file__).resolve().parents[2]
    raw = re.compile(r"""\[['"]git['"]\]|get\(['"]git['"]\)""")
    offenders = [str(path.relative_to(root)) for folder in ("linkage", "benchmarks")
                 for path in sorted((root / folder).rglob("*.py"))
                 if path != Path(report.__file__).resolve() and raw.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
