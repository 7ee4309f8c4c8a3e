"""Each step of the stateless run returns the table it made, by name, with what it holds, and
the table is there on the connection: the steps after it read the name from that result."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from linkage.blocking_guard import guard_blocking
from linkage.config import load_config
from linkage.connection import connect
from linkage.contracts import NamedTable
from linkage.ingest import read_input
from linkage.model.features import build_model_input
from linkage.model.score import score_pairs
from linkage.model.settings import load_model_dict
from linkage.model.shared_phones import NONE_SHARED
from linkage.prepare import prepare_model_input
from linkage.progress import StageTimer
from linkage.shipped import example_input_path
from linkage.standardise.table import standardise_table
from linkage.state.changes import detect_changes
from linkage.state.evidence import full_pairs, incremental_pairs, keep

STEPS: list[Callable[..., object]] = [read_input, standardise_table, build_model_input,
                                      prepare_model_input, score_pairs,
                                      detect_changes, full_pairs, incremental_pairs, keep]


def _named_tables(kind: object) -> list[str]:
    """The NamedTable a return type is, or the NamedTable fields it has."""
    if kind is NamedTable:
        return ["(itself)"]
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return [f.name for f in dataclasses.fields(kind)
                if hints[f.name] is NamedTable or _named_tables(hints[f.name])]
    return []


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.__qualname__)
def test_each_step_says_in_its_signature_that_it_returns_what_it_made(step) -> None:
    assert _named_tables(typing.get_type_hints(step)["return"])


def _exists(con: duckdb.DuckDBPyConnection, table: NamedTable) -> int:
    assert isinstance(table, NamedTable) and table.name and table.holds
    return int(con.execute(f"SELECT count(*) FROM {table.name}").fetchall()[0][0])


def test_the_returned_tables_are_the_ones_the_run_reads(model_path: Path) -> None:
    config = load_config(None)
    con = connect(threads=1)
    try:
        prepared = prepare_model_input(con, example_input_path(), config, StageTimer(show=False))
        ingested = prepared.ingested
        assert _exists(con, ingested.raw) == ingested.rows_accepted > 0
        assert _exists(con, ingested.rejects) == ingested.rows_rejected
        assert _exists(con, prepared.features) == ingested.rows_accepted
        assert _exists(con, prepared.model_input) == ingested.rows_accepted
        guarded, _ = guard_blocking(con, prepared.model_input.name, config)
        report = score_pairs(con, prepared.model_input.name, load_model_dict(model_path), guarded)
        assert _exists(con, report.pairs) == report.pairs_kept > 0
        assert len({prepared.features.name, prepared.model_input.name, report.pairs.name,
                    ingested.raw.name, ingested.rejects.name}) == 5
    finally:
        con.close()


def test_a_step_makes_the_table_it_is_asked_for() -> None:
    """The caller names the target; the result repeats the name it really used."""
    con = connect(threads=1)
    try:
        con.execute("""CREATE TABLE some_raw AS SELECT '1' AS archive_id, '张伟' AS name, '男' AS sex,
            '1980-01-02' AS birth_date, NULL AS id_number, '620802' AS region_code, NULL AS address,
            NULL AS phone, '2010-01-01' AS created_date, NULL AS last_service_date, 1 AS row_number""")
        features = standardise_table(con, "some_raw", "some_features")
        assert features.name == "some_features" and _exists(con, features) == 1
        model_input = build_model_input(con, features.name, "some_model_input", shared=NONE_SHARED)
        assert model_input.name == "some_model_input" and _exists(con, model_input) == 1
    finally:
        con.close()


def test_review_items_read_the_raw_table_the_caller_names() -> None:
    """review_items owns no table: it reads the features and raw rows it is handed."""
    from linkage.review_items import review_items

    con = connect(threads=1)
    try:
        con.execute("""CREATE TABLE tonights_raw AS SELECT * FROM (VALUES
            ('a1', '张伟', '男', '1980-01-02', NULL, '620802', 'X', NULL, '2010-01-01', NULL),
            ('a2', '张伟', '男', '1980-01-02', NULL, '620802', 'Y', NULL, '2011-01-01', NULL))
            t(archive_id, name, sex, birth_date, id_number, region_code, address, phone,
              created_date, last_service_date)""")
        con.execute("""CREATE TABLE tonights_features AS SELECT archive_id, 'zhang wei' AS name_py,
            'missing' AS id_status, NULL AS phone_norm, address AS address_skeleton,
            address AS address_norm, '620802' AS county, NULL AS township FROM tonights_raw""")
        decision = {"action": "review", "archive_id": "a1", "survivor_archive_id": "a2",
                    "match_probability": 0.5, "match_weight": 0.0, "evidence": "", "reason": ""}
        items = review_items(con, [decision], "tonights_features", "tonights_raw")
        assert [(i["archive_id_l"], i["archive_id_r"]) for i in items] == [("a1", "a2")]
        assert items[0]["l_address"] == "X" and items[0]["r_address"] == "Y"
        assert items[0]["l_address_norm"] == "X"  # the household screen's key
    finally:
        con.close()


def test_the_nightly_change_step_returns_the_tables_it_made() -> None:
    """detect_changes on a first night (no stored archives): every archive is new, and the
    four tables the later steps read are there, under the names its result gives."""
    config = load_config(None)
    con = connect(threads=1)
    try:
        ingested = read_input(con, example_input_path(), config)
        changed = detect_changes(con, ingested.raw.name, None, ingested.rejects.name)
        assert changed.counts.new == ingested.rows_accepted > 0
        assert _exists(con, changed.fingerprints) == ingested.rows_accepted
        assert _exists(con, changed.changes) == ingested.rows_accepted
        assert _exists(con, changed.stale) == 0
        assert _exists(con, changed.kept) == 0
    finally:
        con.close()


def test_the_keep_step_returns_the_pairs_it_kept() -> None:
    config = load_config(None)
    con = connect(threads=1)
    try:
        con.execute("""CREATE TABLE candidates AS SELECT * FROM (VALUES
            ('a', 'b', 0.9999), ('c', 'd', 0.1)) t(archive_id_l, archive_id_r, match_probability)""")
        kept = keep(con, "candidates", config.thresholds)
        assert _exists(con, kept) == 1
    finally:
        con.close()
