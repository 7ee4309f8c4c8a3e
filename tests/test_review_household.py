"""The household view: pairs of one archive or household settled in one step, stored per pair."""

from __future__ import annotations

import re

import pytest

from linkage.errors import ReviewError
from linkage.review.household import parse_groups
from linkage.review.session import Mode, Session
from linkage.review.store import ReviewStore, publish_queue, store_path
from linkage.standardise.address import normalise_address

PHONE = "13909330021"


def side(out: dict, s: str, name: str, phone: str = PHONE, region: str = "620802001003") -> None:
    out.update({f"{s}_name": name, f"{s}_phone": phone, f"{s}_phone_norm": phone,
                f"{s}_region_code": region, f"{s}_county": region[:6], f"{s}_township": region[:9],
                f"{s}_address_skeleton": "民主路#号", f"{s}_birth_date": "1966-03-31"})


def item(a: str, b: str, p: float, names=("王桂英", "王秀兰"), phones=(PHONE, PHONE), region="620802001003",
         evidence: str = "name=形近字 +2.0; id=空 0; location=同址同电话 +13.2") -> dict:
    out = {"archive_id_l": a, "archive_id_r": b, "match_probability": p, "match_weight": 0.1,
           "evidence": evidence, "reason": "score between review and automatic thresholds"}
    side(out, "l", names[0], phones[0], region)
    side(out, "r", names[1], phones[1], region)
    return out


@pytest.fixture
def store(tmp_path):
    # H1-H2, H1-H3, H2-H3: one household (shared archives and phone); Z1-Z2 elsewhere.
    publish_queue(tmp_path, [
        item("H1", "H2", 0.55), item("H1", "H3", 0.60), item("H2", "H3", 0.62),
        item("Z1", "Z2", 0.95, names=("李强", "李强"), phones=("13800001111", "13800002222"),
             region="620802002001", evidence="name=一致 +8; id=空 0"),
    ])
    with ReviewStore(store_path(tmp_path)) as s:
        yield s


def test_parse_groups_reads_the_reviewers_line():
    assert parse_groups("1,3 same; 2 different", 3) == {1: 1, 2: 2, 3: 1}
    assert parse_groups("1 2 3", 3) == {1: 1, 2: 1, 3: 1}
    assert parse_groups("1,2 same；3,4 same", 4) == {1: 1, 2: 1, 3: 3, 4: 3}
    assert parse_groups("2 different", 3) == {1: 1, 2: 2, 3: 3}
    for bad, why in (("1,4 same", "no archive 4"), ("1,2 same; 2 different", "named twice"),
                     ("1 same", "two or more"), ("yes", "cannot read"), ("", "nothing typed")):
        with pytest.raises(ReviewError, match=why):
            parse_groups(bad, 3)


def test_a_household_is_settled_in_one_step_and_stored_per_pair(store):
    session = Session(store, "r1")
    screen = session.start()
    assert screen.mode is Mode.HOUSEHOLD
    assert [a for a, _ in screen.archives] == ["H1", "H2", "H3"]
    assert {i.pair for i in screen.group} == {("H1", "H2"), ("H1", "H3"), ("H2", "H3")}
    assert all(store.item(i.pair).claimed_by == "r1" for i in screen.group)
    assert session.press("s").mode is Mode.GROUPS
    screen = session.enter_note("1,3 same; 2 different")
    assert "recorded #1-#3: 3 pairs (1 same, 2 different)" in screen.message
    assert {p: d.verdict for p, d in store.standing().items()} == {
        ("H1", "H2"): "different", ("H1", "H3"): "same", ("H2", "H3"): "different"}
    assert [d.source for d in store.history()] == ["session"] * 3
    assert screen.mode is Mode.PAIR and screen.item.pair == ("Z1", "Z2")  # not of the household
    # Undo takes back the whole step and puts the household back on screen.
    screen = session.press("u")
    assert screen.mode is Mode.HOUSEHOLD and "undone #1-#3" in screen.message
    assert store.standing() == {}


