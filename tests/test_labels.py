"""Reviewer labels as training data: reading them, m from 'same', the prior from all."""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa
import pytest
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from linkage.errors import InputError
from linkage.model.labels import (
    LABELS_TABLE, MIN_LABELS_FOR_PRIOR, apply_labels, calibrate_prior, load_labels,
)
from linkage.review.store import ReviewStore, store_path


def labels_of(con) -> list[tuple]:
    return con.execute(f"SELECT * FROM {LABELS_TABLE} ORDER BY ALL").fetchall()


# -- reading ------------------------------------------------------------------------------------


def test_csv_labels_are_ordered_deduplicated_and_skips_ignored(tmp_path):
    path = tmp_path / "decisions.csv"
    path.write_text(
        "archive_id_l,archive_id_r,verdict,reviewer\n"
        "B2,A1,same,r1\nC1,C2,different,r1\nC1,C2,same,r2\nD1,D2,skip,r1\n",
        encoding="utf-8-sig",
    )
    con = duckdb.connect()
    assert load_labels(con, path) == LABELS_TABLE
    assert labels_of(con) == [("A1", "B2", 1.0), ("C1", "C2", 1.0)]


def test_csv_with_clerical_match_score_and_bad_rows(tmp_path):
    con = duckdb.connect()
    good = tmp_path / "scores.csv"
    good.write_text("archive_id_l,archive_id_r,clerical_match_score\nA,B,0.9\nC,D,0\n", encoding="utf-8")
    load_labels(con, good)
    assert labels_of(con) == [("A", "B", 1.0), ("C", "D", 0.0)]
    bad = tmp_path / "bad.csv"
    bad.write_text("archive_id_l,archive_id_r,verdict\nA,B,same\nC,D,maybe\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 3: verdict must be same or different"):
        load_labels(con, bad)
    with pytest.raises(InputError, match="columns"):
        (tmp_path / "cols.csv").write_text("x,y\n1,2\n", encoding="utf-8")
        load_labels(con, tmp_path / "cols.csv")
    with pytest.raises(InputError, match="labels not found"):
        load_labels(con, tmp_path / "empty_dir_or_missing")


def test_store_labels_are_the_standing_verdicts(tmp_path):
    with ReviewStore(store_path(tmp_path)) as store:
        store.decide(("A1", "A2"), "same", "r1")
        undone = store.decide(("B1", "B2"), "same", "r1")
        store.undo(undone.decision_id, "r1")
        store.decide(("C1", "C2"), "same", "r1")
        store.decide(("C1", "C2"), "different", "r2")
        store.decide(("D1", "D2"), "skip", "r1")
    con = duckdb.connect()
    load_labels(con, tmp_path)  # the run folder
    expected = [("A1", "A2", 1.0), ("C1", "C2", 0.0)]
    assert labels_of(con) == expected
    load_labels(con, store_path(tmp_path))  # the file itself
    assert labels_of(con) == expected


# -- using them ---------------------------------------------------------------------------------


def _population(seed: int = 3):
    """Synthetic people with 1-3 archives each; returns rows and archive -> person."""
    rnd = random.Random(seed)
    first = [f"f{i}" for i in range(60)]
    surname = [f"s{i}" for i in range(40)]
    city = [f"c{i}" for i in range(8)]
    rows, person = [], {}
    for p in range(400):
        base = {"first": rnd.choice(first), "sur": rnd.choice(surname), "city": rnd.choice(city),
                "dob": f"19{rnd.randrange(40, 99)}-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 28):02d}"}
        for j in range(rnd.choice([1, 1, 2, 3])):
            row = dict(base)
            if j and rnd.random() < 0.2:
                row["first"] = rnd.choice(first)
            if j and rnd.random() < 0.2:
                row["city"] = rnd.choice(city)
            if j and rnd.random() < 0.1:
                row["dob"] = None
            row["archive_id"] = f"P{p:04d}_{j}"
            person[row["archive_id"]] = p
            rows.append(row)
    return rows, person


