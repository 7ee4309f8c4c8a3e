"""Splink comparisons designed for Chinese resident archives.

Every level compares columns prepared once per record (pinyin keys, normalised ID and its
sorted digits, epoch days, the address skeleton), so the per-pair SQL is mostly equality and a
few cheap string functions on ASCII.  That keeps predict fast, and avoids DuckDB's
byte-counting string distances on Chinese text (levenshtein('王芳','王方') = 3).

Each comparison is a factory returning ``cl.CustomComparison``; each level has a stable code and a
Chinese chart label (linkage.model.levels) that the ``evidence`` column and the reviewer show.
The few functions whose names differ between backends are spelled per dialect by
:class:`Dialect` (``all_comparisons("spark")``), so the same model runs on DuckDB and on
Splink's SparkAPI.  On equal-length ASCII strings Levenshtein ≤ 1 is Hamming ≤ 1, so
Spark's ``levenshtein`` stands in for DuckDB's faster ``hamming`` without changing a level.
"""

from __future__ import annotations

from dataclasses import dataclass

import splink.comparison_level_library as cll
import splink.comparison_library as cl

from linkage.model.levels import LABELS, LEVELS

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


Level = tuple[str, "cll.CustomLevel | cll.ElseLevel"]


def _level(code: str, sql: str, **options: object) -> Level:
    """A level with its code; ``options`` go to Splink's ``configure`` (TF adjustment)."""
    level = cll.CustomLevel(sql, label_for_charts=LABELS[code])
    return code, level.configure(**options) if options else level


def _else(code: str) -> Level:
    return code, cll.ElseLevel().configure(label_for_charts=LABELS[code])


def _null(code: str, column: str) -> Level:
    return _level(code, f"{column}_l IS NULL OR {column}_r IS NULL", is_null_level=True)


