"""Dates: parse the formats seen in exports, and judge a record's birth date.

:func:`parse_date` is the reference and :func:`parse_date_sql` its DuckDB twin (they must
agree on every input).  Only calendar-valid dates with a year 1000-2999 are accepted; a
month-only or year-only value is not a date.  Placeholder birth dates (1900-01-01, before
1900, after the archive was created, in the future) are dropped, and flagged in
``dob_raw_placeholder``: summary.json counts them per area (``placeholder_birth_dates``), so
a county sees how careless its records are.  The model does not read the flag.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

import pyarrow as pa

from linkage.standardise._text import (
    ASCII_DIGITS,
    FULLWIDTH_DIGITS,
    PLACEHOLDER_WORDS,
    sql_in,
    sql_str,
    sql_strip_ws,
    sql_translate,
    strip_ws,
)

PLACEHOLDER_DOB = date(1900, 1, 1)

_TRANSLATE_FROM = FULLWIDTH_DIGITS + "－／．：　"
_TRANSLATE_TO = ASCII_DIGITS + "-/.: "
_TRANSLATE = str.maketrans(_TRANSLATE_FROM, _TRANSLATE_TO)

# YYYY-M-D / YYYY/M/D / YYYY.M.D / YYYY年M月D日 or YYYYMMDD, then an optional time of day,
# which may carry a UTC offset (Z, +08:00, +0800, +08).  Groups: year, month, day (or
# month, day of YYYYMMDD), hour, minute, offset.
DATE_PATTERN = (
    "([12][0-9]{3})(?:[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?|([0-9]{2})([0-9]{2}))"
    "(?:[ T]+([0-9]{1,2}):([0-9]{1,2})(?::[0-9]{1,2}(?:[.][0-9]+)?)?"
    "(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
_DATE_RE = re.compile(DATE_PATTERN)
# A time with a UTC offset is an instant: its date is the date in China (UTC+8).  A date
# picker or JSON export that keeps a Beijing midnight as UTC writes 1985-03-03T16:00:00Z
# for 1985-03-04 ("日期少一天"); a UTC-midnight export writes 1985-03-04T00:00:00Z, which
# is 08:00 in Beijing: both read as 1985-03-04.  Without an offset the date is as written.
CHINA_UTC_OFFSET_MINUTES = 8 * 60

# Excel's serial day numbers (a date cell exported as "General": 36106 for 1998-11-07).
# Read only as five digits from 10000 (1927-05-18) to 73050 (2099-12-31): no leading zero,
# no sign or fraction, nothing Excel's 1900 leap-year bug touches (serials 1-60), and no
# other date shape has five digits (YYYYMMDD has eight, YYMMDD six), so such a value in a
# date column has no other reading.  Older birth dates (4-digit serials) stay unreadable.
EXCEL_SERIAL_PATTERN = "[1-7][0-9]{4}"
_EXCEL_SERIAL_RE = re.compile(EXCEL_SERIAL_PATTERN)
EXCEL_EPOCH = date(1899, 12, 30)  # serial 0 for every serial after 60 (1900-03-01)
EXCEL_SERIAL_LAST = 73050  # 2099-12-31
# Zeros with date punctuation ("0000-00-00", "00000000"): a placeholder, not a date.
ZERO_DATE_PATTERN = "[0 ./:年月日T-]*0[0 ./:年月日T-]*"
_ZERO_DATE_RE = re.compile(ZERO_DATE_PATTERN)


def _prepare(raw: str) -> str:
    return strip_ws(raw.translate(_TRANSLATE))


def parse_date(raw: str | None) -> date | None:
    """Parse one date value; None if blank, unparseable or not a calendar date.

    Never guessed: day/month order (04/03/1985), two-digit years (85-3-4) and lunar text
    give None (:func:`is_unreadable_date` then says so).
    """
    if raw is None:
        return None
    text = _prepare(raw)
    if _EXCEL_SERIAL_RE.fullmatch(text):
        serial = int(text)
        return EXCEL_EPOCH + timedelta(days=serial) if serial <= EXCEL_SERIAL_LAST else None
    match = _DATE_RE.fullmatch(text)
    if match is None:
        return None
    year, m1, d1, m2, d2, hour, minute, offset = match.groups()
    try:
        day = date(int(year), int(m1 or m2), int(d1 or d2))
    except ValueError:
        return None
    if offset is None:
        return day
    if int(hour) > 23 or int(minute) > 59:
        return None
    shift = int(hour) * 60 + int(minute) + CHINA_UTC_OFFSET_MINUTES - _offset_minutes(offset)
    return day + timedelta(days=shift // (24 * 60))


def _offset_minutes(offset: str) -> int:
    """Minutes east of UTC of 'Z', '+08:00', '+0800' or '-05'."""
    if offset == "Z":
        return 0
    digits = offset[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    return -minutes if offset[0] == "-" else minutes


def is_unreadable_date(raw: str | None) -> bool:
    """True for a value that is neither blank, a date :func:`parse_date` reads, nor a
    placeholder (不详, 0000-00-00): 04/03/1985, 85-3-4, 农历三月初四, 1988-02-30.  The archive
    keeps an unknown date, and the run counts such values (summary.json)."""
    if raw is None or _prepare(raw) == "":
        return False
    return parse_date(raw) is None and not is_placeholder_text(raw)


def is_placeholder_text(raw: str | None) -> bool:
    """True for values typed to mean "unknown": 不详, NULL, 0000-00-00, ..."""
    if raw is None:
        return False
    text = _prepare(raw)
    return text in PLACEHOLDER_WORDS or _ZERO_DATE_RE.fullmatch(text) is not None


def is_placeholder_dob(
    d: date, created: date | None = None, today: date | None = None
) -> bool:
    """A birth date that cannot be real: 1900-01-01 or earlier, in the future, after creation."""
    if d <= PLACEHOLDER_DOB or d > (today or date.today()):
        return True
    return created is not None and d > created


def clean_dob(
    raw: str | None, created: date | None = None, today: date | None = None
) -> tuple[date | None, bool]:
    """The record's usable birth date and whether a placeholder was given instead.

    Reference for the ``dob`` and ``dob_raw_placeholder`` feature columns.
    """
    d = parse_date(raw)
    if d is None:
        return None, is_placeholder_text(raw)
    if is_placeholder_dob(d, created, today):
        return None, True
    return d, False


def dob_precision(d: date) -> Literal["day", "year"]:
    """'year' for 1 January: systems store a known birth year as YYYY-01-01."""
    return "year" if (d.month, d.day) == (1, 1) else "day"


# Lunar years borax converts reliably (its calendar runs 1901-2100; lunar 2100 ends in solar
# 2101): the one range both the model's lunar-birthday level and the calendar table use.
LUNAR_FIRST_YEAR, LUNAR_LAST_YEAR = 1901, 2099


def lunar_to_solar(d: date) -> date | None:
    """Read ``d`` as a lunar (non-leap month) date and return the solar date.

    Elderly residents often give their lunar birthday, which read as solar lands 19-54
    days before the real date.  None outside LUNAR_FIRST_YEAR-LUNAR_LAST_YEAR or for a day
    the lunar month lacks (day 30 of a 29-day month).  Borax is asked once per lunar month
    (a run's 35k distinct birth dates took 0.6 s one by one): the days of a month follow
    its first day.
    """
    if not LUNAR_FIRST_YEAR <= d.year <= LUNAR_LAST_YEAR:
        return None
    month = _lunar_month(d.year, d.month)
    if month is None or d.day > month[1]:
        return None
    return month[0] + timedelta(days=d.day - 1)


@lru_cache(maxsize=None)
def _lunar_month(year: int, month: int) -> tuple[date, int] | None:
    """The solar date of the first day of lunar ``year``/``month`` (not leap) and its length."""
    from borax.calendars.lunardate import LCalendars, LunarDate  # imported lazily: slow to import

    try:
        return LunarDate(year, month, 1, 0).to_solar_date(), int(LCalendars.ndays(year, month, 0))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None


def lunar_calendar_table(first_year: int = LUNAR_FIRST_YEAR,
                         last_year: int = LUNAR_LAST_YEAR) -> pa.Table:
    """Columns ``lunar_as_solar`` (a lunar y/m/d read as a solar DATE) and ``solar``.

    Registered in DuckDB, it turns "is dob A the lunar reading of dob B?" into a join.
    Leap months are left out (nobody writes one as a plain month), as are lunar days
    with no solar look-alike (2-30, and 2-29 outside solar leap years).
    """
    from borax.calendars.lunardate import LunarDate

    lunar_as_solar: list[date] = []
    solar: list[date] = []
    for year in range(first_year, last_year + 1):
        for month in range(1, 13):
            start = LunarDate(year, month, 1, 0).to_solar_date()
            try:
                LunarDate(year, month, 30, 0)
                days = 30
            except ValueError:
                days = 29
            for day in range(1, days + 1):
                try:
                    as_solar = date(year, month, day)
                except ValueError:
                    continue
                lunar_as_solar.append(as_solar)
                solar.append(start + timedelta(days=day - 1))
    return pa.table(
        {"lunar_as_solar": pa.array(lunar_as_solar, pa.date32()), "solar": pa.array(solar, pa.date32())}
    )


# Shapes most exports use (YYYY-MM-DD, with or without hh:mm:ss, and YYYYMMDD): parsed
# without the general regex.  Same result, much faster.
_FAST_SHAPE = "[12][0-9]{3}(?:-[0-9]{2}-[0-9]{2}(?: [0-9]{2}:[0-9]{2}:[0-9]{2})?|[0-9]{4})"


def _prepared_sql(column: str) -> str:
    return sql_strip_ws(sql_translate(column, _TRANSLATE_FROM, _TRANSLATE_TO))


def parse_date_sql(relation: str, column: str, alias: str) -> str:
    """SELECT adding ``alias`` = :func:`parse_date` of ``column`` (the SQL twin)."""
    fast, p, t = f"__f_{alias}", f"__p_{alias}", f"__t_{alias}"
    parts = (
        f"CASE WHEN NOT {fast} THEN regexp_extract({t},"
        f" {sql_str('^' + DATE_PATTERN + '$')}, ['y', 'm1', 'd1', 'm2', 'd2', 'h', 'mi', 'z']) END"
    )
    day = (
        f"try_strptime({p}.y || '-' || coalesce(nullif({p}.m1, ''), {p}.m2)"
        f" || '-' || coalesce(nullif({p}.d1, ''), {p}.d2), '%Y-%m-%d')"
    )
    zone = (
        f"CASE WHEN {p}.z = 'Z' THEN 0 ELSE (CASE WHEN left({p}.z, 1) = '-' THEN -1 ELSE 1 END)"
        f" * (CAST(substr({p}.z, 2, 2) AS INTEGER) * 60"
        f" + coalesce(CAST(nullif(substr(replace({p}.z, ':', ''), 4, 2), '') AS INTEGER), 0)) END"
    )
    shift = (
        f"CAST(floor((CAST({p}.h AS INTEGER) * 60 + CAST({p}.mi AS INTEGER)"
        f" + {CHINA_UTC_OFFSET_MINUTES} - {zone}) / 1440.0) AS INTEGER)"
    )
    value = (
        f"CASE WHEN {fast} THEN CASE WHEN substr({column}, 5, 1) = '-'"
        f" THEN try_strptime(left({column}, 10), '%Y-%m-%d') ELSE try_strptime({column}, '%Y%m%d') END"
        f" WHEN regexp_full_match({t}, {sql_str(EXCEL_SERIAL_PATTERN)})"
        f" THEN CASE WHEN CAST({t} AS INTEGER) <= {EXCEL_SERIAL_LAST}"
        f" THEN DATE '{EXCEL_EPOCH.isoformat()}' + CAST({t} AS INTEGER) END"
        f" WHEN {p}.y = '' THEN NULL"
        f" WHEN {p}.z = '' THEN {day}"
        f" WHEN CAST({p}.h AS INTEGER) > 23 OR CAST({p}.mi AS INTEGER) > 59 THEN NULL"
        f" ELSE CAST({day} AS DATE) + {shift} END"
    )
    stage1 = (
        f"SELECT *, coalesce(regexp_full_match({column}, {sql_str(_FAST_SHAPE)}), false) AS {fast}"
        f" FROM {relation}"
    )
    stage2 = f"SELECT *, CASE WHEN NOT {fast} THEN {_prepared_sql(column)} END AS {t} FROM ({stage1})"
    stage3 = f"SELECT *, {parts} AS {p} FROM ({stage2})"
    return f"SELECT * EXCLUDE ({fast}, {p}, {t}), CAST({value} AS DATE) AS {alias} FROM ({stage3})"


def unreadable_date_sql(relation: str, column: str, alias: str) -> str:
    """SELECT adding ``alias`` = :func:`is_unreadable_date` of ``column`` (the SQL twin)."""
    parsed, prep = f"__u_{alias}", f"__up_{alias}"
    stage1 = parse_date_sql(relation, column, parsed)
    stage2 = (f"SELECT *, CASE WHEN {parsed} IS NULL THEN {_prepared_sql(column)} END AS {prep}"
              f" FROM ({stage1})")
    return (
        f"SELECT * EXCLUDE ({parsed}, {prep}),"
        f" coalesce({parsed} IS NULL AND {prep} <> '' AND NOT {_placeholder_text_sql(prep)}, false)"
        f" AS {alias} FROM ({stage2})"
    )


def _placeholder_text_sql(prep: str) -> str:
    """SQL twin of :func:`is_placeholder_text` over an already prepared value."""
    return (f"coalesce({sql_in(prep, PLACEHOLDER_WORDS)}"
            f" OR regexp_full_match({prep}, {sql_str(ZERO_DATE_PATTERN)}), false)")


def dob_sql(relation: str, birth_column: str, created_column: str, today: date) -> str:
    """SELECT adding ``dob`` and ``dob_raw_placeholder`` (the SQL twin of :func:`clean_dob`).

    ``created_column`` must already be a DATE column of ``relation``.
    """
    parsed, prep = "__dob_parsed", "__dob_prep"
    stage1 = parse_date_sql(relation, birth_column, parsed)
    stage2 = (
        f"SELECT *, CASE WHEN {parsed} IS NULL THEN {_prepared_sql(birth_column)} END AS {prep}"
        f" FROM ({stage1})"
    )
    bad = (
        f"({parsed} <= DATE '{PLACEHOLDER_DOB.isoformat()}' OR {parsed} > DATE '{today.isoformat()}'"
        f" OR coalesce({parsed} > {created_column}, false))"
    )
    placeholder_text = _placeholder_text_sql(prep)
    return (
        f"SELECT * EXCLUDE ({parsed}, {prep}),"
        f" CASE WHEN NOT {bad} THEN {parsed} END AS dob,"
        f" CASE WHEN {parsed} IS NULL THEN {placeholder_text} ELSE {bad} END AS dob_raw_placeholder"
        f" FROM ({stage2})"
    )
