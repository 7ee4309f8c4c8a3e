"""Decision rules: survivor, target region, merge vs migrate, and the per-pair guard."""

from __future__ import annotations

from datetime import date

import pytest

from linkage.decide import (
    ArchiveFacts, apart_by_ids, decide_cluster, pair_guard, survivor_of, target_region_of,
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
    ({"name": "一致", "id": "一致", "dob": "一致"}, False),
    ({"name": "同音", "id": "空", "dob": "一致"}, True),            # twins sound alike (issue 9)
    ({"name": "同音", "id": "一致", "dob": "一致"}, False),
    ({"name": "不同", "id": "一致", "dob": "一致"}, True),          # child under a parent's ID
    ({"name": "一字之差", "id": "空", "dob": "一致"}, True),         # twins, one ID missing
    ({"name": "一字之差", "id": "一致", "dob": "一致"}, True),       # twin filed under sibling's ID
    ({"name": "漏字", "id": "一致", "dob": "一致"}, False),          # dropped character, ID confirms
    ({"name": "形近字", "id": "一致", "dob": "一致"}, False),        # 己/已 typo, ID confirms
    ({"name": "形近字", "id": "空", "dob": "一致"}, True),
    ({"name": "空", "id": "空", "dob": "一致"}, True),
    ({"name": "一致", "id": "号同但生日/性别不符", "dob": "不同"}, True),
    ({"name": "一致", "id": "空", "dob": "不同"}, True),
    ({"name": "一致", "id": "空", "dob": "一致", "sex": "不同"}, True),
    ({"name": "一致", "id": "一致", "dob": "一致", "sex": "不同"}, False),     # sex typo, ID confirms
])
def test_pair_guard(labels, blocked):
    assert bool(pair_guard(labels)) is blocked


@pytest.mark.parametrize("labels,apart", [
    ({"name": "一字之差", "id": "均有效且相符但不同"}, True),        # twins with their own IDs
    ({"name": "不同", "id": "号同但生日/性别不符"}, True),            # child under a parent's ID
    ({"name": "一致", "id": "号同但生日/性别不符"}, False),           # a sex or date typo
    ({"name": "一致", "id": "均有效但不同"}, False),                  # a relative's ID on a duplicate
    ({"name": "一致", "id": "空"}, False),
])
def test_apart_by_ids(labels, apart):
    assert apart_by_ids(labels) is apart


# -- guards as levels (issue 9) -------------------------------------------------------------

@pytest.mark.parametrize("labels,probability,blocked", [
    # sex typo: the same valid ID on both, fitting one record; name and birth date agree
    ({"name": "一致", "id": "号同但生日/性别不符", "dob": "一致", "sex": "不同", "location": "同县"}, 0.9991, False),
    # ...but not when the name is someone else's (a child under a parent's ID)
    ({"name": "不同", "id": "号同但生日/性别不符", "dob": "一致", "sex": "不同", "location": "同址"}, 1.0, True),
    # sex typo without an ID: same name, date and household
    ({"name": "一致", "id": "空", "dob": "一致", "sex": "不同", "location": "同址"}, 0.9999, False),
    ({"name": "一致", "id": "空", "dob": "一致", "sex": "不同", "location": "同县"}, 0.9999, True),
    # same name in one household without an ID: the ID-less threshold is not asked
    ({"name": "一致", "id": "空", "dob": "农历偏差", "sex": "一致", "location": "同址同电话"}, 0.9991, False),
    # same name and date, nothing shared but the county: namesakes?
    ({"name": "一致", "id": "空", "dob": "一致", "sex": "一致", "location": "同县"}, 0.99999, True),
    ({"name": "一致", "id": "空", "dob": "一致", "sex": "一致", "location": "跨县"}, 0.99999, True),
    # homophone or dropped character, same birth date and home, no ID: twins?
    ({"name": "同音", "id": "空", "dob": "一致", "sex": "一致", "location": "同址同电话"}, 1.0, True),
    ({"name": "漏字", "id": "空", "dob": "一致", "sex": "一致", "location": "同址"}, 1.0, True),
    ({"name": "同音", "id": "一致", "dob": "一致", "sex": "一致", "location": "同址同电话"}, 1.0, False),
    # swapped characters in one household are a typo
    ({"name": "字序颠倒", "id": "空", "dob": "一致", "sex": "一致", "location": "同电话"}, 0.9999, False),
    # newborn placeholder: name unknown, only an ID confirms
    ({"name": "新生儿占位", "id": "空", "dob": "一致", "sex": "空", "location": "同址同电话"}, 1.0, True),
    ({"name": "新生儿占位", "id": "一致", "dob": "一致", "sex": "一致", "location": "同址"}, 0.9999, False),
])
def test_pair_guard_levels(labels, probability, blocked):
    assert bool(pair_guard(labels, probability, 0.9995)) is blocked


def test_newborn_placeholder_is_never_names_differ():
    reason = pair_guard({"name": "新生儿占位", "id": "空", "dob": "一致", "location": "同址"}, 1.0, 0.9995)
    assert "newborn" in reason and "names differ" not in reason
