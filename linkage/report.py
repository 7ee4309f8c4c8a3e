"""The run's output files and the per-county / per-township counts of summary.json.

Files (README "Outputs"): clusters.csv, decisions.csv, rejects.csv, summary.json, all
staged and published together (linkage.outputs), owner-readable only.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from linkage.outputs import StagedOutputs, copy_query_csv, csv_bytes
from linkage.progress import StageTimer

if TYPE_CHECKING:
    from linkage.pipeline import LinkResult

_AREA_SQL = """
WITH a AS (
    SELECT archive_id, {key} AS area, id_status FROM {features}
),
d AS (SELECT * FROM _decisions),
retired AS (
    SELECT d.*, {key_of_archive} AS area FROM d JOIN {features} f USING (archive_id)
    WHERE d.action IN ('merge', 'migrate')
),
-- Every archive of a migrating person outside the target county moves out of its county.
moving AS (
    SELECT f.archive_id, {key_of_archive} AS area_from, left(c.to_region, {width}) AS area_to
    FROM _person_targets c JOIN {features} f USING (archive_id)
    WHERE c.migrating AND f.county <> left(c.to_region, 6)
),
review AS (
    SELECT area FROM d JOIN (SELECT archive_id, {key} AS area FROM {features}) x USING (archive_id)
    WHERE d.action = 'review'
    UNION ALL
    SELECT area FROM d JOIN (SELECT archive_id AS survivor_archive_id, {key} AS area FROM {features}) y
        USING (survivor_archive_id)
    WHERE d.action = 'review'
      AND left(d.from_region, {width}) <> left(d.to_region, {width})
)
SELECT area,
       count(*) AS archives,
       (SELECT count(*) FROM retired r WHERE r.area = a.area) AS duplicate_archives,
       (SELECT count(*) FROM retired r WHERE r.area = a.area AND r.action = 'merge') AS merges,
       (SELECT count(*) FROM moving m WHERE m.area_to = a.area) AS migrations_in,
       (SELECT count(*) FROM moving m WHERE m.area_from = a.area) AS migrations_out,
       (SELECT count(*) FROM review v WHERE v.area = a.area) AS review_pairs,
       count(*) FILTER (WHERE id_status IN ('blank', 'placeholder')) AS blank_ids,
       count(*) FILTER (WHERE id_status IN ('malformed', 'bad_check')) AS invalid_ids
FROM a GROUP BY area ORDER BY area
"""


def _area_counts(con: duckdb.DuckDBPyConnection, features: str, level: str) -> dict[str, dict[str, int]]:
    key = "county" if level == "county" else "township"
    width = 6 if level == "county" else 9
    sql = _AREA_SQL.format(
        key=key, key_of_archive=f"f.{key}", features=features, width=width
    )
    cursor = con.execute(sql)
    columns = [c[0] for c in cursor.description]
    return {row[0]: dict(zip(columns[1:], map(int, row[1:]))) for row in cursor.fetchall()}


def _register_decisions(con: duckdb.DuckDBPyConnection, result: "LinkResult") -> None:
    from linkage.pipeline import DECISION_COLUMNS

    table = pa.Table.from_pylist(
        [{k: d[k] for k in DECISION_COLUMNS} for d in result.decisions],
        schema=pa.schema([(c, pa.float64() if c in ("match_probability", "match_weight") else pa.string())
                          for c in DECISION_COLUMNS]),
    )
    con.register("_decisions", table)
    targets = {}
    for d in result.decisions:
        if d["action"] in ("merge", "migrate"):
            targets[d["person_id"]] = (d["to_region"], d["action"] == "migrate")
    rows = [
        {"archive_id": a, "to_region": targets[p][0], "migrating": targets[p][1]}
        for a, p in result.person_of.items() if p in targets
    ]
    con.register("_person_targets", pa.Table.from_pylist(
        rows, schema=pa.schema([("archive_id", pa.string()), ("to_region", pa.string()),
                                ("migrating", pa.bool_())])))


def _stage_clusters(con: duckdb.DuckDBPyConnection, staged: StagedOutputs, features: str,
                    grouped: dict[str, str]) -> None:
    """clusters.csv written by DuckDB: a million rows never pass through Python's csv."""
    con.register("_grouped", pa.table({"archive_id": pa.array(list(grouped), pa.string()),
                                       "person_id": pa.array(list(grouped.values()), pa.string())}))
    try:
        target = staged.staging / ".clusters.csv.copy"
        copy_query_csv(con, f"""
            SELECT f.archive_id, coalesce(g.person_id, 'P' || f.archive_id) AS person_id
            FROM {features} f LEFT JOIN _grouped g USING (archive_id) ORDER BY f.archive_id
        """, target)
        staged.add_from_file("clusters.csv", target)
    finally:
        con.unregister("_grouped")


def write_outputs(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    result: "LinkResult",
    features: str,
    rejects_table: str,
    timer: StageTimer,
    write_clusters: bool = True,
) -> None:
    """Stage every output file, then publish them together.

    ``result.person_of`` holds the archives in groups of two or more; every other archive of
    ``features`` is a person of its own (``P<archive_id>``).  ``write_clusters=False``: the
    caller writes clusters.csv itself (the nightly run, from its person index)."""
    from linkage.pipeline import DECISION_CSV_COLUMNS

    staged = StagedOutputs(Path(out_dir))
    if write_clusters:
        _stage_clusters(con, staged, features, result.person_of)
    staged.add("decisions.csv", csv_bytes(
        DECISION_CSV_COLUMNS, ([d.get(c, "") for c in DECISION_CSV_COLUMNS] for d in result.decisions)))
    rejects = con.execute(f"SELECT row, archive_id, field, reason FROM {rejects_table} ORDER BY row").fetchall()
    staged.add("rejects.csv", csv_bytes(("row", "archive_id", "field", "reason"), rejects))
    _register_decisions(con, result)
    summary: dict[str, Any] = asdict(result.summary)
    summary["stage_seconds"] = dict(timer.seconds)
    summary["peak_memory_mb"] = round(timer.peak_memory_mb(), 1)
    summary["by_county"] = _area_counts(con, features, "county")
    summary["by_township"] = _area_counts(con, features, "township")
    import json

    staged.add("summary.json", (json.dumps(summary, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    staged.publish()
