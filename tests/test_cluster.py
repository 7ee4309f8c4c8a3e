"""Constrained clustering: strong pairs join, chains of different people do not."""

from __future__ import annotations

from linkage.cluster import CONTESTED_REASON, Edge, constrained_clusters, ids_conflict, twin_ids
from linkage.standardise.id_number import check_digit

A_ID = "11010519491231002X"
B_ID = "440524188001010014"
A_TYPO = "11010519491231003X"  # one digit off A_ID


def _clusters(result) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for archive, root in result.root_of.items():
        groups.setdefault(root, set()).add(archive)
    return {frozenset(g) for g in groups.values()}


def test_strong_edges_join_and_singletons_stay():
    result = constrained_clusters(["a", "b", "c"], [Edge("a", "b", 0.9999, True)], {})
    assert _clusters(result) == {frozenset({"a", "b"}), frozenset({"c"})}
    assert not result.refused


def test_two_valid_ids_of_different_people_never_join_through_a_chain():
    # a-x and x-b are both strong, but a and b carry valid IDs of two people: x is one of
    # them, and the stronger link does not say which (contested: it joins neither)
    edges = [Edge("a", "x", 0.99999, True), Edge("x", "b", 0.9999, True)]
    result = constrained_clusters(["a", "b", "x"], edges, {"a": A_ID, "b": B_ID})
    assert _clusters(result) == {frozenset({"a"}), frozenset({"x"}), frozenset({"b"})}
    assert result.contested == {"x"}
    assert sorted((e.left, e.right, why) for e, why in result.refused) == [
        ("a", "x", CONTESTED_REASON), ("x", "b", CONTESTED_REASON)]


def test_an_archive_matching_two_people_equally_joins_neither():
    # acceptance test: 熊浩 with no birth date, one score against two 熊浩 of one home with
    # two valid IDs; the lower archive number used to win
    edges = [Edge("a", "x", 0.999255, True), Edge("b", "x", 0.999255, True)]
    for ids in ({"a": A_ID, "b": B_ID}, {"a": B_ID, "b": A_ID}):
        result = constrained_clusters(["a", "b", "x"], edges, ids)
        assert _clusters(result) == {frozenset({"a"}), frozenset({"x"}), frozenset({"b"})}
        assert {why for _, why in result.refused} == {CONTESTED_REASON}


def test_an_id_that_fits_both_records_settles_the_choice():
    edges = [Edge("a", "x", 0.99, True, id_confirmed=True), Edge("x", "b", 0.99999, True)]
    result = constrained_clusters(["a", "b", "x"], edges, {"a": A_ID, "b": B_ID})
    assert _clusters(result) == {frozenset({"a", "x"}), frozenset({"b"})}
    assert not result.contested
    assert [reason for _, reason in result.refused] == ["valid IDs of two different people"]


def test_one_digit_typo_ids_are_the_same_person():
    assert not ids_conflict({A_ID}, {A_TYPO})
    assert ids_conflict({A_ID}, {B_ID})
    result = constrained_clusters(["a", "b"], [Edge("a", "b", 0.9999, True)], {"a": A_ID, "b": A_TYPO})
    assert _clusters(result) == {frozenset({"a", "b"})}


A_TWIN = "11010519491231004" + check_digit("11010519491231004")  # same birth date as A_ID


def test_valid_ids_with_one_birth_date_are_twins_even_if_a_record_disagrees():
    # b's record has a mistyped birth date, so its ID is not "strong"; the IDs still say twins.
    assert twin_ids({A_ID}, {A_TWIN}) and not twin_ids({A_ID}, {A_TYPO})
    result = constrained_clusters(["a", "b"], [Edge("a", "b", 0.99999, True)], {"a": A_ID},
                                  valid_ids={"a": A_ID, "b": A_TWIN})
    assert _clusters(result) == {frozenset({"a"}), frozenset({"b"})}
    assert [reason for _, reason in result.refused] == ["valid IDs with the same birth date (twins?)"]


def test_cannot_link_blocks_direct_and_chained_joins():
    edges = [Edge("a", "b", 0.99999, True), Edge("b", "c", 0.9999, True)]
    result = constrained_clusters(["a", "b", "c"], edges, {}, cannot_links=[("a", "c")])
    assert _clusters(result) == {frozenset({"a", "b"}), frozenset({"c"})}
    assert result.refused[0][1] == "reviewer said different people"


