"""Date arithmetic on numpy ``datetime64[D]`` arrays, and the lunar-birthday mistake.

Elderly residents often give their lunar birthday; the clerk writes its month and day as
if solar, which lands 19-54 days before the true date (borax converts 1901-2100).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from borax.calendars.lunardate import LunarDate
from numpy.dtypes import StringDType

NAT = np.datetime64("NaT", "D")
LUNAR_MIN_DAYS, LUNAR_MAX_DAYS = 19, 54
_NUM = np.array([str(i) for i in range(100)], dtype=StringDType())


def day(value: dt.date | str) -> np.datetime64:
    """A numpy day from a date or ISO string."""
    return np.datetime64(value, "D")


def split(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day integer arrays (garbage where NaT: mask those yourself)."""
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return years, months, days


def combine(years: np.ndarray, months: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Dates from year/month/day arrays (days past the month's end roll over: clamp first)."""
    first = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (months - 1)
    return first.astype("datetime64[D]") + (days - 1)


def days_in_month(years: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Length of each month."""
    start = combine(years, months, np.ones_like(months))
    nxt = (start.astype("datetime64[M]") + 1).astype("datetime64[D]")
    return (nxt - start).astype(np.int64)


def days_in_year(years: np.ndarray) -> np.ndarray:
    """365 or 366."""
    ones = np.ones_like(years)
    return (combine(years + 1, ones, ones) - combine(years, ones, ones)).astype(np.int64)


def ymd_int(dates: np.ndarray) -> np.ndarray:
    """YYYYMMDD as int64."""
    y, m, d = split(dates)
    return y * 10000 + m * 100 + d


def iso(dates: np.ndarray) -> np.ndarray:
    """YYYY-MM-DD strings, empty where NaT."""
    out = np.datetime_as_string(dates, unit="D").astype(StringDType())
    return np.where(np.isnat(dates), "", out).astype(StringDType())


def compact(dates: np.ndarray) -> np.ndarray:
    """YYYYMMDD strings, empty where NaT."""
    return np.strings.replace(iso(dates), "-", "")


def slashed(dates: np.ndarray) -> np.ndarray:
    """YYYY/M/D strings without zero padding, empty where NaT."""
    nat = np.isnat(dates)
    safe = np.where(nat, np.datetime64("2000-01-01", "D"), dates)
    y, m, d = split(safe)
    out = np.strings.add(np.strings.add(np.strings.add(y.astype(str).astype(StringDType()), "/"), _NUM[m]), "/")
    out = np.strings.add(out, _NUM[d])
    return np.where(nat, "", out).astype(StringDType())


def uniform_between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A uniform day in [lo, hi] per row (lo where hi < lo)."""
    span = np.maximum((hi - lo).astype(np.int64), 0)
    return lo + np.floor(rng.random(len(lo)) * (span + 1)).astype(np.int64)


def lunar_as_solar(dates: np.ndarray) -> np.ndarray:
    """The lunar month/day of each date written as a solar date; NaT where that is not the
    19-54-day mistake (leap months, 30th of a short month, outside 1901-2100)."""
    out = np.full(len(dates), NAT)
    ok = ~np.isnat(dates)
    uniq, inverse = np.unique(dates[ok], return_inverse=True)
    converted = np.array([_lunar_one(d) for d in uniq.tolist()], dtype="datetime64[D]")
    out[ok] = converted[inverse] if len(uniq) else out[ok]
    return out


def _lunar_one(solar: dt.date) -> np.datetime64:
    if not dt.date(1901, 2, 19) <= solar <= dt.date(2100, 12, 31):
        return NAT
    lunar = LunarDate.from_solar_date(solar.year, solar.month, solar.day)
    if lunar.leap:
        return NAT
    try:
        written = dt.date(lunar.year, lunar.month, lunar.day)
    except ValueError:
        return NAT
    if not LUNAR_MIN_DAYS <= (solar - written).days <= LUNAR_MAX_DAYS:
        return NAT
    return np.datetime64(written, "D")
