"""Sex: the few spellings exports use, mapped to 'M' / 'F'; anything else is unknown.

GB/T 2261.1 codes 1 = male, 2 = female, 0 = unknown, 9 = unspecified.  An unknown sex is
left NULL rather than guessed, because a wrong sex would count as evidence against a match.
"""

from __future__ import annotations

from typing import Literal

from linkage.standardise._text import (
    ASCII_DIGITS,
    FULLWIDTH_DIGITS,
    case_variants,
    sql_in,
    sql_strip_ws,
    sql_translate,
    strip_ws,
)

MALE: frozenset[str] = case_variants(frozenset({"男", "男性", "1", "m", "male", "man"}))
FEMALE: frozenset[str] = case_variants(frozenset({"女", "女性", "2", "f", "female", "woman"}))

_FROM = FULLWIDTH_DIGITS + "ＭＦｍｆ"
_TO = ASCII_DIGITS + "MFmf"
_TRANSLATE = str.maketrans(_FROM, _TO)


def normalise_sex(raw: str | None) -> Literal["M", "F"] | None:
    """'M', 'F' or None (blank, 0/9, 未知 and anything unrecognised)."""
    if raw is None:
        return None
    key = strip_ws(raw.translate(_TRANSLATE))
    if key in MALE:
        return "M"
    if key in FEMALE:
        return "F"
    return None


def sex_sql(relation: str, column: str, alias: str = "sex_norm") -> str:
    """SELECT adding ``alias`` = :func:`normalise_sex` of ``column`` (the SQL twin).

    Values already in a known spelling skip the clean-up (most rows).
    """
    k = f"__sx_{alias}"
    known = MALE | FEMALE
    key = (
        f"CASE WHEN {sql_in(column, known)} THEN {column}"
        f" ELSE {sql_strip_ws(sql_translate(column, _FROM, _TO))} END"
    )
    value = f"CASE WHEN {sql_in(k, MALE)} THEN 'M' WHEN {sql_in(k, FEMALE)} THEN 'F' END"
    return (
        f"SELECT * EXCLUDE ({k}), {value} AS {alias}"
        f" FROM (SELECT *, {key} AS {k} FROM {relation})"
    )
