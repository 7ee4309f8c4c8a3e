"""The run's output files and the per-county / per-township counts of summary.json.

Files (README "Outputs"): clusters.csv, decisions.csv, rejects.csv, summary.json, all
staged and published together (linkage.outputs), owner-readable only.

How an area is counted (also written into summary.json as ``area_counting``, since a county
bureau adds these figures up): an archive belongs to the county / township of its
``region_code``; a retired archive (merge, migrate) is counted where it is managed; a
resident (person) where their survivor is to be managed (``to_region``), or, alone, where
their archive is; a review pair whose two archives lie in different areas is counted in
BOTH areas, so the per-area review counts add up to more than the run's total
``review_pairs``, which counts each pair once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import Future
from dataclasses import asdict
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any
from collections.abc import Callable

import duckdb
import pyarrow as pa

from linkage.schema import COUNTY_CODE_WIDTH, TOWNSHIP_CODE_WIDTH
from linkage.connection import registered
from linkage.contracts import DECISION_COLUMNS, DECISION_CSV_COLUMNS, LinkResult
from linkage.divisions import EDITION, HISTORY_EDITION, is_known_id_area_code
from linkage.ingest import UNREADABLE_DOB_TABLE
from linkage.outputs import PrivateFolder, StagedOutputs, copy_query_csv, csv_bytes
from linkage.progress import StageTimer

_AREA_SQL = """
WITH a AS (
    SELECT f.archive_id, f.{key} AS area, f.id_status, f.dob_raw_placeholder,
           left(f.id_norm, {county_width}) AS id_area, u.archive_id IS NOT NULL AS dob_unreadable
    FROM {features} f LEFT JOIN {unreadable} u ON u.archive_id = f.archive_id
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
    WHERE c.migrating AND f.county <> left(c.to_region, {county_width})
),
resident AS (
    -- One per person: where a decided person is to be managed, or a lone archive's area.
    SELECT f.{key} AS area FROM {features} f ANTI JOIN _person_targets USING (archive_id)
    UNION ALL
    SELECT left(any_value(to_region), {width}) FROM _person_targets GROUP BY person_id
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
       count(*) FILTER (WHERE id_status IN ('malformed', 'bad_check')) AS invalid_ids,
       count(*) FILTER (WHERE id_status = 'valid'
                          AND id_area IN (SELECT code FROM _unknown_id_areas)) AS unknown_area_ids,
       count(*) FILTER (WHERE coalesce(dob_raw_placeholder, false)) AS placeholder_birth_dates,
       count(*) FILTER (WHERE dob_unreadable) AS unreadable_birth_dates,
       (SELECT count(*) FROM resident r WHERE r.area = a.area) AS persons
FROM a GROUP BY area ORDER BY area
"""


def _area_counts(con: duckdb.DuckDBPyConnection, features: str, level: str) -> dict[str, dict[str, int]]:
    key = "county" if level == "county" else "township"
    width = COUNTY_CODE_WIDTH if level == "county" else TOWNSHIP_CODE_WIDTH
    sql = _AREA_SQL.format(
        key=key, key_of_archive=f"f.{key}", features=features, width=width,
        county_width=COUNTY_CODE_WIDTH, unreadable=_unreadable_table(con),
    )
    cursor = con.execute(sql)
    columns = [c[0] for c in cursor.description]
    return {row[0]: dict(zip(columns[1:], map(int, row[1:]))) for row in cursor.fetchall()}


def _unreadable_table(con: duckdb.DuckDBPyConnection) -> str:
    """The table of archives whose birth date could not be read (linkage.ingest), or an
    empty one when this connection read no archives."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary "
                        "AND database_name = current_database()", [UNREADABLE_DOB_TABLE]).fetchall()[0][0]
    return UNREADABLE_DOB_TABLE if found else "(SELECT NULL::VARCHAR AS archive_id WHERE false)"