def test_a_typo_in_the_line_records_nothing_and_d_says_all_differ(store):
    session = Session(store, "r1")
    session.start()
    session.press("s")
    screen = session.enter_note("1,5 same")
    assert screen.mode is Mode.HOUSEHOLD and "no archive 5" in screen.message
    assert store.history() == []
    session.press("d")
    assert {d.verdict for d in store.standing().values()} == {"different"}
    assert len(store.standing()) == 3


def test_households_can_be_turned_off_and_skip_covers_the_group(store):
    session = Session(store, "r1", households=False)
    assert session.start().mode is Mode.PAIR
    grouped = Session(store, "r2")
    screen = grouped.start()
    assert screen.mode is Mode.HOUSEHOLD and len(screen.group) == 2  # H1-H2 is held by r1
    screen = grouped.press("k")
    assert screen.skipped == 2 and [d.verdict for d in store.history()] == ["skip", "skip"]


# -- which pairs are one household: the dwelling, not the village (acceptance review) --------

VILLAGE = "620802101203"


def at(a: str, b: str, address: str, phones: tuple[str, str], keep_norm: bool = True) -> dict:
    """A queued pair of two archives at ``address`` in VILLAGE, address_norm as the engine
    makes it (``keep_norm=False``: a review.db published before address_norm was kept)."""
    out = item(a, b, 0.6, phones=phones, region=VILLAGE)
    for s in "lr":
        out[f"{s}_address"] = address
        out[f"{s}_address_skeleton"] = re.sub("[0-9]+", "#", normalise_address(address))
        if keep_norm:
            out[f"{s}_address_norm"] = normalise_address(address)
    return out


def first_screen(folder, items: list[dict]) -> set:
    publish_queue(folder, items)
    with ReviewStore(store_path(folder)) as s:
        return {i.pair for i in Session(s, "r1").start().group}


@pytest.mark.parametrize("keep_norm", [True, False])
def test_two_houses_of_one_village_are_not_one_household(tmp_path, keep_norm):
    # 3组12号 and 5组8号 share the skeleton 龙洞村#组#号 in one village code: two families.
    assert first_screen(tmp_path, [
        at("V1", "V2", "甘肃省平凉市崆峒区龙洞村3组12号", ("13900000001", "13900000002"), keep_norm),
        at("V3", "V4", "甘肃省平凉市崆峒区龙洞村5组8号", ("13900000003", "13900000004"), keep_norm),
    ]) == {("V1", "V2")}


def test_one_house_written_two_ways_is_one_household(tmp_path):
    assert first_screen(tmp_path, [
        at("W1", "W2", "龙洞村三组十二号", ("13900000001", "13900000002")),
        at("W3", "W4", "龙洞村3社012号", ("13900000003", "13900000004")),
    ]) == {("W1", "W2"), ("W3", "W4")}


def test_a_store_from_before_address_norm_groups_by_phone_only(tmp_path):
    """An old review.db (no address_norm in its rows) still opens; until the next run
    republishes it, one address alone groups nothing, a shared phone still does."""
    assert first_screen(tmp_path / "address", [
        at("W1", "W2", "龙洞村3组12号", ("13900000001", "13900000002"), keep_norm=False),
        at("W3", "W4", "龙洞村3组12号", ("13900000003", "13900000004"), keep_norm=False),
    ]) == {("W1", "W2")}
    assert first_screen(tmp_path / "phone", [
        at("W1", "W2", "龙洞村3组12号", ("13900000001", "13900000002"), keep_norm=False),
        at("W3", "W4", "龙洞村3组12号", ("13900000002", "13900000004"), keep_norm=False),
    ]) == {("W1", "W2"), ("W3", "W4")}


def test_an_address_without_a_house_number_groups_nobody(tmp_path):
    # 龙洞村 or 龙洞村3组 names the village or its group, not a dwelling.
    for n, address in enumerate(("龙洞村", "龙洞村3组")):
        assert first_screen(tmp_path / str(n), [
            at("U1", "U2", address, ("13900000001", "13900000002")),
            at("U3", "U4", address, ("13900000003", "13900000004")),
        ]) == {("U1", "U2")}
