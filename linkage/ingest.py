"""Read the input table into DuckDB, map headers, and set aside rows that cannot be used.

Two readers, one truth.  A clean UTF-8 file goes through DuckDB's parallel reader, but only
when that read is provably the same as the careful one: no row rejected, no blank line, and
exactly one record per physical line (so its row_number() is the spreadsheet row).  Any
other file - a malformed row, a blank line, a quoted line break, GB18030 - is read by
linkage.csv_records, which rejects a broken row alone (an unbalanced quote never swallows
the rows after it) and numbers rows as a spreadsheet does.  Both paths then share one
validation query: blank fields become NULL whichever reader produced them (so nightly
fingerprints do not see '' on one night and NULL on the next), over-long fields are
rejected per row.  Parquet goes straight through DuckDB after its column types are checked.

Row numbers follow the spreadsheet convention: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from linkage.connection import registered
from linkage.config import Config, InputLimits
from linkage.contracts import NamedTable
from linkage.csv_records import read_records, split_lines
from linkage.divisions import is_county_level_code
from linkage.errors import InputError, SchemaError, TooManyRejects
from linkage.model.shared_phones import NONE_SHARED, SharedPhones, shared_phones_of_rows
from linkage.schema import COUNTY_CODE_WIDTH, INPUT_COLUMNS, REQUIRED_COLUMNS
from linkage.standardise.dates import unreadable_date_sql

log = logging.getLogger(__name__)

RAW_TABLE = "raw_archives"
REJECTS_TABLE = "rejects"
# Accepted archives whose non-blank birth_date is no date the engine reads (archive_id,
# row_number): kept with an unknown birth date, and counted in summary.json.
UNREADABLE_DOB_TABLE = "unreadable_birth_dates"
_ROWS_NAMED = 5  # rows a warning names before "..."
_SNIFF_BYTES = 1 << 20


@dataclass(frozen=True)
class TableSpec:
    """Which columns a table has, their header aliases and which must be present.

    Archives and exam tables share one reader; each passes its own spec.  ``parquet_types``
    lists, per column, the Parquet types that hold it without loss (None: any type, cast to
    text and judged by the table's own validation, as exam measurements are).
    """

    columns: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    parquet_types: Mapping[str, tuple[str, ...]] | None = None
    limits: InputLimits = field(default_factory=InputLimits)


def archive_spec(config: Config) -> TableSpec:
    """The archives' spec: ``INPUT_COLUMNS`` with the ``[columns]`` aliases."""
    return TableSpec(INPUT_COLUMNS, config.columns, REQUIRED_COLUMNS, _PARQUET_TYPES, config.input)


@dataclass(frozen=True)
class IngestResult:
    """What was read: the accepted rows are in ``raw``, the rest in ``rejects``."""

    rows_read: int
    rows_accepted: int
    rows_rejected: int
    encoding: str
    raw: NamedTable
    rejects: NamedTable
    unreadable_birth_dates: int = 0
    # numbers on too many archives of the export to be a household's (every row the reader
    # could split into fields counts, accepted or not: linkage.model.shared_phones)
    shared_phones: SharedPhones = NONE_SHARED


def detect_encoding(path: Path) -> str:
    """Return the file's encoding as a user would name it: 'utf-8', 'utf-8-sig' (UTF-8 that
    starts with a byte-order mark) or 'gb18030', after decoding the whole file; when neither
    decodes every byte, the one that fails on fewer lines, marked ``+lossy``: those lines are
    rejected one by one (linkage.ingest._read_csv_rows), not the file.

    UTF-8 is tried first because GB18030 accepts almost any byte string, so a UTF-8 file
    would always "decode" as GB18030 into garbage.  Both UTF-8 names are read with the
    'utf-8-sig' codec (:func:`read_codec`), which drops a BOM and is plain UTF-8 without one:
    the name only says what the file is (summary.json reported 'utf-8-sig' for every UTF-8
    file, BOM or not).
    """
    for codec in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(codec)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_SNIFF_BYTES):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return _name(codec, path)
        except UnicodeDecodeError:
            continue
    data = path.read_bytes()
    bad_lines = {codec: len(_UNDECODED_LINE.findall(data.decode(codec, errors="surrogateescape")))
                 for codec in ("utf-8-sig", "gb18030")}
    best = min(bad_lines, key=lambda codec: (bad_lines[codec], codec != "utf-8-sig"))
    name = _name(best, path)
    log.warning("%s: %d line(s) hold bytes that are not %s text; their rows are rejected",
                path.name, bad_lines[best], name)
    return name + LOSSY


