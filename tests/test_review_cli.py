"""`linkage review` through click's CliRunner: scripted keys, scriptable twins, errors."""

from __future__ import annotations

import csv
import io
import stat

import click
import pytest
from click.testing import CliRunner

from linkage.review.commands import review_group
from linkage.review.store import ReviewStore, publish_queue, store_path

ID_L, ID_R = "110105195003040011", "110105195003400011"  # synthetic; differ by a swap
PHONE = "13900001111"


def item(a: str, b: str, p: float, county: str = "110105") -> dict:
    out = {"archive_id_l": a, "archive_id_r": b, "match_probability": p, "match_weight": 0.5,
           "evidence": "name=一致 +8.0; dob=一致 +9.1", "reason": "score between review and automatic thresholds"}
    for side, id_number in (("l", ID_L), ("r", ID_R)):
        out.update({f"{side}_name": "测试丙", f"{side}_name_py": "ceshibing", f"{side}_sex": "男",
                    f"{side}_birth_date": "1950-03-04", f"{side}_id_number": id_number,
                    f"{side}_id_status": "valid", f"{side}_phone": PHONE, f"{side}_address": "测试路2号",
                    f"{side}_county": county, f"{side}_township": county + "001",
                    f"{side}_region_code": county + "001201"})
    return out


@pytest.fixture
def run_dir(tmp_path):
    (tmp_path / "clusters.csv").write_text(
        "archive_id,person_id\n" + "".join(f"{a},P{a}\n" for a in ("A1", "A2", "B1", "B2", "C1", "C2")),
        encoding="utf-8")
    publish_queue(tmp_path, [item("A1", "A2", 0.55), item("B1", "B2", 0.75, "110106"), item("C1", "C2", 0.995)])
    return tmp_path


def invoke(args, input=None):
    return CliRunner().invoke(review_group, args, input=input, catch_exceptions=False)


def standing(run_dir):
    with ReviewStore(store_path(run_dir)) as store:
        return {pair: (d.verdict, d.reviewer, d.note) for pair, d in store.standing().items()}


def test_every_command_has_help_with_an_example():
    commands = [review_group, *review_group.commands.values()]
    for command in commands:
        assert "Example:" in (command.help or ""), command.name
    assert set(review_group.commands) == {"list", "decide", "export", "import", "stats", "audit"}


def test_scripted_session_decides_undoes_notes_and_quits(run_dir):
    result = invoke(["--run", str(run_dir), "--reviewer", "alice"], input="s\nn\nsame phone\nd\nu\nd\nq\n")
    assert result.exit_code == 0, result.output
    assert standing(run_dir) == {("A1", "A2"): ("same", "alice", ""),
                                 ("B1", "B2"): ("different", "alice", "")}
    with ReviewStore(store_path(run_dir)) as store:
        assert [(d.verdict, d.note) for d in store.history()] == [
            ("same", ""), ("different", "same phone"), ("undone", ""), ("different", "")]
    out = result.output
    assert "pair A1 / A2" in out and "engine: p = 0.5500" in out
    assert "ID: adjacent characters swapped (positions 13-14)" in out
    assert ID_L not in out and PHONE not in out  # masked by default
    assert "110105********0011" in out and "139****1111" in out
    assert "bye: 2 decisions recorded" in out


def test_end_of_input_quits_and_blind_hides_the_engine(run_dir):
    result = invoke(["--run", str(run_dir), "--reviewer", "bob", "--blind", "--county", "110106"], input="")
    assert result.exit_code == 0
    assert "pair B1 / B2" in result.output and "engine:" not in result.output
    assert "0 left after this " in result.output
    assert standing(run_dir) == {}


def test_reveal_shows_identifiers_and_is_audited(run_dir):
    result = invoke(["--run", str(run_dir), "--reviewer", "carol", "--reveal"], input="q\n")
    assert ID_L in result.output and "REVEALED" in result.output
    with ReviewStore(store_path(run_dir)) as store:
        assert [(r[1], r[2], r[3], r[4]) for r in store.audit_log()] == [("carol", "reveal", "A1", "A2")]
        # The audit log names the pair, never the values.
        assert ID_L not in repr(store.audit_log())


