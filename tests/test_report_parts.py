"""The report's pieces without a run: the population parser, derived figures, chart specs,
the exam summary's checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from linkage.errors import InputError
from linkage.report import charts
from linkage.report.exams import exam_tables
from linkage.report.figures import area_row, read_population

codes = st.sampled_from(["620802", "620821", "620802101", "620821100", "620102001"])


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(codes, st.integers(0, 10**7), min_size=1), st.sampled_from(["utf-8", "gb18030"]))
def test_population_roundtrip(tmp_path: Path, table: dict[str, int], encoding: str) -> None:
    path = tmp_path / "pop.csv"
    path.write_text("区划代码,常住人口\n" + "".join(f"{c},{n}\n" for c, n in table.items()), encoding=encoding)
    assert read_population(path) == table


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_population_any_text_is_read_or_refused_clearly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "pop.csv"
    path.write_text("code,population\n" + text, encoding="utf-8")
    try:
        read_population(path)
    except InputError as exc:
        assert str(path) in str(exc)


def test_population_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pop.xlsx"
    path.write_bytes(b"PK\x03\x04\xff\xfe\x80\x81" * 10)
    with pytest.raises(InputError, match="neither UTF-8 nor GB18030"):
        read_population(path)


def _counts(**kw: int) -> dict[str, int]:
    base = dict(archives=0, persons=0, duplicate_archives=0, merges=0, migrations_in=0,
                migrations_out=0, review_pairs=0, blank_ids=0, invalid_ids=0)
    return {**base, **kw}


def test_area_row_rates_and_names() -> None:
    row = area_row("620802", _counts(archives=200, persons=180, duplicate_archives=15, review_pairs=5,
                                     blank_ids=20, invalid_ids=2, unknown_area_ids=1),
                   {"620802": 200}, 0.9)
    v = row.values
    assert v["name"] == "平凉市崆峒区" and v["found"] == 20 and v["abnormal_ids"] == 3
    assert v["duplicate_rate"] == pytest.approx(0.1) and v["blank_id_rate"] == pytest.approx(0.1)
    assert v["effective_rate"] == pytest.approx(0.9) and v["meets_target"] == "是"
    empty = area_row("620899", _counts(), None, 0.9).values
    assert empty["duplicate_rate"] is None and empty["name"] == "(未知区划 620899)"


def test_chart_specs() -> None:
    rows = [{"name": "崆峒区崆峒镇", "open": 1, "resolved": 4}, {"name": "泾川县城关镇", "open": 3, "resolved": 0},
            {"name": "泾川县王村镇", "open": 0, "resolved": 2}]
    spec = charts.open_by_township(rows)
    assert [v["乡镇"] for v in spec["data"]["values"]] == ["泾川县城关镇", "崆峒区崆峒镇"]
    history = [{"at": "2026-12-01T02:15:00+00:00", "found": 10, "open": 6},
               {"at": "2026-12-02T02:15:00+00:00", "found": 11, "open": 4}]
    burn = charts.burn_down(history, "2027-03-31")
    assert len(burn["data"]["values"]) == 4
    assert any(layer["mark"].get("type") == "rule" for layer in burn["layer"])
    assert "<svg" in charts.render(burn)


def test_exam_summary_checks_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "exam_summary.json"
    with pytest.raises(InputError, match=r"by_township.620802101.clone_exams must be a number"):
        exam_tables({"by_township": {"620802101": {"clone_exams": "many"}}}, path)
    with pytest.raises(InputError, match="field by_county must be an object"):
        exam_tables({"by_county": []}, path)
    with pytest.raises(InputError, match="not an exam summary"):
        exam_tables([], path)  # type: ignore[arg-type]
    tables = exam_tables({"by_township": {"620802101": {"exams": 5, "clone_exams": 2}}}, path)
    assert tables["乡镇"][0]["name"] == "崆峒区崆峒镇"
