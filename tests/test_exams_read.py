"""Reading exam tables: encodings, header mapping, Parquet, and bad values in the rejects file
with row and field (never a traceback, never silently dropped)."""

from __future__ import annotations

import duckdb
import pytest

from linkage.config import load_config
from linkage.errors import ConfigError, InputError, SchemaError
from linkage.exams import run_exams
from linkage.exams.read import EXAMS, read_exams
from linkage.exams.settings import EXAM_COLUMNS, exam_settings
from tests.exams_helpers import BASE, write_exams
from tests.helpers import read_csv

# (case, changes to row 2, field rejected, reason, whole row rejected)
BAD_VALUES = [
    ("letter O for zero", {"weight": "6O"}, "weight", "not a number", False),
    ("metres for centimetres", {"height": "1.65"}, "height", "looks like metres", False),
    ("glucose in mg/dL", {"glucose": "101"}, "glucose", "looks like mg/dL", False),
    ("pressure in kPa", {"sbp_left": "17.6"}, "sbp_left", "looks like kPa", False),
    ("impossible height", {"height": "16"}, "height", "outside plausible range 120-200", False),
    ("negative pulse", {"pulse": "-72"}, "pulse", "outside plausible range 35-160", False),
    ("diastolic above systolic", {"sbp_left": "80", "dbp_left": "90"}, "dbp_left",
     "not below the systolic pressure (neither is compared)", False),
    ("blank exam_id", {"exam_id": ""}, "exam_id", "blank exam_id", True),
    ("duplicate exam_id", {"exam_id": "E0"}, "exam_id", "duplicate exam_id (first at row 2)", True),
    ("blank archive_id", {"archive_id": " "}, "archive_id", "blank archive_id", True),
    ("not a date", {"exam_date": "2023-02-30"}, "exam_date", "exam_date is not a date", True),
    ("short region code", {"region_code": "620802"}, "region_code", "region_code must be 12 digits", True),
]


@pytest.mark.parametrize("case, change, field, reason, whole_row", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_bad_values_go_to_rejects_with_row_and_field(tmp_path, case, change, field, reason, whole_row):
    rows = [{"exam_id": "E0", "archive_id": "A0"}, {"exam_id": "E1", "archive_id": "A1", **change}]
    run_exams(write_exams(tmp_path / "exams.csv", rows), tmp_path / "out")
    rejects = read_csv(tmp_path / "out" / "exam_rejects.csv")
    assert [(r["row"], r["field"], r["reason"]) for r in rejects] == [("3", field, reason)]
    summary = (tmp_path / "out" / "exam_summary.json").read_text(encoding="utf-8")
    assert ('"exams": 1' if whole_row else '"exams": 2') in summary
    flags = read_csv(tmp_path / "out" / "exam_flags.csv")
    implausible = [f for f in flags if f["flag"] == "implausible"]
    counts = not whole_row and reason != "not a number"
    assert [(f["exam_id"], f["matched_indicators"]) for f in implausible] == ([("E1", field)] if counts else [])


def test_rejected_values_are_not_compared(tmp_path):
    """Two exams agreeing on 4 values, one of them a unit mix-up: not a clone."""
    rows = [{"exam_id": "E1", "archive_id": "A1", "pulse": "80", "dbp_left": "90"},
            {"exam_id": "E2", "archive_id": "A2", "height": "1.65", "pulse": "76", "dbp_left": "86"}]
    run_exams(write_exams(tmp_path / "exams.csv", rows), tmp_path / "out")
    assert not [f for f in read_csv(tmp_path / "out" / "exam_flags.csv") if f["flag"] == "clone"]


def test_gb18030_and_chinese_headers(tmp_path):
    header = ["体检编号", "档案编号", "体检日期", "行政区划代码", "体检机构", "责任医生", "身高", "体重",
              "腰围", "左侧收缩压", "左侧舒张压", "右侧收缩压", "右侧舒张压", "脉率", "空腹血糖"]
    path = write_exams(tmp_path / "exams.csv", [{"exam_id": "E1"}, {"exam_id": "E2", "archive_id": "A2"}],
                       header=header, encoding="gb18030")
    result = run_exams(path, tmp_path / "out")
    assert result.exams == 2 and result.clone_groups == 1
    assert "安国镇卫生院" in (tmp_path / "out" / "exam_summary.json").read_text(encoding="utf-8")


def test_parquet_input(tmp_path):
    csv_path = write_exams(tmp_path / "exams.csv", [{"exam_id": "E1"}, {"exam_id": "E2", "height": "1.6"}])
    pq = tmp_path / "exams.parquet"
    duckdb.execute(f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar = true)) TO '{pq}' (FORMAT parquet)")
    con = duckdb.connect()
    result = read_exams(con, pq, exam_settings(load_config()))
    assert (result.exams, result.values_rejected) == (2, 1)
    assert con.execute(f"SELECT row_number, height FROM {EXAMS} ORDER BY 1").fetchall() == [(2, 165.0), (3, None)]


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "exams.csv"
    path.write_text("exam_id,archive_id,height\nE1,A1,165\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="exam_date, region_code"):
        run_exams(path, tmp_path / "out")


def test_an_unreadable_header_is_an_input_error(tmp_path):
    path = tmp_path / "exams.csv"
    path.write_bytes(b"\xff\xfe\xfa," + ",".join(EXAM_COLUMNS).encode() + b"\nE1\n")
    with pytest.raises(InputError, match="encoding"):
        run_exams(path, tmp_path / "out")


def test_a_row_of_bytes_of_no_text_is_rejected_not_the_file(tmp_path):
    path = write_exams(tmp_path / "exams.csv", [{"exam_id": "E1"}, {"exam_id": "E2"}])
    data = path.read_bytes()
    at = data.index(b"E2,") + 3
    path.write_bytes(data[:at] + b"\xff" + data[at:])
    result = run_exams(path, tmp_path / "out")
    assert (result.exams, result.rows_rejected) == (1, 1)
    rejects = read_csv(tmp_path / "out" / "exam_rejects.csv")
    assert [r["row"] for r in rejects] == ["3"] and "not utf-8" in rejects[0]["reason"]


def test_bad_exam_setting_names_the_key(tmp_path):
    text = (load_config().source and open(load_config().source, encoding="utf-8").read())
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('six_indicators = ["height"', 'six_indicators = ["bmi"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="six_indicators"):
        run_exams(write_exams(tmp_path / "e.csv", [BASE]), tmp_path / "out", config_path=bad)


def test_a_row_with_the_wrong_number_of_fields_is_rejected_whole(tmp_path):
    path = write_exams(tmp_path / "exams.csv", [{"exam_id": "E1"}])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("E2,A2,2023-04-01\n")
    result = run_exams(path, tmp_path / "out")
    assert (result.exams, result.rows_rejected) == (1, 1)
    rejects = read_csv(tmp_path / "out" / "exam_rejects.csv")
    assert [(r["row"], r["exam_id"], r["field"]) for r in rejects] == [("3", "", "*")]
    assert "expected 15 fields, found 3" in rejects[0]["reason"]


def test_every_row_rejected_still_writes_outputs(tmp_path):
    path = write_exams(tmp_path / "exams.csv", [{"exam_id": "E1", "exam_date": "x"}])
    result = run_exams(path, tmp_path / "out")
    assert result.exams == 0 and result.rows_rejected == 1
    summary = (tmp_path / "out" / "exam_summary.json").read_text(encoding="utf-8")
    assert '"by_village": {}' in summary and '"as_of": null' in summary
