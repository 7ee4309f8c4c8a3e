"""Our blocked pairs (linkage.model.blocking) are Splink's: the same pairs under the same
match keys, on a generated population and with the blocking guard leaving blocks out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import duckdb

from linkage.blocking_guard import guard_blocking
from linkage.config import Config, Limits, load_config
from linkage.connection import connect
from linkage.model.blocking import block_pairs
from linkage.model.rule_split import PredictionRules, prediction_rules
from linkage.model.settings import load_model_dict, settings_for_prediction
from linkage.model.splink_adapter import connect_splink, make_linker, predict_blocked_pairs
from linkage.prepare import prepare_model_input
from linkage.progress import StageTimer
from linkage.synth import generate_population


class _Prepared(NamedTuple):
    con: duckdb.DuckDBPyConnection
    table: str  # the model input
    rules: PredictionRules  # the guarded config's rules, split per side
    settings: dict[str, Any]  # for Splink, with those rules
    blocks_dropped: int


@contextmanager
def _population(model_path: Path, folder: Path, persons: int, seed: int,
                config: Config) -> Iterator[_Prepared]:
    """A generated population's model input on a fresh connection, the blocking guard
    applied as a run applies it."""
    con = connect(threads=1)
    try:
        generate_population(persons, seed, folder)
        prepared = prepare_model_input(con, folder / "archives.csv", config, StageTimer(show=False))
        table = prepared.model_input.name
        guarded, report = guard_blocking(con, table, config)
        rules = prediction_rules([rule.sql for rule in guarded.blocking_rules])
        settings = settings_for_prediction(load_model_dict(model_path), guarded, 1000)
        settings["blocking_rules_to_generate_predictions"] = rules.settings()
        yield _Prepared(con, table, rules, settings, report.blocks_dropped)
    finally:
        con.close()


def _both(limits: Limits | None, model_path: Path, folder: Path) -> tuple[set, set, int]:
    config = load_config(None)
    if limits is not None:
        config = replace(config, limits=limits)
    with _population(model_path, folder, 3000, 12, config) as (con, table, rules, settings, dropped):
        linker = make_linker(connect_splink(con), table, settings)
        theirs = linker.inference.compute_blocked_pairs_for_predict().physical_name
        ours = block_pairs(con, table, rules.sql)
        read = "SELECT match_key::VARCHAR, join_key_l::VARCHAR, join_key_r::VARCHAR FROM {}"
        return (set(con.execute(read.format(ours)).fetchall()),
                set(con.execute(read.format(theirs)).fetchall()), dropped)


def test_the_same_pairs_under_the_same_rule_as_splinks_own_blocking(model_path: Path, tmp_path: Path) -> None:
    ours, theirs, dropped = _both(None, model_path, tmp_path)
    assert dropped == 0 and len(ours) > 1000
    assert ours == theirs
    assert len({key for key, _, _ in ours}) >= 6  # several rules contribute


def test_the_same_pairs_when_the_guard_leaves_blocks_out(model_path: Path, tmp_path: Path) -> None:
    ours, theirs, dropped = _both(Limits(max_block_pairs=3, max_pairs_per_archive=1,
                                         max_total_pairs=500), model_path, tmp_path)
    assert dropped > 0
    assert ours == theirs


def test_splink_scores_our_pairs_as_it_scores_its_own(model_path: Path, tmp_path: Path) -> None:
    """predict_blocked_pairs clears Splink's source-pruning flag: the scores must not move."""
    with _population(model_path, tmp_path, 1500, 5, load_config(None)) as (con, table, rules, settings, _):
        api = connect_splink(con)
        read = ("SELECT match_key::VARCHAR, archive_id_l, archive_id_r, round(match_weight, 9) "
                "FROM {} ORDER BY ALL")
        theirs = con.execute(read.format(
            make_linker(api, table, settings).inference.predict().physical_name)).fetchall()
        ours = con.execute(read.format(predict_blocked_pairs(
            api, make_linker(api, table, settings), block_pairs(con, table, rules.sql)).physical_name)).fetchall()
        assert len(ours) > 500 and ours == theirs


def test_splink_does_not_copy_the_records_for_our_pairs(model_path: Path, tmp_path: Path,
                                                        monkeypatch) -> None:
    """Source pruning (a copy of each side's records) is what clearing the flag avoids; a
    Splink upgrade that reads another flag would make it come back unnoticed."""
    import splink.internals.linker_components.inference as inference

    from linkage.pipeline import run

    def refuse(*args, **kwargs):
        raise AssertionError("Splink took its source-pruning path")

    monkeypatch.setattr(inference, "predict_from_blocked_pairs_with_source_pruning", refuse)
    generate_population(300, 4, tmp_path / "pop")
    summary = run(tmp_path / "pop" / "archives.csv", tmp_path / "out", model_path)
    assert summary.pairs_compared > 0


def test_a_linker_forgets_our_pairs_once_they_are_scored(model_path: Path, tmp_path: Path) -> None:
    """The caller drops the blocked-pairs table after predict: a second predict on the same
    linker blocks for itself instead of reading a table that is gone."""
    with _population(model_path, tmp_path, 300, 6, load_config(None)) as (con, table, rules, settings, _):
        api = connect_splink(con)
        linker = make_linker(api, table, settings)
        blocked = block_pairs(con, table, rules.sql)
        first = predict_blocked_pairs(api, linker, blocked).physical_name
        n = con.execute(f"SELECT count(*) FROM {first}").fetchone()[0]
        con.execute(f"DROP TABLE {blocked}")
        again = linker.inference.predict().physical_name
        assert con.execute(f"SELECT count(*) FROM {again}").fetchone()[0] == n > 0
