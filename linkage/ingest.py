"""Read the input table into DuckDB, map headers, and set aside rows that cannot be used.

Why Python's csv module rather than DuckDB's reader: every rejected row must be reported
with the row number a clerk sees in a spreadsheet, and DuckDB cannot number the rows it
accepts once it has skipped a malformed one.  The csv module reads ~1M rows/s here, which
is small next to linking.  Parquet goes straight through DuckDB.

Row numbers follow the spreadsheet convention: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from linkage.config import Config
from linkage.errors import InputError, SchemaError
from linkage.schema import INPUT_COLUMNS, REQUIRED_COLUMNS

RAW_TABLE = "raw_archives"
REJECTS_TABLE = "rejects"
_SNIFF_BYTES = 1 << 20


@dataclass(frozen=True)
class TableSpec:
    """Which columns a table has, their header aliases and which must be present.

    Archives and exam tables share one reader; each passes its own spec.
    """

    columns: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]


def archive_spec(config: Config) -> TableSpec:
    """The archives' spec: ``INPUT_COLUMNS`` with the ``[columns]`` aliases."""
    return TableSpec(INPUT_COLUMNS, config.columns, REQUIRED_COLUMNS)


@dataclass(frozen=True)
class IngestResult:
    """What was read: the accepted rows are in ``RAW_TABLE``, the rest in ``REJECTS_TABLE``."""

    rows_read: int
    rows_accepted: int
    rows_rejected: int
    encoding: str


def detect_encoding(path: Path) -> str:
    """Return 'utf-8-sig' or 'gb18030' after decoding the whole file; else an InputError.

    UTF-8 is tried first because GB18030 accepts almost any byte string, so a UTF-8 file
    would always "decode" as GB18030 into garbage.
    """
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_SNIFF_BYTES):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: unknown text encoding (expected UTF-8 or GB18030)")


def _map_header(header: list[str], spec: TableSpec, path: Path) -> dict[str, int]:
    """Map input column name -> position in the file, using the configured aliases."""
    normalised = [h.strip().lower() for h in header]
    mapping: dict[str, int] = {}
    for column, aliases in spec.aliases.items():
        for alias in aliases:
            key = alias.strip().lower()
            if key in normalised:
                mapping[column] = normalised.index(key)
                break
    missing = [c for c in spec.required if c not in mapping]
    if missing:
        raise SchemaError(f"{path}: missing required column(s): {', '.join(missing)}")
    return mapping


