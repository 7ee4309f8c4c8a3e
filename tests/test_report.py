"""linkage report on a synthetic Pingliang/Lanzhou population: the figures in the spreadsheet
match clusters.csv and decisions.csv exactly, real county names, two nights make a
burn-down of two points, the exam section, the population file, bad input."""

from __future__ import annotations

import json
import shutil
from datetime import date
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.errors import InputError
from linkage.pipeline import run
from linkage.report import build_report
from linkage.report.figures import AREA_COLUMNS, read_population
from linkage.synth import generate_population

from helpers import read_csv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pop")
    generate_population(1500, 5, folder)
    return folder / "archives.csv"


@pytest.fixture(scope="module")
def run_dir(population: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    run(population, out, show_progress=False)
    build_report(out)
    return out


def _sheet(path: Path, title: str) -> dict[str, dict[str, object]]:
    from openpyxl import load_workbook

    ws = load_workbook(path, read_only=True)[title]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    return {str(r[0]): dict(zip(header, r)) for r in rows[1:]}


def _expected(run_dir: Path, archives_csv: Path, width: int) -> dict[str, Counter]:
    """Per-area figures recomputed from clusters.csv, decisions.csv and the input's regions."""
    region = {r["archive_id"]: r["region_code"] for r in read_csv(archives_csv)}
    clusters = {r["archive_id"]: r["person_id"] for r in read_csv(run_dir / "clusters.csv")}
    decisions = read_csv(run_dir / "decisions.csv")
    area = lambda archive: region[archive][:width]  # noqa: E731
    out: dict[str, Counter] = defaultdict(Counter)
    for archive in clusters:
        out[area(archive)]["archives"] += 1
    target: dict[str, tuple[str, str]] = {}
    for d in decisions:
        if d["action"] in ("merge", "migrate"):
            out[area(d["archive_id"])]["resolved"] += 1
            out[area(d["archive_id"])]["merges"] += d["action"] == "merge"
            target[d["person_id"]] = (d["to_region"], d["action"])
        elif d["action"] == "review":
            a, b = area(d["archive_id"]), area(d["survivor_archive_id"])
            out[a]["open"] += 1
            if b != a:
                out[b]["open"] += 1  # a cross-area pair counts in both areas
    members: dict[str, list[str]] = defaultdict(list)
    for archive, person in clusters.items():
        members[person].append(archive)
    for person, group in members.items():
        if person in target:
            to_region, action = target[person]
            out[to_region[:width]]["persons"] += 1
            if action == "migrate":
                for archive in group:
                    if region[archive][:6] != to_region[:6]:
                        out[area(archive)]["migrations_out"] += 1
                        out[to_region[:width]]["migrations_in"] += 1
        else:
            assert len(group) == 1
            out[area(group[0])]["persons"] += 1
    return out


@pytest.mark.parametrize("width, sheet", [(6, "区县"), (9, "乡镇")])
def test_figures_match_clusters_and_decisions(run_dir: Path, population: Path, width: int, sheet: str) -> None:
    expected = _expected(run_dir, population, width)
    table = _sheet(run_dir / "重复档案清零.xlsx", sheet)
    header = {key: title for key, title, _ in AREA_COLUMNS}
    checked = Counter()
    for code, want in expected.items():
        row = table[code]
        for key in ("archives", "persons", "resolved", "merges", "open", "migrations_out", "migrations_in"):
            assert row[header[key]] == want[key], (code, key)
            checked[key] += want[key]
        assert row[header["found"]] == want["resolved"] + want["open"]
        assert row[header["duplicate_rate"]] == pytest.approx((want["resolved"] + want["open"]) / want["archives"])
    assert set(table) - {"None", ""} == set(expected)
    decisions = read_csv(run_dir / "decisions.csv")
    assert checked["resolved"] == sum(d["action"] in ("merge", "migrate") for d in decisions) > 0
    assert checked["open"] >= sum(d["action"] == "review" for d in decisions) > 0
    assert checked["migrations_in"] > 0
    assert checked["persons"] == len(set(r["person_id"] for r in read_csv(run_dir / "clusters.csv")))
    if sheet == "区县":  # the total counts each review pair once
        assert table["None"][header["open"]] == sum(d["action"] == "review" for d in decisions)


def test_real_names_and_provenance(run_dir: Path, population: Path) -> None:
    counties = _sheet(run_dir / "重复档案清零.xlsx", "区县")
    assert counties["620802"]["名称"] == "平凉市崆峒区"
    assert counties["620821"]["名称"] == "平凉市泾川县"
    assert counties["620881"]["名称"] == "平凉市华亭市"
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    for text in ("平凉市崆峒区", "平凉市泾川县", "重复率", "待审核"):
        assert text in html
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"]["file"] == "archives.csv"
    assert summary["input"]["sha256"] in html
    assert summary["engine"]["linkage"] and summary["model_file"]["sha256"] in html
    assert "counted in each of them" in summary["area_counting"]
    for name in ("report.html", "重复档案清零.xlsx"):
        assert (run_dir / name).stat().st_mode & 0o777 == 0o600
    assert html.count('class="chart"') == 5 and html.count("<svg") == 5
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")


def test_report_is_reproducible(run_dir: Path, tmp_path: Path) -> None:
    build_report(run_dir, to=tmp_path)
    for name in ("report.html", "重复档案清零.xlsx"):
        assert (tmp_path / name).read_bytes() == (run_dir / name).read_bytes(), name


def test_two_nights_make_a_burn_down_of_two_points(population: Path, tmp_path: Path) -> None:
    state, out = tmp_path / "state.duckdb", tmp_path / "out"
    run(population, out, state_path=state, show_progress=False)
    rows = population.read_text(encoding="utf-8").splitlines()
    night2 = tmp_path / "night2.csv"
    night2.write_text("\n".join(rows[:-5]) + "\n", encoding="utf-8")  # five archives left
    run(night2, out, state_path=state, show_progress=False)
    files = build_report(out, state_path=state, deadline=date(2027, 3, 31))
    assert files.nights == 2
    from linkage.report.figures import history

    nights = history(state)
    assert [n["run_id"] for n in nights] == [1, 2]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert nights[-1]["open"] == summary["review_pairs"]
    html = files.html.read_text(encoding="utf-8")
    assert "重复档案清零进度（2 次运行）" in html and "清零期限 2027-03-31" in html
    assert 'data-chart="burn_down_by_county"' in html and html.count("<svg") == 6
    import duckdb

    con = duckdb.connect(str(state), read_only=True)
    by_night = con.execute("SELECT run_id, sum(review_pairs) FROM area_history "
                           "WHERE level = 'county' GROUP BY run_id ORDER BY run_id").fetchall()
    con.close()
    assert [r[0] for r in by_night] == [1, 2]


def test_population_file_gives_effective_rate(run_dir: Path, tmp_path: Path) -> None:
    pop = tmp_path / "常住人口.csv"
    pop.write_text("区划代码,常住人口\n620802,200\n620821,1000\n", encoding="gb18030")
    build_report(run_dir, to=tmp_path, population_path=pop, target=0.9)
    counties = _sheet(tmp_path / "重复档案清零.xlsx", "区县")
    persons = counties["620802"]["居民数(人)"]
    assert counties["620802"]["有效建档率"] == pytest.approx(persons / 200)
    assert counties["620821"]["达标"] == "否"
    assert counties["620102"]["常住人口"] is None


@pytest.mark.parametrize("text, message", [
    ("代码,人数\n620802,1\n", "row 1 needs columns"),
    ("区划代码,常住人口\n620802,12x\n", "row 2, field 常住人口"),
    ("区划代码,常住人口\n620802,10\n62080,5\n", "row 3, field 区划代码"),
])
def test_bad_population_file_names_row_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pop.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_population(path)


def test_exam_summary_section(run_dir: Path, tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "fixtures" / "exam_summary.json"
    folder = tmp_path / "exams"
    folder.mkdir()
    shutil.copy(fixture, folder / "exam_summary.json")
    build_report(run_dir, to=tmp_path, exams=folder)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "体检数据雷同" in html and "按乡镇" in html and "按村（居）" in html
    assert "崆峒区崆峒镇" in html  # a township name the fixture leaves out, from the divisions
    from openpyxl import load_workbook

    assert "体检雷同-乡镇" in load_workbook(tmp_path / "重复档案清零.xlsx").sheetnames


def test_cli_report_and_errors(run_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(run_dir), "--to", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "counties" in result.output and (tmp_path / "report.html").is_file()
    missing = CliRunner().invoke(cli, ["report", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1
    assert "summary.json: not found" in str(missing.exception) or "not found" in missing.output
    no_state = CliRunner().invoke(cli, ["report", str(run_dir), "--to", str(tmp_path),
                                        "--state", str(tmp_path / "none.duckdb")])
    assert no_state.exit_code == 1 and "no state at" in str(no_state.exception)
    assert "Example:" in CliRunner().invoke(cli, ["report", "--help"]).output
