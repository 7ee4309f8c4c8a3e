"""Phone numbers: digits only, so the same number typed differently compares equal.

:func:`normalise_phone` is the reference and :func:`phone_sql` its DuckDB twin.  A shared
phone is weak evidence on its own (families share one), so normalisation stays simple:
keep digits, drop the country code of mobiles, and drop values that cannot be a number.
"""

from __future__ import annotations

import re

from linkage.standardise._text import ASCII_DIGITS, FULLWIDTH_DIGITS, sql_str, sql_translate

MIN_DIGITS = 7
# Digit runs typed as filler: any run of consecutive digits, e.g. 1234567 or 12345678901.
ASCENDING_RUN = "01234567890123456789"

_TRANSLATE = str.maketrans(FULLWIDTH_DIGITS, ASCII_DIGITS)
_NON_DIGIT_RE = re.compile(r"[^0-9]")
_MOBILE_PREFIX_RE = re.compile(r"1[3-9][0-9]{9}")


def normalise_phone(raw: str | None) -> str | None:
    """Digits of a phone value; None if blank, too short or a filler like 00000000."""
    if raw is None:
        return None
    digits = _NON_DIGIT_RE.sub("", raw.translate(_TRANSLATE))
    if len(digits) == 15 and digits.startswith("0086") and digits[4] == "1":
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86") and digits[2] == "1":
        digits = digits[2:]
    elif len(digits) > 12 and _MOBILE_PREFIX_RE.match(digits):
        digits = digits[:11]  # two numbers typed into one field: keep the first mobile
    if len(digits) < MIN_DIGITS or len(set(digits)) == 1 or digits in ASCENDING_RUN:
        return None
    return digits


def phone_sql(relation: str, column: str, alias: str = "phone_norm") -> str:
    """SELECT adding ``alias`` = :func:`normalise_phone` of ``column`` (the SQL twin)."""
    d = "__ph_d"
    digits = (
        f"CASE WHEN regexp_full_match({column}, '1[3-9][0-9]{{9}}') THEN {column}"  # already clean
        f" ELSE regexp_replace({sql_translate(column, FULLWIDTH_DIGITS, ASCII_DIGITS)},"
        " '[^0-9]', '', 'g') END"
    )
    cut = (
        f"CASE WHEN length({d}) = 15 AND starts_with({d}, '0086') AND substr({d}, 5, 1) = '1'"
        f" THEN substr({d}, 5)"
        f" WHEN length({d}) = 13 AND starts_with({d}, '86') AND substr({d}, 3, 1) = '1'"
        f" THEN substr({d}, 3)"
        f" WHEN length({d}) > 12 AND regexp_matches({d}, '^1[3-9][0-9]{{9}}') THEN left({d}, 11)"
        f" ELSE {d} END"
    )
    c = "__ph_c"
    value = (
        f"CASE WHEN length({c}) < {MIN_DIGITS} OR replace({c}, left({c}, 1), '') = ''"
        f" OR contains({sql_str(ASCENDING_RUN)}, {c}) THEN NULL ELSE {c} END"
    )
    return (
        f"SELECT * EXCLUDE ({d}, {c}), {value} AS {alias} FROM"
        f" (SELECT *, {cut} AS {c} FROM (SELECT *, {digits} AS {d} FROM {relation}))"
    )
