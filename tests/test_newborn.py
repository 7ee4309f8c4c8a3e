"""A newborn placeholder archive and the one named archive of its birth date in its
household (linkage.newborn), on real DuckDB."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from linkage.model.settings import level_codes, load_model_dict
from linkage.newborn import TWIN_PLACEHOLDERS_REASON, newborn_pair_sql, placeholder_twins, sole_named_archive
from linkage.shipped import default_model_path
from linkage.standardise.name_notes import newborn_placeholder

D = date(2024, 3, 1)


def _features(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE raw (archive_id VARCHAR, name_placeholder BOOLEAN, dob_best DATE, "
                "address_norm VARCHAR, phone_norm VARCHAR)")
    con.executemany("INSERT INTO raw VALUES (?, ?, ?, ?, ?)", rows)
    con.execute("CREATE TABLE mi AS SELECT *, (dob_best - DATE '1970-01-01')::INTEGER AS dob_days FROM raw")
    return con


@pytest.mark.parametrize("rows,expected", [
    # one named child of that date at that address
    ([("p", True, D, "a1", None), ("c", False, D, "a1", None)], {"p": "c"}),
    # found by phone alone
    ([("p", True, D, "a1", "138"), ("c", False, D, "a2", "138")], {"p": "c"}),
    # twins: two named archives of that date in the household
    ([("p", True, D, "a1", None), ("c", False, D, "a1", None), ("t", False, D, None, None)],
     {"p": "c"}),
    ([("p", True, D, "a1", None), ("c", False, D, "a1", None), ("t", False, D, "a1", None)], {}),
    # a visit date a few weeks off still finds the child; a sibling two years older does not
    ([("p", True, D, "a1", None), ("c", False, date(2024, 2, 10), "a1", None),
      ("s", False, date(2022, 3, 1), "a1", None)], {"p": "c"}),
    # twins, one with a date a few weeks off: still two candidates
    ([("p", True, D, "a1", None), ("c", False, D, "a1", None), ("t", False, date(2024, 3, 20), "a1", None)], {}),
    # another date, another household, another placeholder: not candidates
    ([("p", True, D, "a1", None), ("c", False, date(2024, 7, 2), "a1", None),
      ("x", False, D, "a9", None), ("q", True, D, "a1", None)], {}),
    # no birth date: nothing to compare
    ([("p", True, None, "a1", None), ("c", False, None, "a1", None)], {}),
])
def test_sole_named_archive(rows, expected):
    con = _features(rows)
    assert sole_named_archive(con, "mi", [r[0] for r in rows]) == expected


def test_only_the_asked_archives_are_looked_at():
    con = _features([("p", True, D, "a1", None), ("c", False, D, "a1", None)])
    assert sole_named_archive(con, "mi", ["c"]) == {}
    assert sole_named_archive(con, "mi", []) == {}


@pytest.mark.parametrize("rows,pairs,expected", [
    # two placeholders of one home and date: twins before they are named
    ([("p", True, D, "a1", None), ("q", True, D, "a1", None)], [("p", "q")], {("p", "q")}),
    # a visit date weeks off on one of them: still within the newborn window
    ([("p", True, D, "a1", None), ("q", True, date(2024, 3, 25), "a1", None)], [("p", "q")], {("p", "q")}),
    # a placeholder and the named child; a sibling's placeholder two years apart; no date
    ([("p", True, D, "a1", None), ("c", False, D, "a1", None)], [("p", "c")], set()),
    ([("p", True, D, "a1", None), ("q", True, date(2022, 3, 1), "a1", None)], [("p", "q")], set()),
    ([("p", True, D, "a1", None), ("q", True, None, "a1", None)], [("p", "q")], set()),
    ([], [], set()),
])
def test_placeholder_twins(rows, pairs, expected):
    con = _features(rows) if rows else _features([("x", False, D, "a1", None)])
    assert placeholder_twins(con, "mi", pairs) == expected


@pytest.mark.parametrize("name,placeholder", [
    ("王芳之子", True), ("杨瑞的孩子", True), ("王女婴", True), ("李男婴", True), ("张宝宝", True),
    ("新生儿", True), ("王宝", False), ("张伟", False), ("李婴宁", False), ("王芳", False),
])
def test_newborn_placeholder_names(name, placeholder):
    assert (newborn_placeholder(name) is not None) is placeholder


@pytest.mark.parametrize("name,location,kept", [
    ("name.placeholder", "location.address_phone", True),
    ("name.placeholder", "location.phone", True),
    ("name.placeholder", "location.village", False),   # not one household
    ("name.exact", "location.address", False),          # a named pair: its score decides
])
def test_newborn_pairs_are_kept_whatever_their_score(name, location, kept):
    """The shipped model's gammas of a pair, through newborn_pair_sql, on DuckDB."""
    codes = level_codes(load_model_dict(default_model_path()))
    gamma = {c: {code: g for g, code in levels.items()} for c, levels in codes.items()}
    con = duckdb.connect()
    con.execute("CREATE TABLE s (gamma_name INTEGER, gamma_location INTEGER)")
    con.execute("INSERT INTO s VALUES (?, ?)", [gamma["name"][name], gamma["location"][location]])
    assert con.execute(f"SELECT count(*) FROM s WHERE {newborn_pair_sql(codes)}").fetchone()[0] == kept


