"""Division names and historical county codes from the shipped NBS 2023 / GB/T 2260 extract."""

from __future__ import annotations

from hypothesis import given, strategies as st

from linkage.divisions import (
    division_name, division_names, division_short_name, historical_county_name,
    is_historical_county_code, is_known_id_area_code,
)


def test_pingliang_counties_townships_villages() -> None:
    assert division_name("620802") == "平凉市崆峒区"
    assert division_name("620821") == "平凉市泾川县"
    assert division_name("620881") == "平凉市华亭市"
    assert division_name("620802101") == "崆峒区崆峒镇"
    assert division_name("620802001001") == "东关街道解放中路社区居委会"
    assert division_short_name("620802101") == "崆峒镇"


def test_provinces_stand_in_for_unnamed_prefectures() -> None:
    assert division_name("110101") == "北京市东城区"
    assert division_name("419001") == "河南省济源市"
    assert division_name("62") == "甘肃省" and division_name("6208") == "平凉市"


def test_unknown_and_malformed_codes_give_none() -> None:
    for code in ("620899", "620802999", "620802101999", "abc", "", None, "6208021", " "):
        assert division_name(code) is None
    assert division_names(["620802", "620802", "000000"]) == {"620802": "平凉市崆峒区", "000000": None}


def test_historical_county_codes() -> None:
    assert is_historical_county_code("620824")  # 华亭县 until 2017
    assert is_historical_county_code("622701") and historical_county_name("622701") == "平凉市"
    assert is_historical_county_code("310225")  # 南汇县
    assert not is_historical_county_code("620800")  # a prefecture
    assert not is_historical_county_code("000000")
    assert is_known_id_area_code("622700")  # 平凉地区, prefecture-issued
    assert is_known_id_area_code("810000")
    assert not is_known_id_area_code("123456")


@given(st.text(max_size=14))
def test_any_text_is_answered_without_error(code: str) -> None:
    name = division_name(code)
    assert name is None or isinstance(name, str)
    assert isinstance(is_known_id_area_code(code), bool)