def test_list_is_masked_in_both_formats(run_dir):
    result = invoke(["list", "--run", str(run_dir), "--format", "csv", "--order", "uncertain"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["archive_id_l"], r["archive_id_r"]) for r in rows] == [("A1", "A2"), ("B1", "B2"), ("C1", "C2")]
    assert rows[0]["name_l"] == "测**" and rows[0]["id_l"] == "110105********0011"
    assert "测试丙" not in result.output and ID_L not in result.output
    table = invoke(["list", "--run", str(run_dir), "--county", "110106"])
    assert "B1 / B2" in table.output and "A1 / A2" not in table.output and "1 pairs (open)" in table.output


def test_decide_any_pair_of_the_run_and_refuse_unknown_archives(run_dir):
    result = invoke(["decide", "--run", str(run_dir), "C2", "A1", "different", "--note", "twins", "--reviewer", "dan"])
    assert result.exit_code == 0
    assert result.output == "recorded #1: A1 / C2 different (dan)\n"
    result = invoke(["decide", "--run", str(run_dir), "A1", "C2", "same", "--reviewer", "eve"])
    assert result.output == "recorded #2: A1 / C2 same (eve), replacing #1 (different, dan)\n"
    result = CliRunner().invoke(review_group, ["decide", "--run", str(run_dir), "A1", "Q7", "same"])
    assert result.exit_code == 1
    assert result.output == "Error: archive Q7 is not in this run\n"