def _name(codec: str, path: Path) -> str:
    """The reported name of a file read with ``codec``: 'utf-8' unless it starts with a BOM."""
    if codec != "utf-8-sig":
        return codec
    with path.open("rb") as handle:
        return "utf-8-sig" if handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8 else "utf-8"


def read_codec(encoding: str) -> str:
    """The codec that reads a file of ``detect_encoding``'s ``encoding`` (``+lossy`` or not)."""
    name = encoding.removesuffix(LOSSY)
    return "utf-8-sig" if name in _UTF8_NAMES else name


# A line holding a byte the encoding could not decode (kept as a lone surrogate).
_UNDECODED = re.compile("[\udc80-\udcff]")
_UNDECODED_LINE = re.compile("^.*[\udc80-\udcff].*$", re.MULTILINE)
LOSSY = "+lossy"
_UTF8_NAMES = ("utf-8", "utf-8-sig")  # without and with a BOM: both read as 'utf-8-sig'


def _map_header(header: list[str], spec: TableSpec, path: Path) -> dict[str, int]:
    """Map input column name -> position in the file, using the configured aliases."""
    normalised = [h.strip().lower() for h in header]
    mapping: dict[str, int] = {}
    for column, aliases in spec.aliases.items():
        keys = {alias.strip().lower() for alias in aliases}
        positions = [i for i, h in enumerate(normalised) if h in keys]
        if len(positions) > 1:
            # name and 姓名, or name twice: which one holds the names?  Taking the first
            # would link on a column the site never meant.
            named = ", ".join(f"column {i + 1} ({header[i].strip()!r})" for i in positions)
            raise SchemaError(f"{path}: header row: {named} all name the field {column!r}; "
                              "keep one of them")
        if positions:
            mapping[column] = positions[0]
    missing = [c for c in spec.required if c not in mapping]
    if missing:
        raise SchemaError(f"{path}: missing required column(s): {', '.join(missing)}"
                          + _separator_hint(header))
    return mapping


# Separators a spreadsheet or database export may use instead of the comma.
_OTHER_SEPARATORS = {"\t": "tab", ";": "semicolon", "|": "vertical bar"}


def _separator_hint(header: list[str]) -> str:
    """Why the header may have no known column: the whole line is one field holding tabs or
    semicolons, so the file is not comma-separated."""
    if len(header) != 1:
        return ""
    for separator, name in _OTHER_SEPARATORS.items():
        if header[0].count(separator) >= len(REQUIRED_COLUMNS) - 1:
            return (f" - the header line holds {name}s and no commas: the file looks "
                    f"{name}-separated; the input must be comma-separated CSV (or Parquet)")
    return ""


