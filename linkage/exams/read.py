"""Read an exam table (CSV UTF-8/GB18030 or Parquet) into DuckDB, typed, and set bad values aside.

The file is read by linkage.ingest (same encodings, header mapping, structural rejects) with
the exam columns and ``[exams.columns]`` aliases.  Then two kinds of rejects, both listed in
``EXAM_REJECTS`` with row and field:

* a whole row, when it cannot be placed: blank or duplicate exam_id, blank archive_id,
  an exam_date that is not a date, a region_code that is not 12 digits;
* one value, when it is not a number, is outside the plausible range (a unit mix-up is
  named), or a diastolic pressure is not below its systolic.  The value becomes NULL, the
  exam stays: its other indicators still count, and the exam counts as implausible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from linkage.connection import registered
from linkage.schema import COUNTY_CODE_WIDTH, TOWNSHIP_CODE_WIDTH
from linkage.exams.settings import EXAM_COLUMNS, INDICATORS, REQUIRED_EXAM_COLUMNS, ExamSettings
from linkage.exams.values import NOT_A_NUMBER, check_value_sql, fast_sql, parse_value_sql, prepared_sql
from linkage.ingest import TableSpec, load_table
from linkage.standardise._text import sql_str
from linkage.standardise.dates import parse_date_sql

EXAMS = "exams"
EXAM_REJECTS = "exam_rejects"
_LOADED = "_exams_loaded"
_SIDES = (("sbp_left", "dbp_left"), ("sbp_right", "dbp_right"))
NOT_BELOW_SYSTOLIC = "not below the systolic pressure (neither is compared)"


@dataclass(frozen=True)
class ExamReadResult:
    rows_read: int
    exams: int
    rows_rejected: int
    values_rejected: int
    encoding: str


def window_sql(window: str, day: str) -> str:
    """The window bucket of a DATE expression: exams in one bucket are compared."""
    return {
        "year": f"CAST(year({day}) AS VARCHAR)",
        "half": f"year({day}) || '-H' || CASE WHEN month({day}) <= 6 THEN 1 ELSE 2 END",
        "quarter": f"year({day}) || '-Q' || quarter({day})",
        "month": f"strftime({day}, '%Y-%m')",
        "all": "'all'",
    }[window]


def read_exams(con: duckdb.DuckDBPyConnection, path: Path | str, settings: ExamSettings) -> ExamReadResult:
    """Load ``path`` into ``EXAMS`` (typed, one row per accepted exam) and ``EXAM_REJECTS``."""
    spec = TableSpec(EXAM_COLUMNS, settings.columns, REQUIRED_EXAM_COLUMNS)
    structural, encoding = load_table(con, path, spec, _LOADED)
    con.execute(_ROWS_SQL.format(dated=parse_date_sql(_STAGE_ROWS, "exam_date", "exam_day")))
    con.execute(_fields_sql(settings))
    structural_rows = pa.Table.from_pylist(
        [{"row": r["row"], "field": r["field"], "reason": r["reason"]} for r in structural],
        schema=pa.schema([("row", pa.int64()), ("field", pa.string()), ("reason", pa.string())]))
    value_rejects = " UNION ALL ".join(
        f"SELECT row_number AS row, exam_id, {sql_str(i)} AS field, {i}__why AS reason "
        f"FROM _exams_fields WHERE {i}__why IS NOT NULL" for i in INDICATORS)
    with registered(con, "_exam_structural", structural_rows):
        con.execute(f"""
            CREATE OR REPLACE TABLE {EXAM_REJECTS} AS
            SELECT row, NULL::VARCHAR AS exam_id, field, reason FROM _exam_structural
            UNION ALL
            SELECT row_number, CASE WHEN id_ok THEN eid END, reject_field, reject_reason
            FROM _exams_rows WHERE reject_reason IS NOT NULL
            UNION ALL {value_rejects}
            ORDER BY row, field
        """)
    implausible = " OR ".join(
        f"({i}__why IS NOT NULL AND {i}__why <> {sql_str(NOT_A_NUMBER)})" for i in INDICATORS)
    con.execute(f"""
        CREATE OR REPLACE TABLE {EXAMS} AS
        SELECT exam_id, archive_id, exam_date, region_code,
               left(region_code, {COUNTY_CODE_WIDTH}) AS county,
               left(region_code, {TOWNSHIP_CODE_WIDTH}) AS township, institution, doctor,
               {', '.join(INDICATORS)}, row_number, ({implausible}) AS implausible,
               {window_sql(settings.window, 'exam_date')} AS win
        FROM _exams_fields ORDER BY exam_id
    """)
    rows_rejected = con.execute(
        "SELECT count(*) FROM _exams_rows WHERE reject_reason IS NOT NULL").fetchall()[0][0] + len(structural)
    values_rejected, exams = con.execute(
        f"SELECT (SELECT count(*) FROM {EXAM_REJECTS}) - ?, (SELECT count(*) FROM {EXAMS})",
        [rows_rejected]).fetchall()[0]
    for table in (_LOADED, "_exams_rows", "_exams_fields"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return ExamReadResult(exams + rows_rejected, exams, rows_rejected, values_rejected, encoding)


_STAGE_ROWS = f"""(
    SELECT *, eid IS NOT NULL AND regexp_full_match(eid, '[0-9A-Za-z_-]{{1,40}}') AS id_ok
    FROM (SELECT * EXCLUDE (region_code, institution, doctor),
                 nullif(trim(exam_id), '') AS eid, nullif(trim(archive_id), '') AS aid,
                 trim(coalesce(region_code, '')) AS region_code,
                 nullif(trim(institution), '') AS institution, nullif(trim(doctor), '') AS doctor
          FROM {_LOADED}))"""

# Whole-row checks, in the order a clerk would fix them; the first row of an exam_id keeps it.
_ROWS_SQL = """
CREATE OR REPLACE TABLE _exams_rows AS
WITH dated AS ({dated}),
d AS (SELECT *, CASE WHEN id_ok THEN min(row_number) OVER (PARTITION BY eid) END AS first_row
      FROM dated)