def test_must_link_joins_without_a_scored_edge_but_not_across_cannot_link():
    result = constrained_clusters(
        ["a", "b", "c"], [], {}, cannot_links=[("a", "c")], must_links=[("a", "b"), ("b", "c")]
    )
    assert _clusters(result) == {frozenset({"a", "b"}), frozenset({"c"})}
    assert result.must_links_refused == [("b", "c")]


def test_weak_link_refused_when_chain_ends_score_as_different():
    edges = [Edge("a", "b", 0.99999, True), Edge("b", "c", 0.9999, True)]
    result = constrained_clusters(["a", "b", "c"], edges, {}, clearly_different=[("a", "c")])
    # b would join a and c, which score as different: b is contested and joins neither
    assert _clusters(result) == {frozenset({"a"}), frozenset({"b"}), frozenset({"c"})}
    assert result.contested == {"b"}
    # a chain of two joined pairs held together by one weak link: the link is refused
    edges = [Edge("a", "b", 0.99999, True, id_confirmed=True), Edge("c", "d", 0.99999, True, id_confirmed=True),
             Edge("b", "c", 0.9999, True)]
    result = constrained_clusters(["a", "b", "c", "d"], edges, {}, clearly_different=[("a", "d")])
    assert _clusters(result) == {frozenset({"a", "b"}), frozenset({"c", "d"})}
    assert "weak link" in result.refused[0][1]


def test_a_chain_never_joins_archives_that_look_like_twins():
    # twin B's archive b1 has the name of twin A's typo'd archive a2: "the same name at home"
    edges = [Edge("a1", "a2", 0.99999, True), Edge("a2", "b1", 0.9999, True)]
    result = constrained_clusters(["a1", "a2", "b1"], edges, {}, possible_twins=[("a1", "b1")])
    # a2 looks like both twins: it joins neither
    assert _clusters(result) == {frozenset({"a1"}), frozenset({"a2"}), frozenset({"b1"})}
    assert result.contested == {"a2"}


def test_an_id_confirmed_edge_goes_first_and_is_not_held_by_a_twin_look():
    # t2/t3 carry one ID fitting both (a name typo); t4 is the twin with t3's typed name.
    twins = [("t1", "t3"), ("t2", "t4"), ("t1", "t4")]
    edges = [Edge("t3", "t4", 0.999999, True), Edge("t2", "t3", 0.99, True, id_confirmed=True)]
    result = constrained_clusters(["t1", "t2", "t3", "t4"], edges, {}, must_links=[("t1", "t2")],
                                  possible_twins=twins)
    # the reviewer's t1-t2, then the ID's t2-t3 (first, though weaker), and t4 stays apart
    assert _clusters(result) == {frozenset({"t1", "t2", "t3"}), frozenset({"t4"})}
    assert [(e.left, e.right, why) for e, why in result.refused] == [
        ("t3", "t4", "chain joins archives that look like twins")]


def test_the_edges_own_twin_look_is_for_its_guard_to_judge():
    result = constrained_clusters(["a", "b"], [Edge("a", "b", 0.9999, True)], {},
                                  possible_twins=[("a", "b")])
    assert _clusters(result) == {frozenset({"a", "b"})}


def test_guarded_edge_goes_to_refused_with_its_reason():
    edge = Edge("a", "b", 0.99999, False, "names differ")
    result = constrained_clusters(["a", "b"], [edge], {})
    assert _clusters(result) == {frozenset({"a"}), frozenset({"b"})}
    assert result.refused == [(edge, "names differ")]


def test_size_cap():
    edges = [Edge(str(i), str(i + 1), 0.9999, True) for i in range(5)]
    result = constrained_clusters([str(i) for i in range(6)], edges, {}, max_size=3)
    assert max(len(c) for c in _clusters(result)) <= 3
    assert any("exceed" in reason for _, reason in result.refused)


def test_result_independent_of_edge_order():
    edges = [Edge("a", "b", 0.9999, True), Edge("b", "c", 0.9999, True), Edge("c", "d", 0.99999, True)]
    first = constrained_clusters("abcd", edges, {"a": A_ID, "d": B_ID})
    second = constrained_clusters("dcba", list(reversed(edges)), {"a": A_ID, "d": B_ID})
    assert first.root_of == second.root_of
