"""Splink comparisons designed for Chinese resident archives.

Every level compares columns prepared once per record (pinyin keys, normalised ID and its
sorted digits, epoch days, address bigrams), so the per-pair SQL is mostly equality and a
few cheap string functions on ASCII.  That keeps predict fast, and avoids DuckDB's
byte-counting string distances on Chinese text (levenshtein('王芳','王方') = 3).

Each comparison is a factory returning ``cl.CustomComparison``; each level has a short
Chinese chart label that the decisions' ``evidence`` column and the reviewer show.
The few functions whose names differ between backends are spelled per dialect by
:class:`Dialect` (``all_comparisons("spark")``), so the same model runs on DuckDB and on
Splink's SparkAPI.  On equal-length ASCII strings Levenshtein ≤ 1 is Hamming ≤ 1, so
Spark's ``levenshtein`` stands in for DuckDB's faster ``hamming`` without changing a level.
"""

from __future__ import annotations

from dataclasses import dataclass

import splink.comparison_level_library as cll
import splink.comparison_library as cl

# Number of leading name characters compared position by position (covers 99% of Han names).
_MAX_CHARS_COMPARED = 4


@dataclass(frozen=True)
class Dialect:
    """Spellings of the functions that differ between Splink backends."""

    name: str
    hamming: str  # on equal-length ASCII strings
    jaro_winkler: str

    @staticmethod
    def of(name: str) -> "Dialect":
        if name not in _DIALECTS:
            raise ValueError(f"unsupported SQL dialect {name!r} (have: {', '.join(_DIALECTS)})")
        return _DIALECTS[name]


_DIALECTS = {
    "duckdb": Dialect("duckdb", "hamming({a}, {b})", "jaro_winkler_similarity({a}, {b})"),
    "spark": Dialect("spark", "levenshtein({a}, {b})", "jaro_winkler({a}, {b})"),
}


def _null(column: str, label: str = "空") -> cll.CustomLevel:
    return cll.CustomLevel(f"{column}_l IS NULL OR {column}_r IS NULL", label_for_charts=label).configure(
        is_null_level=True
    )


def _one_char_differs_sql(same_surname: bool = True) -> str:
    """Same length, exactly one of the first characters differs (optionally same surname)."""
    diffs = " + ".join(
        f"CASE WHEN substr(name_clean_l, {i}, 1) <> substr(name_clean_r, {i}, 1) THEN 1 ELSE 0 END"
        for i in range(1, _MAX_CHARS_COMPARED + 1)
    )
    surname = " AND surname_py_l = surname_py_r" if same_surname else ""
    return f"name_len_l = name_len_r AND name_len_l <= {_MAX_CHARS_COMPARED}{surname} AND ({diffs}) = 1"


def _dropped_char_sql() -> str:
    """One name is the other with one character left out (same surname)."""
    return (
        "surname_py_l = surname_py_r AND ("
        "(name_len_l = name_len_r + 1 AND contains(name_clean_l, right(name_clean_r, name_len_r - 1)))"
        " OR (name_len_r = name_len_l + 1 AND contains(name_clean_r, right(name_clean_l, name_len_l - 1))))"
    )


def name_comparison(dialect: str = "duckdb") -> cl.CustomComparison:
    """Name: newborn placeholder (unknown) → exact (TF-adjusted) → same pinyin → fuzzy pinyin → one character → close given name."""
    sql = Dialect.of(dialect)
    return cl.CustomComparison(
        output_column_name="name",
        comparison_description="姓名",
        comparison_levels=[
            _null("name_py"),
            # A newborn archive opened before the child was named (王芳之子, 新生儿): the
            # name is unknown, not different - and two equal placeholders are not one name.
            cll.CustomLevel("name_placeholder_l OR name_placeholder_r", label_for_charts="新生儿占位"),
            cll.CustomLevel("name_clean_l = name_clean_r", label_for_charts="一致").configure(
                tf_adjustment_column="name_clean", tf_adjustment_weight=1.0, tf_minimum_u_value=1e-7
            ),
            cll.CustomLevel("name_py_l = name_py_r", label_for_charts="同音").configure(
                tf_adjustment_column="name_py", tf_adjustment_weight=0.5, tf_minimum_u_value=1e-7
            ),
            cll.CustomLevel("name_py_fuzzy_l = name_py_fuzzy_r", label_for_charts="模糊音"),
            cll.CustomLevel(
                "name_py_sorted_l = name_py_sorted_r", label_for_charts="字序颠倒"
            ),
            cll.CustomLevel(
                f"{_one_char_differs_sql(same_surname=False)} AND "
                f"{sql.hamming.format(a='name_4c_l', b='name_4c_r')} <= 1",
                label_for_charts="形近字",
            ),
            cll.CustomLevel(_one_char_differs_sql(), label_for_charts="一字之差"),
            cll.CustomLevel(_dropped_char_sql(), label_for_charts="漏字"),
            cll.CustomLevel(
                "surname_py_l = surname_py_r AND "
                f"{sql.jaro_winkler.format(a='given_py_l', b='given_py_r')} >= 0.88",
                label_for_charts="拼音相近",
            ),
            cll.CustomLevel("surname_py_l = surname_py_r", label_for_charts="仅同姓"),
            cll.ElseLevel().configure(label_for_charts="不同"),
        ],
    )