def test_errors_are_short_and_exit_1(tmp_path):
    result = CliRunner().invoke(review_group, ["list", "--run", str(tmp_path)])
    assert result.exit_code == 1
    assert "no review store in" in result.output
    result = CliRunner().invoke(review_group, ["list"])
    assert result.exit_code == 2 and "--run DIR is required" in result.output
    result = CliRunner().invoke(review_group, ["stats", "--run", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "run folder not found" in result.output


def test_export_then_import_elsewhere_round_trips(run_dir, tmp_path_factory):
    invoke(["decide", "--run", str(run_dir), "A1", "A2", "same", "--reviewer", "r1"])
    invoke(["decide", "--run", str(run_dir), "B1", "B2", "different", "--reviewer", "r2", "--note", "two people"])
    out = run_dir / "decisions_export.csv"
    result = invoke(["export", "--run", str(run_dir), "--out", str(out), "--reviewer", "r1"])
    assert result.output == f"2 decisions -> {out}\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    other = tmp_path_factory.mktemp("other_run")
    (other / "clusters.csv").write_text((run_dir / "clusters.csv").read_text(encoding="utf-8"), encoding="utf-8")
    publish_queue(other, [item("A1", "A2", 0.55)])
    result = invoke(["import", "--run", str(other), str(out), "--reviewer", "importer"])
    assert result.output == "2 recorded, 0 unchanged, 0 ignored (not same/different)\n"
    assert standing(other) == {("A1", "A2"): ("same", "r1", ""), ("B1", "B2"): ("different", "r2", "two people")}
    assert invoke(["import", "--run", str(other), str(out)]).output.startswith("0 recorded, 2 unchanged")
    history = run_dir / "history.csv"
    invoke(["export", "--run", str(run_dir), "--out", str(history), "--history"])
    assert history.read_text(encoding="utf-8").splitlines()[0].startswith("decision_id,archive_id_l")


def test_import_reports_bad_rows(run_dir):
    bad = run_dir / "bad.csv"
    bad.write_text("archive_id_l,archive_id_r,verdict\nA1,A2,same\nB1,B2,perhaps\n", encoding="utf-8")
    result = CliRunner().invoke(review_group, ["import", "--run", str(run_dir), str(bad)])
    assert result.exit_code == 1
    assert result.output == f"Error: {bad}: row 3: verdict must be same or different; nothing imported\n"
    assert standing(run_dir) == {}  # all or nothing
    (run_dir / "cols.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(review_group, ["import", "--run", str(run_dir), str(run_dir / "cols.csv")])
    assert "missing columns archive_id_l, archive_id_r, verdict" in result.output


def test_import_refuses_an_archive_not_in_the_run_like_decide(run_dir):
    """A verdict on an archive the run does not hold fails the whole file, naming file, row
    and archive number (never a name, ID or phone), as `review decide` refuses it."""
    bad = run_dir / "foreign.csv"
    bad.write_text("archive_id_l,archive_id_r,verdict,note\nA1,A2,same,ok\n"
                   "C1,99999,same,phone 13900001111\n", encoding="utf-8")
    result = CliRunner().invoke(review_group, ["import", "--run", str(run_dir), str(bad)])
    assert result.exit_code == 1
    assert result.output == f"Error: {bad}: row 3: archive 99999 is not in this run; nothing imported\n"
    assert standing(run_dir) == {}
    decide = CliRunner().invoke(review_group, ["decide", "--run", str(run_dir), "C1", "99999", "same"])
    assert decide.exit_code == 1 and "archive 99999 is not in this run" in decide.output


def test_import_reads_back_archive_numbers_an_export_made_spreadsheet_safe(tmp_path):
    (tmp_path / "clusters.csv").write_text("archive_id,person_id\n-5113,P1\nA2,P2\n", encoding="utf-8")
    publish_queue(tmp_path, [item("-5113", "A2", 0.6)])
    assert invoke(["decide", "--run", str(tmp_path), "--", "-5113", "A2", "different"]).exit_code == 0
    out = tmp_path / "export.csv"
    invoke(["export", "--run", str(tmp_path), "--out", str(out)])
    assert "'-5113" in out.read_text(encoding="utf-8")
    result = invoke(["import", "--run", str(tmp_path), str(out)])
    assert result.output.startswith("0 recorded, 1 unchanged")
    assert set(standing(tmp_path)) == {("-5113", "A2")}


def test_stats_by_score_band_use_the_score_at_decision_time(run_dir):
    invoke(["decide", "--run", str(run_dir), "A1", "A2", "same"])       # 0.55: agrees
    invoke(["decide", "--run", str(run_dir), "B1", "B2", "different"])  # 0.75: disagrees
    invoke(["decide", "--run", str(run_dir), "C1", "C2", "same"])       # 0.995: agrees
    # Tomorrow's run re-scores B1/B2; the stats keep the score the reviewer saw.
    publish_queue(run_dir, [item("B1", "B2", 0.2)])
    result = invoke(["stats", "--run", str(run_dir), "--format", "csv"])
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(result.output)) if r["table"] == "band"}
    assert (rows["0.5–0.7"]["decisions"], rows["0.5–0.7"]["agreed"]) == ("1", "1")
    assert (rows["0.7–0.9"]["different"], rows["0.7–0.9"]["agreed"], rows["0.7–0.9"]["agreement"]) == ("1", "0", "0.000")
    assert (rows["0.99–0.999"]["same"], rows["0.99–0.999"]["agreement"]) == ("1", "1.000")
    assert rows["≥0.999"]["decisions"] == "0"
    table = invoke(["stats", "--run", str(run_dir)])
    assert "3 standing decisions; 3 rows of history" in table.output


def test_group_run_option_is_inherited_by_subcommands(run_dir):
    result = invoke(["--run", str(run_dir), "list", "--format", "csv"])
    assert result.output.count("\n") == 4


def test_single_keys_on_a_terminal(monkeypatch, run_dir):
    """On a TTY keys are read one keypress at a time with click.getchar (no Enter)."""
    from linkage.review import screen

    keys = iter("sq")
    monkeypatch.setattr(click, "getchar", lambda: next(keys))
    source = screen.KeySource(single_keys=True, stream=io.StringIO(""))
    assert source.key() == "s" and source.key() == "q"


def test_audit_lists_a_reveal_and_decisions_with_archive_numbers_only(run_dir):
    invoke(["--run", str(run_dir), "--reviewer", "carol", "--reveal"], input="s\nq\n")
    invoke(["decide", "--run", str(run_dir), "C1", "C2", "different", "--reviewer", "dan", "--note", "测试丙 twin"])
    result = invoke(["audit", "--run", str(run_dir), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["reviewer"], r["action"], r["archive_id_l"]) for r in rows] == [
        ("carol", "reveal", "A1"), ("carol", "same", "A1"), ("carol", "reveal", "B1"), ("dan", "different", "C1")]
    assert ID_L not in result.output and "测试丙" not in result.output and PHONE not in result.output
    table = invoke(["audit", "--run", str(run_dir), "--reviewer", "dan"])
    assert "C1 / C2" in table.output and "A1 / A2" not in table.output and "1 events" in table.output
    assert invoke(["audit", "--run", str(run_dir), "--since", "2999-01-01"]).output.endswith("0 events\n")
    bad = CliRunner().invoke(review_group, ["audit", "--run", str(run_dir), "--since", "yesterday"])
    assert bad.exit_code == 1 and "expected a date such as 2026-01-31" in bad.output


def test_blind_decisions_show_as_blind_in_stats(run_dir):
    invoke(["--run", str(run_dir), "--reviewer", "bob", "--blind"], input="s\nq\n")  # A1/A2 at 0.55
    invoke(["decide", "--run", str(run_dir), "B1", "B2", "same"])                     # sighted, 0.75
    result = invoke(["stats", "--run", str(run_dir), "--format", "csv"])
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(result.output)) if r["table"] == "sight"}
    assert (rows["blind"]["decisions"], rows["blind"]["agreed"]) == ("1", "1")
    assert (rows["sighted"]["decisions"], rows["sighted"]["agreed"]) == ("1", "1")
    queue = [r for r in csv.DictReader(io.StringIO(result.output)) if r["table"] == "queue"]
    assert sum(int(r["open"]) for r in queue) == 1 and sum(int(r["same"]) for r in queue) == 2
    table = invoke(["stats", "--run", str(run_dir)])
    assert "blind" in table.output and "queue by reason and class" in table.output
    audit = invoke(["audit", "--run", str(run_dir), "--format", "csv"])
    assert "session, blind" in audit.output