def _read_csv_rows(path: Path, spec: TableSpec) -> tuple[dict[str, list], list[dict], str, int]:
    encoding = detect_encoding(path)
    columns: dict[str, list] = {c: [] for c in spec.columns}
    row_numbers: list[int] = []
    rejects: list[dict] = []
    with path.open("r", encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise InputError(f"{path}: the file is empty")
        mapping = _map_header(header, spec, path)
        width = len(header)
        row_number = 1
        try:
            for record in reader:
                row_number += 1
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue  # blank line: not a record
                if len(record) != width:
                    rejects.append(_reject(row_number, None, "*",
                                           f"expected {width} fields, found {len(record)}"))
                    continue
                for column in spec.columns:
                    pos = mapping.get(column)
                    columns[column].append(record[pos] if pos is not None else None)
                row_numbers.append(row_number)
        except csv.Error as exc:
            raise InputError(f"{path}: row {row_number + 1}: unreadable CSV ({exc})") from None
    columns["row_number"] = row_numbers
    return columns, rejects, encoding, row_number - 1


def _reject(row: int, archive_id: str | None, field: str, reason: str) -> dict:
    return {"row": row, "archive_id": archive_id, "field": field, "reason": reason}


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, spec: TableSpec) -> None:
    """Parquet is typed and row-aligned: cast every column to text and number the rows."""
    source = str(path).replace("'", "''")
    try:
        names = [row[0] for row in con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{source}')").fetchall()]
    except duckdb.Error as exc:
        raise InputError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None
    mapping = _map_header(names, spec, path)
    select = ", ".join(
        f'CAST("{names[mapping[c]]}" AS VARCHAR) AS {c}' if c in mapping else f"NULL::VARCHAR AS {c}"
        for c in spec.columns
    )
    con.execute(f"""
        CREATE OR REPLACE TABLE {_LOADED} AS
        SELECT {select}, CAST(file_row_number + 2 AS BIGINT) AS row_number
        FROM read_parquet('{source}', file_row_number = true)
    """)


def load_table(con: duckdb.DuckDBPyConnection, path: Path | str, spec: TableSpec,
               target: str) -> tuple[list[dict], str]:
    """Read a CSV or Parquet file into table ``target``: the spec's columns as VARCHAR (NULL
    where the file lacks them) plus ``row_number``.  Returns the rows that could not be split
    into fields (dicts with row, archive_id=None, field '*', reason) and the encoding."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}")
    structural: list[dict] = []
    if path.suffix.lower() in {".parquet", ".pq"}:
        _read_parquet(con, path, spec)
        encoding = "parquet"
    else:
        encoding = detect_encoding(path)
        if not (encoding == "utf-8-sig" and _read_csv_with_duckdb(con, path, spec)):
            columns, structural, encoding, _ = _read_csv_rows(path, spec)
            _register_columns(con, columns)
    if target != _LOADED:
        con.execute(f"DROP TABLE IF EXISTS {target}")
        con.execute(f"ALTER TABLE {_LOADED} RENAME TO {target}")
    rows_read = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0] + len(structural)
    if rows_read == 0:
        raise InputError(f"{path}: the table has a header but no rows")
    return structural, encoding


def read_input(con: duckdb.DuckDBPyConnection, path: Path | str, config: Config) -> IngestResult:
    """Load ``path`` into ``RAW_TABLE`` (all VARCHAR + row_number) and ``REJECTS_TABLE``."""
    structural, encoding = load_table(con, path, archive_spec(config), _LOADED)
    rows_read = con.execute(f"SELECT count(*) FROM {_LOADED}").fetchall()[0][0] + len(structural)
    con.execute(_VALIDATE_SQL.format(loaded=_LOADED, raw=RAW_TABLE))
    reject_table = pa.Table.from_pylist(
        structural,
        schema=pa.schema([("row", pa.int64()), ("archive_id", pa.string()),
                          ("field", pa.string()), ("reason", pa.string())]),
    )
    con.register("_structural_rejects", reject_table)
    con.execute(f"""
        CREATE OR REPLACE TABLE {REJECTS_TABLE} AS
        SELECT * FROM _structural_rejects
        UNION ALL
        SELECT row_number AS row, reject_archive_id AS archive_id, reject_field AS field,
               reject_reason AS reason
        FROM _ingest_checked WHERE reject_reason IS NOT NULL
        ORDER BY row
    """)
    con.unregister("_structural_rejects")
    con.execute(f"DROP TABLE {_LOADED}")
    con.execute("DROP TABLE _ingest_checked")
    accepted = con.execute(f"SELECT count(*) FROM {RAW_TABLE}").fetchall()[0][0]
    return IngestResult(rows_read, accepted, rows_read - accepted, encoding)


_LOADED = "_ingest_loaded"

# Row-level checks, in the order a clerk would fix them.  The first row with an archive_id
# keeps it; later rows with the same archive_id are rejected, naming the first row.
_VALIDATE_SQL = """
CREATE OR REPLACE TABLE _ingest_checked AS
WITH t AS (
    SELECT * EXCLUDE (archive_id, region_code),
           nullif(trim(archive_id), '') AS archive_id,
           trim(coalesce(region_code, '')) AS region_code
    FROM {loaded}
),
k AS (
    SELECT *,
           archive_id IS NOT NULL AND regexp_full_match(archive_id, '[0-9A-Za-z_-]{{1,40}}') AS id_ok
    FROM t
),
d AS (
    SELECT *,
           CASE WHEN id_ok THEN min(row_number) OVER (PARTITION BY archive_id) END AS first_row
    FROM k
)
SELECT *,
       CASE
         WHEN archive_id IS NULL THEN 'blank archive_id'
         WHEN NOT id_ok THEN 'archive_id has characters other than letters and digits'
         WHEN first_row <> row_number THEN 'duplicate archive_id (first at row ' || first_row || ')'
         WHEN NOT regexp_full_match(region_code, '[0-9]{{12}}') THEN 'region_code must be 12 digits'
       END AS reject_reason,
       CASE WHEN archive_id IS NULL OR NOT id_ok OR first_row <> row_number THEN 'archive_id'
            ELSE 'region_code' END AS reject_field,
       CASE WHEN id_ok THEN archive_id END AS reject_archive_id
FROM d;
CREATE OR REPLACE TABLE {raw} AS
SELECT archive_id, name, sex, birth_date, id_number, region_code, address, phone,
       created_date, last_service_date, row_number
FROM _ingest_checked WHERE reject_reason IS NULL;
"""


def _register_columns(con: duckdb.DuckDBPyConnection, columns: dict[str, list]) -> None:
    arrays = {
        name: pa.array(values, type=pa.int64() if name == "row_number" else pa.string())
        for name, values in columns.items()
    }
    con.register("_ingest_arrow", pa.table(arrays))
    con.execute(f"CREATE OR REPLACE TABLE {_LOADED} AS SELECT * FROM _ingest_arrow")
    con.unregister("_ingest_arrow")


def _read_csv_with_duckdb(con: duckdb.DuckDBPyConnection, path: Path, spec: TableSpec) -> bool:
    """Fast path: DuckDB's parallel reader.  False (nothing loaded) if any row is malformed,
    so the careful reader can number every rejected row exactly."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), None)
    if header is None:
        raise InputError(f"{path}: the file is empty")
    mapping = _map_header(header, spec, path)
    if len(set(header)) != len(header) or any(not h for h in header):
        return False  # duplicate or blank header names: let the careful reader handle them
    types = ", ".join(f"'{h.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for h in header)
    select = ", ".join(
        f'"{header[mapping[c]]}" AS {c}' if c in mapping else f"NULL::VARCHAR AS {c}"
        for c in spec.columns
    )
    source = str(path).replace("'", "''")
    previous = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("SET preserve_insertion_order = true")  # row_number() OVER () = file order
    try:
        con.execute(f"""
            CREATE OR REPLACE TABLE {_LOADED} AS
            SELECT {select}, CAST(row_number() OVER () + 1 AS BIGINT) AS row_number
            FROM read_csv('{source}', header = true, auto_detect = false, columns = {{{types}}},
                          delim = ',', quote = '"', escape = '"', store_rejects = true,
                          rejects_table = '_ingest_rejects', rejects_scan = '_ingest_scans')
        """)
        rejected = con.execute("SELECT count(*) FROM _ingest_rejects").fetchall()[0][0]
    except duckdb.Error:
        rejected = 1
    finally:
        con.execute(f"SET preserve_insertion_order = {str(previous).lower()}")
    con.execute("DROP TABLE IF EXISTS _ingest_rejects")
    con.execute("DROP TABLE IF EXISTS _ingest_scans")
    if rejected:
        con.execute(f"DROP TABLE IF EXISTS {_LOADED}")
        return False
    return True