def id_comparison(dialect: str = "duckdb") -> cl.CustomComparison:
    """ID number: exact and consistent → exact but someone else's → one typo → two people's
    valid IDs → valid but different."""
    distance = Dialect.of(dialect).hamming.format(a="id_norm_l", b="id_norm_r")
    return cl.CustomComparison(
        output_column_name="id",
        comparison_description="身份证号",
        comparison_levels=[
            _null("id_norm"),
            cll.CustomLevel(
                "id_norm_l = id_norm_r AND id_consistent_l AND id_consistent_r",
                label_for_charts="一致",
            ),
            cll.CustomLevel(
                "id_norm_l = id_norm_r AND id_valid_l", label_for_charts="号同但生日/性别不符"
            ),
            cll.CustomLevel("id_norm_l = id_norm_r", label_for_charts="一致但校验失败"),
            cll.CustomLevel(
                f"(NOT (id_valid_l AND id_valid_r)) AND ({distance} <= 1 OR "
                f"({distance} = 2 AND id_sorted_l = id_sorted_r))",
                label_for_charts="一位之差或互换",
            ),
            # Two checksum-valid IDs, each fitting its own record's birth date and sex: two
            # people (twins, namesakes), strong evidence against.  When one does not fit its
            # record it may be a relative's ID filed on a duplicate archive: weak evidence.
            cll.CustomLevel(
                "id_consistent_l AND id_consistent_r", label_for_charts="均有效且相符但不同"
            ),
            cll.CustomLevel("id_valid_l AND id_valid_r", label_for_charts="均有效但不同"),
            cll.ElseLevel().configure(label_for_charts="不同"),
        ],
    )


def dob_comparison() -> cl.CustomComparison:
    """Birth date: exact → 1 January (weak) → day/month swapped → lunar → about a lunar month
    apart → one year off → same year."""
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="出生日期",
        comparison_levels=[
            _null("dob_best"),
            cll.CustomLevel(
                "dob_best_l = dob_best_r AND NOT dob_jan1_l", label_for_charts="一致"
            ),
            cll.CustomLevel("dob_best_l = dob_best_r", label_for_charts="一致(1月1日)"),
            cll.CustomLevel(
                "dob_year_l = dob_year_r AND dob_month_l = dob_day_r AND dob_day_l = dob_month_r",
                label_for_charts="日月颠倒",
            ),
            cll.CustomLevel(
                "dob_lunar_l = dob_best_r OR dob_lunar_r = dob_best_l", label_for_charts="农历生日"
            ),
            # A lunar birthday written as a solar date is 20-50 days off (the lunar year
            # starts 21 Jan - 20 Feb); clerks and conversions get the exact day wrong, so the
            # band is wider than the exact conversion above.
            cll.CustomLevel(
                "abs(dob_days_l - dob_days_r) BETWEEN 15 AND 60 AND NOT (dob_jan1_l OR dob_jan1_r)",
                label_for_charts="农历偏差",
            ),
            cll.CustomLevel(
                "dob_month_l = dob_month_r AND dob_day_l = dob_day_r "
                "AND abs(dob_year_l - dob_year_r) = 1",
                label_for_charts="差一年",
            ),
            cll.CustomLevel(
                "(dob_jan1_l OR dob_jan1_r) AND dob_year_l = dob_year_r",
                label_for_charts="仅年份(占位)",
            ),
            cll.CustomLevel(
                "dob_year_l = dob_year_r AND (dob_month_l = dob_month_r OR dob_day_l = dob_day_r)",
                label_for_charts="同年同月或同日",
            ),
            cll.CustomLevel("abs(dob_days_l - dob_days_r) <= 366", label_for_charts="一年内"),
            cll.ElseLevel().configure(label_for_charts="不同"),
        ],
    )


def sex_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="sex",
        comparison_description="性别",
        comparison_levels=[
            _null("sex"),
            cll.CustomLevel("sex_l = sex_r", label_for_charts="一致"),
            cll.ElseLevel().configure(label_for_charts="不同"),
        ],
    )


def location_comparison(dialect: str = "duckdb") -> cl.CustomComparison:
    """Where and how to reach the resident: address, phone and managing region as ONE comparison.

    Address, phone and village agree together for every member of a household, so scoring
    them as three independent comparisons counts the same fact three times and makes a
    spouse look like a duplicate.  One comparison with ordered levels counts it once.
    """
    return cl.CustomComparison(
        output_column_name="location",
        comparison_description="住址/电话/管理区划",
        comparison_levels=[
            _null("region_code", "无区划"),
            cll.CustomLevel(
                "address_norm_l = address_norm_r AND phone_norm_l = phone_norm_r",
                label_for_charts="同址同电话",
            ),
            cll.CustomLevel("address_norm_l = address_norm_r", label_for_charts="同址"),
            cll.CustomLevel("phone_norm_l = phone_norm_r", label_for_charts="同电话"),
            cll.CustomLevel("address_skeleton_l = address_skeleton_r", label_for_charts="住址相近"),
            cll.CustomLevel("region_code_l = region_code_r", label_for_charts="同村"),
            cll.CustomLevel("township_l = township_r", label_for_charts="同乡镇"),
            cll.CustomLevel("county_l = county_r", label_for_charts="同县"),
            cll.ElseLevel().configure(label_for_charts="跨县"),
        ],
    )


def all_comparisons(dialect: str = "duckdb") -> list[cl.CustomComparison]:
    """The comparisons of the default model, in the order evidence is written."""
    return [
        name_comparison(dialect),
        id_comparison(dialect),
        dob_comparison(),
        sex_comparison(),
        location_comparison(dialect),
    ]
