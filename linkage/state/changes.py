"""What changed since the last committed run: new, changed, vanished and unchanged archives.

An archive is recognised by its archive_id; it changed when the fingerprint of its raw input
fields (md5 over every input column, as read, in a fixed order) differs from the one
stored.  The fingerprint is taken before standardisation on purpose: an edit that
standardises to the same features still counts as a change (cheap to re-score, and it
keeps the rule independent of the standardisation code).  Only the fingerprint is
compared, never the values, so this step sees no PII it keeps.

An archive whose row is rejected tonight (say its region code was mistyped) has not left:
it keeps last night's version (KEPT_TABLE) until a usable row comes back, so a typo in the
export never retires a resident's person ID or voids the decisions about them.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from linkage.contracts import NamedTable
from linkage.schema import INPUT_COLUMNS

CHANGES_TABLE = "night_changes"  # archive_id, change ('new' | 'changed' | 'vanished')
FINGERPRINTS_TABLE = "night_fingerprints"  # archive_id, fingerprint (tonight's input)
STALE_TABLE = "night_stale"  # archive_id of changed and vanished archives: stored pairs void
KEPT_TABLE = "night_kept"  # archive_id of stored archives whose row was rejected tonight


@dataclass(frozen=True)
class ChangeCounts:
    new: int = 0
    changed: int = 0
    vanished: int = 0
    unchanged: int = 0
    kept_rejected: int = 0  # rejected tonight, last version kept (counted in unchanged)

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "changed": self.changed, "vanished": self.vanished,
                "unchanged": self.unchanged, "kept_rejected": self.kept_rejected}


@dataclass(frozen=True)
class NightChanges:
    """What detect_changes made: the counts, and the tables the later steps read by name."""

    counts: ChangeCounts
    fingerprints: NamedTable
    changes: NamedTable
    stale: NamedTable
    kept: NamedTable


def fingerprint_sql(raw_table: str) -> str:
    """archive_id and md5 of the raw fields; NULL and '' are told apart."""
    fields = ", ".join(f"coalesce({c}, chr(0))" for c in INPUT_COLUMNS if c != "archive_id")
    return (f"SELECT archive_id, md5(concat_ws(chr(31), {fields})) AS fingerprint "
            f"FROM {raw_table}")


def detect_changes(
    con: duckdb.DuckDBPyConnection, raw_table: str, stored: str | None, rejects: str
) -> NightChanges:
    """Fill FINGERPRINTS_TABLE, CHANGES_TABLE, STALE_TABLE and KEPT_TABLE; ``stored`` is the
    state's archives table (archive_id, fingerprint), or None when there is none yet
    (everything is new); ``rejects`` holds tonight's rejected rows (archive_id)."""
    con.execute(f"CREATE OR REPLACE TABLE {FINGERPRINTS_TABLE} AS {fingerprint_sql(raw_table)}")
    old = stored or "(SELECT NULL::VARCHAR AS archive_id, NULL::VARCHAR AS fingerprint WHERE false)"
    con.execute(f"""
        CREATE OR REPLACE TABLE {KEPT_TABLE} AS
        SELECT archive_id, fingerprint FROM {old}
        WHERE archive_id IN (SELECT archive_id FROM {rejects} WHERE archive_id IS NOT NULL)
          AND archive_id NOT IN (SELECT archive_id FROM {raw_table})
    """)
    con.execute(f"INSERT INTO {FINGERPRINTS_TABLE} SELECT archive_id, fingerprint FROM {KEPT_TABLE}")
    con.execute(f"""
        CREATE OR REPLACE TABLE {CHANGES_TABLE} AS
        SELECT coalesce(n.archive_id, o.archive_id) AS archive_id,
               CASE WHEN o.archive_id IS NULL THEN 'new'
                    WHEN n.archive_id IS NULL THEN 'vanished'
                    ELSE 'changed' END AS change
        FROM {FINGERPRINTS_TABLE} n
        FULL OUTER JOIN (SELECT archive_id, fingerprint FROM {old}) o USING (archive_id)
        WHERE o.archive_id IS NULL OR n.archive_id IS NULL OR n.fingerprint <> o.fingerprint
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE {STALE_TABLE} AS
        SELECT archive_id FROM {CHANGES_TABLE} WHERE change IN ('changed', 'vanished')
    """)
    counts = dict(con.execute(f"SELECT change, count(*) FROM {CHANGES_TABLE} GROUP BY change").fetchall())
    total = con.execute(f"SELECT count(*) FROM {FINGERPRINTS_TABLE}").fetchall()[0][0]
    kept = con.execute(f"SELECT count(*) FROM {KEPT_TABLE}").fetchall()[0][0]
    new, changed = int(counts.get("new", 0)), int(counts.get("changed", 0))
    return NightChanges(
        ChangeCounts(new, changed, int(counts.get("vanished", 0)), int(total) - new - changed,
                     int(kept)),
        fingerprints=NamedTable(FINGERPRINTS_TABLE, "archive_id, fingerprint of tonight's input "
                                "(and of stored archives whose row was rejected tonight)"),
        changes=NamedTable(CHANGES_TABLE, "archive_id, change: new, changed or vanished"),
        stale=NamedTable(STALE_TABLE, "archive_id of changed and vanished archives"),
        kept=NamedTable(KEPT_TABLE, "archive_id, fingerprint of stored archives rejected tonight"))
