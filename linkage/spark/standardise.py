"""Raw rows → model input columns on Spark executors, with the DuckDB path's own code.

Each standardiser in linkage.standardise has a pure-Python reference and an SQL twin that
the DuckDB path runs; tests/test_standardise_sql_agreement.py holds the two together.
Here the Python references run inside ``mapInArrow``, once per DISTINCT value of a batch
(names and addresses through ``name_table``/``address_table``, as the DuckDB path does),
so there is no third copy of any rule.  The per-record derived columns (best birth date,
lunar date, four-corner key, address skeleton) come from linkage.model.features'
``build_model_input`` itself, run on the batch in an in-memory DuckDB (DuckDB is a
dependency of the package, so every executor that can import linkage has it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame

from linkage.connection import registered
from linkage.contracts import FEATURES_TABLE
from linkage.model.features import DERIVED_COLUMNS, MODEL_INPUT_TABLE, build_model_input
from linkage.model.shared_phones import SharedPhones
from linkage.schema import COUNTY_CODE_WIDTH, FEATURE_COLUMNS, TOWNSHIP_CODE_WIDTH
from linkage.standardise._text import strip_ws
from linkage.standardise.address import address_table
from linkage.standardise.dates import clean_dob, parse_date
from linkage.standardise.id_number import IdInfo, parse_id, sorted_id
from linkage.standardise.name import name_table
from linkage.standardise.phone import normalise_phone
from linkage.standardise.sex import normalise_sex

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "VARCHAR[]": pa.list_(pa.string()),
}
_SPARK_TYPES = {
    "VARCHAR": "string", "BIGINT": "bigint", "INTEGER": "int", "BOOLEAN": "boolean",
    "DATE": "date", "VARCHAR[]": "array<string>",
}
MODEL_INPUT_TYPES: dict[str, str] = {
    **{column: sql_type for column, (sql_type, _meaning) in FEATURE_COLUMNS.items()},
    **DERIVED_COLUMNS,
}
FEATURES_SCHEMA = pa.schema([(c, _ARROW_TYPES[t]) for c, (t, _m) in FEATURE_COLUMNS.items()])
MODEL_INPUT_SCHEMA = pa.schema([(c, _ARROW_TYPES[t]) for c, t in MODEL_INPUT_TYPES.items()])
MODEL_INPUT_DDL = ", ".join(f"`{c}` {_SPARK_TYPES[t]}" for c, t in MODEL_INPUT_TYPES.items())


def _spread(values: list[str | None], table: Callable[[list[str]], pa.Table], key: str) -> pa.Table:
    """Convert each distinct non-NULL value once with ``table`` (whose column ``key`` holds
    the value); return its rows aligned with ``values`` (all NULL where the value is)."""
    converted = table(list(dict.fromkeys(v for v in values if v is not None)))
    positions = pc.index_in(pa.array(values, pa.string()), value_set=converted.column(key))
    return converted.drop_columns([key]).take(positions)


def _id_consistent(info: IdInfo, dob: date | None, sex: str | None) -> bool:
    """The ID is valid and fits the record: the Python form of the condition
    linkage.standardise.table.rows_sql computes (a day/month swap still fits)."""
    if info.status != "valid" or info.dob is None:
        return False
    swapped = dob is not None and (info.dob.year, info.dob.month, info.dob.day) == (
        dob.year, dob.day, dob.month)
    return (dob is None or info.dob == dob or swapped) and (sex is None or info.sex == sex)


def features_table(raw: pa.Table, today: date) -> pa.Table:
    """FEATURE_COLUMNS (schema.py) of raw input rows, by the Python references."""
    column: Callable[[str], list[Any]] = lambda name: raw.column(name).to_pylist()  # noqa: E731
    archive_ids, regions = column("archive_id"), column("region_code")
    ids = {v: parse_id(v, today) for v in set(column("id_number"))}
    sexes = {v: normalise_sex(v) for v in set(column("sex"))}
    phones = {v: normalise_phone(v) for v in set(column("phone"))}
    dates = {v: parse_date(v) for v in set(column("created_date")) | set(column("last_service_date"))}
    created = [dates[v] for v in column("created_date")]
    births = [clean_dob(b, c, today) for b, c in zip(column("birth_date"), created)]
    infos = [ids[v] for v in column("id_number")]
    sex = [sexes[v] for v in column("sex")]
    names = _spread(column("name"), name_table, "name_raw")
    addresses = _spread(column("address"), address_table, "address_raw")
    data: dict[str, Any] = {
        "archive_id": [None if a is None else strip_ws(a) for a in archive_ids],
        "row_number": raw.column("row_number"),
        "region_code": regions,
        "county": [None if r is None else r[:COUNTY_CODE_WIDTH] for r in regions],
        "township": [None if r is None else r[:TOWNSHIP_CODE_WIDTH] for r in regions],
        **{name: names.column(name) for name in names.column_names},
        "sex": sex,
        "dob": [d for d, _placeholder in births],
        "dob_raw_placeholder": [p for _d, p in births],
        "id_norm": [i.norm for i in infos],
        "id_valid": [i.status == "valid" for i in infos],
        "id_dob": [i.dob for i in infos],
        "id_consistent": [_id_consistent(i, d, s) for i, (d, _p), s in zip(infos, births, sex)],
        "id_sorted": [sorted_id(i.norm) for i in infos],
        "id_status": [i.status for i in infos],
        "phone_norm": [phones[v] for v in column("phone")],
        **{name: addresses.column(name) for name in addresses.column_names},
        "created_date": created,
        "last_service_date": [dates[v] for v in column("last_service_date")],
    }
    return pa.table({c: pa.array(data[c], f.type) if isinstance(data[c], list)
                     else data[c].cast(f.type) for c, f in zip(FEATURES_SCHEMA.names, FEATURES_SCHEMA)},
                    schema=FEATURES_SCHEMA)


def model_input_batches(batches: Iterator[pa.RecordBatch], today: date,
                        shared: SharedPhones) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: each batch of raw rows → its model input rows (same order);
    ``shared``: the phones counted over the whole population on the driver."""
    con = duckdb.connect()
    con.execute("SET threads = 1")  # one task, one core: Spark runs the tasks side by side
    try:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            with registered(con, FEATURES_TABLE, features_table(pa.Table.from_batches([batch]), today)):
                build_model_input(con, FEATURES_TABLE, MODEL_INPUT_TABLE, shared=shared)
            table = con.table(MODEL_INPUT_TABLE).to_arrow_table().select(MODEL_INPUT_SCHEMA.names)
            yield from table.cast(MODEL_INPUT_SCHEMA).to_batches()
            con.execute(f"DROP TABLE {MODEL_INPUT_TABLE}")
    finally:
        con.close()


def standardise(raw: DataFrame, shared: SharedPhones, today: date | None = None) -> DataFrame:
    """The model input of ``raw`` (input columns as strings plus ``row_number``), with the
    phones of ``shared`` blank (linkage.model.shared_phones)."""
    day = today or date.today()
    return raw.mapInArrow(lambda batches: model_input_batches(batches, day, shared), MODEL_INPUT_DDL)
