"""Exam values: text as typed -> a number in tenths, or a reason it is not one.

:func:`parse_value` is the reference and :func:`parse_value_sql` its DuckDB twin (they must
agree on every input, tests/test_exams_values.py).  Blank words (未测, 拒测, /) mean "not
measured", not a bad value.  A trailing unit (cm, kg, mmHg, 次/分, mmol/L, 厘米, 公斤) is
allowed.  Values are kept to one decimal, rounded half away from zero on both sides (exact
decimal arithmetic: Python's float round() would round 65.25 differently from DuckDB).

:func:`check_value` / :func:`check_value_sql` then judge a number against the indicator's
plausible range and name a unit mix-up where one explains the value (1.65 for 165 cm).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from linkage.exams.settings import Range
from linkage.standardise._text import (
    ASCII_DIGITS,
    FULLWIDTH_DIGITS,
    PLACEHOLDER_WORDS,
    case_variants,
    sql_in,
    sql_str,
    sql_strip_ws,
    sql_translate,
    strip_ws,
)

NOT_A_NUMBER = "not a number"
BLANK_WORDS: frozenset[str] = PLACEHOLDER_WORDS | case_variants(
    frozenset({"-", "--", "/", "—", "未测", "拒测", "未查", "未检", "未做", "未测量"}))
_FROM = FULLWIDTH_DIGITS + "．＋－"
_TO = ASCII_DIGITS + ".+-"
_TRANSLATE = str.maketrans(_FROM, _TO)
_UNITS = "cm|CM|Cm|kg|KG|Kg|mmHg|mmhg|MMHG|次/分|次/分钟|bpm|BPM|mmol/L|mmol/l|MMOL/L|厘米|公斤|千克"
# The number, then optional spaces and a unit.  RE2 and Python agree on this pattern.
NUMBER_PATTERN = f"^([-+]?[0-9]{{1,6}}(?:[.][0-9]{{1,4}})?) *(?:{_UNITS})?$"
# What most cells hold: a plain number.  The SQL twin casts these directly (one regex test
# instead of five), which halves the cost of reading a table.
FAST_PATTERN = "[0-9]{1,6}(?:[.][0-9]{1,4})?"
_NUMBER_RE = re.compile(NUMBER_PATTERN)
_TENTH = Decimal("0.1")


def parse_value(raw: str | None) -> tuple[float | None, str | None]:
    """(value rounded to 0.1, None), (None, None) for blank, or (None, NOT_A_NUMBER)."""
    if raw is None:
        return None, None
    text = strip_ws(raw.translate(_TRANSLATE))
    if text == "" or text in BLANK_WORDS:
        return None, None
    match = _NUMBER_RE.fullmatch(text)
    if match is None:
        return None, NOT_A_NUMBER
    return float(Decimal(match.group(1)).quantize(_TENTH, rounding=ROUND_HALF_UP)), None


def parse_value_sql(column: str) -> tuple[str, str]:
    """SQL twins (value, problem) of :func:`parse_value` for a VARCHAR column reference.

    Callers first put :func:`fast_sql` as ``<column>__f`` and :func:`prepared_sql` as
    ``<column>__p`` in a subquery (an expression used twice is computed twice)."""
    f, p = f"{column}__f", f"{column}__p"
    blank = f"({p} = '' OR {sql_in(p, BLANK_WORDS)})"
    number = f"regexp_extract({p}, {sql_str(NUMBER_PATTERN)}, 1)"
    value = (f"CASE WHEN {f} THEN CAST(round(CAST({column} AS DECIMAL(12, 4)), 1) AS DOUBLE) "
             f"WHEN {p} IS NULL OR {blank} THEN NULL "
             f"ELSE CAST(round(TRY_CAST(nullif({number}, '') AS DECIMAL(12, 4)), 1) AS DOUBLE) END")
    problem = (f"CASE WHEN {f} OR {p} IS NULL OR {blank} THEN NULL "
               f"WHEN NOT regexp_matches({p}, {sql_str(NUMBER_PATTERN)}) THEN {sql_str(NOT_A_NUMBER)} END")
    return value, problem


def fast_sql(column: str) -> str:
    """True where the cell is a plain number (:data:`FAST_PATTERN`)."""
    return f"coalesce(regexp_full_match({column}, {sql_str(FAST_PATTERN)}), false)"


def prepared_sql(column: str) -> str:
    """Full-width digits made ASCII, surrounding whitespace removed (not needed, so not
    computed, for plain numbers: ``<column>__f``)."""
    return (f"CASE WHEN NOT {column}__f THEN "
            f"{sql_strip_ws(sql_translate(column, _FROM, _TO))} END")


def _fmt(x: float) -> str:
    return f"{x:g}"


def range_reason(rng: Range) -> str:
    return f"outside plausible range {_fmt(rng.low)}-{_fmt(rng.high)}"


def check_value(value: float | None, rng: Range) -> str | None:
    """None if plausible (or blank), else why not: a unit mix-up or out of range."""
    if value is None or rng.low <= value <= rng.high:
        return None
    for unit, factor in rng.mixups:
        if rng.low <= value * factor <= rng.high:
            return f"looks like {unit}"
    return range_reason(rng)


def check_value_sql(value: str, rng: Range) -> str:
    """SQL twin of :func:`check_value` for a DOUBLE expression (a column reference)."""
    whens = [f"WHEN {value} IS NULL OR {value} BETWEEN {rng.low!r} AND {rng.high!r} THEN NULL"]
    for unit, factor in rng.mixups:
        whens.append(f"WHEN {value} * {factor!r} BETWEEN {rng.low!r} AND {rng.high!r} "
                     f"THEN {sql_str('looks like ' + unit)}")
    return f"CASE {' '.join(whens)} ELSE {sql_str(range_reason(rng))} END"
