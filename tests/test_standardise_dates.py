"""Dates: formats seen in exports, placeholder birth dates, lunar birthdays."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkage.standardise.dates import (
    LUNAR_FIRST_YEAR,
    LUNAR_LAST_YEAR,
    clean_dob,
    dob_precision,
    is_placeholder_dob,
    is_unreadable_date,
    lunar_calendar_table,
    lunar_to_solar,
    parse_date,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1949-12-31", date(1949, 12, 31)),
        ("19491231", date(1949, 12, 31)),
        ("1949/1/3", date(1949, 1, 3)),
        ("1949.01.03", date(1949, 1, 3)),
        ("1949年1月3日", date(1949, 1, 3)),
        ("1949年01月03", date(1949, 1, 3)),
        ("1949-12-31 00:00:00", date(1949, 12, 31)),
        ("1949-12-31T08:30", date(1949, 12, 31)),
        ("1949-12-31 08:30:00.000", date(1949, 12, 31)),
        (" １９４９－１２－３１ ", date(1949, 12, 31)),
        ("19880230", None),  # impossible
        ("1988-02-30", None),
        ("2000-02-29", date(2000, 2, 29)),
        ("1900-02-29", None),
        ("1949-12", None),  # month only: not a date
        ("1949", None),
        ("0000-00-00", None),
        ("31/12/1949", None),
        ("", None),
        (None, None),
        ("不详", None),
        # An instant (a time with a UTC offset) is dated in China (UTC+8) (acceptance review).
        ("1985-03-04T00:00:00Z", date(1985, 3, 4)),
        ("1985-03-03T16:00:00.000Z", date(1985, 3, 4)),  # a Beijing midnight kept as UTC
        ("1985-03-04T23:59:59+08:00", date(1985, 3, 4)),
        ("1985-03-04T08:00+0800", date(1985, 3, 4)),
        ("1985-03-04T20:00-05", date(1985, 3, 5)),
        ("1985-03-04T24:00Z", None),  # no such time
        ("1985-03-04T00:00:00", date(1985, 3, 4)),  # no offset: the date as written
        # Excel serial day numbers: five digits, 1927-05-18 to 2099-12-31.
        ("36106", date(1998, 11, 7)),
        ("１００００", date(1927, 5, 18)),
        ("73050", date(2099, 12, 31)),
        ("73051", None),
        ("9999", None),
        ("09999", None),
        ("36106.0", None),
        # Never guessed: day/month order, two-digit years, lunar text.
        ("04/03/1985", None),
        ("85-3-4", None),
        ("850304", None),
        ("农历一九八五年三月初四", None),
    ],
)
def test_parse_date(raw: str | None, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "created", "expected"),
    [
        ("1949-12-31", date(2015, 1, 1), (date(1949, 12, 31), False)),
        ("1900-01-01", date(2015, 1, 1), (None, True)),
        ("1899-05-05", date(2015, 1, 1), (None, True)),
        ("2030-01-01", None, (None, True)),  # future
        ("2016-01-01", date(2015, 1, 1), (None, True)),  # born after the archive was made
        ("2015-01-01", date(2015, 1, 1), (date(2015, 1, 1), False)),
        ("0000-00-00", None, (None, True)),
        ("00000000", None, (None, True)),
        ("不详", None, (None, True)),
        ("NULL", None, (None, True)),
        ("garbage", None, (None, False)),
        ("", None, (None, False)),
        (None, None, (None, False)),
    ],
)
def test_clean_dob(raw: str | None, created: date | None, expected: tuple[date | None, bool]) -> None:
    assert clean_dob(raw, created, TODAY) == expected


def test_is_placeholder_dob_and_precision() -> None:
    assert is_placeholder_dob(date(1900, 1, 1), today=TODAY)
    assert not is_placeholder_dob(date(1950, 1, 1), today=TODAY)
    assert dob_precision(date(1950, 1, 1)) == "year"
    assert dob_precision(date(1950, 3, 1)) == "day"


def test_lunar_to_solar() -> None:
    assert lunar_to_solar(date(1950, 1, 1)) == date(1950, 2, 17)  # Spring Festival 1950
    assert lunar_to_solar(date(1850, 1, 1)) is None  # outside borax's range
    assert lunar_to_solar(date(2101, 1, 1)) is None


def test_lunar_to_solar_agrees_with_borax_day_by_day() -> None:
    """Every date of the lunar range (day 30 of 29-day months included) as borax reads it
    one day at a time: lunar_to_solar asks it once per month."""
    from borax.calendars.lunardate import LunarDate

    day, last = date(LUNAR_FIRST_YEAR, 1, 1), date(LUNAR_LAST_YEAR, 12, 31)
    while day <= last:
        try:
            expected = LunarDate(day.year, day.month, day.day, 0).to_solar_date()
        except (ValueError, TypeError, KeyError, IndexError, OverflowError):
            expected = None
        assert lunar_to_solar(day) == expected, day
        day += timedelta(days=1)


def test_lunar_calendar_table_joins_in_duckdb() -> None:
    table = lunar_calendar_table(1950, 1951)
    con = duckdb.connect()
    con.register("cal", table)
    (solar,) = con.execute(
        "SELECT solar FROM cal WHERE lunar_as_solar = DATE '1950-01-01'"
    ).fetchone() or (None,)
    assert solar == date(1950, 2, 17)
    (n, distinct) = con.execute("SELECT count(*), count(DISTINCT lunar_as_solar) FROM cal").fetchall()[0]
    assert n == distinct > 700
    con.close()


formats = st.sampled_from(
    ["{:%Y-%m-%d}", "{:%Y%m%d}", "{0.year}/{0.month}/{0.day}", "{0.year}.{0.month}.{0.day}",
     "{0.year}年{0.month}月{0.day}日", "{:%Y-%m-%d %H:%M:%S}"]
)


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(2999, 12, 31)), formats)
def test_every_format_round_trips(d: date, fmt: str) -> None:
    assert parse_date(fmt.format(d)) == d


@given(st.one_of(st.none(), st.text(max_size=25), st.text("0123456789-/.年月日 :T０", max_size=20)))
def test_parse_date_never_raises(raw: str | None) -> None:
    d = parse_date(raw)
    if d is not None:
        assert parse_date(d.isoformat()) == d
        clean_dob(raw, None, TODAY)


@pytest.mark.parametrize(
    ("raw", "unreadable"),
    [("04/03/1985", True), ("85-3-4", True), ("农历一九八五年三月初四", True), ("1988-02-30", True),
     ("garbage", True), ("1949-12", True), ("36106", False), ("1985-03-04T00:00:00Z", False),
     ("1900-01-01", False), ("2099-01-01", False),  # read, then judged placeholders
     ("不详", False), ("0000-00-00", False), ("", False), (" \u3000", False), (None, False)],
)
def test_is_unreadable_date(raw: str | None, unreadable: bool) -> None:
    assert is_unreadable_date(raw) is unreadable


@given(st.integers(10000, 73050))
def test_excel_serials_count_days_from_1899_12_30(serial: int) -> None:
    d = parse_date(str(serial))
    assert d is not None and d == date(1899, 12, 30) + timedelta(days=serial)
    assert d.year >= 1927 and not is_unreadable_date(str(serial))


@given(st.datetimes(min_value=datetime(1001, 1, 1), max_value=datetime(2998, 12, 31)),
       st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15))
def test_an_instant_is_dated_in_china(moment: datetime, east_minutes: int) -> None:
    """Whatever offset an instant is written in, its date is the date at UTC+8."""
    zone = timezone(timedelta(minutes=east_minutes))
    local = moment.replace(tzinfo=zone)
    china = local.astimezone(timezone(timedelta(hours=8))).date()
    sign = "-" if east_minutes < 0 else "+"
    offset = f"{sign}{abs(east_minutes) // 60:02d}:{abs(east_minutes) % 60:02d}"
    for text in (local.strftime("%Y-%m-%dT%H:%M:%S") + offset,
                 local.strftime("%Y-%m-%dT%H:%M") + offset.replace(":", "")):
        assert parse_date(text) == china
    if east_minutes == 0:
        assert parse_date(local.strftime("%Y-%m-%dT%H:%M:%S.000Z")) == china
