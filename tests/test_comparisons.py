"""Every comparison level, table-driven: literal left/right values in, level label out.

Runs the SQL Splink generates for each comparison against real DuckDB.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pytest
from splink.internals.settings import ColumnInfoSettings

from linkage.model.comparisons import (
    dob_comparison,
    id_comparison,
    name_comparison,
    location_comparison,
    sex_comparison,
)
from linkage.model.features import DERIVED_COLUMNS
from linkage.schema import FEATURE_COLUMNS

COLUMN_TYPES = {**{k: v[0] for k, v in FEATURE_COLUMNS.items()}, **DERIVED_COLUMNS}


def _level_label(comparison_creator, left: dict[str, Any], right: dict[str, Any]) -> str:
    comparison = comparison_creator.get_comparison("duckdb")
    comparison.column_info_settings = ColumnInfoSettings(
        match_weight_column_prefix="mw_",
        term_frequency_adjustment_column_prefix="tf_",
        comparison_vector_value_column_prefix="gamma_",
        unique_id_column_name="archive_id",
        _source_dataset_column_name="dataset",
        _source_dataset_column_name_is_required=False,
        sql_dialect="duckdb",
    )
    con = duckdb.connect()
    columns = []
    values = []
    for column, sql_type in COLUMN_TYPES.items():
        for side, record in (("l", left), ("r", right)):
            columns.append(f"?::{sql_type} AS {column}_{side}")
            values.append(record.get(column))
    con.execute(f"CREATE TABLE pair AS SELECT {', '.join(columns)}", values)
    gamma = con.execute(f"SELECT {comparison._case_statement} FROM pair").fetchall()[0][0]
    for level in comparison.comparison_levels:
        if level.comparison_vector_value == gamma:
            return level.label_for_charts
    raise AssertionError(f"no level with gamma {gamma}")


def _name(clean: str, py: str, fuzzy: str | None = None, surname: str | None = None) -> dict:
    syllables = py.split()
    return {
        "name_clean": clean,
        "name_len": len(clean),
        "name_py": "".join(syllables),
        "name_py_fuzzy": fuzzy or "".join(syllables),
        "name_py_sorted": "".join(sorted(syllables)),
        "surname_py": surname or syllables[0],
        "given_py": "".join(syllables[1:]),
    }


NAME_CASES = [
    (_name("王芳", "wang fang"), _name("王芳", "wang fang"), "一致"),
    (_name("王丽", "wang li"), _name("王莉", "wang li"), "同音"),
    (_name("张志", "zhang zhi", "zangzi"), _name("藏子", "zang zi", "zangzi"), "模糊音"),
    (_name("李红梅", "li hong mei"), _name("李梅红", "li mei hong"), "字序颠倒"),
    ({**_name("王己明", "wang ji ming"), "name_4c": "101041771767027"},
     {**_name("王已明", "wang yi ming"), "name_4c": "101041771767027"}, "形近字"),
    ({**_name("王海波", "wang hai bo"), "name_4c": "101043815534147"},
     {**_name("玉海波", "yu hai bo"), "name_4c": "101033815534147"}, "形近字"),
    ({**_name("王欣明", "wang xin ming"), "name_4c": "101047728267027"},
     {**_name("王琳明", "wang lin ming"), "name_4c": "101041419967027"}, "一字之差"),
    (_name("欧阳娜娜", "ou yang na na", surname="ouyang"), _name("欧阳娜", "ou yang na", surname="ouyang"), "漏字"),
    (_name("李红梅", "li hong mei"), _name("李梅", "li mei"), "漏字"),
    (_name("王晓东", "wang xiao dong"), _name("王小冬", "wang xiao dong", "wangxiaodon"), "同音"),
    (_name("王晓东", "wang xiao dong"), _name("王晓栋东", "wang xiao dong dong"), "拼音相近"),
    (_name("王芳", "wang fang"), _name("王建国", "wang jian guo"), "仅同姓"),
    (_name("王芳", "wang fang"), _name("李建国", "li jian guo"), "不同"),
    ({}, _name("王芳", "wang fang"), "空"),
]


@pytest.mark.parametrize("left,right,label", NAME_CASES)
def test_name_levels(left, right, label):
    assert _level_label(name_comparison(), left, right) == label


VALID = "11010519491231002X"  # GB 11643 example
VALID_2 = "440524188001010014"
ONE_DIGIT = "11010519491231003X"
SWAPPED = "11010519492131002X"


def _id(norm: str | None, valid: bool = True, consistent: bool = True) -> dict:
    return {"id_norm": norm, "id_valid": valid, "id_consistent": consistent and valid,
            "id_sorted": "".join(sorted(norm)) if norm else None}


ID_CASES = [
    (_id(VALID), _id(VALID), "一致"),
    (_id(VALID), _id(VALID, consistent=False), "号同但生日/性别不符"),
    (_id(ONE_DIGIT, valid=False), _id(ONE_DIGIT, valid=False), "一致但校验失败"),
    (_id(VALID), _id(ONE_DIGIT, valid=False), "一位之差或互换"),
    (_id(VALID), _id(SWAPPED, valid=False), "一位之差或互换"),
    (_id(VALID), _id(VALID_2), "均有效且相符但不同"),
    (_id(VALID), _id(VALID_2, consistent=False), "均有效但不同"),
    (_id(VALID), _id("110105194912310999", valid=False), "不同"),
    (_id(None), _id(VALID), "空"),
]


@pytest.mark.parametrize("left,right,label", ID_CASES)
def test_id_levels(left, right, label):
    assert _level_label(id_comparison(), left, right) == label


def _dob(d: date | None, lunar: date | None = None) -> dict:
    if d is None:
        return {}
    return {"dob_best": d, "dob_year": d.year, "dob_month": d.month, "dob_day": d.day,
            "dob_days": (d - date(1970, 1, 1)).days, "dob_jan1": d.month == 1 and d.day == 1,
            "dob_lunar": lunar}


DOB_CASES = [
    (_dob(date(1950, 3, 5)), _dob(date(1950, 3, 5)), "一致"),
    (_dob(date(1950, 1, 1)), _dob(date(1950, 1, 1)), "一致(1月1日)"),
    (_dob(date(1950, 3, 5)), _dob(date(1950, 5, 3)), "日月颠倒"),
    (_dob(date(1950, 3, 5), lunar=date(1950, 4, 21)), _dob(date(1950, 4, 21)), "农历生日"),
    (_dob(date(1950, 3, 5)), _dob(date(1951, 3, 5)), "差一年"),
    (_dob(date(1950, 1, 1)), _dob(date(1950, 8, 19)), "仅年份(占位)"),
    (_dob(date(1950, 3, 5)), _dob(date(1950, 4, 2)), "农历偏差"),
    (_dob(date(1950, 12, 30)), _dob(date(1951, 1, 29)), "农历偏差"),
    (_dob(date(1950, 1, 1)), _dob(date(1950, 2, 10)), "仅年份(占位)"),   # a placeholder, not lunar
    (_dob(date(1950, 3, 5)), _dob(date(1950, 3, 19)), "同年同月或同日"),
    (_dob(date(1950, 3, 5)), _dob(date(1950, 11, 20)), "一年内"),
    (_dob(date(1950, 3, 5)), _dob(date(1980, 7, 9)), "不同"),
    (_dob(None), _dob(date(1980, 7, 9)), "空"),
]


@pytest.mark.parametrize("left,right,label", DOB_CASES)
def test_dob_levels(left, right, label):
    assert _level_label(dob_comparison(), left, right) == label


@pytest.mark.parametrize("left,right,label", [
    ({"sex": "M"}, {"sex": "M"}, "一致"),
    ({"sex": "M"}, {"sex": "F"}, "不同"),
    ({"sex": None}, {"sex": "F"}, "空"),
])
def test_sex_levels(left, right, label):
    assert _level_label(sex_comparison(), left, right) == label


def _loc(address: str | None, phone: str | None = None, code: str = "620802100201") -> dict:
    import re

    skeleton = re.sub("[0-9]+", "#", address) if address else None
    return {"address_norm": address, "address_skeleton": skeleton, "phone_norm": phone,
            "region_code": code, "township": code[:9], "county": code[:6]}


@pytest.mark.parametrize("left,right,label", [
    (_loc("柳湖镇新村3组12号", "13912345678"), _loc("柳湖镇新村3组12号", "13912345678"), "同址同电话"),
    (_loc("柳湖镇新村3组12号", "13912345678"), _loc("柳湖镇新村3组12号"), "同址"),
    (_loc("柳湖镇新村3组12号", "13912345678"), _loc("西大街8号", "13912345678"), "同电话"),
    (_loc("柳湖镇新村3组12号"), _loc("柳湖镇新村3组21号"), "住址相近"),
    (_loc("东大街8号3栋2单元301室"), _loc("东大街8号3栋2单元302室"), "住址相近"),
    (_loc("柳湖镇新村3组12号"), _loc("柳湖镇东关村5组8号"), "同村"),
    (_loc(None), _loc("西大街8号", code="620802100202"), "同乡镇"),
    (_loc(None), _loc(None, code="620802101201"), "同县"),
    (_loc(None), _loc(None, code="620821100201"), "跨县"),
])
def test_location_levels(left, right, label):
    assert _level_label(location_comparison(), left, right) == label


def test_spark_spelling_has_the_same_levels_and_no_duckdb_only_functions():
    from linkage.model.comparisons import all_comparisons

    duck, spark = all_comparisons("duckdb"), all_comparisons("spark")
    for d, s in zip(duck, spark):
        d_levels = d.get_comparison("duckdb").comparison_levels
        s_levels = s.get_comparison("spark").comparison_levels
        assert [lvl.label_for_charts for lvl in d_levels] == [lvl.label_for_charts for lvl in s_levels]
        for level in s_levels:
            for duckdb_only in ("hamming(", "jaro_winkler_similarity("):
                assert duckdb_only not in level.sql_condition, (level.label_for_charts, duckdb_only)
