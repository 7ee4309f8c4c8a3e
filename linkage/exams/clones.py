"""Clones: exams of different residents, in one institution or township and one window,
identical on at least ``min_identical`` of the six indicators.

Never all pairs.  Two exams agreeing on 4 of 6 share at least one of the 15 four-indicator
subsets exactly, so each exam gets 15 blocking keys per scope (subset, scope, window,
values) and only exams sharing a key are ever looked at together.  A group is the set of
exams sharing one key with at least two residents among them; keys whose member sets are
identical (a template copied on all six gives the same set under all 15 subsets) are one
group, whose matched indicators are those on which all its members agree.  An exam can
belong to several groups (a template group, and a larger one where an honest exam shares
four common values with it).
"""

from __future__ import annotations

import duckdb

from linkage.exams.residents import RESIDENTS
from linkage.exams.settings import ExamSettings

CLONE_GROUPS = "exam_clone_groups"  # group_id, members, persons, n_block, matched, agreed values
CLONE_MEMBERS = "exam_clone_members"  # group_id, exam_id
# exam_id, person, eno, pno, v_<indicator> in tenths, scope counts: the exams the clone
# search compares (a temp table; linkage.exams.evidence reads it, the run drops it)
CLONE_EXAMS = "exam_clone_exams"
_SCOPES = ("township", "institution")


def _tenths(indicator: str) -> str:
    return f"CAST(round({indicator} * 10) AS BIGINT)"


def find_clones(con: duckdb.DuckDBPyConnection, exams: str, settings: ExamSettings) -> int:
    """Create ``CLONE_GROUPS`` and ``CLONE_MEMBERS``; returns the number of groups."""
    six = settings.six
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {CLONE_EXAMS} AS
        SELECT e.exam_id, r.person, e.township, e.institution, e.win,
               CAST(row_number() OVER (ORDER BY e.exam_id) AS INTEGER) AS eno,
               CAST(dense_rank() OVER (ORDER BY r.person) AS INTEGER) AS pno,
               {', '.join(f'{_tenths(i)} AS v_{i}' for i in six)},
               count(*) OVER (PARTITION BY e.township, e.win) AS n_township,
               count(*) OVER (PARTITION BY e.institution, e.win) AS n_institution,
               e.institution IN (SELECT institution FROM {exams} GROUP BY institution, win
                                 HAVING count(DISTINCT township) > 1) AS multi
        FROM {exams} e JOIN {RESIDENTS} r USING (exam_id)
    """)
    keys = []
    for s, subset in enumerate(settings.subsets):
        present = " AND ".join(f"v_{i} IS NOT NULL" for i in subset)
        values = ", ".join(f"v_{i}" for i in subset)
        for scope in _SCOPES:
            # An institution within one township adds no pair its township key misses.
            only = " AND multi" if scope == "institution" else ""
            keys.append(f"CASE WHEN {present} AND {scope} IS NOT NULL{only} "
                        f"THEN {{'k': hash({s}, '{scope[0]}', {scope}, win, {values}), 'n': n_{scope}}} END")
    # Exams and residents as integers from here on: grouping millions of keys on strings
    # cost most of the time.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cl_keys AS
        SELECT eno, pno, kn.k AS k, kn.n AS n
        FROM (SELECT eno, pno, unnest([{', '.join(keys)}]) AS kn FROM {CLONE_EXAMS})
        WHERE kn IS NOT NULL
    """)
    # Keys held by two residents or more (most keys are one exam's alone: a cheap count
    # first), then one group per distinct member set.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _cl_sets AS
        WITH shared AS (
            SELECT k FROM _cl_keys GROUP BY k HAVING count(*) >= 2 AND min(pno) <> max(pno)
        )
        SELECT list(eno ORDER BY eno) AS members, count(DISTINCT pno) AS persons,
               max(n) AS n_block
        FROM _cl_keys SEMI JOIN shared USING (k)
        GROUP BY k
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _cl_groups AS
        SELECT members, any_value(persons) AS persons, max(n_block) AS n_block
        FROM _cl_sets GROUP BY members
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _cl_numbered AS
        SELECT 'C' || lpad(CAST(row_number() OVER (ORDER BY members[1], len(members) DESC, members) AS VARCHAR), 7, '0')
                   AS group_id, members, persons, n_block
        FROM _cl_groups
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE {CLONE_MEMBERS} AS
        SELECT g.group_id, e.exam_id
        FROM (SELECT group_id, unnest(members) AS eno FROM _cl_numbered) g JOIN {CLONE_EXAMS} e USING (eno)
        ORDER BY g.group_id, e.exam_id
    """)
    agree = ", ".join(
        f"count(DISTINCT e.v_{i}) = 1 AND count(e.v_{i}) = count(*) AS a_{i}, min(e.v_{i}) AS x_{i}"
        for i in six)
    matched = " || ".join(f"CASE WHEN a_{i} THEN '+{i}' ELSE '' END" for i in six)
    n_matched = " + ".join(f"CAST(a_{i} AS INTEGER)" for i in six)
    con.execute(f"""
        CREATE OR REPLACE TABLE {CLONE_GROUPS} AS
        WITH a AS (
            SELECT m.group_id, {agree}
            FROM {CLONE_MEMBERS} m JOIN {CLONE_EXAMS} e USING (exam_id) GROUP BY m.group_id
        )
        SELECT g.group_id, len(g.members) AS size, g.persons, g.n_block,
               ltrim({matched}, '+') AS matched, {n_matched} AS n_matched,
               {', '.join(f'a_{i}' for i in six)}, {', '.join(f'x_{i}' for i in six)}
        FROM _cl_numbered g JOIN a USING (group_id)
        WHERE {n_matched} >= {settings.min_identical}   -- guards against a hash collision
        ORDER BY g.group_id
    """)
    con.execute(f"DELETE FROM {CLONE_MEMBERS} WHERE group_id NOT IN (SELECT group_id FROM {CLONE_GROUPS})")
    for table in ("_cl_keys", "_cl_sets", "_cl_groups", "_cl_numbered"):
        con.execute(f"DROP TABLE {table}")
    return con.execute(f"SELECT count(*) FROM {CLONE_GROUPS}").fetchall()[0][0]
