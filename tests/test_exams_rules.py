"""Table-driven tests of the clone rule, the copy rule and the left/right gap rule, through
run_exams on real DuckDB (each case a tiny exam table)."""

from __future__ import annotations

import pytest

from linkage.exams import run_exams
from tests.exams_helpers import write_exams
from tests.helpers import read_csv

SAME = {"height": "165", "weight": "60", "waist": "80", "sbp_left": "132", "dbp_left": "84", "pulse": "72"}


def _flags(tmp_path, rows, archives_run=None):
    path = write_exams(tmp_path / "exams.csv", rows)
    run_exams(path, tmp_path / "out", archives_run=archives_run)
    return read_csv(tmp_path / "out" / "exam_flags.csv")


def _differs(n: int) -> dict[str, str]:
    """The second exam differs from SAME on the first n of the six."""
    other = {"height": "158", "weight": "55", "waist": "76", "sbp_left": "150", "dbp_left": "90", "pulse": "80"}
    return dict(list(other.items())[:n])


# (case, second exam's changes, clone expected, matched indicators)
CLONE_CASES = [
    ("six identical", {}, True, "height+weight+waist+sbp_left+dbp_left+pulse"),
    ("five identical", _differs(1), True, "weight+waist+sbp_left+dbp_left+pulse"),
    ("four identical", _differs(2), True, "waist+sbp_left+dbp_left+pulse"),
    ("three identical", _differs(3), False, None),
    ("same resident", {"archive_id": "A1"}, False, None),
    ("other village, same township", {"region_code": "620802100202"}, True, None),
    ("other township, same institution", {"region_code": "620802101201"}, True, None),
    ("other township and institution", {"region_code": "620802101201", "institution": "草峰镇卫生院"}, False, None),
    ("next year", {"exam_date": "2024-04-01"}, False, None),
    ("same year, months apart", {"exam_date": "2023-11-30"}, True, None),
    ("blank is not identical", {"height": "", "weight": "", "waist": "76"}, False, None),
    ("glucose and right arm do not count", {**_differs(3), "glucose": "5.6", "sbp_right": "132"}, False, None),
    ("equal after unit and spaces", {"height": " 165cm", "weight": "６０"}, True, None),
]


@pytest.mark.parametrize("case, change, clone, matched", CLONE_CASES, ids=[c[0] for c in CLONE_CASES])
def test_clone_rule(tmp_path, case, change, clone, matched):
    rows = [{"exam_id": "E1", "archive_id": "A1", **SAME},
            {"exam_id": "E2", "archive_id": "A2", **SAME, **change}]
    flags = [f for f in _flags(tmp_path, rows) if f["flag"] == "clone"]
    assert bool(flags) == clone, case
    if clone:
        assert {f["exam_id"] for f in flags} == {"E1", "E2"}
        assert {f["other_exam_ids"] for f in flags} == {"E1", "E2"}
        assert len({f["group_id"] for f in flags}) == 1
    if matched:
        assert flags[0]["matched_indicators"] == matched


def test_archives_of_one_person_are_not_a_clone(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "clusters.csv").write_text("archive_id,person_id\nA1,P1\nA2,P1\nA3,P2\n", encoding="utf-8")
    rows = [{"exam_id": "E1", "archive_id": "A1", **SAME}, {"exam_id": "E2", "archive_id": "A2", **SAME},
            {"exam_id": "E3", "archive_id": "A9", **SAME, **_differs(3)}]
    assert [f for f in _flags(tmp_path, rows) if f["flag"] == "clone"]
    assert not [f for f in _flags(tmp_path, rows, archives_run=run) if f["flag"] == "clone"]


def test_a_template_group_is_one_group_with_every_member(tmp_path):
    rows = [{"exam_id": f"E{i}", "archive_id": f"A{i}", **SAME} for i in range(1, 6)]
    flags = [f for f in _flags(tmp_path, rows) if f["flag"] == "clone"]
    assert len(flags) == 5 and len({f["group_id"] for f in flags}) == 1
    e1 = next(f for f in flags if f["exam_id"] == "E1")
    assert e1["other_exam_ids"] == "E2;E3;E4;E5"


