"""Addresses: prefix stripping, numerals before units, unit words. Synthetic addresses only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.standardise.address import address_table, normalise_address


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # leading administrative run, with and without the upper levels
        ("甘肃省平凉市崆峒区柳湖镇新民村三组", "柳湖镇新民村3组"),
        ("平凉市崆峒区柳湖镇新民村三组", "柳湖镇新民村3组"),
        ("崆峒区柳湖镇新民村三组", "柳湖镇新民村3组"),
        ("柳湖镇新民村三组", "柳湖镇新民村3组"),
        ("甘肃平凉崆峒区柳湖镇", "柳湖镇"),
        ("内蒙古自治区鄂尔多斯市达拉特旗树林召镇", "树林召镇"),
        ("临夏回族自治州临夏市城南街道", "城南街道"),
        ("北京市朝阳区望京街道", "望京街道"),
        ("北京市市辖区朝阳区望京街道", "望京街道"),
        ("庆阳市镇原县城关镇", "城关镇"),
        ("太原市小店区坞城路", "坞城路"),
        ("崆峒区", "崆峒区"),  # a county alone is kept: nothing would be left
        ("六盘水市", "六盘水市"),
        ("六盘水市钟山区", "钟山区"),
        # not administrative names
        ("阳光小区3栋", "阳光小区3栋"),
        ("平凉市崆峒区阳光小区3栋", "阳光小区3栋"),
        ("红旗社区五组", "红旗社区5组"),
        ("新市村二组", "新市村2组"),
        ("华联超市旁", "华联超市旁"),
        ("北京路12号", "北京路12号"),
        ("新华市场3号", "新华市场3号"),
        # numerals only before address units
        ("六盘水市钟山区十八里铺村三组", "十八里铺村3组"),
        ("三里屯路十二号", "三里屯路12号"),
        ("一二号", "12号"),
        ("二十一栋三单元五零二室", "21栋3单元502室"),
        ("第三村民小组", "3组"),
        ("二社", "2组"),
        ("五一社区", "五一社区"),
        ("八队", "8队"),
        ("七层", "7层"),
        ("三巷", "3巷"),
        ("03组", "3组"),
        ("100号", "100号"),
        # unit words and punctuation
        ("5号楼2单元301室", "5栋2单元301室"),
        ("5幢", "5栋"),
        ("12号院", "12号"),
        ("3#楼", "3栋"),
        ("１－２－３０１", "1-2-301"),
        ("a座 (东)", "A座东"),
        ("  ", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_address(raw: str | None, expected: str | None) -> None:
    assert normalise_address(raw) == expected


def test_address_table() -> None:
    rows = address_table(["崆峒区柳湖镇", "崆峒区柳湖镇", None, "!"]).to_pylist()
    assert rows == [
        {"address_raw": "崆峒区柳湖镇", "address_norm": "柳湖镇"},
        {"address_raw": "!", "address_norm": None},
    ]


addresses = st.one_of(
    st.text(max_size=30),
    st.text("甘肃省平凉市崆峒区县旗州盟镇乡村路小社一二三十百零两号楼栋幢院组单元室第0123#-· 　a", max_size=30),
)


@settings(max_examples=400)
@given(addresses)
def test_normalise_address_is_idempotent_and_never_raises(raw: str) -> None:
    norm = normalise_address(raw)
    if norm is not None:
        assert normalise_address(norm) == norm


@given(st.text(max_size=30))
def test_text_that_isalnum_has_nothing_to_strip(text: str) -> None:
    """normalise_address skips the punctuation pass when str.isalnum() holds: \\w is
    isalnum() plus "_", so the pass would remove nothing."""
    from linkage.standardise.address import _PUNCT_RE

    if text.isalnum():
        assert _PUNCT_RE.sub("", text) == text
