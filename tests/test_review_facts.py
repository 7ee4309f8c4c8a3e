"""The facts a masked screen still shows, computed with the engine's own standardisers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from linkage.csvsafe import neutralise
from linkage.review import triage
from linkage.review.facts import (
    birth_flags, evidence_labels, id_flags, name_flags, pair_flags, shown_date, shown_sex,
)
from linkage.standardise.id_number import check_digit


def valid_id(body17: str) -> str:
    return body17 + check_digit(body17)


ID_1967 = valid_id("62080219670417002")  # encodes 1967-04-17, female (sequence 002)


def test_the_id_contradicting_its_own_record_is_said_with_the_gap():
    side = {"id_number": ID_1967, "birth_date": "1966-03-31", "sex": "女"}
    assert id_flags(side) == ["ID encodes 1967-04-17 ≠ record (1 y 17 d apart)"]
    assert id_flags({**side, "birth_date": "1967-04-17"}) == []
    assert id_flags({**side, "birth_date": "1967-17-04"}) == []  # not a date: nothing to contradict
    assert id_flags({**side, "birth_date": "1967-04-17", "sex": "1"}) == ["ID encodes 女 ≠ record 男"]
    swapped = {"id_number": valid_id("62080219670304002"), "birth_date": "1967-04-03"}
    assert id_flags(swapped) == ["ID encodes 1967-03-04 ≠ record (day and month swapped)"]


def test_check_digit_legacy_and_placeholder_ids():
    bad = ID_1967[:17] + ("1" if ID_1967[17] != "1" else "2")
    assert "check digit fails" in id_flags({"id_number": bad, "birth_date": "1967-04-17"})
    legacy = "620802670417002"  # 15 digits: upgraded with the right check digit
    assert id_flags({"id_number": legacy, "birth_date": "1967-04-17", "sex": "女"}) == [
        "15-digit legacy ID (upgraded to 18)"]
    assert id_flags({"id_number": "不详"}) == ["placeholder, not an ID"]
    assert id_flags({"id_number": ""}) == []


def test_dates_and_sex_show_the_normalised_value_beside_the_raw_one():
    assert shown_sex("2") == "2 → 女" and shown_sex("女") == "女" and shown_sex("9") == "9 [unknown]"
    assert shown_date("20201009") == "20201009 → 2020-10-09" and shown_date("2024-01-31") == "2024-01-31"
    assert birth_flags({"birth_date": "1900-01-01"}) == ["placeholder birth date: scored as unknown"]
    assert birth_flags({"birth_date": "1950-01-01"}) == ["1 January: often a year-only date"]
    assert birth_flags({"birth_date": "2021-05-01", "created_date": "2020-01-01"}) == [
        "placeholder birth date: scored as unknown"]  # born after the archive was opened


def test_newborn_placeholders_and_status_notes():
    assert name_flags({"name": "王芳之子"}) == ["newborn placeholder (parent 王芳)"]
    assert name_flags({"name": "新生儿"}) == ["newborn placeholder"]
    assert name_flags({"name": "王秀英(已故)"}) == ["status note in the name field"]
    assert name_flags({"name": "张伟(大)"}) == []


def test_pair_facts_come_from_the_comparison_levels():
    evidence = "name=一致 +1.8; id=号同但生日/性别不符 +2.0; dob=农历生日 +3.0"
    assert evidence_labels("via 62080200100100001: " + evidence)["dob"] == "农历生日"
    left = {"id_number": ID_1967, "birth_date": "1966-03-31"}
    right = {"id_number": ID_1967, "birth_date": "1967-04-17"}
    flags = pair_flags(evidence, left, right)
    assert flags["l"] == ["ID shared with an archive it does not fit"] and flags["r"] == []
    assert any("lunar birthday" in f for f in flags["pair"])


def test_triage_puts_measured_near_never_matches_last():
    assert triage.classify("name=仅同姓 -3; id=空 0", {"name": "王伟"}, {"name": "王强"}) == "surname_only_no_id"
    assert triage.classify("name=仅同姓 -3; id=一致 +20", {}, {}) == "id_agrees"
    # A newborn placeholder differs from the child's later name by nature: not "surname only".
    assert triage.classify("name=仅同姓 -3; id=空 0", {"name": "王芳之子"}, {"name": "李明"}) == "other"
    assert triage.classify("name=一字之差 +2; id=空 0", {}, {}) == "one_char_no_id"
    assert triage.rank("surname_only_no_id") > triage.rank("one_char_no_id") > triage.rank("other") == 0


@given(st.text(max_size=30))
def test_display_helpers_never_raise(raw):
    shown_sex(raw), shown_date(raw), id_flags({"id_number": raw, "birth_date": raw, "sex": raw})
    birth_flags({"birth_date": raw, "created_date": raw}), name_flags({"name": raw})
    evidence_labels(raw)


@given(st.text(max_size=20))
def test_neutralised_cells_never_start_a_formula(value):
    out = neutralise(value)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert out == value or out == "'" + value
    assert neutralise(-2.5) == -2.5  # numbers stay numbers


def test_reasons_that_were_never_a_match_go_last():
    code = triage.classify("name=一致 +8; id=均有效但不同 -2", {}, {}, "valid IDs of two different people")
    assert code == "ids_two_people" and triage.rank(code) == 3
    assert triage.classify("", {}, {}, "an archive predates the other record's birth") == "predates_birth"
    assert triage.classify("name=一致 +8; id=空 0", {}, {}, "names differ") == "other"
