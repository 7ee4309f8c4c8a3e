"""Left/right pressure gaps: over ``gap_flag_mmhg`` is suspect, over ``gap_remeasure_mmhg``
must be re-measured another day (provincial notice).  Which pressures count (systolic, the
clinical inter-arm difference, and optionally diastolic) is a setting."""

from __future__ import annotations

import duckdb

from linkage.exams.settings import ExamSettings

GAPS = "exam_gaps"  # exam_id, gap, pressures, remeasure

_COLUMNS = {"systolic": ("sbp_left", "sbp_right"), "diastolic": ("dbp_left", "dbp_right")}


def gap_sql(settings: ExamSettings) -> str:
    """The largest left/right difference over the configured pressures (NULL if none known)."""
    diffs = [f"abs({left} - {right})" for left, right in (_COLUMNS[p] for p in settings.gap_pressures)]
    return diffs[0] if len(diffs) == 1 else f"greatest({', '.join(diffs)})"


def find_gaps(con: duckdb.DuckDBPyConnection, exams: str, settings: ExamSettings) -> int:
    """Create ``GAPS`` for exams whose gap exceeds the flag threshold."""
    names = " || ".join(
        f"CASE WHEN abs({_COLUMNS[p][0]} - {_COLUMNS[p][1]}) > {settings.gap_flag_mmhg!r} "
        f"THEN '+{p}' ELSE '' END" for p in settings.gap_pressures)
    con.execute(f"""
        CREATE OR REPLACE TABLE {GAPS} AS
        SELECT exam_id, gap, ltrim({names}, '+') AS pressures,
               gap > {settings.gap_remeasure_mmhg!r} AS remeasure
        FROM (SELECT *, {gap_sql(settings)} AS gap FROM {exams})
        WHERE gap > {settings.gap_flag_mmhg!r}
        ORDER BY exam_id
    """)
    return con.execute(f"SELECT count(*) FROM {GAPS}").fetchall()[0][0]