def test_notes_and_names_are_neutralised_for_spreadsheets(run_dir):
    invoke(["decide", "--run", str(run_dir), "A1", "A2", "same", "--note", "=HYPERLINK(\"x\")"])
    export = run_dir / "decisions_export.csv"
    invoke(["export", "--run", str(run_dir), "--out", str(export)])
    row = next(csv.DictReader(export.open(encoding="utf-8")))
    assert row["note"] == "'=HYPERLINK(\"x\")"
    publish_queue(run_dir, [{**item("B1", "B2", 0.75), "l_name": "@SUM(1)", "reason": "-1+1"}])
    listed = list(csv.DictReader(io.StringIO(invoke(["list", "--run", str(run_dir), "--format", "csv"]).output)))
    assert listed[0]["name_l"].startswith("'@") and listed[0]["reason"] == "'-1+1"


def test_decisions_are_numbered_without_skips(run_dir):
    result = invoke(["--run", str(run_dir), "--reviewer", "fay"], input="k\ns\nq\n")
    assert "skipped A1 / A2" in result.output and "recorded #1: B1 / B2 same" in result.output


def test_help_says_exit_codes_and_examples_fit_80_columns_with_gansu_codes():
    from linkage.cli import cli

    def walk(command, name):
        yield name, command
        for sub, child in getattr(command, "commands", {}).items():
            yield from walk(child, f"{name} {sub}")

    for name, command in walk(cli, "linkage"):
        context = click.Context(command, info_name=name, terminal_width=80, max_content_width=80)
        text = command.get_help(context)
        example = text.split("Example:")[1].split("Options:")[0]
        assert all(len(line) <= 80 for line in example.splitlines()), name
        assert "110105" not in example and "Beijing" not in example, name
    for group in (cli, review_group):
        assert "Exit codes: 0 ok, 1 a user error" in " ".join(group.help.split())


def test_bare_linkage_prints_help_to_stdout_with_exit_0():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "from linkage.cli import main; main()"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("Usage: ") and "Exit codes" in done.stdout
