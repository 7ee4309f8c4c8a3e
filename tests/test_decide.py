"""Decision rules: survivor, target region, merge vs migrate, and the per-pair guard."""

from __future__ import annotations

from datetime import date

import pytest

from linkage.decide import (
    NOT_QUEUED_REASONS, ArchiveFacts, apart_by_ids, clearly_apart, decide_cluster, newborn_at_home,
    one_person_at_home, pair_guard, possible_twins, survivor_of, target_region_of,
)


def _facts(aid, region, created, served=None, valid=True, complete=5):
    return ArchiveFacts(aid, region, created, served, valid, complete)


def test_survivor_is_oldest_then_valid_id_then_most_complete():
    old = _facts("b", "620802100201", date(2012, 1, 1), valid=False)
    new = _facts("a", "620802100201", date(2020, 1, 1))
    assert survivor_of([new, old]).archive_id == "b"
    same_day_valid = _facts("c", "620802100201", date(2012, 1, 1), valid=True, complete=1)
    assert survivor_of([old, same_day_valid]).archive_id == "c"
    richer = _facts("d", "620802100201", date(2012, 1, 1), valid=True, complete=7)
    assert survivor_of([same_day_valid, richer]).archive_id == "d"


def test_target_region_is_latest_service_else_latest_created():
    a = _facts("a", "620802100201", date(2012, 1, 1), date(2019, 5, 1))
    b = _facts("b", "620821100201", date(2021, 1, 1), date(2024, 5, 1))
    assert target_region_of([a, b]) == "620821100201"
    c = _facts("c", "620802100201", date(2012, 1, 1))
    d = _facts("d", "620823100201", date(2022, 1, 1))
    assert target_region_of([c, d]) == "620823100201"
    # Moved in 2022 and not yet served there: the new archive still says where they live.
    served_before_move = _facts("e", "620802100201", date(2012, 1, 1), date(2021, 3, 1))
    assert target_region_of([served_before_move, d]) == "620823100201"


def test_cross_county_cluster_migrates_to_where_resident_is_served():
    old = _facts("a", "620802100201", date(2012, 1, 1), date(2019, 5, 1))
    new = _facts("b", "620821100201", date(2021, 1, 1), date(2024, 5, 1))
    (decision,) = decide_cluster([old, new])
    assert decision.action == "migrate"
    assert decision.archive_id == "b" and decision.survivor_archive_id == "a"
    assert decision.from_region == "620802100201" and decision.to_region == "620821100201"


def test_same_county_cluster_merges():
    a = _facts("a", "620802100201", date(2012, 1, 1))
    b = _facts("b", "620802101202", date(2015, 1, 1))
    c = _facts("c", "620802100201", date(2018, 1, 1))
    decisions = decide_cluster([c, b, a])
    assert [(d.action, d.archive_id, d.survivor_archive_id) for d in decisions] == [
        ("merge", "b", "a"), ("merge", "c", "a")]
    assert decide_cluster([a]) == []


@pytest.mark.parametrize("labels,blocked", [
    ({"name": "name.exact", "id": "id.exact", "dob": "dob.exact"}, False),
    ({"name": "name.homophone", "id": "id.null", "dob": "dob.exact"}, True),            # twins sound alike (issue 9)
    ({"name": "name.homophone", "id": "id.exact", "dob": "dob.exact"}, False),
    ({"name": "name.different", "id": "id.exact", "dob": "dob.exact"}, True),          # child under a parent's ID
    ({"name": "name.one_char", "id": "id.null", "dob": "dob.exact"}, True),         # twins, one ID missing
    ({"name": "name.one_char", "id": "id.exact", "dob": "dob.exact"}, True),       # twin filed under sibling's ID
    ({"name": "name.dropped_char", "id": "id.exact", "dob": "dob.exact"}, False),          # dropped character, ID confirms
    ({"name": "name.lookalike", "id": "id.exact", "dob": "dob.exact"}, False),        # 己/已 typo, ID confirms
    ({"name": "name.lookalike", "id": "id.null", "dob": "dob.exact"}, True),
    ({"name": "name.null", "id": "id.null", "dob": "dob.exact"}, True),
    ({"name": "name.exact", "id": "id.shared_not_fitting", "dob": "dob.different"}, True),
    ({"name": "name.exact", "id": "id.null", "dob": "dob.different"}, True),
    ({"name": "name.exact", "id": "id.null", "dob": "dob.exact", "sex": "sex.different"}, True),
    ({"name": "name.exact", "id": "id.exact", "dob": "dob.exact", "sex": "sex.different"}, False),     # sex typo, ID confirms
])
def test_pair_guard(labels, blocked):
    assert bool(pair_guard(labels)) is blocked


@pytest.mark.parametrize("labels,apart", [
    ({"name": "name.one_char", "id": "id.two_people"}, True),        # twins with their own IDs
    ({"name": "name.different", "id": "id.shared_not_fitting"}, True),            # child under a parent's ID
    ({"name": "name.exact", "id": "id.shared_not_fitting"}, False),           # a sex or date typo
    ({"name": "name.exact", "id": "id.both_valid_differ"}, False),                  # a relative's ID on a duplicate
    ({"name": "name.exact", "id": "id.null"}, False),
])
def test_apart_by_ids(labels, apart):
    assert apart_by_ids(labels) is apart