def _register_unknown_id_areas(con: duckdb.DuckDBPyConnection, features: str) -> None:
    """``_unknown_id_areas``: first six digits of checksum-valid IDs that no issuing area ever
    had (GB/T 2260 1980-2024, linkage.divisions) — an ID keeps the code of its issue date."""
    codes = [r[0] for r in con.execute(
        f"SELECT DISTINCT left(id_norm, {COUNTY_CODE_WIDTH}) FROM {features} WHERE id_status = 'valid'").fetchall()]
    unknown = sorted(c for c in codes if c and not is_known_id_area_code(c))
    con.register("_unknown_id_areas", pa.table({"code": pa.array(unknown, pa.string())}))


AREA_HISTORY_TABLE = "night_area_counts"
# The per-area figures a nightly state keeps for each night (linkage.state.commit).
HISTORY_FIELDS = ("archives", "persons", "duplicate_archives", "merges", "migrations_in",
                  "migrations_out", "review_pairs")


def _history_table(con: duckdb.DuckDBPyConnection, areas: dict[str, dict[str, dict[str, int]]]) -> None:
    """This night's per-area figures as an in-memory table the state commit copies."""
    rows = [(level, area, *(counts[f] for f in HISTORY_FIELDS))
            for level, by_area in areas.items() for area, counts in by_area.items()]
    table = pa.table(
        {"level": pa.array([r[0] for r in rows], pa.string()),
         "area": pa.array([r[1] for r in rows], pa.string()),
         **{f: pa.array([r[2 + i] for r in rows], pa.int64()) for i, f in enumerate(HISTORY_FIELDS)}})
    with registered(con, "_area_rows", table):
        con.execute(f"CREATE OR REPLACE TABLE {AREA_HISTORY_TABLE} AS SELECT * FROM _area_rows")


def _register_decisions(con: duckdb.DuckDBPyConnection, result: LinkResult) -> None:
    # Column by column: a dict per row through from_pylist took ~0.6 s at 1M archives.
    table = pa.table({
        c: pa.array([d[c] for d in result.decisions],
                    pa.float64() if c in ("match_probability", "match_weight") else pa.string())
        for c in DECISION_COLUMNS})
    con.register("_decisions", table)
    targets = {}
    for d in result.decisions:
        if d["action"] in ("merge", "migrate"):
            targets[d["person_id"]] = (d["to_region"], d["action"] == "migrate")
    # column by column again (a dict per archive through from_pylist: ~0.3 s at 1M)
    members = [(a, p) for a, p in result.person_of.items() if p in targets]
    con.register("_person_targets", pa.table({
        "archive_id": pa.array([a for a, _ in members], pa.string()),
        "person_id": pa.array([p for _, p in members], pa.string()),
        "to_region": pa.array([targets[p][0] for _, p in members], pa.string()),
        "migrating": pa.array([targets[p][1] for _, p in members], pa.bool_()),
    }))


def _stage_clusters(con: duckdb.DuckDBPyConnection, staged: StagedOutputs | PrivateFolder, features: str,
                    grouped: dict[str, str]) -> None:
    """clusters.csv written by DuckDB: a million rows never pass through Python's csv."""
    rows = pa.table({"archive_id": pa.array(list(grouped), pa.string()),
                     "person_id": pa.array(list(grouped.values()), pa.string())})
    with registered(con, "_grouped", rows):
        target = staged.staging / ".clusters.csv.copy"
        copy_query_csv(con, f"""
            SELECT f.archive_id, coalesce(g.person_id, 'P' || f.archive_id) AS person_id
            FROM {features} f LEFT JOIN _grouped g USING (archive_id) ORDER BY f.archive_id
        """, target)
        staged.add_from_file("clusters.csv", target)


AREA_COUNTING = (
    "by_county/by_township: archives, persons, blank/invalid IDs, placeholder and unreadable "
    "birth dates by the archive's region_code; duplicate_archives and merges where the retired archive is "
    "managed; persons where the resident is to be managed (to_region); a review pair whose "
    "archives lie in two areas is counted in each of them (review_pairs per area add up to "
    "more than the total review_pairs, which counts each pair once)"
)


