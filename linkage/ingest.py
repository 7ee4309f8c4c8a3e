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
import re
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
_REGION_CODE = re.compile(r"^\d{12}$")
_ARCHIVE_ID = re.compile(r"^[0-9A-Za-z_-]{1,40}$")


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


def _map_header(header: list[str], config: Config, path: Path) -> dict[str, int]:
    """Map input column name -> position in the file, using the configured aliases."""
    normalised = [h.strip().lower() for h in header]
    mapping: dict[str, int] = {}
    for column, aliases in config.columns.items():
        for alias in aliases:
            key = alias.strip().lower()
            if key in normalised:
                mapping[column] = normalised.index(key)
                break
    missing = [c for c in REQUIRED_COLUMNS if c not in mapping]
    if missing:
        raise SchemaError(f"{path}: missing required column(s): {', '.join(missing)}")
    return mapping


def _read_csv_rows(path: Path, config: Config) -> tuple[dict[str, list], list[dict], str, int]:
    encoding = detect_encoding(path)
    columns: dict[str, list] = {c: [] for c in INPUT_COLUMNS}
    row_numbers: list[int] = []
    rejects: list[dict] = []
    with path.open("r", encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise InputError(f"{path}: the file is empty")
        mapping = _map_header(header, config, path)
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
                for column in INPUT_COLUMNS:
                    pos = mapping.get(column)
                    columns[column].append(record[pos] if pos is not None else None)
                row_numbers.append(row_number)
        except csv.Error as exc:
            raise InputError(f"{path}: row {row_number + 1}: unreadable CSV ({exc})") from None
    columns["row_number"] = row_numbers
    return columns, rejects, encoding, row_number - 1


def _reject(row: int, archive_id: str | None, field: str, reason: str) -> dict:
    return {"row": row, "archive_id": archive_id, "field": field, "reason": reason}


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, config: Config) -> dict[str, list]:
    try:
        rel = con.read_parquet(str(path))
    except duckdb.Error as exc:
        raise InputError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None
    mapping = _map_header(list(rel.columns), config, path)
    select = ", ".join(
        f'CAST("{rel.columns[mapping[c]]}" AS VARCHAR) AS {c}' if c in mapping else f"NULL::VARCHAR AS {c}"
        for c in INPUT_COLUMNS
    )
    table = rel.query("src", f"SELECT {select}, CAST(row_number() OVER () + 1 AS BIGINT) AS row_number FROM src").to_arrow_table()
    return {name: table.column(name).to_pylist() for name in table.column_names}


def read_input(con: duckdb.DuckDBPyConnection, path: Path | str, config: Config) -> IngestResult:
    """Load ``path`` into ``RAW_TABLE`` (all VARCHAR + row_number) and ``REJECTS_TABLE``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}")
    if path.suffix.lower() in {".parquet", ".pq"}:
        columns, rejects, encoding = _read_parquet(con, path, config), [], "parquet"
        rows_read = len(columns["row_number"])
    else:
        columns, rejects, encoding, rows_read = _read_csv_rows(path, config)
    accepted = _validate_rows(columns, rejects)
    if rows_read == 0:
        raise InputError(f"{path}: the table has a header but no rows")
    con.register("_accepted_arrow", accepted)
    con.execute(f"CREATE OR REPLACE TABLE {RAW_TABLE} AS SELECT * FROM _accepted_arrow")
    con.unregister("_accepted_arrow")
    reject_table = pa.Table.from_pylist(
        rejects,
        schema=pa.schema([("row", pa.int64()), ("archive_id", pa.string()),
                          ("field", pa.string()), ("reason", pa.string())]),
    )
    con.register("_rejects_arrow", reject_table)
    con.execute(f"CREATE OR REPLACE TABLE {REJECTS_TABLE} AS SELECT * FROM _rejects_arrow ORDER BY row")
    con.unregister("_rejects_arrow")
    return IngestResult(rows_read, accepted.num_rows, len(rejects), encoding)


def _validate_rows(columns: dict[str, list], rejects: list[dict]) -> pa.Table:
    """Keep rows with a usable archive_id (first occurrence wins) and a 12-digit region code."""
    keep: list[int] = []
    first_seen: dict[str, int] = {}
    ids = columns["archive_id"]
    regions = columns["region_code"]
    rows = columns["row_number"]
    for i, row in enumerate(rows):
        archive_id = (ids[i] or "").strip()
        region = (regions[i] or "").strip()
        if not archive_id:
            rejects.append(_reject(row, None, "archive_id", "blank archive_id"))
        elif not _ARCHIVE_ID.match(archive_id):
            rejects.append(_reject(row, None, "archive_id", "archive_id has characters other than letters and digits"))
        elif archive_id in first_seen:
            rejects.append(_reject(row, archive_id, "archive_id",
                                   f"duplicate archive_id (first at row {first_seen[archive_id]})"))
        elif not _REGION_CODE.match(region):
            first_seen[archive_id] = row
            rejects.append(_reject(row, archive_id, "region_code", "region_code must be 12 digits"))
        else:
            first_seen[archive_id] = row
            ids[i] = archive_id
            regions[i] = region
            keep.append(i)
    arrays = {}
    for name, values in columns.items():
        arr = pa.array(values, type=pa.int64() if name == "row_number" else pa.string())
        arrays[name] = arr.take(pa.array(keep, type=pa.int64()))
    return pa.table(arrays)