def _read_csv_rows(path: Path, spec: TableSpec, encoding: str) -> tuple[dict[str, list], list[dict]]:
    """Every record of the file by linkage.csv_records: columns of the good rows, rejects."""
    codec, lossy = read_codec(encoding), encoding.endswith(LOSSY)
    name = encoding.removesuffix(LOSSY)  # as summary.json says it: 'utf-8' unless a BOM
    text = path.read_text(encoding=codec, errors="surrogateescape")
    lines = split_lines(text)
    if not lines:
        raise InputError(f"{path}: the file is empty")
    if lossy and _UNDECODED.search(lines[0]):
        raise InputError(f"{path}: unknown text encoding: the header row is neither UTF-8 nor "
                         "GB18030 text")
    header = next(csv.reader([lines[0]]), [])
    mapping = _map_header(header, spec, path)
    width = len(header)
    columns: dict[str, list] = {c: [] for c in spec.columns}
    row_numbers: list[int] = []
    rejects: list[dict] = []
    positions = [(column, mapping.get(column)) for column in spec.columns]
    column_at = {pos: column for column, pos in positions if pos is not None}
    id_pos = mapping.get("archive_id", width)
    for record in read_records(lines, width, spec.limits.max_record_lines):
        if record.fields is None:
            salvaged = next(csv.reader([record.line or ""]), [])
            rejects.append(_reject(record.row, _archive_id_of(salvaged, id_pos), "*",
                                   record.problem or "unreadable row"))
            continue
        if not record.fields:
            continue  # blank line: not a record
        if len(record.fields) != width:
            rejects.append(_reject(record.row, _archive_id_of(record.fields, id_pos), "*",
                                   f"expected {width} fields, found {len(record.fields)}"))
            continue
        # Only a lossy read holds undecoded bytes: a clean file skips the check per field.
        bad = [i for i, value in enumerate(record.fields) if _UNDECODED.search(value)] if lossy else []
        if bad:
            rejects.append(_reject(record.row, _archive_id_of(record.fields, id_pos),
                                   column_at.get(bad[0], "*"), f"bytes that are not {name} text"))
            continue
        for column, pos in positions:
            columns[column].append(record.fields[pos] if pos is not None else None)
        row_numbers.append(record.row)
    columns["row_number"] = row_numbers
    return columns, rejects


# What an archive_id may look like (letters, digits, _ and -, not starting with -, which a
# spreadsheet reads as a formula; at most 40): one pattern for the validation query and for
# naming the archive of a broken row.
ARCHIVE_ID_PATTERN = "[0-9A-Za-z_][0-9A-Za-z_-]{0,39}"
ARCHIVE_ID_RULE = "archive_id must be 1-40 letters, digits, '_' or '-', not starting with '-'"
_ARCHIVE_ID_RE = re.compile(ARCHIVE_ID_PATTERN)


def _archive_id_of(fields: list[str], position: int) -> str | None:
    """The archive_id of a broken row when its field still reads as one: a nightly run then
    keeps last night's version of that archive instead of counting it as vanished."""
    if position < len(fields):
        value = fields[position].strip()
        if _ARCHIVE_ID_RE.fullmatch(value):
            return value
    return None


def _reject(row: int, archive_id: str | None, field: str, reason: str) -> dict:
    return {"row": row, "archive_id": archive_id, "field": field, "reason": reason}


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, spec: TableSpec) -> None:
    """Parquet is typed and row-aligned: cast every column to text and number the rows."""
    source = str(path).replace("'", "''")
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{source}')").fetchall()
    except duckdb.Error as exc:
        raise InputError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None
    names = [row[0] for row in described]
    mapping = _map_header(names, spec, path)
    allowed = spec.parquet_types
    wrong = [f"{names[pos]} ({described[pos][1]})" for column, pos in mapping.items()
             if allowed is not None
             and str(described[pos][1]).upper() not in allowed.get(column, _TEXT_TYPES)]
    if wrong:
        raise SchemaError(
            f"{path}: column(s) of a type that cannot hold this field exactly: {', '.join(wrong)} "
            "- write identifiers, codes and phones as text (VARCHAR), dates as text or DATE")
    select = ", ".join(
        f'CAST("{names[mapping[c]]}" AS VARCHAR) AS {c}' if c in mapping else f"NULL::VARCHAR AS {c}"
        for c in spec.columns
    )
    con.execute(f"""
        CREATE OR REPLACE TABLE {_LOADED} AS
        SELECT {select}, CAST(file_row_number + 2 AS BIGINT) AS row_number
        FROM read_parquet('{source}', file_row_number = true)
    """)


