"""linkage explain on the bundled example: decided, review and never-compared pairs, a
reviewer's verdict, unknown archives, masking, the HTML waterfall."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.config import REPO_ROOT
from linkage.errors import InputError
from linkage.explain import explain_pair, render_text, write_html
from linkage.pipeline import run
from linkage.report.figures import read_json
from linkage.review.store import ReviewStore, store_path

from linkage.standardise.id_number import check_digit
from linkage.synth import generate_population

from helpers import read_csv, write_archives

EXAMPLE = REPO_ROOT / "linkage" / "data" / "example" / "archives.csv"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("explain") / "out"
    run(EXAMPLE, folder, show_progress=False)
    return folder


def _row(out: Path, action: str) -> dict[str, str]:
    return next(d for d in read_csv(out / "decisions.csv") if d["action"] == action)


def test_merged_pair_matches_its_decision(out: Path) -> None:
    d = next(r for r in read_csv(out / "decisions.csv")
             if r["action"] == "merge" and not r["evidence"].startswith("via"))
    e = explain_pair(out, d["archive_id"], d["survivor_archive_id"])
    assert round(e.weight, 3) == pytest.approx(float(d["match_weight"]), abs=1e-3)
    assert e.steps[-1]["end"] == pytest.approx(e.weight, abs=1e-6)
    assert e.steps[0]["field"] == "prior" and len(e.steps) == 6
    assert e.verdict.startswith("merge") and e.decided_by == "engine"
    assert e.clusters[d["archive_id"]][0] == e.clusters[d["survivor_archive_id"]][0] == d["person_id"]


def test_review_pair_and_reviewer_verdict(out: Path, tmp_path: Path) -> None:
    d = _row(out, "review")
    e = explain_pair(out, d["archive_id"], d["survivor_archive_id"])
    assert e.verdict.startswith("review") and d["reason"] in e.verdict
    with ReviewStore(store_path(out)) as store:
        store.decide((d["archive_id"], d["survivor_archive_id"]), "different", "tester", source="cli")
    e = explain_pair(out, d["survivor_archive_id"], d["archive_id"])
    assert e.decided_by == "reviewer" and "tester said different" in e.verdict


def test_pair_never_compared_is_scored_now(out: Path) -> None:
    clusters = read_csv(out / "clusters.csv")
    a = next(r["archive_id"] for r in clusters if r["archive_id"].startswith("620102"))
    b = next(r["archive_id"] for r in clusters if r["archive_id"].startswith("620821"))
    e = explain_pair(out, a, b)
    assert "not in decisions.csv: never compared by the run; scored now with its model" in e.notes
    assert e.probability < 0.5 and e.verdict.startswith("never compared: no blocking rule proposed")
    text = render_text(e)
    assert "scored now" in text and "final: weight" in text
    width = max(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
                for line in text.splitlines())
    assert width <= 80


def test_unknown_and_rejected_archives_are_named(out: Path) -> None:
    a = read_csv(out / "clusters.csv")[0]["archive_id"]
    with pytest.raises(InputError, match="archive 99999999999999999 is not in this run's input archives.csv"):
        explain_pair(out, a, "99999999999999999")
    result = CliRunner().invoke(cli, ["explain", a, "99999999999999999", "--run", str(out)])
    assert result.exit_code == 1 and "unknown archive" in str(result.exception)


def test_identifiers_masked_in_text_and_html(out: Path, tmp_path: Path) -> None:
    d = _row(out, "merge")
    e = explain_pair(out, d["archive_id"], d["survivor_archive_id"])
    page = tmp_path / "why.html"
    write_html(e, page)
    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and 'data-chart="waterfall"' in html
    assert page.stat().st_mode & 0o777 == 0o600
    raw = {r["archive_id"]: r for r in read_csv(EXAMPLE)}
    for archive in (d["archive_id"], d["survivor_archive_id"]):
        for value in (raw[archive]["id_number"], raw[archive]["phone"]):
            digits = re.sub(r"\s", "", value)
            if len(digits) >= 11:
                assert digits not in html and digits not in render_text(e)


def test_cli_explain_help_has_example() -> None:
    assert "Example:" in CliRunner().invoke(cli, ["explain", "--help"]).output


def test_rejected_archive_is_named_with_row_and_field(tmp_path: Path) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()[:50]
    lines.append("62080210010100999,王芳,女,1980-01-01,,62080,,,,")
    source = tmp_path / "archives.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(source, tmp_path / "out", show_progress=False)
    a = read_csv(tmp_path / "out" / "clusters.csv")[0]["archive_id"]
    with pytest.raises(InputError, match=r"62080210010100999 was rejected from archives.csv \(row 51, field region_code"):
        explain_pair(tmp_path / "out", a, "62080210010100999")


def test_pair_joined_through_its_cluster_says_so(out: Path) -> None:
    """Two retired archives of one person have no decision row between them: the verdict is
    the cluster's, not what the pair alone would have scored."""
    members: dict[str, list[str]] = {}
    for r in read_csv(out / "clusters.csv"):
        members.setdefault(r["person_id"], []).append(r["archive_id"])
    rows = {frozenset((d["archive_id"], d["survivor_archive_id"])) for d in read_csv(out / "decisions.csv")}
    a, b = next((x, y) for group in members.values() if len(group) >= 3
                for x in group for y in group if x < y and frozenset((x, y)) not in rows)
    e = explain_pair(out, a, b)
    assert e.verdict == "one person: joined through other archives of the cluster"
    assert any("both archives belong to person" in note for note in e.notes)



