"""The shipped blocking rules, table-driven: pairs a rule must propose and pairs it must not
(issue 12: cross-county rules stay selective), and the per-rule statistics the blocking
benchmark reports."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from linkage.bench.rule_pairs import rule_statistics
from linkage.config import BlockingRule, load_config

RULES = {rule.name: rule for rule in load_config().blocking_rules}

BASE = {
    "archive_id": "A", "county": "620802", "township": "620802100", "name_py": "wangguihua",
    "name_py_fuzzy": "wangguihua", "surname_py": "wang", "given_py": "guihua", "sex": "F",
    "dob_best": date(1950, 3, 14), "id_norm": "62080219500314002X",
    "id_sorted": "".join(sorted("62080219500314002X")), "phone_norm": "13900000001",
    "name_placeholder": False, "address_skeleton": "x村#组", "id_valid": True,
    "name_4c": "101044602240",  # four-corner codes, four digits a character (made up but 王)
}
COLUMNS = {
    "archive_id": "VARCHAR", "county": "VARCHAR", "township": "VARCHAR", "name_py": "VARCHAR",
    "name_py_fuzzy": "VARCHAR", "surname_py": "VARCHAR", "given_py": "VARCHAR", "sex": "VARCHAR",
    "dob_best": "DATE", "id_norm": "VARCHAR", "id_sorted": "VARCHAR", "phone_norm": "VARCHAR",
    "name_placeholder": "BOOLEAN", "address_skeleton": "VARCHAR", "id_valid": "BOOLEAN",
    "name_4c": "VARCHAR",
}
OTHER = {"county": "621022", "township": "621022100", "phone_norm": "13900000002",
         "id_norm": None, "id_sorted": None, "address_skeleton": None, "id_valid": None}


def _table(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    con.execute("CREATE OR REPLACE TABLE t (" + ", ".join(f"{c} {t}" for c, t in COLUMNS.items()) + ")")
    for row in rows:
        con.execute(f"INSERT INTO t VALUES ({', '.join('?' for _ in COLUMNS)})", [row[c] for c in COLUMNS])
    con.execute("""CREATE OR REPLACE TABLE mi AS SELECT *, year(dob_best)::INTEGER AS dob_year,
        month(dob_best)::INTEGER AS dob_month, day(dob_best)::INTEGER AS dob_day,
        (dob_best - DATE '1970-01-01')::INTEGER AS dob_days,
        coalesce(month(dob_best) = 1 AND day(dob_best) = 1, false) AS dob_jan1,
        NULL::DATE AS dob_lunar FROM t""")


def _proposes(rule: BlockingRule, left: dict, right: dict) -> bool:
    con = duckdb.connect()
    _table(con, [{**BASE, **left, "archive_id": "A"}, {**BASE, **right, "archive_id": "B"}])
    return con.execute(f"SELECT count(*) FROM mi l JOIN mi r ON ({rule.sql}) "
                       "AND l.archive_id < r.archive_id").fetchone()[0] == 1


# (rule, changes to the second archive, proposed?)  The first archive is BASE.
CASES = [
    # A mover whose given name changed: same birth date and surname across counties, with
    # the same first letter of the given name.
    ("dob_surname", {**OTHER, "given_py": "guilan", "name_py": "wangguilan"}, True),
    ("dob_surname", {**OTHER, "given_py": "shuying", "name_py": "wangshuying"}, False),  # the same sex is not enough
    ("dob_surname", {**OTHER, "given_py": "jianguo", "sex": "M"}, False),  # a stranger
    ("dob_surname", {**OTHER, "given_py": "guiming", "sex": "M"}, True),  # sex mistyped, same initial
    ("dob_surname", {**OTHER, "surname_py": "li"}, False),
    ("given_dob", {**OTHER, "surname_py": "huang", "name_py": "huangguihua"}, True),
    ("given_dob", {**OTHER, "surname_py": "huang", "name_py": "huangguihua", "sex": "M"}, False),
    ("given_dob", {**OTHER, "surname_py": "huang", "dob_best": date(1950, 3, 15)}, False),
    ("name_year", {**OTHER, "dob_best": date(1950, 4, 20)}, True),  # within 60 days
    ("name_year", {**OTHER, "dob_best": date(1950, 9, 20)}, False),
    ("name_year", {**OTHER, "dob_best": date(1950, 1, 1)}, True),  # placeholder 1 January
    ("name_year", {**OTHER, "dob_best": date(1950, 9, 20), "name_py": "wangguilan"}, False),
    # both archives carry a valid ID: the ID rules compare them (common names made 4.2M
    # pairs at 1M archives here)
    ("name_year", {**OTHER, "dob_best": date(1950, 4, 20), "id_norm": "62102219500420002X",
                   "id_valid": True}, False),
    # given name and birth date: a surname typed as another that sounds, looks or begins alike
    ("given_dob", {**OTHER, "surname_py": "liu", "name_py": "liuguihua", "name_py_fuzzy": "liuguihua",
                   "name_4c": "024044602240"}, False),       # 刘 for 王: two families
    ("given_dob", {**OTHER, "surname_py": "wu", "name_py": "wuguihua", "name_py_fuzzy": "wuguihua",
                   "name_4c": "101044602240"}, True),        # a look-alike surname (four-corner)
    ("given_dob", {**OTHER, "surname_py": "weng", "name_py": "wengguihua", "name_py_fuzzy": "wenguihua",
                   "name_4c": "802044602240"}, True),        # the same first letter
    ("given_dob", {**OTHER, "surname_py": "huang", "name_py": "huangguihua", "name_py_fuzzy": "wangguihua",
                   "name_4c": "448044602240"}, True),        # a dialect's fold (黄/王 不分)
    # wrong birth years: a year apart, or the last two digits swapped; not any other age
    ("name_month_day", {**OTHER, "dob_best": date(1951, 3, 14)}, True),
    ("name_month_day", {**OTHER, "dob_best": date(1949, 3, 14)}, True),
    ("name_month_day", {**OTHER, "dob_best": date(1905, 3, 14)}, True),
    ("name_month_day", {**OTHER, "dob_best": date(1953, 3, 14)}, False),
    ("name_month_day", {**OTHER, "dob_best": date(1951, 3, 15)}, False),
    ("phone_surname", {**OTHER, "phone_norm": BASE["phone_norm"], "dob_best": None}, True),
    ("phone_surname", {**OTHER, "phone_norm": BASE["phone_norm"], "surname_py": "li"}, False),
    # A newborn placeholder whose birth date is the home visit's, weeks off the child's.
    ("newborn_household_near_dob", {"name_placeholder": True, "dob_best": date(1950, 4, 20)}, True),
    ("newborn_household_near_dob", {"name_placeholder": True, "dob_best": date(1950, 6, 20)}, False),
    ("newborn_household_near_dob", {"dob_best": date(1950, 4, 20)}, False),  # no placeholder
    ("newborn_household_near_dob", {"name_placeholder": True, "dob_best": date(1950, 4, 20),
                                    "address_skeleton": "y村#组"}, False),  # another household
    ("newborn_household_near_dob", {"name_placeholder": True, "dob_best": date(1950, 4, 20),
                                    "county": "621022"}, False),
]


@pytest.mark.parametrize("rule, changes, proposed", CASES)
def test_rule_proposes(rule: str, changes: dict, proposed: bool) -> None:
    assert _proposes(RULES[rule], {}, changes) is proposed


@pytest.mark.parametrize("changes, proposed", [
    ({"id_norm": "62080219500341002X"}, True),  # transposed digits, same name
    ({"id_norm": "62080219500341002X", "given_py": "xiuying", "name_py": "wangxiuying"}, False),
    ({"id_norm": "62080219500341002X", "surname_py": "li"}, False),
])
def test_id_sorted(changes: dict, proposed: bool) -> None:
    right = {**OTHER, "dob_best": date(1961, 7, 2), **changes}
    right["id_sorted"] = "".join(sorted(right["id_norm"]))
    left = {"dob_best": date(1972, 1, 5)}  # different birth dates: only the ID rules can meet
    assert _proposes(RULES["id_sorted"], left, right) is proposed


def test_no_rule_without_a_purpose() -> None:
    """name_year_county found 1 true pair no other rule found at 1M archives (336k pairs)."""
    assert "name_year_county" not in RULES


def test_rule_statistics_counts_pairs_true_pairs_and_what_only_one_rule_finds() -> None:
    con = duckdb.connect()
    rows = [
        {**BASE, "archive_id": "A"},
        {**BASE, **OTHER, "archive_id": "B"},  # same person moved: dob+surname, given+dob, name rules
        {**BASE, "archive_id": "C", "phone_norm": "13911111111", "dob_best": None,
         "id_norm": None, "id_sorted": None, "given_py": "x", "name_py": "wangx", "name_py_fuzzy": "wangx"},
        {**BASE, "archive_id": "D", "phone_norm": "13911111111", "dob_best": None,
         "id_norm": None, "id_sorted": None, "given_py": "y", "name_py": "wangy", "name_py_fuzzy": "wangy"},
    ]
    _table(con, rows)
    con.execute("CREATE TABLE truth AS SELECT * FROM (VALUES ('A', 'p1'), ('B', 'p1'), "
                "('C', 'p2'), ('D', 'p3')) v(archive_id, person_id)")
    rules = [RULES["dob_surname"], RULES["given_dob"], RULES["phone_surname"]]
    stats = rule_statistics(con, "mi", "truth", rules)
    assert stats["archives"] == 4 and stats["true_pairs"] == 1 and stats["pairs"] == 2
    assert stats["blocking_recall"] == 1.0
    by = stats["by_rule"]
    assert by["dob_surname"] == {"pairs": 1, "pairs_only": 0, "true_pairs": 1, "true_only": 0,
                                 "largest_block": 2}
    assert by["phone_surname"]["pairs_only"] == 1 and by["phone_surname"]["true_pairs"] == 0
