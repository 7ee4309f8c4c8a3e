"""Copied from last year: a resident's exam whose indicators equal an earlier year's exam
(``copied_min_identical`` of the six, a value blank in both counting as equal, at least
``min_identical`` of them present).

Heights are honestly copied year to year, and a weight or a pressure may repeat; all six
repeating exactly is what a clerk copying last year's form produces.  "Earlier year" is the
calendar year of exam_date, whatever the clone window.
"""

from __future__ import annotations

import duckdb

from linkage.exams.residents import RESIDENTS
from linkage.exams.settings import ExamSettings

COPIED = "exam_copied"  # exam_id, earlier_exam_id, matched


def find_copied(con: duckdb.DuckDBPyConnection, exams: str, settings: ExamSettings) -> int:
    """Create ``COPIED``: each later exam with the most recent earlier exam it repeats."""
    six = settings.six
    equal = " + ".join(f"coalesce(CAST(l.{i} = r.{i} AS INTEGER), 0)" for i in six)
    # A value blank in both exams agrees too (a copied form copies its blanks), but at least
    # min_identical values must be there and equal.
    agree = " + ".join(f"CAST(l.{i} IS NOT DISTINCT FROM r.{i} AS INTEGER)" for i in six)
    matched = " || ".join(f"CASE WHEN l.{i} = r.{i} THEN '+{i}' ELSE '' END" for i in six)
    # A join on the resident: small (a handful of exams per resident).
    con.execute(f"""
        CREATE OR REPLACE TABLE {COPIED} AS
        WITH e AS (SELECT e.*, r.person FROM {exams} e JOIN {RESIDENTS} r USING (exam_id)),
        pairs AS (
            SELECT r.exam_id, l.exam_id AS earlier_exam_id, ltrim({matched}, '+') AS matched,
                   row_number() OVER (PARTITION BY r.exam_id ORDER BY l.exam_date DESC, l.exam_id DESC) AS rn
            FROM e l JOIN e r ON l.person = r.person AND year(l.exam_date) < year(r.exam_date)
            WHERE {agree} >= {settings.copied_min_identical} AND {equal} >= {settings.min_identical}
        )
        SELECT exam_id, earlier_exam_id, matched FROM pairs WHERE rn = 1 ORDER BY exam_id
    """)
    return con.execute(f"SELECT count(*) FROM {COPIED}").fetchall()[0][0]