# -- guards as levels (issue 9) -------------------------------------------------------------

@pytest.mark.parametrize("labels,probability,blocked", [
    # sex typo: the same valid ID on both, fitting one record; name and birth date agree
    ({"name": "name.exact", "id": "id.shared_not_fitting", "dob": "dob.exact", "sex": "sex.different", "location": "location.county"}, 0.9991, False),
    # ...but not when the name is someone else's (a child under a parent's ID)
    ({"name": "name.different", "id": "id.shared_not_fitting", "dob": "dob.exact", "sex": "sex.different", "location": "location.address"}, 1.0, True),
    # sexes differ with no ID, even in one household: opposite-sex twins filed under one name
    ({"name": "name.exact", "id": "id.null", "dob": "dob.exact", "sex": "sex.different", "location": "location.address"}, 0.9999, True),
    ({"name": "name.exact", "id": "id.one_typo", "dob": "dob.exact", "sex": "sex.different", "location": "location.address"}, 0.9999, False),
    ({"name": "name.exact", "id": "id.null", "dob": "dob.exact", "sex": "sex.different", "location": "location.county"}, 0.9999, True),
    # same name in one household without an ID: the ID-less threshold is not asked
    ({"name": "name.exact", "id": "id.null", "dob": "dob.lunar_shift", "sex": "sex.same", "location": "location.address_phone"}, 0.9991, False),
    # same name and date, nothing shared but the county: namesakes?
    ({"name": "name.exact", "id": "id.null", "dob": "dob.exact", "sex": "sex.same", "location": "location.county"}, 0.99999, True),
    ({"name": "name.exact", "id": "id.null", "dob": "dob.exact", "sex": "sex.same", "location": "location.other_county"}, 0.99999, True),
    # homophone or dropped character, same birth date and home, no ID: twins?
    ({"name": "name.homophone", "id": "id.null", "dob": "dob.exact", "sex": "sex.same", "location": "location.address_phone"}, 1.0, True),
    ({"name": "name.dropped_char", "id": "id.null", "dob": "dob.exact", "sex": "sex.same", "location": "location.address"}, 1.0, True),
    ({"name": "name.homophone", "id": "id.exact", "dob": "dob.exact", "sex": "sex.same", "location": "location.address_phone"}, 1.0, False),
    # swapped characters in one household are a typo
    ({"name": "name.chars_swapped", "id": "id.null", "dob": "dob.exact", "sex": "sex.same", "location": "location.phone"}, 0.9999, False),
    # newborn placeholder: name unknown, only an ID confirms
    ({"name": "name.placeholder", "id": "id.null", "dob": "dob.exact", "sex": "sex.null", "location": "location.address_phone"}, 1.0, True),
    ({"name": "name.placeholder", "id": "id.exact", "dob": "dob.exact", "sex": "sex.same", "location": "location.address"}, 0.9999, False),
])
def test_pair_guard_levels(labels, probability, blocked):
    assert bool(pair_guard(labels, probability, 0.9995)) is blocked


def test_newborn_placeholder_is_never_names_differ():
    reason = pair_guard({"name": "name.placeholder", "id": "id.null", "dob": "dob.exact", "location": "location.address"}, 1.0, 0.9995)
    assert "newborn" in reason and "names differ" not in reason


# -- rules that travel (issue 9 part 1) -------------------------------------------------------

PLACEHOLDER_HOME = {"name": "name.placeholder", "id": "id.null", "dob": "dob.exact", "sex": "sex.same",
                    "location": "location.address_phone"}


@pytest.mark.parametrize("changes,sole,blocked", [
    ({}, True, False),                                   # the household's one child of that date
    ({}, False, True),                                   # twins: two named archives of that date
    ({"sex": "sex.null"}, True, False),
    ({"sex": "sex.different"}, True, True),              # 王芳之子 is not the daughter
    ({"dob": "dob.year_and_month_or_day"}, True, False), # a visit date: within weeks (newborn.py)
    ({"dob": "dob.different"}, True, True),
    ({"location": "location.village"}, True, True),      # not one household
    ({"id": "id.two_people"}, True, True),               # two people's IDs
    ({"id": "id.one_typo"}, True, False),
])
def test_newborn_placeholder_with_the_households_only_child_of_that_date(changes, sole, blocked):
    levels = {**PLACEHOLDER_HOME, **changes}
    assert bool(pair_guard(levels, 1.0, 0.9995, sole_newborn=sole)) is blocked