def test_folded_pair_names_the_review_row_that_asks_it(tmp_path: Path) -> None:
    """X scores in the review band with both archives of one person: one row asks it, and
    explain on the other pair names that row."""
    folder = tmp_path / "pop"
    generate_population(800, 5, folder)
    body = "62080219800214302"
    person_id = body + check_digit(body)
    common = {"name": "欧阳思远", "sex": "1", "birth_date": "1980-02-14", "created_date": "2015-03-01",
              "last_service_date": "2016-06-01"}
    rows = read_csv(folder / "archives.csv") + [
        {**common, "archive_id": "A1", "id_number": person_id, "region_code": "620802001003",
         "address": "崆峒区新华街12号", "phone": "13900001111"},
        {**common, "archive_id": "A2", "id_number": person_id, "region_code": "620802001003",
         "address": "崆峒区新华街12号", "phone": "13900001111"},
        {**common, "archive_id": "X", "id_number": "", "region_code": "620821101201",
         "address": "泾川县城关镇东街3号", "phone": "13900009999",
         "created_date": "2019-05-01", "last_service_date": "2024-01-01"},
    ]
    out = tmp_path / "out"
    run(write_archives(tmp_path / "in.csv", rows), out, show_progress=False)
    review = [frozenset((d["archive_id"], d["survivor_archive_id"]))
              for d in read_csv(out / "decisions.csv") if d["action"] == "review"]
    asked = [pair for pair in review if "X" in pair]
    assert len(asked) == 1  # one question for X and the person of A1 and A2
    other = ({"X", "A1"}, {"X", "A2"})[asked[0] == {"X", "A1"}]
    e = explain_pair(out, *sorted(other))
    assert e.verdict == "in review on another pair of the same two persons"
    assert any(note.startswith("the review row asking it: ") for note in e.notes)


def test_pair_never_compared_in_the_review_band_claims_no_review(tmp_path: Path) -> None:
    """Acceptance: a pair no blocking rule proposed, scoring between the thresholds, was said
    to be "a review pair unless a reviewer decided it".  The run never compared it: explain
    says so, and names no review status.  (Surname and given name differ in pinyin, 王秀英 /
    玉季英, so no rule pairs them; one address, phone and birth date score them p ≈ 0.999.)"""
    common = {"sex": "女", "birth_date": "1966-03-31", "region_code": "620802001003",
              "address": "崆峒区新华街12号3单元501室", "phone": "13909330021", "id_number": "",
              "created_date": "2015-03-01", "last_service_date": "2020-01-01"}
    rows = read_csv(EXAMPLE) + [{**common, "archive_id": "T1", "name": "王秀英"},
                                {**common, "archive_id": "T2", "name": "玉季英", "created_date": "2019-05-01"}]
    out = tmp_path / "out"
    run(write_archives(tmp_path / "in.csv", rows), out, show_progress=False)
    e = explain_pair(out, "T1", "T2")
    summary = read_json(out / "summary.json")
    thresholds = (0.5, 0.999)
    assert thresholds[0] <= e.probability < thresholds[1]
    assert e.verdict == "never compared: no blocking rule proposed this pair, so the run neither linked nor queued it"
    assert "review" not in e.verdict and "between the thresholds" not in e.verdict
    assert "not in decisions.csv: never compared by the run; scored now with its model" in e.notes
    assert summary["pairs_compared"] > 0
    result = CliRunner().invoke(cli, ["explain", "T1", "T2", "--run", str(out)])
    assert result.exit_code == 0 and "verdict: never compared" in result.output


def test_every_id_check_shows_whole_at_80_columns(out: Path) -> None:
    """The ID's check had been written beside the masked number and cut at 28 columns
    ("[bad_che"); it has a line of its own, and no line is wider than 80 columns."""
    from linkage.explain import _width

    statuses = set()
    for d in read_csv(out / "decisions.csv"):
        if {"valid", "blank"} <= statuses:
            break
        e = explain_pair(out, d["archive_id"], d["survivor_archive_id"])
        text = render_text(e)
        for side in (e.a, e.b):
            statuses.add(e.sides[side]["id_status"])
            assert e.sides[side]["id_status"] in text
        assert all(_width(line) <= 80 for line in text.splitlines()
                   if not line.startswith(("pair ", " " * 24 + "A ")))
    assert {"valid", "blank"} <= statuses
