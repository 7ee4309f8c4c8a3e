"""Benchmark metrics on hand-made cases whose answers are worked out in the comments,
plus a brute-force cross-check of the count formulas on random small partitions."""

from __future__ import annotations

import itertools
from fractions import Fraction

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.bench.metrics import (
    CountyAccuracy,
    NegativeLinks,
    evaluate,
    load_inputs,
)

# Case A ------------------------------------------------------------------------------
# Persons: P1 = a1 a2 a3, P2 = b1 b2, P3 = c1.   Predicted: {a1 a2} {a3 b1} {b2} {c1}.
TRUTH_A = [
    ("a1", "P1", "original"),
    ("a2", "P1", "duplicate:name_homophone"),
    ("a3", "P1", "moved:id_blank+name_homophone"),
    ("b1", "P2", "original"),
    ("b2", "P2", "duplicate:id_blank"),
    ("c1", "P3", "original"),
]
PRED_A = [("a1", "A"), ("a2", "A"), ("a3", "B"), ("b1", "B"), ("b2", "C"), ("c1", "D")]
# (a3, a1) joins clusters B and A; (a2, b1) joins the same two clusters again (counted once);
# (b2, c1) joins two clusters with no person in common.
REVIEW_A = [("a3", "a1"), ("a2", "b1"), ("b2", "c1")]
HARD_NEG_A = [("b1", "a3", "twins"), ("c1", "b2", "spouses"), ("a1", "c1", "spouses")]


def _metrics(truth, pred, **kw):
    con = duckdb.connect()
    load_inputs(con, truth=truth, predicted=pred, **kw)
    return evaluate(con, with_decisions=kw.get("moves") is not None)


def test_case_a_pairwise_and_bcubed() -> None:
    m = _metrics(TRUTH_A, PRED_A, review_pairs=REVIEW_A, hard_negatives=HARD_NEG_A)
    # true pairs: C(3,2) + C(2,2) = 4; predicted: 1 + 1 = 2; correct: a1-a2 only.
    assert (m.true_pairs, m.predicted_pairs, m.true_positive_pairs) == (4, 2, 1)
    assert m.pairwise.precision == pytest.approx(0.5)
    assert m.pairwise.recall == pytest.approx(0.25)
    assert m.pairwise.f1 == pytest.approx(1 / 3)
    # B-cubed precision: a1 1, a2 1, a3 1/2, b1 1/2, b2 1, c1 1  -> 5/6
    # B-cubed recall:    a1 2/3, a2 2/3, a3 1/3, b1 1/2, b2 1/2, c1 1 -> 11/18
    assert m.bcubed.precision == pytest.approx(5 / 6)
    assert m.bcubed.recall == pytest.approx(11 / 18)
    assert m.wrong_pairs == 1
    assert m.wrong_pairs_per_100k_archives == pytest.approx(100_000 / 6)
    assert m.mixed_clusters == 1  # {a3 b1}
    assert (m.archives, m.persons, m.predicted_clusters) == (6, 3, 4)


def test_case_a_review_coverage() -> None:
    m = _metrics(TRUTH_A, PRED_A, review_pairs=REVIEW_A)
    assert m.review_pairs == 3
    assert m.review_pairs_per_archive == pytest.approx(3 / 6)
    # cluster pair A-B covers a1-a3 and a2-a3 (P1): 2 pairs; C-D covers nothing.
    assert m.review_covered_pairs == 2
    assert m.recall_with_review == pytest.approx(3 / 4)


