"""Standardise a whole input table into the ``features`` table (schema.FEATURE_COLUMNS).

Per-row work (IDs, dates, phone, sex, consistency) runs as DuckDB SQL, the twin of each
field module's Python reference.  Chinese-text work (OpenCC, pinyin, address rules) runs
in Python once per DISTINCT value, is handed to DuckDB as a registered Arrow table and
joined back, so its cost follows the number of distinct names/addresses, not rows.

Measured on the 2-core reference machine with a generated 1,000,000-row table (dirty IDs,
dates in 6 formats, ~690k distinct names, ~780k distinct addresses): about 6.6 s in total,
of which ~1.6 s names, ~3.6 s addresses (Python) and ~1.3 s SQL.
"""

from __future__ import annotations

import uuid
from datetime import date

import duckdb

from linkage.errors import SchemaError
from linkage.schema import FEATURE_COLUMNS
from linkage.standardise.address import address_table
from linkage.standardise.dates import dob_sql, parse_date_sql
from linkage.standardise.id_number import id_sql
from linkage.standardise.name import PINYIN_FIELDS, name_table
from linkage.standardise.phone import phone_sql
from linkage.standardise.sex import sex_sql
from linkage.standardise._text import sql_ident, sql_strip_ws

RAW_COLUMNS: tuple[str, ...] = (
    "archive_id",
    "row_number",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "region_code",
    "address",
    "phone",
    "created_date",
    "last_service_date",
)


def _require_columns(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    present = {row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()}
    missing = [c for c in RAW_COLUMNS if c not in present]
    if missing:
        raise SchemaError(f"cannot standardise: input table lacks columns {', '.join(missing)}")


def _distinct(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> list[str]:
    """Distinct non-NULL values of one column, fetched completely."""
    query = f"SELECT DISTINCT {column} FROM {relation} WHERE {column} IS NOT NULL"
    return con.sql(query).to_arrow_table().column(0).to_pylist()


def features_sql(relation: str, names_view: str, addresses_view: str, today: date) -> str:
    """The SELECT producing FEATURE_COLUMNS from the raw relation and the two text views."""
    rel = f"SELECT *, {sex_sql('sex')} AS __sex FROM {relation}"
    rel = parse_date_sql(f"({rel})", "created_date", "__created")
    rel = parse_date_sql(f"({rel})", "last_service_date", "__last")
    rel = dob_sql(f"({rel})", "birth_date", "__created", today)
    rel = phone_sql(f"({rel})", "phone", "__phone")
    rel = id_sql(f"({rel})", "id_number", today)
    swapped = (
        "(year(r.id_dob) = year(r.dob) AND month(r.id_dob) = day(r.dob)"
        " AND day(r.id_dob) = month(r.dob))"
    )
    exprs: dict[str, str] = {
        "archive_id": sql_strip_ws("r.archive_id"),
        "row_number": 'r."row_number"',
        "region_code": "r.region_code",
        "county": "left(r.region_code, 6)",
        "township": "left(r.region_code, 9)",
        "name_clean": "n.name_clean",
        "name_len": "n.name_len",
        **{field: f"n.{field}" for field in PINYIN_FIELDS},
        "sex": "r.__sex",
        "dob": "r.dob",
        "dob_raw_placeholder": "r.dob_raw_placeholder",
        "id_norm": "r.id_norm",
        "id_valid": "r.id_status = 'valid'",
        "id_dob": "r.id_dob",
        "id_sex": "r.id_sex",
        "id_consistent": (
            f"r.id_status = 'valid' AND (r.dob IS NULL OR r.id_dob = r.dob OR {swapped})"
            " AND (r.__sex IS NULL OR r.id_sex = r.__sex)"
        ),
        "id_sorted": "r.id_sorted",
        "id_status": "r.id_status",
        "phone_norm": "r.__phone",
        "address_norm": "a.address_norm",
        "address_tokens": "a.address_tokens",
        "created_date": "r.__created",
        "last_service_date": "r.__last",
    }
    select = ",\n  ".join(
        f"CAST({exprs[col]} AS {sql_type}) AS {col}"
        for col, (sql_type, _meaning) in FEATURE_COLUMNS.items()
    )
    return (
        f"SELECT\n  {select}\nFROM ({rel}) r\n"
        f"LEFT JOIN {names_view} n ON r.name = n.name_raw\n"
        f"LEFT JOIN {addresses_view} a ON r.address = a.address_raw\n"
        'ORDER BY r."row_number"'
    )


def standardise_table(
    con: duckdb.DuckDBPyConnection,
    raw_table: str,
    out_table: str,
    *,
    today: date | None = None,
) -> None:
    """Create (or replace) ``out_table`` with exactly the FEATURE_COLUMNS of schema.py.

    ``raw_table`` holds the input columns as VARCHAR plus ``row_number``.  ``today`` fixes
    the date that future birth dates are judged against (default: the current date), so a
    re-run on old data gives the same result.
    """
    today = today or date.today()
    relation = sql_ident(raw_table)
    _require_columns(con, relation)
    names = name_table(_distinct(con, relation, "name"))
    addresses = address_table(_distinct(con, relation, "address"))
    token = uuid.uuid4().hex[:12]
    names_view, addresses_view = f"__linkage_names_{token}", f"__linkage_addresses_{token}"
    con.register(names_view, names)
    con.register(addresses_view, addresses)
    try:
        sql = features_sql(relation, names_view, addresses_view, today)
        con.execute(f"CREATE OR REPLACE TABLE {sql_ident(out_table)} AS {sql}")
    finally:
        con.unregister(names_view)
        con.unregister(addresses_view)
