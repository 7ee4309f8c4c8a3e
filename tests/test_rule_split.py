"""Blocking rules split per side (linkage.model.rule_split): which rules split, and that the
split rules propose exactly the pairs of the config rules, counted per config rule."""

from __future__ import annotations

import random
import re

import duckdb
import pytest

from linkage.config import load_config
from linkage.model.rule_split import prediction_rules, split_by_side

SPLITS = [
    # (rule, the rules Splink runs)
    ("(l.p OR r.p) AND l.c = r.c AND l.d = r.d",
     ("(l.p) AND (l.c = r.c) AND (l.d = r.d)", "(r.p) AND (l.c = r.c) AND (l.d = r.d)")),
    ("l.n = r.n AND l.t = r.t AND (l.d IS NULL OR r.d IS NULL)",
     ("(l.n = r.n) AND (l.t = r.t) AND (l.d IS NULL)", "(l.n = r.n) AND (l.t = r.t) AND (r.d IS NULL)")),
    # a guarded rule (blocking_guard wraps it in parentheses and adds conditions)
    ("(l.c = r.c AND (l.p OR r.p)) AND NOT g(l.c) AND NOT g(r.c)",
     ("(l.c = r.c) AND (l.p) AND (NOT g(l.c)) AND (NOT g(r.c))",
      "(l.c = r.c) AND (r.p) AND (NOT g(l.c)) AND (NOT g(r.c))")),
    # a quoted r. is no column
    ("l.c = r.c AND (l.name = 'r.x' OR r.p)", ("(l.c = r.c) AND (l.name = 'r.x')", "(l.c = r.c) AND (r.p)")),
]
KEPT = [
    "l.id = r.id",
    "l.c = r.c AND (l.s = r.s OR l.g = r.g)",  # alternatives read both sides
    "l.n = r.n AND (abs(l.d - r.d) <= 60 OR l.j OR r.j)",  # one alternative reads both
    "l.p OR r.p",  # nothing left to join on
    "(l.p OR r.p) AND l.x > 3",  # no equality key left
]


@pytest.mark.parametrize(("rule", "expected"), SPLITS)
def test_a_one_sided_alternative_splits(rule: str, expected: tuple[str, ...]) -> None:
    assert split_by_side(rule) == expected


@pytest.mark.parametrize("rule", KEPT)
def test_other_rules_stay_whole(rule: str) -> None:
    assert split_by_side(rule) == (rule,)


def test_origins_map_each_rule_back_to_its_config_rule() -> None:
    rules = prediction_rules(["l.a = r.a", "(l.p OR r.p) AND l.c = r.c", "l.b = r.b"])
    assert rules.origins == (0, 1, 1, 2)
    assert len(rules.sql) == 4


def _splink_pairs(con: duckdb.DuckDBPyConnection, rules: tuple[str, ...],
                  origins: tuple[int, ...]) -> set[tuple[int, int, int]]:
    """(left id, right id, config rule) as Splink's blocking makes them: a pair under the
    first rule that proposes it, left out of every later one."""
    pairs: set[tuple[int, int, int]] = set()
    for i, sql in enumerate(rules):
        earlier = " OR ".join(f"coalesce(({s}), false)" for s in rules[:i]) or "false"
        rows = con.execute(f"SELECT l.id, r.id FROM t l JOIN t r ON ({sql}) "
                           f"WHERE l.id < r.id AND NOT ({earlier})").fetchall()
        pairs |= {(a, b, origins[i]) for a, b in rows}
    return pairs


def test_split_rules_propose_the_same_pairs_as_the_config() -> None:
    """The shipped rules, on random archives with few values per column (many collisions,
    NULLs included): the same pairs, each under the same config rule."""
    config_rules = [rule.sql for rule in load_config().blocking_rules]
    split = prediction_rules(config_rules)
    assert len(split.sql) > len(config_rules)  # the shipped newborn rules do split
    rng = random.Random(5)
    columns = {
        "county": "VARCHAR", "township": "VARCHAR", "dob_best": "INTEGER", "dob_year": "INTEGER",
        "dob_month": "INTEGER", "dob_day": "INTEGER", "dob_days": "INTEGER", "dob_jan1": "BOOLEAN",
        "surname_py": "VARCHAR", "given_py": "VARCHAR", "name_py": "VARCHAR",
        "name_py_fuzzy": "VARCHAR", "sex": "VARCHAR", "id_norm": "VARCHAR", "id_sorted": "VARCHAR",
        "phone_norm": "VARCHAR", "name_placeholder": "BOOLEAN", "id_valid": "BOOLEAN",
        "address_skeleton": "VARCHAR",
        "address_norm": "VARCHAR",
    }
    for rule in config_rules:  # a column a newer rule reads: text (few values, NULLs)
        for column in re.findall(r"\b[lr]\.(\w+)", rule):
            columns.setdefault(column, "VARCHAR")
    con = duckdb.connect()
    con.execute("CREATE TABLE t (id INTEGER, " + ", ".join(f"{c} {t}" for c, t in columns.items()) + ")")

    def value(column: str, kind: str) -> object:
        if rng.random() < 0.15:
            return None
        if kind == "BOOLEAN":
            return rng.random() < 0.3
        if kind == "INTEGER":
            return rng.randrange(3)
        return f"{column[:2]}{rng.randrange(3)}"

    rows = [[i, *(value(c, k) for c, k in columns.items())] for i in range(300)]
    con.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in range(len(columns) + 1))})", rows)
    whole = _splink_pairs(con, tuple(config_rules), tuple(range(len(config_rules))))
    assert len(whole) > 1000
    assert _splink_pairs(con, split.sql, split.origins) == whole
