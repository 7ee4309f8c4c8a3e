"""How unlikely a clone group is by chance, from how common its agreed values are.

Blood pressure is rounded to even numbers and to 0 (120/80), heights are copied from year
to year, so honest exams agree on four common values all the time.  The 4-of-6 count (the
province's rule) is kept; beside it each group gets an evidence score:

    score = -log10( C(n, k) * p ** (k - 1) )

the expected number of groups of k residents, among the n exams of the group's township (or
institution) and window, that agree on these values by chance — as a negative power of 10.
p is the chance that one exam has the group's agreed values: the product of each agreed
value's frequency in the whole input (a value pair measured together, systolic with
diastolic, by the pair's own frequency).  Rare values count more than 120/80; a template
copied to ten residents scores far above a pair of honest coincidences.  Groups scoring at
least ``evidence_threshold`` are "unlikely by chance".
"""

from __future__ import annotations

import duckdb

from linkage.exams.clones import CLONE_EXAMS, CLONE_GROUPS
from linkage.exams.settings import ExamSettings

GROUP_EVIDENCE = "exam_group_evidence"  # group_id, score, unlikely


def score_groups(con: duckdb.DuckDBPyConnection, settings: ExamSettings) -> None:
    """Create ``GROUP_EVIDENCE`` for the groups of ``CLONE_GROUPS`` (needs ``CLONE_EXAMS``)."""
    joints = [pair for pair in settings.joint]
    in_joint = {i for pair in joints for i in pair}
    terms, joins = [], []
    for i in settings.six:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _ev_{i} AS
            SELECT v_{i} AS v, log10(count(*) / (SELECT count(v_{i}) FROM {CLONE_EXAMS})) AS lf
            FROM {CLONE_EXAMS} WHERE v_{i} IS NOT NULL GROUP BY v_{i}
        """)
        joins.append(f"LEFT JOIN _ev_{i} ON g.a_{i} AND _ev_{i}.v = g.x_{i}")
    for n, (a, b) in enumerate(joints):
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _ev_j{n} AS
            SELECT v_{a} AS va, v_{b} AS vb,
                   log10(count(*) / (SELECT count(*) FROM {CLONE_EXAMS}
                                     WHERE v_{a} IS NOT NULL AND v_{b} IS NOT NULL)) AS lf
            FROM {CLONE_EXAMS} WHERE v_{a} IS NOT NULL AND v_{b} IS NOT NULL GROUP BY ALL
        """)
        joins.append(f"LEFT JOIN _ev_j{n} ON g.a_{a} AND g.a_{b} AND _ev_j{n}.va = g.x_{a} "
                     f"AND _ev_j{n}.vb = g.x_{b}")
        terms.append(f"CASE WHEN g.a_{a} AND g.a_{b} THEN _ev_j{n}.lf "
                     f"ELSE coalesce(_ev_{a}.lf, 0) + coalesce(_ev_{b}.lf, 0) END")
    terms += [f"coalesce(_ev_{i}.lf, 0)" for i in settings.six if i not in in_joint]
    log_p = " + ".join(terms)
    log_choose = ("(lgamma(g.n_block + 1) - lgamma(g.persons + 1) - lgamma(g.n_block - g.persons + 1))"
                  " / ln(10)")
    con.execute(f"""
        CREATE OR REPLACE TABLE {GROUP_EVIDENCE} AS
        SELECT group_id, round(score, 2) AS score, score >= {settings.evidence_threshold!r} AS unlikely
        FROM (SELECT g.group_id, -({log_choose} + (g.persons - 1) * ({log_p})) AS score
              FROM {CLONE_GROUPS} g {' '.join(joins)})
        ORDER BY group_id
    """)
    for i in settings.six:
        con.execute(f"DROP TABLE _ev_{i}")
    for n in range(len(joints)):
        con.execute(f"DROP TABLE _ev_j{n}")
