"""The SQL twins must give exactly what the Python references give, on any input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.standardise.dates import (
    clean_dob, dob_sql, is_unreadable_date, parse_date, parse_date_sql, unreadable_date_sql,
)
from linkage.standardise.id_number import check_digit, id_sql, parse_id, sorted_id, sorted_ids
from linkage.standardise.phone import normalise_phone, phone_sql
from linkage.standardise.sex import normalise_sex, sex_sql

TODAY = date(2026, 11, 23)
AGREEMENT = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _run(con: duckdb.DuckDBPyConnection, values: list[str | None], sql: str, out: str) -> list[Any]:
    """Put ``values`` in table ``t`` (column v, row order kept) and run ``sql`` over it."""
    con.register("t_in", pa.table({"i": list(range(len(values))), "v": pa.array(values, pa.string())}))
    try:
        rows = con.execute(f"SELECT {out} FROM ({sql}) ORDER BY i").fetchall()
    finally:
        con.unregister("t_in")
    return [r[0] if len(r) == 1 else r for r in rows]


# ---- strategies: dirty versions of real shapes, plus arbitrary text ----------------------

noise = st.text(max_size=20)  # any Unicode except surrogates (DuckDB stores UTF-8)
id_chars = st.text("0123456789Xx×Ｘｘ０１９ -'\"‘’\u3000\t－_=.E+无不详NULLnoe空", max_size=22)


@st.composite
def dirty_ids(draw: st.DrawFn) -> str:
    dob = draw(st.dates(min_value=date(1850, 1, 1), max_value=date(2030, 1, 1)))
    body = f"{draw(st.integers(100000, 999999))}{dob:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    text = body + check_digit(body)
    form = draw(st.integers(0, 7))
    if form == 1:
        text = text[:6] + text[8:17]  # legacy 15
    elif form == 2:
        text = text.lower().replace("X", draw(st.sampled_from(["x", "×", "Ｘ"])))
    elif form == 3:
        text = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)
    elif form == 4:
        i = draw(st.integers(0, 17))
        text = text[:i] + draw(st.sampled_from([" ", "-", "'", "\u3000"])) + text[i:]
    elif form == 5:
        i = draw(st.integers(0, 16))
        text = text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1 :]
    elif form == 6 and text.endswith("X"):
        text = text[:17] + "10"
    elif form == 7:
        text = text[:12] + draw(st.sampled_from(["996", "997", "998", "999"]))  # 15-digit 18xx
    return text


ids = st.one_of(st.none(), dirty_ids(), id_chars, noise)


@st.composite
def dirty_dates(draw: st.DrawFn) -> str:
    d = draw(st.dates(min_value=date(1000, 1, 1), max_value=date(2999, 12, 31)))
    fmt = draw(st.sampled_from(
        ["{:%Y-%m-%d}", "{:%Y%m%d}", "{0.year}/{0.month}/{0.day}", "{0.year}.{0.month}.{0.day}",
         "{0.year}年{0.month}月{0.day}日", "{:%Y-%m-%d %H:%M:%S}", "{:%Y-%m-%dT%H:%M}",
         " {:%Y-%m-%d}\u3000", "{0.year}-{0.month}-{0.day}0", "{0.year}-{0.day}-31",
         "{:%Y-%m-%dT%H:%M:%S}Z", "{:%Y-%m-%d}T16:00:00.000Z", "{:%Y-%m-%d}T23:59+08:00",
         "{:%Y-%m-%d}T01:30-0530", "{:%Y-%m-%d} 07:00+08", "{:%Y-%m-%d}T24:00Z", "{:%d/%m/%Y}",
         "{:%y-%m-%d}"]
    ))
    return fmt.format(d)


dates = st.one_of(
    st.none(), dirty_dates(), noise, st.text("0123456789-/.年月日 :T０Z+", max_size=20),
    st.integers(0, 120000).map(str), st.integers(0, 99999).map(lambda n: f"{n:05d}"),
    st.sampled_from(["0000-00-00", "00000000", "1900-01-01", "NULL", "不详", "1988-02-30",
                     "36106", "１００００", "73051", "36106.0", "农历一九八五年三月初四", " \u3000"]),
)
phones = st.one_of(
    st.none(), noise, st.text("0123456789+-() ０８６转", max_size=24),
    st.builds(lambda p, n: p + "1" + n, st.sampled_from(["", "+86", "86", "0086", "+86 "]),
              st.text("0123456789", min_size=10, max_size=10)),
)
sexes = st.one_of(
    st.none(), noise,
    st.builds(lambda ws, v: ws + v + ws, st.sampled_from(["", " ", "\u3000", "\t"]),
              st.sampled_from(["男", "女", "1", "2", "０", "１", "M", "f", "Ｍ", "Male", "FEMALE",
                               "男性", "女性", "未知", "9", "man", "MAN", "WoMan"])),
)


# ---- agreement ---------------------------------------------------------------------------


@AGREEMENT
@given(st.lists(ids, max_size=40))
def test_id_sql_agrees_with_parse_id(con: duckdb.DuckDBPyConnection, values: list[str | None]) -> None:
    got = _run(con, values, id_sql("t_in", "v", TODAY), "id_norm, id_status, id_dob, id_sex, i")
    column_sorted = sorted_ids(pa.array([row[0] for row in got], pa.string())).to_pylist()
    for value, row, id_sorted in zip(values, got, column_sorted):
        info = parse_id(value, TODAY)
        assert row[:4] == (info.norm, info.status, info.dob, info.sex), f"row {row[4]}"
        assert id_sorted == sorted_id(info.norm), f"row {row[4]}"


@AGREEMENT
@given(st.lists(dates, max_size=40))
def test_date_sql_agrees_with_parse_date(con: duckdb.DuckDBPyConnection, values: list[str | None]) -> None:
    got = _run(con, values, parse_date_sql("t_in", "v", "d"), "d")
    assert got == [parse_date(v) for v in values]


@AGREEMENT
@given(st.lists(dates, max_size=40))
def test_unreadable_date_sql_agrees_with_is_unreadable_date(
    con: duckdb.DuckDBPyConnection, values: list[str | None]
) -> None:
    got = _run(con, values, unreadable_date_sql("t_in", "v", "u"), "u")
    assert got == [is_unreadable_date(v) for v in values]


@AGREEMENT
@given(st.lists(st.tuples(dates, st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2026, 1, 1)))),
                max_size=40))
def test_dob_sql_agrees_with_clean_dob(
    con: duckdb.DuckDBPyConnection, pairs: list[tuple[str | None, date | None]]
) -> None:
    con.register("t_dob", pa.table({
        "i": list(range(len(pairs))),
        "v": pa.array([p[0] for p in pairs], pa.string()),
        "created": pa.array([p[1] for p in pairs], pa.date32()),
    }))
    try:
        got = con.execute(
            f"SELECT dob, dob_raw_placeholder FROM ({dob_sql('t_dob', 'v', 'created', TODAY)}) ORDER BY i"
        ).fetchall()
    finally:
        con.unregister("t_dob")
    assert got == [clean_dob(v, c, TODAY) for v, c in pairs]


@AGREEMENT
@given(st.lists(phones, max_size=40))
def test_phone_sql_agrees_with_normalise_phone(
    con: duckdb.DuckDBPyConnection, values: list[str | None]
) -> None:
    got = _run(con, values, phone_sql("t_in", "v", "p"), "p")
    assert got == [normalise_phone(v) for v in values]


@AGREEMENT
@given(st.lists(sexes, max_size=40))
def test_sex_sql_agrees_with_normalise_sex(con: duckdb.DuckDBPyConnection, values: list[str | None]) -> None:
    got = _run(con, values, sex_sql("t_in", "v", "s"), "s")
    assert got == [normalise_sex(v) for v in values]


