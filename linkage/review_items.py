"""What a reviewer needs to see of each review pair, gathered at the end of a run.

decisions.csv holds no names, IDs or phones; the reviewer does.  These rows go only into the
owner-only review store (linkage.review.store), never into logs or the output CSVs.
"""

from __future__ import annotations

from typing import Any

import duckdb

from linkage.connection import id_table, registered
from linkage.review.store import DISPLAY_FIELDS


def review_items(
    con: duckdb.DuckDBPyConnection, decisions: list[dict[str, Any]], features: str, raw: str
) -> list[dict[str, Any]]:
    """One dict per review pair: pair keys, score, evidence, reason, and both archives' fields.

    Keys: archive_id_l, archive_id_r, match_probability, match_weight, evidence, reason,
    and for each side ``l_<col>`` / ``r_<col>`` for col in review.store.DISPLAY_FIELDS, plus
    ``l_county``/``l_township`` (and ``r_``).  ``features`` and ``raw`` are the names of the
    standardised archives and of tonight's raw rows, as the steps that made them returned them.
    """
    pairs = [(d["archive_id"], d["survivor_archive_id"]) for d in decisions if d["action"] == "review"]
    if not pairs:
        return []
    with registered(con, "_review_ids", id_table(a for pair in pairs for a in pair)):
        cursor = con.execute(f"""
            SELECT f.archive_id, r.name, f.name_py, r.sex, r.birth_date, r.id_number, f.id_status,
                   r.region_code, r.address, r.phone, r.created_date, r.last_service_date,
                   f.phone_norm, f.address_skeleton, f.address_norm, f.county, f.township
            FROM {features} f LEFT JOIN {raw} r USING (archive_id)
            WHERE f.archive_id IN (SELECT archive_id FROM _review_ids)
        """)
        columns = [c[0] for c in cursor.description]
        by_id = {row[0]: dict(zip(columns, row)) for row in cursor.fetchall()}
    items = []
    for d in decisions:
        if d["action"] != "review":
            continue
        # An archive whose row was rejected tonight keeps last night's features (a nightly
        # run) but has no raw row: it is shown with what the engine kept, never a crash.
        left = by_id.get(d["archive_id"], {"archive_id": d["archive_id"]})
        right = by_id.get(d["survivor_archive_id"], {"archive_id": d["survivor_archive_id"]})
        item: dict[str, Any] = {
            "archive_id_l": d["archive_id"], "archive_id_r": d["survivor_archive_id"],
            "match_probability": d["match_probability"], "match_weight": d["match_weight"],
            "evidence": d["evidence"], "reason": d["reason"],
        }
        for side, record in (("l", left), ("r", right)):
            for column in DISPLAY_FIELDS:
                item[f"{side}_{column}"] = record.get(column)
        items.append(item)
    return items
