"""The comparison levels as data: each level's stable code and its Chinese display label.

comparisons.py builds the Splink comparisons from this table (in this order, and it checks
that it does); models carry the codes in their ``linkage_levels`` block.  Code reads codes
(guards, exact-u counting, learned verdict patterns, review facts); people read labels
(evidence, explain, the review screen).  Renaming a label changes what people read and
nothing else.  No Splink import here, so the review screen can read the table cheaply.
"""

from __future__ import annotations

# comparison -> its levels' (code, label), in level order (the null level first).
LEVELS: dict[str, tuple[tuple[str, str], ...]] = {
    "name": (
        ("name.null", "空"),
        ("name.placeholder", "新生儿占位"),
        ("name.exact", "一致"),
        ("name.homophone", "同音"),
        ("name.fuzzy_pinyin", "模糊音"),
        ("name.chars_swapped", "字序颠倒"),
        ("name.lookalike", "形近字"),
        ("name.one_char", "一字之差"),
        ("name.dropped_char", "漏字"),
        ("name.pinyin_close", "拼音相近"),
        ("name.surname_only", "仅同姓"),
        ("name.different", "不同"),
    ),
    "id": (
        ("id.null", "空"),
        ("id.exact", "一致"),
        ("id.shared_not_fitting", "号同但生日/性别不符"),
        ("id.exact_bad_checksum", "一致但校验失败"),
        ("id.one_typo", "一位之差或互换"),
        ("id.two_people", "均有效且相符但不同"),
        ("id.both_valid_differ", "均有效但不同"),
        ("id.different", "不同"),
    ),
    "dob": (
        ("dob.null", "空"),
        ("dob.exact", "一致"),
        ("dob.exact_jan1", "一致(1月1日)"),
        ("dob.day_month_swapped", "日月颠倒"),
        ("dob.lunar", "农历生日"),
        ("dob.lunar_shift", "农历偏差"),
        ("dob.year_off", "差一年"),
        ("dob.year_only", "仅年份(占位)"),
        ("dob.year_and_month_or_day", "同年同月或同日"),
        ("dob.within_year", "一年内"),
        ("dob.different", "不同"),
    ),
    "sex": (
        ("sex.null", "空"),
        ("sex.same", "一致"),
        ("sex.different", "不同"),
    ),
    "location": (
        ("location.no_region", "无区划"),
        ("location.address_phone", "同址同电话"),
        ("location.address", "同址"),
        ("location.phone", "同电话"),
        ("location.address_close", "住址相近"),
        ("location.village", "同村"),
        ("location.township", "同乡镇"),
        ("location.county", "同县"),
        ("location.other_county", "跨县"),
    ),
}
LABELS: dict[str, str] = {code: label for levels in LEVELS.values() for code, label in levels}


def label_of(code: str) -> str:
    """The display label of a level code (KeyError names an unknown code)."""
    return LABELS[code]


def code_of(comparison: str, label: str) -> str | None:
    """The code of a comparison's level shown as ``label`` (from evidence text), or None."""
    return _CODE_OF_LABEL.get((comparison, label))


_CODE_OF_LABEL = {(name, label): code for name, levels in LEVELS.items() for code, label in levels}