# Parquet types that carry each field without loss.  Floats turn 18-digit IDs into
# 4.40524E+17 and drop leading zeros; binary is not text: both are refused, not cast.
_TEXT_TYPES = ("VARCHAR",)
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                  "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
_DATE_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS",
               "TIMESTAMP_S")
_PARQUET_TYPES: dict[str, tuple[str, ...]] = {
    "archive_id": _TEXT_TYPES + _INTEGER_TYPES,
    "name": _TEXT_TYPES,
    "sex": _TEXT_TYPES + _INTEGER_TYPES,
    "birth_date": _TEXT_TYPES + _DATE_TYPES + _INTEGER_TYPES,
    "id_number": _TEXT_TYPES + _INTEGER_TYPES,
    "region_code": _TEXT_TYPES + _INTEGER_TYPES,
    "address": _TEXT_TYPES,
    "phone": _TEXT_TYPES + _INTEGER_TYPES,
    "created_date": _TEXT_TYPES + _DATE_TYPES + _INTEGER_TYPES,
    "last_service_date": _TEXT_TYPES + _DATE_TYPES + _INTEGER_TYPES,
}


def missing_input(path: Path | str) -> InputError:
    """The error for an input path that is no file: a folder is named as one (a clerk who
    passes the export folder should not read "not found")."""
    if Path(path).is_dir():
        return InputError(f"input is a folder, not a file: {path} (give the export's CSV or Parquet file)")
    return InputError(f"input file not found: {path}")


def load_table(con: duckdb.DuckDBPyConnection, path: Path | str, spec: TableSpec,
               target: str) -> tuple[list[dict], str]:
    """Read a CSV or Parquet file into table ``target``: the spec's columns as VARCHAR (NULL
    where the file lacks them) plus ``row_number``.  Returns the rows that could not be split
    into fields (dicts with row, archive_id, field '*', reason) and the encoding."""
    path = Path(path)
    if not path.is_file():
        raise missing_input(path)
    structural: list[dict] = []
    if path.suffix.lower() in {".parquet", ".pq"}:
        _read_parquet(con, path, spec)
        encoding = "parquet"
    else:
        encoding = detect_encoding(path)
        if not (encoding in _UTF8_NAMES and _read_csv_with_duckdb(con, path, spec)):
            columns, structural = _read_csv_rows(path, spec, encoding)
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
    path = Path(path)
    structural, encoding = load_table(con, path, archive_spec(config), _LOADED)
    rows_read = con.execute(f"SELECT count(*) FROM {_LOADED}").fetchall()[0][0] + len(structural)
    con.execute(_validate_sql(config.input.max_field_chars))
    _reject_unknown_counties(con)
    con.execute(f"""
        CREATE OR REPLACE TABLE {RAW_TABLE} AS
        SELECT archive_id, name, sex, birth_date, id_number, region_code, address, phone,
               created_date, last_service_date, row_number
        FROM _ingest_checked WHERE reject_reason IS NULL
    """)
    reject_table = pa.Table.from_pylist(
        structural,
        schema=pa.schema([("row", pa.int64()), ("archive_id", pa.string()),
                          ("field", pa.string()), ("reason", pa.string())]),
    )
    with registered(con, "_structural_rejects", reject_table):
        con.execute(f"""
            CREATE OR REPLACE TABLE {REJECTS_TABLE} AS
            SELECT * FROM _structural_rejects
            UNION ALL
            SELECT row_number AS row, reject_archive_id AS archive_id, reject_field AS field,
                   reject_reason AS reason
            FROM _ingest_checked WHERE reject_reason IS NOT NULL
            ORDER BY row
        """)
    shared = shared_phones_of_rows(con, "_ingest_checked", config.limits.max_archives_per_phone)
    con.execute(f"DROP TABLE {_LOADED}")
    con.execute("DROP TABLE _ingest_checked")
    accepted = con.execute(f"SELECT count(*) FROM {RAW_TABLE}").fetchall()[0][0]
    _refuse_broken_export(con, path, rows_read, rows_read - accepted, config.input.max_rejected_share)
    return IngestResult(
        rows_read, accepted, rows_read - accepted, encoding,
        NamedTable(RAW_TABLE, "accepted input rows: the input columns as VARCHAR, and row_number"),
        NamedTable(REJECTS_TABLE, "refused input rows: row, archive_id, field, reason"),
        _note_unreadable_birth_dates(con, path), shared)


