"""The scale benchmark on a tiny population: every size's facts, plain Splink beside the
engine at its size, the work folder by default and benchmarks/results only with --publish."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from linkage.bench import publish
from linkage.bench.scale import render, run_scale

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_scale_run_measures_each_size_and_plain_splink(tmp_path: Path) -> None:
    results = run_scale([80, 160], 7, tmp_path, plain_at=160, command="test")
    small, large = results["sizes"]
    for row in (small, large):
        engine = row["engine"]
        assert engine["ok"] and engine["archives"] >= row["persons"]
        assert engine["cpu_seconds"] > 0 and engine["peak_rss_mb"] > 50
        assert set(engine["stage_seconds"]) >= {"read", "standardise", "score", "cluster"}
        assert sum(engine["pairs_by_rule"].values()) == engine["pairs_compared"]
    assert "plain_splink" not in small
    plain = large["plain_splink"]
    assert plain["ok"] and plain["archives"] == large["engine"]["archives"]
    assert (tmp_path / "plain_out_160" / "clusters.csv").is_file()
    assert (tmp_path / "plain_out_160" / "pairs.csv").is_file()
    assert large["engine_over_plain"]["cpu_seconds"] > 0
    on_disk = json.loads((tmp_path / "scale.json").read_text(encoding="utf-8"))
    assert on_disk["sizes"][1]["persons"] == 160
    text = render(results)
    assert "plain Splink, pre-trained" in text and "| county_dob |" in text
    # A second run reuses the populations (same generator).
    again = run_scale([80], 7, tmp_path, plain_at=None, command="test")
    assert again["sizes"][0]["generation"]["reused"] is True


@pytest.mark.slow
def test_script_publishes_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert publish.results_dir(tmp_path, False) == tmp_path / "results"
    monkeypatch.setattr(publish, "PUBLISHED", tmp_path / "published")
    assert publish.results_dir(tmp_path, True) == tmp_path / "published"
    script = [sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--sizes", "60", "--plain-at", "0",
              "--work", str(tmp_path / "work"), "--results", str(tmp_path / "pub")]
    subprocess.run([*script, "--common-names-at", "0"], capture_output=True, text=True, check=True)
    assert (tmp_path / "work" / "scale.md").is_file()
    assert not (tmp_path / "pub").exists()
    # The published run also runs generator4 (another name mix): engine and plain Splink.
    done = subprocess.run([*script, "--common-names-at", "150", "--publish"],
                          capture_output=True, text=True, check=True)
    assert "published" in done.stdout
    published = json.loads((tmp_path / "pub" / "scale.json").read_text(encoding="utf-8"))
    assert published["machine"]["cpu"] and published["command"].endswith("--publish")
    other, = published["others"]
    assert other["population"].startswith("generator4") and other["engine"]["ok"]
    assert other["plain_splink"]["ok"] and other["engine_over_plain"]["wall_seconds"] > 0
    text = (tmp_path / "pub" / "scale.md").read_text(encoding="utf-8")
    assert "Machine:" in text and "## Other populations" in text and "generator4 (seed 11" in text