@pytest.mark.parametrize(
    ("family", "tag", "pairs", "auto", "with_review"),
    [
        # name_homophone on a2, a3: P1 pairs with a tagged archive = 3 - C(1,2) = 3;
        # auto a1-a2 = 1; review A-B: 2*1 - (2-1)*(1-1) = 2.
        ("corruption", "name_homophone", 3, 1, 3),
        # id_blank on a3 (P1: 3 - C(2,2) = 2) and b2 (P2: 1): 3 pairs, none auto,
        # review A-B gives a1-a3, a2-a3.
        ("corruption", "id_blank", 3, 0, 2),
        ("origin", "original", 3, 1, 2),   # a1-a2, a1-a3, b1-b2; review adds a1-a3
        ("origin", "duplicate", 3, 1, 2),  # a2-a1, a2-a3, b2-b1; review adds a2-a3
        ("origin", "moved", 2, 0, 2),      # a3-a1, a3-a2, both through review A-B
    ],
)
def test_case_a_recall_by_tag(family: str, tag: str, pairs: int, auto: int, with_review: int) -> None:
    m = _metrics(TRUTH_A, PRED_A, review_pairs=REVIEW_A)
    table = m.recall_by_corruption if family == "corruption" else m.recall_by_origin
    got = table[tag]
    assert (got.pairs, got.auto_linked, got.with_review) == (pairs, auto, with_review)
    assert got.recall == pytest.approx(auto / pairs)
    assert got.recall_with_review == pytest.approx(with_review / pairs)


def test_case_a_hard_negatives() -> None:
    m = _metrics(TRUTH_A, PRED_A, hard_negatives=HARD_NEG_A)
    assert m.hard_negative_links == {
        "twins": NegativeLinks(pairs=1, linked=1),
        "spouses": NegativeLinks(pairs=2, linked=0),
    }


def test_moved_archive_joined_to_another_person_is_not_judged() -> None:
    # a3 (moved) sits only with b1 (P2): the engine did not link it to its own person.
    m = _metrics(TRUTH_A, PRED_A, moves=[("a2", "110101001001")],
                 regions=[("a3", "320102003004", "2023-01-01")])
    assert m.target_county == CountyAccuracy(persons=0, correct=0, accuracy=None)


# Case B: target county ---------------------------------------------------------------
TRUTH_B = [
    ("x1", "P1", "original"), ("x2", "P1", "moved:address_old"),
    ("y1", "P2", "original"), ("y2", "P2", "moved"), ("y3", "P2", "moved"),
    ("z1", "P3", "original"), ("z2", "P3", "moved"),
    ("w1", "P4", "original"), ("w2", "P4", "moved"),
]
REGIONS_B = [
    ("x1", "110101001001", "2015-01-01"), ("x2", "320102003004", "2023-05-01"),
    ("y1", "440101001001", "2012-01-01"), ("y2", "330101001001", "2018-01-01"),
    ("y3", "330202001001", "2022-01-01"),  # newest moved archive of P2
    ("z1", "110101001001", "2015-01-01"), ("z2", "120101001001", "2020-01-01"),
    ("w1", "110101001001", "2015-01-01"), ("w2", "130101001001", "2020-01-01"),
]
PRED_B = [("x1", "X"), ("x2", "X"), ("y1", "Y"), ("y2", "Y"), ("y3", "Y"),
          ("z1", "Z1"), ("z2", "Z2"), ("w1", "W"), ("w2", "W")]


@pytest.mark.parametrize(
    ("moves", "persons", "correct"),
    [
        # P1 right; P2 has one row to the old county of y2 (wrong); P4 has no row (wrong);
        # P3's moved archive was not linked, so P3 is not judged.
        ([("x1", "320102009999"), ("y1", "330202001001"), ("y2", "330101001001")], 3, 1),
        # Every row of P2 now names the county of y3: P1 and P2 right.
        ([("x1", "320102009999"), ("y1", "330202001001"), ("y2", "330202005005")], 3, 2),
        # The target kept in the old county is wrong.
        ([("x2", "110101001001")], 3, 0),
    ],
)
def test_target_county_accuracy(moves, persons: int, correct: int) -> None:
    m = _metrics(TRUTH_B, PRED_B, moves=moves, regions=REGIONS_B)
    assert m.target_county is not None
    assert (m.target_county.persons, m.target_county.correct) == (persons, correct)
    assert m.target_county.accuracy == pytest.approx(correct / persons)


