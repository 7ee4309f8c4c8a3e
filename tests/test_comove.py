"""Households that moved together (linkage.comove), on real DuckDB, and the guard's use of
them (linkage.decide.moved_with_household)."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.comove import moved_together
from linkage.decide import moved_with_household, pair_guard

OLD, NEW = "淮阳县城关镇东关村3组12号", "郸城县汲水乡新闫湾村9组86号"


def _features(rows: list[tuple[str, str | None, str | None]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE mi (archive_id VARCHAR, address_norm VARCHAR, name_py VARCHAR)")
    if rows:
        con.executemany("INSERT INTO mi VALUES (?, ?, ?)", rows)
    return con


@pytest.mark.parametrize("rows,pairs,expected", [
    # a couple moved: husband's and wife's old and new archives
    ([("h1", OLD, "wangjun"), ("h2", NEW, "wangjun"), ("w1", OLD, "lifang"), ("w2", NEW, "lifang")],
     [("h1", "h2"), ("w1", "w2")], {("h1", "h2"), ("w1", "w2")}),
    # the wife's pair oriented the other way round
    ([("h1", OLD, "wangjun"), ("h2", NEW, "wangjun"), ("w1", OLD, "lifang"), ("w2", NEW, "lifang")],
     [("h1", "h2"), ("w2", "w1")], {("h1", "h2"), ("w2", "w1")}),
    # a mover alone
    ([("h1", OLD, "wangjun"), ("h2", NEW, "wangjun")], [("h1", "h2")], set()),
    # the second pair is at another new address
    ([("h1", OLD, "wangjun"), ("h2", NEW, "wangjun"), ("w1", OLD, "lifang"), ("w2", "x", "lifang")],
     [("h1", "h2"), ("w1", "w2")], set()),
    # two namesakes, each with a duplicate archive at their own address: not another person
    ([("a1", OLD, "wangjun"), ("a2", OLD, "wangjun"), ("b1", NEW, "wangjun"), ("b2", NEW, "wangjun")],
     [("a1", "b1"), ("a2", "b2")], set()),
    # one household (same address): nothing moved
    ([("h1", OLD, "wangjun"), ("h2", OLD, "wangjun"), ("w1", OLD, "lifang"), ("w2", OLD, "lifang")],
     [("h1", "h2"), ("w1", "w2")], set()),
    # no address
    ([("h1", None, "wangjun"), ("h2", NEW, "wangjun"), ("w1", None, "lifang"), ("w2", NEW, "lifang")],
     [("h1", "h2"), ("w1", "w2")], set()),
    ([], [], set()),
])
def test_moved_together(rows, pairs, expected):
    assert moved_together(_features(rows), "mi", pairs) == expected


MOVER = {"name": "name.exact", "id": "id.null", "dob": "dob.exact", "sex": "sex.same",
         "location": "location.other_county"}


@pytest.mark.parametrize("changes,shape", [
    ({}, True),
    ({"name": "name.homophone"}, True),
    ({"dob": "dob.lunar"}, True),
    ({"sex": "sex.null"}, True),
    ({"id": "id.one_typo"}, True),
    ({"location": "location.county"}, True),
    ({"name": "name.one_char"}, False),            # twins' names
    ({"name": "name.lookalike"}, False),
    ({"dob": "dob.different"}, False),
    ({"sex": "sex.different"}, False),
    ({"id": "id.two_people"}, False),              # two people's IDs
    ({"id": "id.both_valid_differ"}, False),
    ({"location": "location.address"}, False),     # one household: other rules
])
def test_moved_with_household_shape(changes, shape):
    assert moved_with_household({**MOVER, **changes}) is shape


@pytest.mark.parametrize("changes,together,blocked", [
    ({}, False, True),                   # namesakes across counties? a reviewer decides
    ({}, True, False),                   # the household moved with them
    ({"name": "name.one_char"}, True, True),
    ({"id": "id.two_people"}, True, True),
    ({"location": "location.township"}, True, False),
])
def test_guard_with_a_household_that_moved(changes, together, blocked):
    reason = pair_guard({**MOVER, **changes}, 0.99, 0.9995, moved_together=together)
    assert bool(reason) is blocked


@pytest.mark.parametrize("levels,vouches", [
    (MOVER, True),                                                     # a mover's own shape
    ({**MOVER, "id": "id.shared_not_fitting", "dob": "dob.lunar_shift"}, True),  # ID agrees
    ({**MOVER, "name": "name.lookalike", "id": "id.exact"}, True),
    ({**MOVER, "name": "name.one_char", "sex": "sex.null"}, False),   # two babies born that day
    ({**MOVER, "name": "name.placeholder"}, False),
    ({**MOVER, "dob": "dob.different"}, False),
    ({**MOVER, "sex": "sex.different"}, False),
    ({**MOVER, "id": "id.both_valid_differ"}, False),
])
def test_only_a_possible_mover_vouches(levels, vouches):
    from linkage.decide import could_vouch_for_move

    assert could_vouch_for_move(levels) is vouches


@pytest.mark.slow
def test_two_babies_born_on_one_day_do_not_vouch_for_a_move(tmp_path):
    """generator4, 20k persons, seed 78: two boys 王子墨 born on one day in two townships
    of one county (one ID) were joined because two other babies of their homes, born that
    day too and one character apart in name, scored in the review band as a pair."""
    from linkage.pipeline import run
    from linkage.standardise.id_number import check_digit
    from linkage.synth import generate_population

    from helpers import read_csv, write_archives

    generate_population(1500, 23, tmp_path / "pop")
    base = read_csv(tmp_path / "pop" / "archives.csv")

    def archive(archive_id, name, sex, id_number, region, address, phone):
        return {"archive_id": archive_id, "name": name, "sex": sex, "birth_date": "2018-06-14",
                "id_number": id_number, "region_code": region, "address": address,
                "phone": phone, "created_date": "2019-10-15", "last_service_date": "2024-05-11"}

    home_x, home_y = "620802101202", "620802002003"
    rows = [
        archive("X1", "王子墨", "1", "620802201806140" + "35" + check_digit("62080220180614035"),
                home_x, "柳湖乡柏林村7组20号", "13533999116"),
        archive("X2", "王子涵", "", "", home_x, "柳湖乡柏林村7组20号", "13533999116"),
        archive("Y1", "王子墨", "1", "", home_y, "西大街84号18栋1单元1404号", "18205729276"),
        archive("Y2", "王子轩", "", "", home_y, "西大街84号18栋1单元1404号", "18205729276"),
    ]
    out = tmp_path / "out"
    run(write_archives(tmp_path / "in.csv", base + rows), out, show_progress=False)
    person = {r["archive_id"]: r["person_id"] for r in read_csv(out / "clusters.csv")}
    assert person["X1"] != person["Y1"]
    assert person["X2"] != person["Y2"]


def _reference_supporting_pairs(rows: list[tuple[str, str | None, str | None]],
                                pairs: list[tuple[str, str]]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """The rule in plain Python, as the engine ran it before the SQL: each pair's witness is
    the first other pair (in input order, either orientation) with its archives at the two
    addresses and other names on both sides."""
    address = {a: addr for a, addr, name in rows if addr is not None and name is not None}
    name = {a: n for a, addr, n in rows if addr is not None and n is not None}
    by_addresses: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for a, b in pairs:
        if a in address and b in address and address[a] != address[b]:
            by_addresses.setdefault((address[a], address[b]), []).append((a, b))
            by_addresses.setdefault((address[b], address[a]), []).append((b, a))
    found = []
    for a, b in pairs:
        if a not in address or b not in address or address[a] == address[b]:
            continue
        for c, d in by_addresses[(address[a], address[b])]:
            if name[c] != name[a] and name[d] != name[b]:
                found.append(((a, b), (c, d)))
                break
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", None]), st.sampled_from(["x", "y", "z", None])),
                min_size=1, max_size=14),
       st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13)), max_size=40))
def test_supporting_pairs_is_the_first_witness_in_input_order(archives, index_pairs) -> None:
    """Few addresses and names, many pairs (more than the first few tried per address pair,
    duplicates, both orientations, archives without an address): the SQL gives the plain
    rule's witnesses, in its order."""
    from linkage.comove import supporting_pairs

    rows = [(f"a{i}", addr, name) for i, (addr, name) in enumerate(archives)]
    pairs = [(f"a{i}", f"a{j}") for i, j in index_pairs if i < len(rows) and j < len(rows)]
    con = _features(rows)
    try:
        assert supporting_pairs(con, "mi", pairs) == _reference_supporting_pairs(rows, pairs)
    finally:
        con.close()
