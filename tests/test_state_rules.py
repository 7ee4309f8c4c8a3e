"""The pure rules of the state: stable person IDs and which decisions a run emits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.human import HumanDecisions
from linkage.state.decision_log import (
    Correction, content_of, decision_id, diff_decisions, with_ids,
)
from linkage.state.person_ids import assign_person_ids, format_person_id
from linkage.state.unmerge import UnmergeNote, with_unmerges

P1, P2, P3 = format_person_id(1), format_person_id(2), format_person_id(3)


def test_person_id_format_sorts_by_age():
    assert P1 == "P0000000001"
    assert sorted([format_person_id(10), format_person_id(9)]) == [format_person_id(9), format_person_id(10)]


def test_unchanged_clusters_keep_their_ids_and_new_archives_get_new_ones():
    changes = assign_person_ids([["a", "b"], ["c"], ["n"]], {"a": P1, "b": P1, "c": P2}, 3)
    assert changes.person_of == {"a": P1, "b": P1, "c": P2, "n": P3}
    assert changes.created == [P3] and changes.next_number == 4
    assert not changes.merged and not changes.split and not changes.retired


def test_merge_keeps_the_older_id():
    changes = assign_person_ids([["a", "b", "c"]], {"a": P2, "b": P2, "c": P1}, 3)
    assert set(changes.person_of.values()) == {P1}
    assert changes.merged == {P2: P1}
    assert changes.counts() == {"created": 0, "merged": 1, "split": 0, "retired": 0}


def test_split_the_larger_part_keeps_the_id():
    changes = assign_person_ids([["a"], ["b", "c"]], {"a": P1, "b": P1, "c": P1}, 2)
    assert changes.person_of["b"] == changes.person_of["c"] == P1
    assert changes.person_of["a"] == format_person_id(2)
    assert changes.split == [P1]


def test_split_tie_goes_to_the_part_with_the_smallest_archive_id():
    changes = assign_person_ids([["b", "d"], ["a", "c"]], {x: P1 for x in "abcd"}, 2)
    assert changes.person_of["a"] == changes.person_of["c"] == P1
    assert changes.person_of["b"] == format_person_id(2)


def test_an_unmerged_archive_leaves_and_the_rest_keep_the_id():
    """Acceptance: `linkage unmerge a` of the pair {a, b} left a with P1 (the tie rule: the
    smallest archive_id) and gave b a new ID.  The un-merged archive is the one that leaves,
    whatever the sizes and archive numbers."""
    tie = assign_person_ids([["a"], ["b"]], {"a": P1, "b": P1}, 2, leaving={"a": P1})
    assert tie.person_of == {"a": format_person_id(2), "b": P1}
    assert tie.split == [P1] and tie.created == [format_person_id(2)]
    larger = assign_person_ids([["a", "n"], ["b"]], {"a": P1, "b": P1}, 2, leaving={"a": P1})
    assert larger.person_of["b"] == P1 and larger.person_of["a"] == format_person_id(2)
    # Un-merged from another person (an old record): the usual rules.
    other = assign_person_ids([["a"], ["b"]], {"a": P1, "b": P1}, 2, leaving={"a": P2})
    assert other.person_of["a"] == P1
    # Every part un-merged (all archives separated one by one): one of them keeps it.
    every = assign_person_ids([["a"], ["b"]], {"a": P1, "b": P1}, 2, leaving={"a": P1, "b": P1})
    assert every.person_of["a"] == P1


def test_ids_of_vanished_residents_retire_and_are_never_reissued():
    changes = assign_person_ids([["b"]], {"a": P1, "b": P2}, 3)
    assert changes.retired == [P1]
    assert changes.person_of == {"b": P2}
    fresh = assign_person_ids([["x"]], {}, changes.next_number)
    assert fresh.person_of["x"] == P3


@settings(max_examples=150, deadline=None)
@given(
    old=st.lists(st.integers(0, 5), min_size=1, max_size=12),
    new=st.lists(st.integers(0, 5), min_size=1, max_size=12),
)
def test_person_id_invariants(old, new):
    """Any two partitions: one ID per cluster, distinct clusters distinct IDs, no reuse."""
    archives_old = {f"a{i:02d}": format_person_id(g + 1) for i, g in enumerate(old)}
    groups: dict[int, list[str]] = {}
    for i, g in enumerate(new):
        groups.setdefault(g, []).append(f"a{i:02d}")
    previous = {a: p for a, p in archives_old.items()}  # extra old archives have vanished
    changes = assign_person_ids(groups.values(), previous, 7)
    ids = [changes.person_of[m[0]] for m in groups.values()]
    assert len(set(ids)) == len(ids)
    for members in groups.values():
        assert len({changes.person_of[a] for a in members}) == 1
    for person in changes.created:
        assert person not in previous.values() and person >= format_person_id(7)
    in_use = set(changes.person_of.values())
    assert not in_use & set(changes.merged) and not in_use & set(changes.retired)
    for members in groups.values():  # a cluster that is exactly an old person keeps its ID
        olds = {previous.get(a) for a in members}
        owners = [a for a, p in previous.items() if p in olds]
        if len(olds) == 1 and None not in olds and sorted(owners) == sorted(members):
            assert changes.person_of[members[0]] == olds.pop()


def _merge(archive, survivor, to="620102001001", action="merge", **extra):
    return {"action": action, "archive_id": archive, "survivor_archive_id": survivor,
            "from_region": "620102001001", "to_region": to, "match_probability": 0.9999,
            "match_weight": 20.0, "evidence": "", "person_id": "P", "decided_by": "engine",
            "reason": "", **extra}


def _emitted(decision, ordinal=1):
    row = {**decision, "supersedes": decision.get("supersedes", "")}
    row["decision_id"] = decision_id(content_of(row), ordinal)
    return row


def _diff(current, standing, person_of, present=None, before=None):
    return diff_decisions(
        current, standing, before or {content_of(s): 1 for s in standing},
        (present or set(person_of)).__contains__, person_of,
        lambda x, s: Correction("reviewer", "reviewer said different people"),
    )


def test_a_decision_that_still_holds_is_not_emitted_again():
    old = _emitted(_merge("x", "s"))
    update = _diff([_merge("x", "s", match_probability=0.99991)], [old], {"x": "P1", "s": "P1"})
    assert update.emitted == [] and update.unstand == []


def test_a_changed_decision_supersedes_the_old_one():
    old = _emitted(_merge("x", "s"))
    update = _diff([_merge("x", "s", to="620802001002", action="migrate")], [old],
                   {"x": "P1", "s": "P1"})
    [row] = update.emitted
    assert row["action"] == "migrate" and row["supersedes"] == old["decision_id"]
    assert update.unstand == [old["decision_id"]] and update.stand == [row]


def test_a_merge_that_no_longer_holds_is_unmerged():
    old = _emitted(_merge("x", "s"))
    update = _diff([], [old], {"x": "P1", "s": "P2"})
    [row] = update.emitted
    assert (row["action"], row["archive_id"], row["survivor_archive_id"]) == ("unmerge", "x", "s")
    assert row["supersedes"] == old["decision_id"] and row["decided_by"] == "reviewer"
    assert row["decision_id"] != old["decision_id"]


def test_a_merge_carried_out_is_not_corrected():
    old = _emitted(_merge("x", "s"))
    update = _diff([], [old], {"s": "P1"})  # x left the export: the platform retired it
    assert update.emitted == [] and update.unstand == [old["decision_id"]]


def test_a_merge_whose_survivor_left_the_export_is_corrected():
    old = _emitted(_merge("x", "s"))
    update = _diff([], [old], {"x": "P1"})  # s left; x stands alone now
    [row] = update.emitted
    assert (row["action"], row["archive_id"], row["supersedes"]) == ("correct", "x", old["decision_id"])
    assert "survivor left the export" in row["reason"]


def test_an_archive_that_became_the_survivor_gets_a_correct_row():
    old = _emitted(_merge("x", "s"))
    update = _diff([_merge("s", "x")], [old], {"x": "P1", "s": "P1"})
    assert [r["action"] for r in update.emitted] == ["correct", "merge"]
    assert update.emitted[0]["supersedes"] == old["decision_id"]


def test_a_review_pair_that_is_settled_just_stops_standing():
    old = _emitted({**_merge("a", "b"), "action": "review"})
    update = _diff([], [old], {"a": "P1", "b": "P2"})
    assert update.emitted == [] and update.unstand == [old["decision_id"]]


def test_decision_ids_are_stable_and_a_re_emission_gets_a_new_one():
    first = with_ids([_merge("x", "s")])[0]
    assert first["decision_id"] == with_ids([_merge("x", "s")])[0]["decision_id"]
    assert len(first["decision_id"]) == 16 and first["supersedes"] == ""
    again = _diff([_merge("x", "s")], [], {"x": "P", "s": "P"},
                  before={content_of(first): 1}).emitted[0]
    assert again["decision_id"] == decision_id(content_of(first), 2) != first["decision_id"]


def test_unmerge_links_apply_only_where_reviewers_have_not_decided():
    links = {("a", "b"): UnmergeNote("op", "why"), ("c", "d"): UnmergeNote("op", "")}
    human = HumanDecisions(must_links=frozenset({("c", "d")}))
    merged = with_unmerges(human, links)
    assert merged.cannot_links == frozenset({("a", "b")})
    assert merged.must_links == frozenset({("c", "d")})  # a reviewer's later "same" stands
