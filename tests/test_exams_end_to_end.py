"""End to end: synthetic exams of a small population, `linkage exams` through the CLI."""

from __future__ import annotations

import json
import stat

import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.exams.summary import COUNT_KEYS
from linkage.exams.synth import generate_exams
from tests.helpers import read_csv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def village(tmp_path_factory):
    """~1,100 exams in 8 villages of one township; 1 in 3 village-years gets a template."""
    data = tmp_path_factory.mktemp("exams")
    summary = generate_exams(3000, 5, data, template_rate=0.3, villages=8)
    assert summary.template_groups > 0 and summary.double_entries > 0
    return data


def _run(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_exams_cli_finds_the_injected_clones(village, tmp_path):
    out = tmp_path / "out"
    output = _run(["exams", str(village / "exams.csv"), "--out", str(out)])
    assert "clone groups" in output and "->" in output
    truth = {r["exam_id"]: r for r in read_csv(village / "exams_truth.csv")}
    clean = {e: r for e, r in truth.items() if "bad_" not in r["kinds"]}  # a bad value hides a copy
    flags = read_csv(out / "exam_flags.csv")
    cloned = {f["exam_id"] for f in flags if f["flag"] == "clone"}
    templates = {e for e, r in truth.items() if "template" in r["kinds"]}
    assert len(templates & cloned) >= 0.95 * len(templates)
    copies = {e for e, r in clean.items() if "copied_last_year" in r["kinds"]}
    found = {f["exam_id"] for f in flags if f["flag"] == "copied_from_last_year"}
    assert len(copies & found) >= 0.8 * len(copies)  # a bad value in last year's exam hides one
    gaps = {e for e, r in clean.items() if "lr_gap" in r["kinds"]}
    gap_flags = {f["exam_id"] for f in flags if f["flag"].startswith("lr_gap")}
    assert len(gaps & gap_flags) >= 0.9 * len(gaps)
    rejects = read_csv(out / "exam_rejects.csv")
    bad = {e for e, r in truth.items() if "bad_" in r["kinds"]}
    assert {r["exam_id"] for r in rejects} >= bad


def test_summary_shape_names_the_villages_and_files_are_owner_only(village, tmp_path):
    out = tmp_path / "out"
    _run(["exams", str(village / "exams.csv"), "--out", str(out)])
    summary = json.loads((out / "exam_summary.json").read_text(encoding="utf-8"))
    assert list(summary)[:8] == ["as_of", "input", "six_indicators", "totals", "by_county",
                                 "by_township", "by_village", "by_institution"]
    assert set(summary["input"]) == {"file", "sha256"} and summary["input"]["file"] == "exams.csv"
    for level in ("by_county", "by_township", "by_village", "by_institution"):
        width = {"by_county": 6, "by_township": 9, "by_village": 12}.get(level)
        for code, entry in summary[level].items():
            assert width is None or len(code) == width
            assert set(COUNT_KEYS) | {"clone_share", "lr_gap_share", "name"} <= set(entry)
    truth = read_csv(village / "exams_truth.csv")
    villages_with_templates = {r["exam_id"][4:16] for r in truth if "template" in r["kinds"]}
    flagged = {code for code, e in summary["by_village"].items() if e["clone_groups"] > 0}
    assert villages_with_templates <= flagged
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for name in ("exam_flags.csv", "exam_rejects.csv", "exam_summary.json"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    assert not (out / ".staging").exists()


def test_rerun_gives_identical_files_and_names_come_from_the_caller(village, tmp_path):
    from linkage.exams import run_exams

    a, b = tmp_path / "a", tmp_path / "b"
    _run(["exams", str(village / "exams.csv"), "--out", str(a)])
    summary = run_exams(village / "exams.csv", b, names={"620802": "崆峒区"}).summary
    assert (a / "exam_flags.csv").read_bytes() == (b / "exam_flags.csv").read_bytes()
    assert (a / "exam_rejects.csv").read_bytes() == (b / "exam_rejects.csv").read_bytes()
    if "620802" in summary["by_county"]:
        assert summary["by_county"]["620802"]["name"] == "崆峒区"
    assert all(e["name"] is None for c, e in summary["by_county"].items() if c != "620802")


def test_archives_run_keeps_one_persons_double_entries_apart(village, tmp_path):
    truth = read_csv(village / "exams_truth.csv")
    run = tmp_path / "run"
    run.mkdir()
    pairs = sorted({(r["archive_id"], r["person_id"]) for r in truth})
    (run / "clusters.csv").write_text("archive_id,person_id\n" + "".join(f"{a},{p}\n" for a, p in pairs))
    doubles = {r["exam_id"] for r in truth if "double_entry" in r["kinds"] and "template" not in r["kinds"]}

    def cloned(out):
        return {f["exam_id"] for f in read_csv(out / "exam_flags.csv") if f["flag"] == "clone"}

    _run(["exams", str(village / "exams.csv"), "--out", str(tmp_path / "plain")])
    _run(["exams", str(village / "exams.csv"), "--out", str(tmp_path / "linked"), "--archives-run", str(run)])
    assert len(doubles & cloned(tmp_path / "plain")) >= 0.9 * len(doubles)
    assert len(doubles & cloned(tmp_path / "linked")) <= 0.1 * len(doubles)


def test_synth_exams_option_and_bad_input_messages(tmp_path):
    output = _run(["synth", "--persons", "300", "--seed", "2", "--out", str(tmp_path / "pop"), "--exams"])
    assert "exams of" in output
    archives = {r["archive_id"]: r for r in read_csv(tmp_path / "pop" / "truth.csv")}
    exam_truth = read_csv(tmp_path / "pop" / "exams_truth.csv")
    assert exam_truth and all(archives[r["archive_id"]]["person_id"] == r["person_id"] for r in exam_truth)
    result = CliRunner().invoke(cli, ["exams", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o")],
                                standalone_mode=False)
    assert result.exception is not None and "not found" in str(result.exception)
    result = CliRunner().invoke(cli, ["exams", str(tmp_path / "pop" / "exams.csv"), "--out", str(tmp_path / "o"),
                                      "--archives-run", str(tmp_path / "nowhere")], standalone_mode=False)
    assert "clusters.csv" in str(result.exception)
