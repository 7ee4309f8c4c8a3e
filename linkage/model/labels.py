"""Reviewers' decisions as training labels: read them, one standing verdict per pair.

    load_labels(con, path) -> table     review.db (or its folder) or a CSV export ->
                                        (archive_id_l, archive_id_r, clerical_match_score)

What they are used for is in :mod:`linkage.model.verdicts`: counted per comparison pattern.
They no longer move m, u or the prior: the review queue is a biased sample of look-alikes,
and rescaling the population's prior from it cost recall on the next population (issue 9).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import duckdb
import pyarrow as pa

from linkage.connection import registered
from linkage.csvsafe import restore
from linkage.errors import InputError, LinkageError
from linkage.review.store import ReviewStore

log = logging.getLogger(__name__)

LABELS_TABLE = "review_labels"
_SQLITE_MAGIC = b"SQLite format 3\x00"


# -- reading labels -----------------------------------------------------------------------------


def _labels_from_store(path: Path) -> list[tuple[str, str, float]]:
    try:
        with ReviewStore(path, create=False) as store:
            standing = store.replay_verdicts()
    except LinkageError as exc:
        raise InputError(f"{path}: cannot read reviewer decisions ({exc})") from None
    return [(a, b, 1.0 if d.verdict == "same" else 0.0) for (a, b), d in standing.items()]


EXPECTED = ("the run's review.db (or the run's folder), or a CSV written by "
            "`linkage review export`")
# The columns of a run's decisions.csv (linkage.outputs): a file users reach for, which is
# not labels: a reviewer's "different" leaves no row there, so its verdicts would be all
# "same", and learning from them would join every pattern reviewers ever confirmed.
_RUN_DECISIONS = {"action", "archive_id", "survivor_archive_id"}


def _labels_from_csv(path: Path) -> list[tuple[str, str, float]]:
    rows: list[tuple[str, str, float]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = set(reader.fieldnames or ())
        if _RUN_DECISIONS <= fields:
            raise InputError(
                f"{path}: this is a run's decisions.csv, not reviewers' verdicts (a \"different\" "
                f"leaves no row in it); give --labels {EXPECTED}"
            )
        if not {"archive_id_l", "archive_id_r"} <= fields or not fields & {"verdict", "clerical_match_score"}:
            raise InputError(
                f"{path}: labels need columns archive_id_l, archive_id_r and verdict "
                f"(same/different) or clerical_match_score: give --labels {EXPECTED}"
            )
        for number, row in enumerate(reader, start=2):
            a = restore((row.get("archive_id_l") or "").strip())
            b = restore((row.get("archive_id_r") or "").strip())
            if not a or not b or a == b:
                raise InputError(f"{path}: row {number}: needs two different archive numbers")
            verdict = (row.get("verdict") or "").strip().lower()
            if verdict in ("skip", "undone"):
                continue
            if verdict in ("same", "different"):
                score = 1.0 if verdict == "same" else 0.0
            elif "clerical_match_score" in fields and (row.get("clerical_match_score") or "").strip():
                try:
                    score = 1.0 if float(row["clerical_match_score"]) >= 0.5 else 0.0
                except ValueError:
                    raise InputError(f"{path}: row {number}: clerical_match_score is not a number") from None
            else:
                raise InputError(f"{path}: row {number}: verdict must be same or different")
            rows.append((a, b, score))
    return rows


def load_labels(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """Read labels into DuckDB table ``review_labels`` and return its name.

    ``path``: a review store (review.db), a folder holding one, or a CSV with archive_id_l,
    archive_id_r, verdict (same|different; skip/undone rows ignored) — e.g. the output of
    ``linkage review export``.  A run's decisions.csv is refused by name (see _RUN_DECISIONS).  Pairs are ordered (l < r); a pair given twice keeps its last
    label.  Columns: archive_id_l, archive_id_r, clerical_match_score (1.0 same, 0.0 different).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "review.db"
    if not path.is_file():
        raise InputError(f"labels not found: {path} (give --labels {EXPECTED})")
    with path.open("rb") as handle:
        is_sqlite = handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    rows = _labels_from_store(path) if is_sqlite else _labels_from_csv(path)
    latest: dict[tuple[str, str], float] = {}
    for a, b, score in rows:
        latest[(a, b) if a < b else (b, a)] = score
    pairs = sorted(latest)
    table = pa.table({
        "archive_id_l": pa.array([p[0] for p in pairs], pa.string()),
        "archive_id_r": pa.array([p[1] for p in pairs], pa.string()),
        "clerical_match_score": pa.array([latest[p] for p in pairs], pa.float64()),
    })
    with registered(con, "_labels_arrow", table):
        con.execute(f"CREATE OR REPLACE TABLE {LABELS_TABLE} AS SELECT * FROM _labels_arrow")
    log.info("labels: %d pairs (%d same) from %s", len(pairs), sum(1 for s in latest.values() if s), path.name)
    return LABELS_TABLE