@pytest.fixture(scope="module")
def trained():
    """A small unsupervised Splink model over a generated population, plus its truth."""
    rows, person = _population()
    con = duckdb.connect()
    con.register("_people", pa.Table.from_pylist(rows))
    con.execute("CREATE TABLE people AS SELECT * FROM _people")
    con.execute("SET lambda_syntax='ENABLE_SINGLE_ARROW'")
    api = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="archive_id",
        comparisons=[cl.ExactMatch("first"), cl.ExactMatch("sur"), cl.ExactMatch("dob"), cl.ExactMatch("city")],
        blocking_rules_to_generate_predictions=[block_on("sur"), block_on("dob")],
        retain_intermediate_calculation_columns=True,
    )
    linker = Linker(api.table_to_splink_dataframe("people", "people"), settings)
    linker.training.estimate_probability_two_random_records_match([block_on("sur", "dob", "first")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e5, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("sur"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    predictions = linker.inference.predict().as_pandas_dataframe()
    candidates = [(min(r.archive_id_l, r.archive_id_r), max(r.archive_id_l, r.archive_id_r), r.match_probability)
                  for r in predictions.itertuples()]
    return con, api, linker.misc.save_model_to_json(), person, candidates


def _fresh(trained, labels):
    """A linker from the trained model, and ``labels`` [(l, r, score)] in the labels table."""
    con, api, model, _, _ = trained
    linker = Linker(api.table_to_splink_dataframe("people", "people"), dict(model))
    con.register("_labels", pa.table({
        "archive_id_l": [l[0] for l in labels], "archive_id_r": [l[1] for l in labels],
        "clerical_match_score": [float(l[2]) for l in labels]}))
    con.execute(f"CREATE OR REPLACE TABLE {LABELS_TABLE} AS SELECT * FROM _labels")
    con.unregister("_labels")
    return con, linker


def _reviewed(trained, fraction_of_clear: float = 0.05):
    """Labels as reviewers would give them: the doubtful pairs plus a few clear ones; truth known."""
    _, _, _, person, candidates = trained
    rnd = random.Random(5)
    return [(a, b, 1.0 if person[a] == person[b] else 0.0) for a, b, p in candidates
            if 0.01 < p < 0.999 or rnd.random() < fraction_of_clear]


def _m_u(linker):
    return {(c.output_column_name, lvl.comparison_vector_value): (lvl.m_probability, lvl.u_probability)
            for c in linker._settings_obj.comparisons for lvl in c._comparison_levels_excluding_null}


def _mean_probability_over(con, api, model, labels) -> float:
    """Score the labelled pairs with a saved model, independently of apply_labels."""
    linker = Linker(api.table_to_splink_dataframe("people", "people"), model)
    pairs = pa.table({"match_key": ["0"] * len(labels), "join_key_l": [l[0] for l in labels],
                      "join_key_r": [l[1] for l in labels]})
    blocked = linker.table_management.register_table(pairs, "check_pairs", overwrite=True)
    linker.table_management.register_blocked_pairs_for_predict(blocked)
    scored = linker.inference.predict(warning_mode="never").as_pandas_dataframe()
    con.unregister("check_pairs")
    assert len(scored) == len(labels)
    return float(scored.match_probability.mean())


def test_apply_labels_learns_m_keeps_u_and_calibrates_the_prior(trained):
    labels = _reviewed(trained)
    share = sum(l[2] for l in labels) / len(labels)
    assert 0.1 < share < 0.9  # reviewers see both kinds
    con, linker = _fresh(trained, labels + [("P0000_0", "NOT_IN_DATA", 1.0)])
    before = _m_u(linker)
    report = apply_labels(con, linker, LABELS_TABLE)

    assert (report.labels_same, report.labels_different) == (sum(1 for l in labels if l[2]) + 1,
                                                              sum(1 for l in labels if not l[2]))
    assert report.labels_not_in_data == 1
    after = _m_u(linker)
    assert report.m_levels_changed > 0
    assert {k: v[1] for k, v in after.items()} == {k: v[1] for k, v in before.items()}  # u untouched
    for name in {k[0] for k in after}:
        assert sum(v[0] for k, v in after.items() if k[0] == name) == pytest.approx(1.0)

    assert report.prior_calibrated and report.prior_after != report.prior_before
    assert report.observed_same_share == pytest.approx(share)
    assert report.mean_probability_after == pytest.approx(share, abs=1e-6)
    model = linker.misc.save_model_to_json()
    assert model["probability_two_random_records_match"] == pytest.approx(report.prior_after)
    # Checked by scoring the labelled pairs again with the saved model.
    assert _mean_probability_over(con, trained[1], model, labels) == pytest.approx(share, abs=1e-4)


def test_more_different_labels_lower_the_prior(trained):
    labels = _reviewed(trained)
    same = [l for l in labels if l[2]]
    different = [l for l in labels if not l[2]]
    priors = []
    for mix in (same[:40] + different[:20], same[:20] + different[:200]):
        con, linker = _fresh(trained, mix)
        priors.append(apply_labels(con, linker, LABELS_TABLE).prior_after)
    assert priors[1] < priors[0]


def test_prior_is_kept_with_too_few_or_one_sided_labels(trained):
    labels = _reviewed(trained)
    few = labels[:MIN_LABELS_FOR_PRIOR - 1]
    con, linker = _fresh(trained, few)
    report = apply_labels(con, linker, LABELS_TABLE)
    assert not report.prior_calibrated and report.prior_after == report.prior_before
    assert "needed" in report.note
    only_same = [l for l in labels if l[2]][:30]
    con, linker = _fresh(trained, only_same)
    report = apply_labels(con, linker, LABELS_TABLE)
    assert not report.prior_calibrated and "both" in report.note
    assert report.m_levels_changed > 0


def test_calibrate_prior_solves_the_mean_and_respects_bounds():
    evidence = [20.0, 10.0, 0.0, -5.0, -30.0]
    prior = calibrate_prior(evidence, 0.4)
    odds = prior / (1 - prior)
    import math

    mean = sum(1 / (1 + 2 ** -(math.log2(odds) + e)) for e in evidence) / len(evidence)
    assert mean == pytest.approx(0.4, abs=1e-9)
    assert calibrate_prior([50.0, 50.0], 0.1) == pytest.approx(1e-12)   # held at the floor
    assert calibrate_prior([-50.0, -50.0], 0.9) == 0.5                  # held at the ceiling