def _sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Hashes started early (hash_in_background), by file and its size and modification time.
_early_hashes: dict[tuple[str, int, int], Future[str]] = {}
_early_lock = threading.Lock()


def _file_key(path: Path | str) -> tuple[str, int, int]:
    p = Path(path).resolve()
    info = p.stat()
    return str(p), info.st_size, info.st_mtime_ns


def hash_in_background(path: Path | str) -> None:
    """Start hashing ``path`` on a thread: hashlib lets go of the GIL on large blocks, so
    the hash of a 900 MB export costs no wall time while the single-threaded cluster stage
    runs (it took 0.3 s at 1M archives, 1.5 s at 5M, in the write stage).  file_sha256
    takes the result if the file is still the same (size and modification time)."""
    try:
        key = _file_key(path)
    except OSError:
        return
    future: Future[str] = Future()

    def work() -> None:
        try:
            future.set_result(_sha256_of(key[0]))
        except BaseException as exc:  # handed to whoever asks for the hash
            future.set_exception(exc)

    with _early_lock:
        _early_hashes[key] = future
    threading.Thread(target=work, name="linkage-input-hash", daemon=True).start()


def file_sha256(path: Path | str) -> str:
    """Hex SHA-256 of a file, read in 1 MB blocks (an export may be hundreds of MB)."""
    try:
        key = _file_key(path)
    except OSError:
        key = None
    with _early_lock:
        future = _early_hashes.pop(key, None) if key else None
    if future is not None:
        try:
            early = future.result()
        except OSError:
            early = None
        if early is not None and _file_key(path) == key:
            return early
    return _sha256_of(path)


def _file_facts(path: str) -> dict[str, Any]:
    """Name, path and hash of an input, model or config file ('' if the run had none)."""
    if not path or path.startswith("<"):
        return {"file": path, "sha256": ""}
    p = Path(path).resolve()  # absolute: `linkage explain` may run from another folder
    return {"file": p.name, "path": str(p), "sha256": file_sha256(p) if p.is_file() else ""}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def provenance(summary: Any) -> dict[str, Any]:
    """What a reader needs to trust a report: when, on which file, by which engine/model/config."""
    now = datetime.now(timezone.utc)
    return {
        "run_at": now.isoformat(timespec="seconds"),
        "as_of": now.date().isoformat(),
        "input": _file_facts(getattr(summary, "input_file", "")),
        "engine": {"linkage": _version("linkage"), "splink": _version("splink"),
                   "duckdb": _version("duckdb")},
        "model_file": _file_facts(summary.model),
        "config_file": _file_facts(summary.config),
        "divisions": {"names": EDITION, "historical_codes": HISTORY_EDITION},
        "area_counting": AREA_COUNTING,
    }


def write_outputs(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    result: LinkResult,
    features: str,
    rejects_table: str,
    timer: StageTimer,
    write_clusters: bool = True,
    on_publish: Callable[[int], None] | None = None,
    queue_generation: Callable[[], int | None] | None = None,
    private: bool = False,
) -> None:
    """Stage every output file, then publish them together (linkage.outputs: ``on_publish``
    commits the review queue for the new generation just before the set becomes visible;
    ``private``: write straight into ``out_dir``, a folder nobody reads yet).

    ``result.person_of`` holds the archives in groups of two or more; every other archive of
    ``features`` is a person of its own (``P<archive_id>``).  ``write_clusters=False``: the
    caller writes clusters.csv itself (the nightly run, from its person index)."""
    staged: StagedOutputs | PrivateFolder = (
        PrivateFolder(Path(out_dir)) if private else StagedOutputs(Path(out_dir), queue_generation))
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
    summary["stage_peak_mb"] = timer.stage_peaks_so_far()  # the write stage's up to now
    _register_unknown_id_areas(con, features)
    summary["by_county"] = _area_counts(con, features, "county")
    summary["by_township"] = _area_counts(con, features, "township")
    summary.update(provenance(result.summary))
    _history_table(con, {"county": summary["by_county"], "township": summary["by_township"]})

    staged.add("summary.json", (json.dumps(summary, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    staged.publish(on_publish)
