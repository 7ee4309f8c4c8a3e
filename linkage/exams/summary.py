"""exam_summary.json: counts by county, township, village and institution.

Shape (the report reads it; keep it): {"as_of", "input": {"file", "sha256"},
"six_indicators", "totals", "by_county": {CODE6: entry}, "by_township": {CODE9: entry},
"by_village": {CODE12: entry}, "by_institution": {NAME: entry}}; each entry has exams,
clone_groups, clone_exams, residents_in_clones, copied_from_last_year, lr_gap_over_10,
lr_gap_over_20, implausible, clone_share, lr_gap_share and name, plus the evidence-score
counts clone_groups_unlikely and clone_exams_unlikely.  ``lr_gap_over_10`` counts exams over
gap_flag_mmhg (10 by default) including those over gap_remeasure_mmhg (``lr_gap_over_20``).

Region names come from the caller (a code -> name mapping, e.g. a division table); without
one, ``name`` is null.  as_of is the latest exam date, so a rerun gives the same file.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import duckdb

from linkage.exams.flags import FLAGS
from linkage.exams.clones import CLONE_MEMBERS
from linkage.exams.evidence import GROUP_EVIDENCE
from linkage.exams.residents import RESIDENTS

COUNT_KEYS = ("exams", "clone_groups", "clone_exams", "residents_in_clones", "copied_from_last_year",
              "lr_gap_over_10", "lr_gap_over_20", "implausible", "clone_groups_unlikely",
              "clone_exams_unlikely")
_LEVELS = (("by_county", "county"), ("by_township", "township"), ("by_village", "region_code"),
           ("by_institution", "institution"))


def _facts_sql(exams: str) -> str:
    """One row per exam: where it is, whose it is, and which flags it carries."""
    return f"""
        WITH per AS (
            SELECT exam_id,
                   bool_or(flag = 'clone') AS clone,
                   bool_or(flag = 'clone' AND unlikely_by_chance) AS clone_unlikely,
                   bool_or(flag = 'copied_from_last_year') AS copied,
                   bool_or(flag IN ('lr_gap', 'lr_gap_remeasure')) AS gap,
                   bool_or(flag = 'lr_gap_remeasure') AS remeasure
            FROM {FLAGS} GROUP BY exam_id
        )
        SELECT e.exam_id, e.county, e.township, e.region_code, e.institution, r.person,
               e.implausible, coalesce(per.clone, false) AS clone,
               coalesce(per.clone_unlikely, false) AS clone_unlikely,
               coalesce(per.copied, false) AS copied, coalesce(per.gap, false) AS gap,
               coalesce(per.remeasure, false) AS remeasure
        FROM {exams} e JOIN {RESIDENTS} r USING (exam_id) LEFT JOIN per USING (exam_id)
    """


def _counts(con: duckdb.DuckDBPyConnection, key: str | None) -> dict[str, dict[str, Any]]:
    group = "key" if key else "1"
    select_key = f"{key} AS key" if key else "'total' AS key"
    rows = con.execute(f"""
        WITH f AS (SELECT *, {select_key} FROM _exam_facts),
        per AS (
            SELECT key, count(*) AS exams,
                   count(*) FILTER (WHERE clone) AS clone_exams,
                   count(DISTINCT person) FILTER (WHERE clone) AS residents_in_clones,
                   count(*) FILTER (WHERE copied) AS copied_from_last_year,
                   count(*) FILTER (WHERE gap) AS lr_gap_over_10,
                   count(*) FILTER (WHERE remeasure) AS lr_gap_over_20,
                   count(*) FILTER (WHERE implausible) AS implausible,
                   count(*) FILTER (WHERE clone_unlikely) AS clone_exams_unlikely
            FROM f WHERE key IS NOT NULL GROUP BY {group}
        ),
        groups AS (
            SELECT f.key, count(DISTINCT m.group_id) AS clone_groups,
                   count(DISTINCT m.group_id) FILTER (WHERE v.unlikely) AS clone_groups_unlikely
            FROM f JOIN {CLONE_MEMBERS} m USING (exam_id) JOIN {GROUP_EVIDENCE} v USING (group_id)
            WHERE f.key IS NOT NULL GROUP BY {'f.key' if key else '1'}
        )
        SELECT per.*, coalesce(groups.clone_groups, 0), coalesce(groups.clone_groups_unlikely, 0)
        FROM per LEFT JOIN groups USING (key) ORDER BY key
    """).fetchall()
    out = {}
    for key_value, exams, clone_exams, residents, copied, gap, remeasure, implausible, \
            clone_unlikely, groups, groups_unlikely in rows:
        out[str(key_value)] = {
            "exams": exams, "clone_groups": groups, "clone_exams": clone_exams,
            "residents_in_clones": residents, "copied_from_last_year": copied,
            "lr_gap_over_10": gap, "lr_gap_over_20": remeasure, "implausible": implausible,
            "clone_groups_unlikely": groups_unlikely, "clone_exams_unlikely": clone_unlikely,
            "clone_share": round(clone_exams / exams, 4) if exams else 0.0,
            "lr_gap_share": round(gap / exams, 4) if exams else 0.0,
        }
    return out


def summarise(con: duckdb.DuckDBPyConnection, exams: str, *, file_name: str, sha256: str,
              six: tuple[str, ...], extra_totals: Mapping[str, Any] | None = None,
              names: Mapping[str, str] = MappingProxyType({})) -> dict[str, Any]:
    """The exam_summary.json payload.  ``names`` maps region codes (6, 9, 12 digits) to
    display names (a division table); a code it lacks gets ``"name": null``."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _exam_facts AS {_facts_sql(exams)}")
    as_of = con.execute(f"SELECT CAST(max(exam_date) AS VARCHAR) FROM {exams}").fetchall()[0][0]
    totals = _counts(con, None).get("total") or {k: 0 for k in COUNT_KEYS} | {
        "clone_share": 0.0, "lr_gap_share": 0.0}
    payload: dict[str, Any] = {
        "as_of": as_of,
        "input": {"file": file_name, "sha256": sha256},
        "six_indicators": list(six),
        "totals": {**totals, **(extra_totals or {})},
    }
    for level, column in _LEVELS:
        entries = _counts(con, column)
        for key, entry in entries.items():
            entry["name"] = key if level == "by_institution" else names.get(key)
        payload[level] = entries
    con.execute("DROP TABLE _exam_facts")
    return payload