def _comparison(output: str, description: str,
                levels: list[Level]) -> cl.CustomComparison:
    """A comparison whose levels are in the order (and carry the labels) of LEVELS[output]."""
    codes = [code for code, _ in levels]
    expected = [code for code, _ in LEVELS[output]]
    if codes != expected:
        raise AssertionError(f"comparison {output}: levels {codes} differ from LEVELS {expected}")
    return cl.CustomComparison(
        output_column_name=output,
        comparison_description=description,
        comparison_levels=[level for _, level in levels],
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


# Constants of the levels themselves, part of the model (models/*.json is built from this file),
# not settings a site tunes in configs/:
# The homophone level's term-frequency adjustment counts half as much as the exact name's (1.0).
HOMOPHONE_TF_WEIGHT = 0.5
# Given names at least this close in pinyin (Jaro-Winkler), under one surname: name.pinyin_close.
PINYIN_CLOSE_JARO_WINKLER = 0.88


def name_comparison(dialect: str = "duckdb") -> cl.CustomComparison:
    """Name: newborn placeholder (unknown) → exact (TF-adjusted) → same pinyin → fuzzy pinyin → one character → close given name."""
    sql = Dialect.of(dialect)
    return _comparison("name", "姓名", [
        _null("name.null", "name_py"),
        # A newborn archive opened before the child was named (王芳之子, 新生儿): the
        # name is unknown, not different - and two equal placeholders are not one name.
        _level("name.placeholder", "name_placeholder_l OR name_placeholder_r"),
        _level("name.exact", "name_clean_l = name_clean_r",
            tf_adjustment_column="name_clean", tf_adjustment_weight=1.0, tf_minimum_u_value=1e-7),
        _level("name.homophone", "name_py_l = name_py_r",
            tf_adjustment_column="name_py", tf_adjustment_weight=HOMOPHONE_TF_WEIGHT,
            tf_minimum_u_value=1e-7),
        _level("name.fuzzy_pinyin", "name_py_fuzzy_l = name_py_fuzzy_r"),
        _level("name.chars_swapped", "name_py_sorted_l = name_py_sorted_r"),
        _level(
            "name.lookalike",
            f"{_one_char_differs_sql(same_surname=False)} AND "
            f"{sql.hamming.format(a='name_4c_l', b='name_4c_r')} <= 1"),
        _level("name.one_char", _one_char_differs_sql()),
        _level("name.dropped_char", _dropped_char_sql()),
        _level(
            "name.pinyin_close",
            "surname_py_l = surname_py_r AND "
            f"{sql.jaro_winkler.format(a='given_py_l', b='given_py_r')} >= {PINYIN_CLOSE_JARO_WINKLER}"),
        _level("name.surname_only", "surname_py_l = surname_py_r"),
        _else("name.different"),
    ])


def id_comparison(dialect: str = "duckdb") -> cl.CustomComparison:
    """ID number: exact and consistent → exact but someone else's → one typo → two people's
    valid IDs → valid but different."""
    distance = Dialect.of(dialect).hamming.format(a="id_norm_l", b="id_norm_r")
    return _comparison("id", "身份证号", [
        _null("id.null", "id_norm"),
        _level("id.exact", "id_norm_l = id_norm_r AND id_consistent_l AND id_consistent_r"),
        _level("id.shared_not_fitting", "id_norm_l = id_norm_r AND id_valid_l"),
        _level("id.exact_bad_checksum", "id_norm_l = id_norm_r"),
        _level(
            "id.one_typo",
            f"(NOT (id_valid_l AND id_valid_r)) AND ({distance} <= 1 OR "
            f"({distance} = 2 AND id_sorted_l = id_sorted_r))"),
        # Two checksum-valid IDs, each fitting its own record's birth date and sex: two
        # people (twins, namesakes), strong evidence against.  When one does not fit its
        # record it may be a relative's ID filed on a duplicate archive: weak evidence.
        _level("id.two_people", "id_consistent_l AND id_consistent_r"),
        _level("id.both_valid_differ", "id_valid_l AND id_valid_r"),
        _else("id.different"),
    ])


def dob_comparison() -> cl.CustomComparison:
    """Birth date: exact → 1 January (weak) → day/month swapped → lunar → about a lunar month
    apart → one year off → same year."""
    return _comparison("dob", "出生日期", [
        _null("dob.null", "dob_best"),
        _level("dob.exact", "dob_best_l = dob_best_r AND NOT dob_jan1_l"),
        _level("dob.exact_jan1", "dob_best_l = dob_best_r"),
        _level(
            "dob.day_month_swapped",
            "dob_year_l = dob_year_r AND dob_month_l = dob_day_r AND dob_day_l = dob_month_r"),
        _level("dob.lunar", "dob_lunar_l = dob_best_r OR dob_lunar_r = dob_best_l"),
        # A lunar birthday written as a solar date is 20-50 days off (the lunar year
        # starts 21 Jan - 20 Feb); clerks and conversions get the exact day wrong, so the
        # band is wider than the exact conversion above.
        _level(
            "dob.lunar_shift",
            "abs(dob_days_l - dob_days_r) BETWEEN 15 AND 60 AND NOT (dob_jan1_l OR dob_jan1_r)"),
        _level(
            "dob.year_off",
            "dob_month_l = dob_month_r AND dob_day_l = dob_day_r "
            "AND abs(dob_year_l - dob_year_r) = 1"),
        _level("dob.year_only", "(dob_jan1_l OR dob_jan1_r) AND dob_year_l = dob_year_r"),
        _level(
            "dob.year_and_month_or_day",
            "dob_year_l = dob_year_r AND (dob_month_l = dob_month_r OR dob_day_l = dob_day_r)"),
        _level("dob.within_year", "abs(dob_days_l - dob_days_r) <= 366"),
        _else("dob.different"),
    ])


def sex_comparison() -> cl.CustomComparison:
    return _comparison("sex", "性别", [
        _null("sex.null", "sex"),
        _level("sex.same", "sex_l = sex_r"),
        _else("sex.different"),
    ])


def location_comparison(dialect: str = "duckdb") -> cl.CustomComparison:
    """Where and how to reach the resident: address, phone and managing region as ONE comparison.

    Address, phone and village agree together for every member of a household, so scoring
    them as three independent comparisons counts the same fact three times and makes a
    spouse look like a duplicate.  One comparison with ordered levels counts it once.
    """
    return _comparison("location", "住址/电话/管理区划", [
        _null("location.no_region", "region_code"),
        _level(
            "location.address_phone", "address_norm_l = address_norm_r AND phone_norm_l = phone_norm_r"),
        _level("location.address", "address_norm_l = address_norm_r"),
        _level("location.phone", "phone_norm_l = phone_norm_r"),
        _level("location.address_close", "address_skeleton_l = address_skeleton_r"),
        # How much one village says depends on its size: an urban community of 8,000
        # archives is no small village.  The term frequency of the village code (its share
        # of this run's archives) is the chance that two different residents share it, so a
        # big community counts little and a small village much (2 to 6 bits at 1M persons).
        _level("location.village", "region_code_l = region_code_r",
            tf_adjustment_column="region_code", tf_adjustment_weight=1.0, tf_minimum_u_value=1e-7),
        _level("location.township", "township_l = township_r"),
        _level("location.county", "county_l = county_r"),
        _else("location.other_county"),
    ])


def all_comparisons(dialect: str = "duckdb") -> list[cl.CustomComparison]:
    """The comparisons of the default model, in the order evidence is written."""
    return [
        name_comparison(dialect),
        id_comparison(dialect),
        dob_comparison(),
        sex_comparison(),
        location_comparison(dialect),
    ]