# (case, earlier exam's changes, later exam's changes, copied expected)
COPY_CASES = [
    ("all six repeated", {}, {}, True),
    ("all six repeated, glucose differs", {}, {"glucose": "7.1"}, True),
    ("blank waist in both", {"waist": ""}, {"waist": ""}, True),
    ("weight re-measured", {}, {"weight": "61"}, False),
    ("same year", {"exam_date": "2023-01-10"}, {}, False),
]


@pytest.mark.parametrize("case, earlier, later, copied", COPY_CASES, ids=[c[0] for c in COPY_CASES])
def test_copied_from_last_year(tmp_path, case, earlier, later, copied):
    rows = [{"exam_id": "E1", "archive_id": "A1", "exam_date": "2022-04-01", **SAME, **earlier},
            {"exam_id": "E2", "archive_id": "A1", "exam_date": "2023-04-01", **SAME, **later}]
    flags = [f for f in _flags(tmp_path, rows) if f["flag"] == "copied_from_last_year"]
    assert bool(flags) == copied, case
    if copied:
        assert flags[0]["exam_id"] == "E2" and flags[0]["other_exam_ids"] == "E1"


# (left sbp, right sbp, left dbp, right dbp, flag expected)
GAP_CASES = [
    ("132", "132", "84", "84", None),
    ("132", "142", "84", "84", None),          # exactly 10: not over
    ("132", "144", "84", "84", "lr_gap"),
    ("144", "132", "84", "84", "lr_gap"),      # either arm higher
    ("132", "152", "84", "84", "lr_gap"),      # exactly 20: flagged, not re-measure
    ("132", "154", "84", "84", "lr_gap_remeasure"),
    ("132", "132", "84", "100", None),         # diastolic gaps do not count by default
    ("132", "", "84", "84", None),             # right arm not measured
]


@pytest.mark.parametrize("sl, sr, dl, dr, flag", GAP_CASES)
def test_gap_rule(tmp_path, sl, sr, dl, dr, flag):
    rows = [{"exam_id": "E1", "sbp_left": sl, "sbp_right": sr, "dbp_left": dl, "dbp_right": dr}]
    flags = [f["flag"] for f in _flags(tmp_path, rows) if f["flag"].startswith("lr_gap")]
    assert flags == ([flag] if flag else [])


def test_a_large_group_lists_a_bounded_number_of_other_exams(tmp_path):
    text = open(__import__("linkage.config", fromlist=["x"]).default_config_path(), encoding="utf-8").read()
    config = tmp_path / "c.toml"
    config.write_text(text.replace("max_listed_exam_ids = 50", "max_listed_exam_ids = 3"), encoding="utf-8")
    rows = [{"exam_id": f"E{i:02d}", "archive_id": f"A{i}", **SAME} for i in range(1, 11)]
    run_exams(write_exams(tmp_path / "exams.csv", rows), tmp_path / "out", config_path=config)
    flags = [f for f in read_csv(tmp_path / "out" / "exam_flags.csv") if f["flag"] == "clone"]
    assert len(flags) == 10 and {f["group_size"] for f in flags} == {"10"}
    assert next(f for f in flags if f["exam_id"] == "E01")["other_exam_ids"] == "E02;E03;E04"
    assert next(f for f in flags if f["exam_id"] == "E03")["other_exam_ids"] == "E01;E02;E04"


@pytest.mark.parametrize("window, clone", [("year", False), ("all", True), ("month", False)])
def test_window_setting(tmp_path, window, clone):
    from linkage.config import default_config_path

    text = default_config_path().read_text(encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(text.replace('window = "year"', f'window = "{window}"'), encoding="utf-8")
    rows = [{"exam_id": "E1", "archive_id": "A1", "exam_date": "2022-12-20", **SAME},
            {"exam_id": "E2", "archive_id": "A2", "exam_date": "2023-01-05", **SAME}]
    run_exams(write_exams(tmp_path / "exams.csv", rows), tmp_path / "out", config_path=config)
    flags = [f for f in read_csv(tmp_path / "out" / "exam_flags.csv") if f["flag"] == "clone"]
    assert bool(flags) == clone
