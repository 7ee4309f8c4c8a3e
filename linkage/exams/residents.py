"""Who is who: the resident key each exam is compared by.

Without a linkage run, archive_id is the resident.  With ``--archives-run OUT``, that run's
clusters.csv (archive_id -> person_id) says which archives are one person, so two archives
of one person examined twice are not a clone.  Archives the run does not know keep their
own archive_id as the key.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from linkage.errors import InputError
from linkage.standardise._text import sql_str

RESIDENTS = "exam_residents"


def resolve_residents(con: duckdb.DuckDBPyConnection, exams: str, archives_run: Path | None) -> int:
    """Create ``RESIDENTS`` (exam_id, person); returns how many exams the run's clusters placed."""
    if archives_run is None:
        con.execute(f"CREATE OR REPLACE TABLE {RESIDENTS} AS "
                    f"SELECT exam_id, 'A:' || archive_id AS person FROM {exams}")
        return 0
    clusters = Path(archives_run) / "clusters.csv"
    if not clusters.is_file():
        raise InputError(f"{clusters}: not found (is {archives_run} the --out of `linkage run`?)")
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _clusters AS
            SELECT DISTINCT trim(archive_id) AS archive_id, trim(person_id) AS person_id
            FROM read_csv({sql_str(str(clusters))}, header = true, all_varchar = true)
        """)
    except duckdb.Error:
        raise InputError(f"{clusters}: expected a CSV with columns archive_id, person_id") from None
    twice = con.execute("SELECT count(*) FROM (SELECT archive_id FROM _clusters "
                        "GROUP BY archive_id HAVING count(*) > 1)").fetchall()[0][0]
    if twice:
        raise InputError(f"{clusters}: {twice} archive_id(s) belong to more than one person_id")
    con.execute(f"""
        CREATE OR REPLACE TABLE {RESIDENTS} AS
        SELECT e.exam_id, coalesce('P:' || c.person_id, 'A:' || e.archive_id) AS person
        FROM {exams} e LEFT JOIN _clusters c USING (archive_id)
    """)
    placed = con.execute(f"SELECT count(*) FROM {exams} e JOIN _clusters c USING (archive_id)").fetchall()[0][0]
    con.execute("DROP TABLE _clusters")
    return placed
