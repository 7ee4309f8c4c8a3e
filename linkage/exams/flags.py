"""One table of everything flagged, one row per (exam, flag, group): what exam_flags.csv holds.

Flags: ``clone`` (4 of 6 identical with another resident's exam; one row per group the exam
is in, with the evidence score of the group), ``copied_from_last_year``, ``lr_gap`` (gap
over gap_flag_mmhg), ``lr_gap_remeasure`` (over gap_remeasure_mmhg; it replaces lr_gap),
``implausible`` (values set aside as implausible; exam_rejects.csv says why).
"""

from __future__ import annotations

import duckdb

from linkage.exams.clones import CLONE_GROUPS, CLONE_MEMBERS
from linkage.exams.copied import COPIED
from linkage.exams.evidence import GROUP_EVIDENCE
from linkage.exams.gaps import GAPS
from linkage.exams.read import EXAM_REJECTS
from linkage.exams.values import NOT_A_NUMBER
from linkage.standardise._text import sql_str

FLAGS = "exam_flags"
FLAG_COLUMNS = ("exam_id", "flag", "group_id", "group_size", "matched_indicators", "other_exam_ids",
                "evidence_score", "unlikely_by_chance")
FLAG_NAMES = ("clone", "copied_from_last_year", "lr_gap", "lr_gap_remeasure", "implausible")


def build_flags(con: duckdb.DuckDBPyConnection, max_listed: int) -> None:
    """Create ``FLAGS`` from the tables of the detection steps.  A clone row lists the
    group's other exams, the first ``max_listed`` of them (no self-join: a group of k exams
    costs k rows, not k squared)."""
    con.execute(f"""
        CREATE OR REPLACE TABLE {FLAGS} AS
        WITH lists AS (
            SELECT group_id, list(exam_id ORDER BY exam_id)[1:{max_listed + 1}] AS head
            FROM {CLONE_MEMBERS} GROUP BY group_id
        ),
        others AS (
            SELECT m.group_id, m.exam_id,
                   array_to_string(list_filter(l.head, lambda x: x <> m.exam_id)[1:{max_listed}], ';')
                       AS other_exam_ids
            FROM {CLONE_MEMBERS} m JOIN lists l USING (group_id)
        )
        SELECT o.exam_id, 'clone' AS flag, o.group_id, g.size AS group_size,
               g.matched AS matched_indicators, o.other_exam_ids, v.score AS evidence_score,
               v.unlikely AS unlikely_by_chance
        FROM others o JOIN {CLONE_GROUPS} g USING (group_id) JOIN {GROUP_EVIDENCE} v USING (group_id)
        UNION ALL
        SELECT exam_id, 'copied_from_last_year', NULL, NULL, matched, earlier_exam_id, NULL, NULL
        FROM {COPIED}
        UNION ALL
        SELECT exam_id, CASE WHEN remeasure THEN 'lr_gap_remeasure' ELSE 'lr_gap' END, NULL, NULL,
               pressures, NULL, NULL, NULL
        FROM {GAPS}
        UNION ALL
        SELECT exam_id, 'implausible', NULL, NULL, string_agg(field, '+' ORDER BY field), NULL, NULL, NULL
        FROM {EXAM_REJECTS}
        WHERE exam_id IS NOT NULL AND field NOT IN ('exam_id', 'archive_id', 'exam_date', 'region_code')
          AND reason <> {sql_str(NOT_A_NUMBER)}
        GROUP BY exam_id
    """)


def flags_query() -> str:
    """The rows of exam_flags.csv in a stable order."""
    return f"SELECT {', '.join(FLAG_COLUMNS)} FROM {FLAGS} ORDER BY exam_id, flag, group_id"
