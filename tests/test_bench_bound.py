"""The oracle bound of benchmarks/bound.py: patterns purest first within the precision target,
on hand-made pairs and on a real scored population."""

from __future__ import annotations

import pytest

from linkage.bench.bound import ScoredPair, best_single_threshold, bounds, oracle_bound


def _pairs(level: int, same: int, different: int, probability: float = 0.99, **facts: int) -> list[ScoredPair]:
    facts = {"name_freq": 1, "village_size": 3, "phones": 2, **facts}
    return ([ScoredPair((level,), facts, probability, True)] * same
            + [ScoredPair((level,), facts, probability, False)] * different)


def test_links_pure_patterns_and_a_mixed_one_only_within_the_budget():
    pairs = _pairs(1, 900, 0) + _pairs(2, 100, 1) + _pairs(3, 50, 50)
    bound = oracle_bound(pairs, 1100, "levels", ())
    # 1 wrong in 1,001 keeps precision >= 0.999; the 50/50 pattern would not
    assert (bound.true_linked, bound.false_linked, bound.patterns) == (1000, 1, 3)
    assert bound.recall == pytest.approx(1000 / 1100)


def test_a_fact_that_splits_a_mixed_pattern_raises_the_bound():
    pairs = _pairs(1, 500, 0) + _pairs(2, 40, 0, name_freq=1) + _pairs(2, 0, 40, name_freq=6)
    levels, with_names = bounds(pairs, 540, feature_sets=(("levels", ()), ("names", ("name_freq",))))
    assert levels.true_linked == 500
    assert with_names.true_linked == 540 and with_names.false_linked == 0


def test_best_single_threshold_stops_where_precision_would_fall():
    pairs = _pairs(1, 10, 0, probability=0.9999) + _pairs(1, 0, 5, probability=0.99) + _pairs(1, 10, 0, probability=0.9)
    single, threshold = best_single_threshold(pairs, 20)
    assert (single.true_linked, single.false_linked, threshold) == (10, 0, 0.9999)


@pytest.mark.slow
def test_bound_on_a_scored_population(tmp_path):
    from linkage.bench.bound import scored_pairs_with_truth
    from linkage.config import load_config
    from linkage.model.settings import load_model_dict
    from linkage.pipeline import connect_for, prepare_model_input
    from linkage.progress import StageTimer
    from linkage.shipped import default_model_path
    from linkage.synth import generate_population

    generate_population(800, 5, tmp_path / "pop")
    config = load_config(None)
    con = connect_for(config)
    prepared = prepare_model_input(con, tmp_path / "pop" / "archives.csv", config, StageTimer(show=False))
    con.execute("CREATE TABLE truth AS SELECT archive_id, person_id FROM read_csv(?, all_varchar = true)",
                [str(tmp_path / "pop" / "truth.csv")])
    pairs, true_pairs = scored_pairs_with_truth(con, prepared.model_input.name, "truth",
                                                load_model_dict(default_model_path()), config)
    con.close()
    found = sum(p.same for p in pairs)
    assert 0 < found <= true_pairs
    recalls = [b.recall for b in bounds(pairs, true_pairs)]
    # more facts split mixed patterns (on this population the bound never falls), and no
    # oracle links a true pair the blocking rules never proposed
    assert recalls == sorted(recalls) and recalls[-1] <= found / true_pairs
