"""Tonight's scores for review pairs that stand from earlier nights.

A night re-clusters only the archives whose persons may have changed
(linkage.state.affected); every other decision stands as it was emitted, scores included.
But a stored pair's score moves with the population (its name's term frequency and the
prior are refreshed every night, linkage.state.scoring), so a review pair outside tonight's
scope carried the score of the night it was first emitted, while the same pair inside the
scope carried tonight's.  Which of the two the review queue showed depended on whether a
conflicted neighbour happened to pull the pair into the scope: running the same night twice
moved queue scores (0.998121 -> 0.985972) with the same clusters.

Here every standing review pair gets the score, weight and evidence of tonight's refreshed
pair, exactly as linkage.resolve.cluster_and_decide formats them for the pairs it
re-clusters, so the queue shows what a stateless run on tonight's input would show, night
after night.  Only the displayed numbers change: what a decision says (its content, and so
its ID and whether it is emitted) never depends on them.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from linkage.connection import registered
from linkage.model.score import comparison_names, format_evidence
from linkage.model.settings import level_labels


def with_tonights_scores(
    con: duckdb.DuckDBPyConnection,
    decisions: list[dict[str, Any]],
    pairs_table: str,
    model: dict[str, Any],
) -> list[dict[str, Any]]:
    """``decisions`` with each review row's probability, weight and evidence taken from
    ``pairs_table`` (tonight's refreshed pairs); a pair not there keeps what it had."""
    wanted = sorted({_ordered(d["archive_id"], d["survivor_archive_id"])
                     for d in decisions if d["action"] == "review"})
    if not wanted:
        return decisions
    names = comparison_names(model)
    labels = level_labels(model)
    standing = pa.table({
        "archive_id_l": pa.array([a for a, _ in wanted], pa.string()),
        "archive_id_r": pa.array([b for _, b in wanted], pa.string()),
    })
    with registered(con, "_standing_review", standing):
        rows = con.execute(f"""
            SELECT p.archive_id_l, p.archive_id_r, p.match_probability, p.match_weight,
                   {", ".join(f"p.gamma_{n}" for n in names)}, {", ".join(f"p.w_{n}" for n in names)}
            FROM {pairs_table} p SEMI JOIN _standing_review USING (archive_id_l, archive_id_r)
        """).fetchall()
    k = len(names)
    scores: dict[tuple[str, str], tuple[float, float, str]] = {}
    for row in rows:
        gammas = dict(zip(names, row[4:4 + k]))
        weights = dict(zip(names, row[4 + k:4 + 2 * k]))
        scores[(row[0], row[1])] = (round(float(row[2]), 6), round(float(row[3]), 3),
                                    format_evidence(labels, gammas, weights))
    out = []
    for d in decisions:
        score = scores.get(_ordered(d["archive_id"], d["survivor_archive_id"])) \
            if d["action"] == "review" else None
        if score is None:
            out.append(d)
        else:
            prob, weight, text = score
            out.append({**d, "match_probability": prob, "match_weight": weight, "evidence": text})
    return out


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)
