"""Standardise a whole input table into the ``features`` table (schema.FEATURE_COLUMNS).

Per-row work (IDs, dates, phone, sex, consistency) runs as DuckDB SQL, the twin of each
field module's Python reference.  Chinese-text work (OpenCC, pinyin, address rules) runs
in Python once per DISTINCT value; Arrow spreads the results back over the rows (hash
look-up + take, in C++) and DuckDB attaches them with a POSITIONAL JOIN, so nothing is
re-sorted and the output keeps the input table's row order.  The SQL runs on a worker
thread (DuckDB releases the GIL) while this thread does the Python work.

Measured on the 2-core reference machine with a generated 1,000,000-row table (dirty IDs,
dates in 6 formats, 433k distinct names, 646k distinct addresses): 8.4-9.2 s wall when
the machine was otherwise idle, 12-14 s with another job on one core, 21 s with two;
13-15 s of CPU: per-row SQL ~4.8 s (worker thread), names ~2.6 s and addresses ~3.3 s
(Python, meanwhile), final positional join with the address bigrams ~2.0 s (measured
when the features still had address bigrams; they went, unread, in issue 11).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from linkage.connection import registered
from linkage.contracts import NamedTable
from linkage.errors import SchemaError
from linkage.gc_pause import cyclic_gc_paused
from linkage.schema import COUNTY_CODE_WIDTH, FEATURE_COLUMNS, INPUT_COLUMNS, TOWNSHIP_CODE_WIDTH
from linkage.standardise._text import sql_ident, sql_strip_ws
from linkage.standardise.address import normalise_address
from linkage.standardise.dates import dob_sql, parse_date_sql
from linkage.standardise.id_number import id_sql, sorted_ids
from linkage.standardise.name import PINYIN_FIELDS, name_table
from linkage.standardise.phone import phone_sql
from linkage.standardise.sex import sex_sql

RAW_COLUMNS: tuple[str, ...] = ("archive_id", "row_number", *INPUT_COLUMNS[1:])


def _require_columns(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    present = {row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()}
    missing = [c for c in RAW_COLUMNS if c not in present]
    if missing:
        raise SchemaError(f"cannot standardise: input table lacks columns {', '.join(missing)}")


def rows_sql(relation: str, today: date) -> str:
    """Per-row features computed in SQL: projections only, so the row order is kept."""
    rel = sex_sql(relation, "sex", "__sex")
    rel = parse_date_sql(f"({rel})", "created_date", "__created")
    rel = parse_date_sql(f"({rel})", "last_service_date", "__last")
    rel = dob_sql(f"({rel})", "birth_date", "__created", today)
    rel = phone_sql(f"({rel})", "phone", "__phone")
    rel = id_sql(f"({rel})", "id_number", today)
    swapped = "(year(id_dob) = year(dob) AND month(id_dob) = day(dob) AND day(id_dob) = month(dob))"
    consistent = (
        f"id_status = 'valid' AND (dob IS NULL OR id_dob = dob OR {swapped})"
        " AND (__sex IS NULL OR id_sex = __sex)"
    )
    return (
        f'SELECT {sql_strip_ws("archive_id")} AS archive_id, "row_number", region_code,'
        " __sex AS sex, dob, dob_raw_placeholder, id_norm, id_status, id_dob, id_sex,"
        f" {consistent} AS id_consistent, __phone AS phone_norm,"
        f" __created AS created_date, __last AS last_service_date FROM ({rel})"
    )


def features_sql(rows: str, names: str, addresses: str) -> str:
    """FEATURE_COLUMNS from the per-row SQL table and the two per-row Python/Arrow tables
    (``names`` also carries id_sorted, computed over the SQL table's id_norm)."""
    exprs: dict[str, str] = {
        "archive_id": "r.archive_id",
        "row_number": 'r."row_number"',
        "region_code": "r.region_code",
        "county": f"left(r.region_code, {COUNTY_CODE_WIDTH})",
        "township": f"left(r.region_code, {TOWNSHIP_CODE_WIDTH})",
        "name_clean": "n.name_clean",
        "name_len": "n.name_len",
        **{field: f"n.{field}" for field in PINYIN_FIELDS},
        "sex": "r.sex",
        "dob": "r.dob",
        "dob_raw_placeholder": "r.dob_raw_placeholder",
        "id_norm": "r.id_norm",
        "id_valid": "r.id_status = 'valid'",
        "id_dob": "r.id_dob",
        "id_consistent": "r.id_consistent",
        "id_sorted": "n.id_sorted",
        "id_status": "r.id_status",
        "phone_norm": "r.phone_norm",
        "address_norm": "a.address_norm",
        "created_date": "r.created_date",
        "last_service_date": "r.last_service_date",
    }
    select = ",\n  ".join(
        f"CAST({exprs[col]} AS {sql_type}) AS {col}"
        for col, (sql_type, _meaning) in FEATURE_COLUMNS.items()
    )
    return f"SELECT\n  {select}\nFROM {rows} r POSITIONAL JOIN {names} n POSITIONAL JOIN {addresses} a"


def _spread(values: pa.ChunkedArray, convert: Callable[[list[str]], pa.Table]) -> pa.Table:
    """``convert`` each distinct non-NULL value once; return its rows aligned with ``values``
    (all-NULL rows where the value is NULL)."""
    # One hash pass gives both the distinct values (first-seen order, no NULL) and each
    # row's index into them (NULL for NULL): unique + index_in hashed every value twice
    # (1M addresses: 0.69 -> 0.13 s).
    encoded = pc.dictionary_encode(values.combine_chunks())
    distinct = encoded.dictionary
    # Millions of short-lived tuples make the cyclic GC rescan the heap over and over
    # (~30% of the time here); nothing built in this phase forms reference cycles.
    with cyclic_gc_paused():
        table = convert(distinct.to_pylist())
    return table.take(encoded.indices)


def _name_features(distinct: list[str]) -> pa.Table:
    return name_table(distinct).drop_columns(["name_raw"])


def _address_features(distinct: list[str]) -> pa.Table:
    return pa.table({"address_norm": pa.array(map(normalise_address, distinct), pa.string())})


def standardise_table(
    con: duckdb.DuckDBPyConnection,
    raw_table: str,
    out_table: str,
    *,
    today: date | None = None,
) -> NamedTable:
    """Create (or replace) ``out_table`` with exactly the FEATURE_COLUMNS of schema.py.

    ``raw_table`` holds the input columns as VARCHAR plus ``row_number``; the output keeps
    its row order.  ``today`` fixes the date that future birth dates are judged against
    (default: the current date), so a re-run on old data gives the same result.  The
    connection's settings are restored and no helper table or view is left behind.
    """
    today = today or date.today()
    relation = sql_ident(raw_table)
    _require_columns(con, relation)
    token = uuid.uuid4().hex[:12]
    rows, names_view, addresses_view = (
        f"__linkage_{part}_{token}" for part in ("rows", "names", "addresses")
    )
    with _settings(con, preserve_insertion_order=True):  # the positional joins rely on it
        try:
            names, addresses = _build(con, relation, rows, today)
            id_norm = con.sql(f"SELECT id_norm FROM {rows}").to_arrow_table().column(0)
            names = names.append_column("id_sorted", sorted_ids(id_norm))
            with registered(con, names_view, names), registered(con, addresses_view, addresses):
                _check_alignment(con, rows, addresses_view)
                sql = features_sql(rows, names_view, addresses_view)
                con.execute(f"CREATE OR REPLACE TABLE {sql_ident(out_table)} AS {sql}")
        finally:
            con.execute(f"DROP TABLE IF EXISTS {rows}")
    return NamedTable(out_table, "standardised archives: FEATURE_COLUMNS, one row per input row")


def _build(
    con: duckdb.DuckDBPyConnection, relation: str, rows: str, today: date
) -> tuple[pa.Table, pa.Table]:
    """Build the per-row SQL table ``rows`` on a worker thread (DuckDB releases the GIL)
    while this thread converts the text; return the per-row name and address tables.

    The connection is only used by one thread at a time.
    """
    text = con.sql(f'SELECT "row_number", name, address FROM {relation}').to_arrow_table()
    failures: list[BaseException] = []

    def build_rows() -> None:
        try:
            con.execute(f"CREATE TEMP TABLE {rows} AS {rows_sql(relation, today)}")
        except BaseException as exc:  # re-raised on the calling thread
            failures.append(exc)

    (threads,) = con.execute("SELECT current_setting('threads')").fetchall()[0]
    with _settings(con, threads=max(1, int(threads) - 1)):  # leave this thread a core
        worker = threading.Thread(target=build_rows, name="linkage-standardise-rows")
        worker.start()
        try:
            names = _spread(text.column("name"), _name_features)
            addresses = _spread(text.column("address"), _address_features)
        finally:
            worker.join()
    if failures:
        raise failures[0]
    return names, addresses.append_column("__row_number", text.column("row_number"))


@contextmanager
def _settings(con: duckdb.DuckDBPyConnection, **values: bool | int) -> Iterator[None]:
    """Apply DuckDB settings for the duration, then restore the caller's values."""
    names = ", ".join(f"current_setting('{name}')" for name in values)
    previous = dict(zip(values, con.execute(f"SELECT {names}").fetchall()[0]))

    def apply(settings: dict[str, object]) -> None:
        for name, value in settings.items():
            literal = str(value).lower() if isinstance(value, bool) else str(int(str(value)))
            con.execute(f"SET {name} = {literal}")

    apply(dict(values))
    try:
        yield
    finally:
        apply(previous)


def _check_alignment(con: duckdb.DuckDBPyConnection, rows: str, aligned: str) -> None:
    """Guard the positional join: both sides must list the rows in the same order."""
    (misaligned,) = con.execute(
        f'SELECT count(*) FILTER (WHERE r."row_number" IS DISTINCT FROM a.__row_number)'
        f" FROM {rows} r POSITIONAL JOIN {aligned} a"
    ).fetchall()[0]
    if misaligned:
        raise RuntimeError("standardise_table: row order changed between scans (internal error)")