SELECT *,
  CASE
    WHEN eid IS NULL THEN 'blank exam_id'
    WHEN NOT id_ok THEN 'exam_id has characters other than letters and digits'
    WHEN first_row <> row_number THEN 'duplicate exam_id (first at row ' || first_row || ')'
    WHEN aid IS NULL THEN 'blank archive_id'
    WHEN exam_day IS NULL THEN 'exam_date is not a date'
    WHEN NOT regexp_full_match(region_code, '[0-9]{{12}}') THEN 'region_code must be 12 digits'
  END AS reject_reason,
  CASE
    WHEN eid IS NULL OR NOT id_ok OR first_row <> row_number THEN 'exam_id'
    WHEN aid IS NULL THEN 'archive_id'
    WHEN exam_day IS NULL THEN 'exam_date'
    ELSE 'region_code'
  END AS reject_field
FROM d
"""


def _fields_sql(settings: ExamSettings) -> str:
    """Parse, range-check and cross-check every indicator of the accepted rows."""
    fast = ", ".join(f"{fast_sql(i)} AS {i}__f" for i in INDICATORS)
    prepared = ", ".join(f"{prepared_sql(i)} AS {i}__p" for i in INDICATORS)
    parsed = []
    for i in INDICATORS:
        value, problem = parse_value_sql(i)
        parsed.append(f"{value} AS {i}__v, {problem} AS {i}__np")
    checked = ", ".join(
        f"coalesce({i}__np, {check_value_sql(i + '__v', settings.ranges[i])}) AS {i}__w" for i in INDICATORS)
    # A diastolic at or above its systolic: one of them is wrong, so neither is used.
    crossed = []
    for i in INDICATORS:
        why = f"{i}__w"
        for sbp, dbp in _SIDES:
            if i == dbp:
                why = (f"CASE WHEN {sbp}__w IS NULL AND {dbp}__w IS NULL AND {dbp}__v >= {sbp}__v "
                       f"THEN {sql_str(NOT_BELOW_SYSTOLIC)} ELSE {dbp}__w END")
        crossed.append(f"{why} AS {i}__why")
    nulled = []
    for i in INDICATORS:
        pair = next(((s, d) for s, d in _SIDES if i in (s, d)), None)
        bad = f"{i}__why IS NOT NULL" if pair is None else f"{i}__why IS NOT NULL OR {pair[1]}__why = {sql_str(NOT_BELOW_SYSTOLIC)}"
        nulled.append(f"CASE WHEN {bad} THEN NULL ELSE {i}__v END AS {i}")
    return f"""
    CREATE OR REPLACE TABLE _exams_fields AS
    SELECT eid AS exam_id, aid AS archive_id, exam_day AS exam_date, region_code, institution,
           doctor, row_number, {', '.join(nulled)}, {', '.join(f'{i}__why' for i in INDICATORS)}
    FROM (SELECT *, {', '.join(crossed)} FROM (
          SELECT *, {checked} FROM (
            SELECT *, {', '.join(parsed)} FROM (
              SELECT *, {prepared} FROM (
                SELECT eid, aid, exam_day, region_code, institution, doctor, row_number,
                       {', '.join(INDICATORS)}, {fast}
                FROM _exams_rows WHERE reject_reason IS NULL)))))
    """