def test_systems_without_decisions_have_no_county_accuracy() -> None:
    assert _metrics(TRUTH_B, PRED_B).target_county is None


def test_missing_predictions_are_singletons_and_empty_ratios_are_undefined() -> None:
    m = _metrics(TRUTH_A, [("zz", "Q")])  # an archive not in the truth is ignored
    assert (m.predicted_pairs, m.true_positive_pairs, m.predicted_clusters) == (0, 0, 6)
    assert m.pairwise.precision is None and m.pairwise.f1 is None
    assert m.pairwise.recall == 0.0
    assert m.bcubed.precision == pytest.approx(1.0)
    assert m.review_pairs_per_archive == 0.0
    assert m.mixed_clusters == 0


def test_loads_from_sql_over_the_same_connection() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 'P', 'original'), "
                "('b', 'P', 'duplicate')) v(archive_id, person_id, kind)")
    con.execute("CREATE TABLE c AS SELECT * FROM (VALUES ('a', 1), ('b', 1)) v(archive_id, person_id)")
    load_inputs(con, truth="SELECT * FROM t", predicted="SELECT archive_id, person_id AS cluster_id FROM c")
    m = evaluate(con, with_decisions=False)
    assert m.pairwise.precision == 1.0 and m.pairwise.recall == 1.0


# Brute force ---------------------------------------------------------------------------
TAGS = ("id_blank", "dob_lunar")


@st.composite
def partitions(draw):
    n = draw(st.integers(min_value=1, max_value=14))
    person = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    cluster = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    tags = draw(st.lists(st.sets(st.sampled_from(TAGS)), min_size=n, max_size=n))
    review = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=6))
    return person, cluster, tags, [(a, b) for a, b in review if a != b]


@settings(max_examples=25, deadline=None)
@given(partitions())
def test_counts_match_brute_force(case) -> None:
    person, cluster, tags, review = case
    n = len(person)
    ids = [f"r{i}" for i in range(n)]
    truth = [(ids[i], f"P{person[i]}", "duplicate" + (":" + "+".join(sorted(tags[i])) if tags[i] else ""))
             for i in range(n)]
    pred = [(ids[i], f"C{cluster[i]}") for i in range(n)]
    m = _metrics(truth, pred, review_pairs=[(ids[a], ids[b]) for a, b in review])

    review_edges = {frozenset((cluster[a], cluster[b])) for a, b in review if cluster[a] != cluster[b]}
    true = [(i, j) for i, j in itertools.combinations(range(n), 2) if person[i] == person[j]]
    linked = [(i, j) for i, j in true if cluster[i] == cluster[j]]
    covered = [(i, j) for i, j in true if frozenset((cluster[i], cluster[j])) in review_edges]
    assert m.true_pairs == len(true)
    assert m.true_positive_pairs == len(linked)
    assert m.predicted_pairs == sum(1 for i, j in itertools.combinations(range(n), 2)
                                    if cluster[i] == cluster[j])
    assert m.review_covered_pairs == len(covered)
    for tag in TAGS:
        def has(p: tuple[int, int]) -> bool:
            return tag in tags[p[0]] or tag in tags[p[1]]
        expected = sum(map(has, true))
        if expected == 0:
            assert tag not in m.recall_by_corruption
            continue
        got = m.recall_by_corruption[tag]
        assert (got.pairs, got.auto_linked, got.with_review) == (
            expected, sum(map(has, linked)), sum(map(has, linked)) + sum(map(has, covered)))
    bp = sum(Fraction(sum(1 for j in range(n) if cluster[j] == cluster[i] and person[j] == person[i]),
                      sum(1 for j in range(n) if cluster[j] == cluster[i])) for i in range(n)) / n
    assert m.bcubed.precision == pytest.approx(float(bp))