def _note_unreadable_birth_dates(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Fill ``UNREADABLE_DOB_TABLE`` and say how many there are: an archive whose birth_date
    is 04/03/1985, 85-3-4 or 农历三月初四 is kept (rejecting it would lose the resident), but
    it links as if the date were blank, so the run must not pass over it in silence.  The
    warning names row numbers and the field, never a value (no PII in logs)."""
    con.execute(f"""
        CREATE OR REPLACE TABLE {UNREADABLE_DOB_TABLE} AS
        SELECT archive_id, row_number
        FROM ({unreadable_date_sql(RAW_TABLE, "birth_date", "_unreadable")})
        WHERE _unreadable ORDER BY row_number
    """)
    count, first = con.execute(
        f"SELECT count(*), list(row_number ORDER BY row_number)[1:{_ROWS_NAMED}] "
        f"FROM {UNREADABLE_DOB_TABLE}").fetchall()[0]
    if count:
        rows = ", ".join(map(str, first)) + (", ..." if count > len(first) else "")
        log.warning("%s: %d archive(s) have a birth_date that is not a date the engine reads "
                    "(rows %s); they are kept, linked as if their birth date were blank. "
                    "Dates read: YYYY-MM-DD, YYYYMMDD, YYYY/M/D, YYYY.M.D, YYYY年M月D日 (a time "
                    "may follow), Excel day numbers; never DD/MM/YYYY or two-digit years",
                    path.name, count, rows)
    return int(count)


def _refuse_broken_export(con: duckdb.DuckDBPyConnection, path: Path, rows_read: int,
                          rejected: int, max_share: float) -> None:
    """Stop before any work when the file, not a few rows, is broken: linking the fraction
    that survived would retire the rest (a nightly run) or report a county as emptied."""
    if rejected == 0 or (rejected < rows_read and rejected <= max_share * rows_read):
        return
    worst = con.execute(f"""
        SELECT field, count(*) AS n, min(row) AS first_row, arg_min(reason, row) AS reason
        FROM {REJECTS_TABLE} GROUP BY field ORDER BY n DESC, field LIMIT 3
    """).fetchall()
    causes = "; ".join(f"{field}: {n} row{'s' if n > 1 else ''}, first at row {first} ({reason})"
                       for field, n, first, reason in worst)
    what = "every row was" if rejected == rows_read else (
        f"{rejected} of {rows_read} rows ({rejected / rows_read:.1%}) were")
    raise TooManyRejects(
        f"{path}: {what} rejected, more than [input] max_rejected_share = {max_share:.0%} allows; "
        f"nothing was published. {causes}")


_LOADED = "_ingest_loaded"

# Row-level checks, in the order a clerk would fix them.  The first row with an archive_id
# keeps it; later rows with the same archive_id are rejected, naming the first row.  Blank
# fields become NULL here, whichever reader loaded them.
_VALIDATE_SQL = """
CREATE OR REPLACE TABLE _ingest_checked AS
WITH t AS (
    SELECT {blank_to_null},
           nullif(trim(archive_id), '') AS archive_id,
           trim(coalesce(region_code, '')) AS region_code,
           row_number
    FROM {loaded}
),
k AS (
    SELECT *,
           archive_id IS NOT NULL AND regexp_full_match(archive_id, '{id_pattern}') AS id_ok,
           {too_long} AS too_long
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
         WHEN NOT id_ok THEN '{id_rule}'
         WHEN first_row <> row_number THEN 'duplicate archive_id (first at row ' || first_row || ')'
         WHEN too_long IS NOT NULL THEN 'longer than {max_chars} characters'
         WHEN NOT regexp_full_match(region_code, '[0-9]{{12}}') THEN 'region_code must be 12 digits'
       END AS reject_reason,
       CASE WHEN archive_id IS NULL OR NOT id_ok OR first_row <> row_number THEN 'archive_id'
            WHEN too_long IS NOT NULL THEN too_long
            ELSE 'region_code' END AS reject_field,
       -- as typed (shortened) when it is what is wrong, so the clerk can find the row
       CASE WHEN id_ok THEN archive_id ELSE left(archive_id, 60) END AS reject_archive_id
FROM d;
"""

UNKNOWN_COUNTY = ("region_code names no county (none in GB/T 2260 1980-2024 or NBS 2023, nor a "
                  "prefecture-level city without counties)")


def _reject_unknown_counties(con: duckdb.DuckDBPyConnection) -> None:
    """A 12-digit code whose first six digits were never a county cannot be placed (which
    county would merge or migrate it?): its row is rejected, not linked into a county that
    does not exist.  Checked per distinct county code against the shipped division table; a
    prefecture-level city without counties (东莞 441900, 嘉峪关 620200) is its own county."""
    counties = [r[0] for r in con.execute(
        f"SELECT DISTINCT left(region_code, {COUNTY_CODE_WIDTH}) FROM _ingest_checked WHERE reject_reason IS NULL"
    ).fetchall()]
    unknown = sorted(c for c in counties if not is_county_level_code(c))
    if unknown:
        con.execute(
            "UPDATE _ingest_checked SET reject_reason = ?, reject_field = 'region_code' "
            f"WHERE reject_reason IS NULL AND list_contains(?, left(region_code, {COUNTY_CODE_WIDTH}))",
            [UNKNOWN_COUNTY, unknown])


def _validate_sql(max_field_chars: int) -> str:
    """The validation query for this run's field-length limit."""
    others = [c for c in INPUT_COLUMNS if c not in ("archive_id", "region_code")]
    blank_to_null = ", ".join(f"nullif({c}, '') AS {c}" for c in others)
    too_long = "CASE " + " ".join(
        f"WHEN length({c}) > {int(max_field_chars)} THEN '{c}'" for c in INPUT_COLUMNS
    ) + " END"
    return _VALIDATE_SQL.format(loaded=_LOADED, blank_to_null=blank_to_null,
                                id_pattern=ARCHIVE_ID_PATTERN, id_rule=ARCHIVE_ID_RULE.replace("'", "''"),
                                too_long=too_long, max_chars=int(max_field_chars))


def _register_columns(con: duckdb.DuckDBPyConnection, columns: dict[str, list]) -> None:
    arrays = {
        name: pa.array(values, type=pa.int64() if name == "row_number" else pa.string())
        for name, values in columns.items()
    }
    with registered(con, "_ingest_arrow", pa.table(arrays)):
        con.execute(f"CREATE OR REPLACE TABLE {_LOADED} AS SELECT * FROM _ingest_arrow")


def _read_csv_with_duckdb(con: duckdb.DuckDBPyConnection, path: Path, spec: TableSpec) -> bool:
    """Fast path: DuckDB's parallel reader.  False (nothing loaded) unless its read is the
    careful reader's: no row rejected, and one record per physical line after the header
    (a blank line, which DuckDB skips, or a quoted line break would shift row numbers)."""
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
    if not rejected:
        loaded = con.execute(f"SELECT count(*) FROM {_LOADED}").fetchall()[0][0]
        rejected = loaded != _physical_lines(path) - 1
    if rejected:
        con.execute(f"DROP TABLE IF EXISTS {_LOADED}")
        return False
    return True


def _physical_lines(path: Path) -> int:
    """Lines in the file, a last line without a line end included."""
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(_SNIFF_BYTES):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")