def test_no_newborn_pairs_without_the_levels():
    assert newborn_pair_sql({"name": {1: "name.exact"}, "location": {2: "location.address"}}) == "false"


# -- end to end: the run links the household's only child, and leaves twins to a reviewer --

def _household(children: list[tuple[str, ...]]) -> list[dict[str, str]]:
    base = {"sex": "男", "birth_date": "2024-03-01", "id_number": "", "region_code": "620802100201",
            "address": "崆峒区柳湖镇新村3组12号", "phone": "13912345678",
            "created_date": "2024-03-05", "last_service_date": "2024-06-01"}
    rows = [dict(base, archive_id="62080210020199901", name="王芳之子")]
    for i, (name, sex, *dob) in enumerate(children, start=2):
        rows.append(dict(base, archive_id=f"6208021002019990{i}", name=name, sex=sex,
                         birth_date=dob[0] if dob else base["birth_date"],
                         created_date="2024-09-01", last_service_date="2025-03-01"))
    return rows


@pytest.mark.parametrize("children,linked", [
    ([("李浩然", "男")], True),
    ([("李浩然", "男"), ("李浩宇", "男")], False),   # twins: whose placeholder?
    # the placeholder's date is the home visit's, weeks off: the model scores the pair low
    # (the name says nothing, a near date little), and it is weighed anyway
    ([("李浩然", "男", "2024-03-19")], True),
    ([("李浩然", "男", "2024-03-19"), ("李浩宇", "男", "2024-03-19")], False),
])
def test_a_run_links_the_households_only_child(tmp_path, children, linked):
    from helpers import read_csv, write_archives
    from linkage.pipeline import run
    from linkage.synth import generate_population

    generate_population(300, 5, tmp_path / "pop")
    rows = read_csv(tmp_path / "pop" / "archives.csv") + _household(children)
    run(write_archives(tmp_path / "in.csv", rows), tmp_path / "out", show_progress=False)
    person = {r["archive_id"]: r["person_id"] for r in read_csv(tmp_path / "out" / "clusters.csv")}
    placeholder, child = "62080210020199901", "62080210020199902"
    assert (person[placeholder] == person[child]) is linked
    if not linked:
        assert person[child] != person["62080210020199903"]
        reasons = {r["reason"] for r in read_csv(tmp_path / "out" / "decisions.csv")
                   if r["action"] == "review" and placeholder in (r["archive_id"], r["survivor_archive_id"])}
        assert any("newborn placeholder" in reason for reason in reasons)


def test_two_placeholders_of_one_home_are_not_joined_through_the_named_child(tmp_path):
    """generator4 at 1M persons: twins 唐静之女 and 唐静的孩子 (one home, one date, no ID) were
    both joined to the named twin, each pair on its own looking like the only child."""
    from helpers import read_csv, write_archives
    from linkage.pipeline import run
    from linkage.synth import generate_population

    generate_population(300, 5, tmp_path / "pop")
    rows = _household([("唐静的孩子", "男"), ("李浩然", "男")])
    rows[1]["created_date"] = rows[0]["created_date"]  # both placeholders opened at the visit
    run(write_archives(tmp_path / "in.csv", read_csv(tmp_path / "pop" / "archives.csv") + rows),
        tmp_path / "out", show_progress=False)
    person = {r["archive_id"]: r["person_id"] for r in read_csv(tmp_path / "out" / "clusters.csv")}
    first, second, named = "62080210020199901", "62080210020199902", "62080210020199903"
    assert len({person[first], person[second], person[named]}) == 3  # whose placeholder is whose?
    reviews = {(r["archive_id"], r["survivor_archive_id"]): r["reason"]
               for r in read_csv(tmp_path / "out" / "decisions.csv") if r["action"] == "review"}
    assert reviews.get((first, second)) == TWIN_PLACEHOLDERS_REASON
