"""Each thing linkage.model.splink_adapter assumes about Splink's insides, checked against
Splink itself on the bundled example export (440 archives), so a Splink upgrade that
changes one of them fails here."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest

from linkage.config import load_config
from linkage.connection import connect
from linkage.errors import ModelError
from linkage.model import splink_adapter as sa
from linkage.model.features import MODEL_INPUT_TABLE
from linkage.model.settings import load_model_dict, new_settings, settings_for_prediction
from linkage.prepare import prepare_model_input
from linkage.progress import StageTimer
from linkage.shipped import example_input_path
from linkage.state.scoring import Scorer


@pytest.fixture(scope="module")
def example(model_path: Path) -> tuple[duckdb.DuckDBPyConnection, dict, object]:
    config = load_config(None)
    con = connect(threads=1)
    prepare_model_input(con, example_input_path(), config, StageTimer(show=False))
    yield con, load_model_dict(model_path), config
    con.close()


def _predictions(con: duckdb.DuckDBPyConnection, model: dict, config: object,
                 **overrides: object) -> tuple[object, str]:
    records = con.execute(f"SELECT count(*) FROM {MODEL_INPUT_TABLE}").fetchall()[0][0]
    settings = {**settings_for_prediction(model, config, records), **overrides}
    linker = sa.make_linker(sa.connect_splink(con), MODEL_INPUT_TABLE, settings)
    return linker, linker.inference.predict().physical_name


def test_an_unknown_splink_version_is_refused_loudly() -> None:
    sa.check_splink_version()  # the installed one
    with pytest.raises(ModelError, match="Splink 9.9.9 is not supported"):
        sa.check_splink_version("9.9.9")


def test_levels_read_back_from_weights_are_splinks_own_gammas(example) -> None:
    con, model, config = example
    linker, physical = _predictions(con, model, config, retain_matching_columns=True)
    gamma_sql = sa.gamma_from_weight_sql(linker)
    checks = ", ".join(f"count(*) FILTER (WHERE ({sql}) <> gamma_{name})"
                       for name, sql in gamma_sql.items())
    pairs, *mismatches = con.execute(f"SELECT count(*), {checks} FROM {physical}").fetchall()[0]
    assert pairs > 100
    assert mismatches == [0] * len(gamma_sql)


def test_bayes_factors_are_m_over_u_of_the_saved_model(example) -> None:
    con, model, config = example
    linker, _ = _predictions(con, model, config)
    saved = {c["output_column_name"]: c["comparison_levels"] for c in model["comparisons"]}
    checked = 0
    for comparison in sa.comparisons_of(linker):
        for level, stored in zip(comparison.comparison_levels, saved[comparison.output_column_name]):
            if level.is_null_level:
                continue
            assert sa.bayes_factor(level) == pytest.approx(
                stored["m_probability"] / stored["u_probability"], rel=1e-12)
            assert sa.trained_m(level) == pytest.approx(stored["m_probability"])
            assert sa.trained_u(level) == pytest.approx(stored["u_probability"])
            checked += 1
    assert checked >= 10


def test_a_fixed_u_survives_an_em_pass(example) -> None:
    con, _, config = example
    linker = sa.make_linker(sa.connect_splink(con), MODEL_INPUT_TABLE, new_settings(config))
    training = config.training
    linker.training.estimate_probability_two_random_records_match(
        list(training.deterministic_rules), recall=training.deterministic_recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=20_000, seed=1)
    level = next(lvl for c in sa.comparisons_of(linker) if c.output_column_name == "dob"
                 for lvl in c.comparison_levels if not lvl.is_null_level)
    sa.fix_u(level, 0.000123, "counted exactly")
    linker.training.estimate_parameters_using_expectation_maximisation(
        training.em_blocking_rules[0], estimate_without_term_frequencies=True)
    assert sa.trained_u(level) == 0.000123
    saved = linker.misc.save_model_to_json()
    dob = next(c for c in saved["comparisons"] if c["output_column_name"] == "dob")
    assert 0.000123 in [lvl.get("u_probability") for lvl in dob["comparison_levels"]]


def test_probability_and_prior_arithmetic_is_splinks(example) -> None:
    con, model, config = example
    _, physical = _predictions(con, model, config)
    worst = con.execute(f"""
        SELECT max(abs(({sa.probability_sql("match_weight")}) - match_probability))
        FROM {physical}""").fetchall()[0][0]
    assert worst < 1e-12
    records = con.execute(f"SELECT count(*) FROM {MODEL_INPUT_TABLE}").fetchall()[0][0]
    prior = settings_for_prediction(model, config, records)["probability_two_random_records_match"]
    weight_columns = [r[0] for r in con.execute(f"DESCRIBE {physical}").fetchall()
                      if r[0].startswith("mw_")]
    worst = con.execute(f"""
        SELECT max(abs({sa.prior_weight(prior)!r} + {" + ".join(f"coalesce({c}, 0)" for c in weight_columns)}
                       - match_weight)) FROM {physical}""").fetchall()[0][0]
    assert worst < 1e-9


def test_refreshing_stored_pairs_for_new_term_frequencies_equals_rescoring(example) -> None:
    """The term-frequency and prior arithmetic of Scorer.refresh against Splink's own: pairs
    scored in one population and refreshed for another score as if scored in the other."""
    con, model, config = example
    assert sa.tf_levels(model), "the shipped model has term-frequency levels"
    con.execute(f"CREATE OR REPLACE TABLE half AS SELECT * FROM {MODEL_INPUT_TABLE} "
                "WHERE hash(archive_id) % 2 = 0")
    con.execute(f"CREATE OR REPLACE TABLE rest AS SELECT * FROM {MODEL_INPUT_TABLE} "
                "WHERE hash(archive_id) % 2 = 1")
    half = Scorer(con, model, config, "half")
    half.within("half", "pairs_in_half")
    half.close()
    everyone = Scorer(con, model, config, MODEL_INPUT_TABLE)
    everyone.within("half", "pairs_rescored")
    everyone.refresh("pairs_in_half", "pairs_refreshed", archives=MODEL_INPUT_TABLE)
    everyone.close()
    rows = con.execute("""
        SELECT count(*), max(abs(a.match_weight - b.match_weight))
        FROM pairs_refreshed a JOIN pairs_rescored b USING (archive_id_l, archive_id_r)
    """).fetchall()[0]
    pairs, worst = rows
    before = con.execute("""
        SELECT count(*) FILTER (WHERE abs(a.match_weight - b.match_weight) > 1e-6)
        FROM pairs_in_half a JOIN pairs_rescored b USING (archive_id_l, archive_id_r)
    """).fetchall()[0][0]
    assert pairs == con.execute("SELECT count(*) FROM pairs_rescored").fetchall()[0][0] > 20
    assert before > 0, "the two populations must give different weights to test anything"
    assert worst < 1e-9 and not math.isnan(worst)


def test_a_run_leaves_no_duckdb_database_open(tmp_path: Path) -> None:
    """Splink's base API opens a spare in-memory DuckDB per API object; each holds worker
    threads until the garbage collector frees it.  A run closes every database it opened,
    so a long-lived process (a service, the test suite) does not pile up threads."""
    import gc

    from linkage.pipeline import run

    def open_connections() -> set[int]:
        found = set()
        for obj in gc.get_objects():
            if isinstance(obj, duckdb.DuckDBPyConnection):
                try:
                    obj.execute("SELECT 1")
                except duckdb.Error:
                    continue
                found.add(id(obj))
        return found

    before = open_connections()
    gc.disable()  # what the run leaves behind must be closed, not merely collectable
    try:
        run(example_input_path(), tmp_path / "out", show_progress=False)
        assert open_connections() - before == set()
    finally:
        gc.enable()