@pytest.mark.parametrize("changes,weighed", [
    ({}, True),
    ({"dob": "dob.year_and_month_or_day"}, True),        # the home-visit date, weeks off
    ({"dob": "dob.lunar_shift"}, True),
    ({"dob": "dob.different"}, False),                   # another child
    ({"dob": "dob.null"}, False),
    ({"sex": "sex.null"}, True),
    ({"sex": "sex.different"}, False),
    ({"id": "id.one_typo"}, True),
    ({"id": "id.both_valid_differ"}, False),
    ({"location": "location.phone"}, True),
    ({"location": "location.village"}, False),           # not one household
    ({"name": "name.exact"}, False),                     # a named pair: its score decides
])
def test_newborn_pairs_weighed_whatever_their_score(changes, weighed):
    assert newborn_at_home({**PLACEHOLDER_HOME, **changes}) is weighed


@pytest.mark.parametrize("dob,sex,location,blocked", [
    # one ID on both records, fitting one: the other record's date (or sex) is a typo
    ("dob.lunar", "sex.same", "location.other_county", False),
    ("dob.year_off", "sex.same", "location.county", False),
    ("dob.lunar_shift", "sex.different", "location.address", False),
    ("dob.day_month_swapped", "sex.same", "location.township", False),
    # ...but not a date that is simply different
    ("dob.different", "sex.same", "location.address", True),
    ("dob.within_year", "sex.same", "location.address", True),
])
def test_shared_id_with_a_birth_date_typo_confirms_the_same_name(dob, sex, location, blocked):
    levels = {"name": "name.exact", "id": "id.shared_not_fitting", "dob": dob, "sex": sex, "location": location}
    assert bool(pair_guard(levels, 0.9999, 0.9995)) is blocked
    # a near name under someone's ID (a child filed under a parent's ID) never does
    assert pair_guard({**levels, "name": "name.one_char"}, 0.9999, 0.9995)


@pytest.mark.parametrize("levels,apart", [
    ({"name": "name.one_char", "sex": "sex.different", "id": "id.null"}, True),      # twins, other sex
    ({"name": "name.one_char", "sex": "sex.different", "id": "id.exact"}, False),    # the ID says one
    ({"name": "name.one_char", "sex": "sex.same", "id": "id.null"}, False),          # reviewer decides
    ({"name": "name.homophone", "sex": "sex.different", "id": "id.null"}, False),
    ({"name": "name.one_char", "id": "id.two_people"}, True),
    # relatives of one household: near names, birth dates plainly apart, no ID on both
    ({"name": "name.dropped_char", "dob": "dob.different", "id": "id.null"}, True),
    ({"name": "name.placeholder", "dob": "dob.different", "id": "id.null"}, True),
    ({"name": "name.homophone", "dob": "dob.different", "id": "id.exact"}, False),     # the ID says one
    ({"name": "name.homophone", "dob": "dob.year_off", "id": "id.null"}, False),       # a typo level
    ({"name": "name.exact", "dob": "dob.different", "id": "id.null"}, False),          # same name: ask
    ({"name": "name.null", "dob": "dob.different", "id": "id.null"}, False),           # no name: ask
])
def test_clearly_apart(levels, apart):
    assert clearly_apart(levels) is apart


TWINS = {"name": "name.homophone", "dob": "dob.exact", "id": "id.null", "location": "location.address"}


@pytest.mark.parametrize("change,twins", [
    ({}, True),
    ({"name": "name.one_char"}, True),
    ({"name": "name.lookalike", "location": "location.village"}, True),   # address written another way
    ({"name": "name.exact"}, False),                                      # the same name: one person
    ({"dob": "dob.lunar"}, False),                                        # twins share the date
    ({"id": "id.exact"}, False),                                          # one ID fitting both
    ({"location": "location.other_county"}, False),                       # not near one home
])
def test_possible_twins(change, twins):
    assert possible_twins({**TWINS, **change}) is twins


def test_reasons_never_true_in_review_are_not_queued():
    assert "an archive predates the other record's birth" in NOT_QUEUED_REASONS
    assert "valid IDs of two different people" in NOT_QUEUED_REASONS
    assert "names one character apart (twins?)" not in NOT_QUEUED_REASONS


HOME_TYPO = {"name": "name.exact", "id": "id.null", "dob": "dob.lunar", "sex": "sex.same",
             "location": "location.address"}


@pytest.mark.parametrize("changes,joined", [
    ({}, True),
    ({"dob": "dob.year_off"}, True),
    ({"dob": "dob.day_month_swapped", "location": "location.phone"}, True),
    ({"id": "id.one_typo", "sex": "sex.null"}, True),
    ({"dob": "dob.null"}, False),                 # a same-named relative sharing a phone
    ({"dob": "dob.different"}, False),            # parent and child of one name
    ({"dob": "dob.exact"}, False),                # scored as usual (twins' guards apply)
    ({"name": "name.homophone"}, False),
    ({"sex": "sex.different"}, False),
    ({"id": "id.two_people"}, False),
    ({"location": "location.village"}, False),
])
def test_one_person_at_home(changes, joined):
    levels = {**HOME_TYPO, **changes}
    assert one_person_at_home(levels) is joined
    if joined:  # and no guard stands in its way, whatever the score
        assert pair_guard(levels, 0.9, 0.9995) == ""
