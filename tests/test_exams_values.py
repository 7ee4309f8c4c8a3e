"""The exam value parser: Python reference and SQL twin agree; unit mix-ups are named."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.exams.settings import Range
from linkage.exams.values import (
    NOT_A_NUMBER,
    check_value,
    check_value_sql,
    parse_value,
    fast_sql,
    parse_value_sql,
    prepared_sql,
)

_CON = duckdb.connect()


def _sql_parse(texts: list[str | None]) -> list[tuple[float | None, str | None]]:
    value, problem = parse_value_sql("x")
    rel = _CON.execute(
        f"SELECT {value}, {problem} FROM (SELECT *, {prepared_sql('x')} AS x__p FROM "
        f"(SELECT *, {fast_sql('x')} AS x__f FROM "
        "(SELECT unnest(range(len($t))) AS i, unnest($t) AS x))) ORDER BY i", {"t": texts})
    return [tuple(r) for r in rel.fetchall()]


@pytest.mark.parametrize("text, expected", [
    ("165", (165.0, None)),
    (" 165.5 ", (165.5, None)),
    ("１６５", (165.0, None)),
    ("60kg", (60.0, None)),
    ("72 次/分", (72.0, None)),
    ("5.65", (5.7, None)),          # half away from zero, as DuckDB rounds decimals
    ("5.649", (5.6, None)),
    ("", (None, None)),
    ("未测", (None, None)),
    ("拒测", (None, None)),
    ("/", (None, None)),
    (None, (None, None)),
    ("6O", (None, NOT_A_NUMBER)),
    ("165cm170", (None, NOT_A_NUMBER)),
    ("1,65", (None, NOT_A_NUMBER)),
])
def test_parse_table(text, expected):
    assert parse_value(text) == expected
    assert _sql_parse([text]) == [expected]


numbers = st.decimals(min_value=-999999, max_value=999999, places=4, allow_nan=False, allow_infinity=False)
texty = st.text(alphabet=st.sampled_from(list("0123456789.-+ ０１２３４５６７８９．cmkgHg次/分未测O\u3000")),
                max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(texty, numbers.map(str), st.none()), min_size=1, max_size=30))
def test_sql_twin_agrees_with_reference(texts):
    assert _sql_parse(texts) == [parse_value(t) for t in texts]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=999999), st.integers(min_value=0, max_value=9))
def test_a_number_with_one_decimal_parses_to_itself(whole, tenth):
    assert parse_value(f"{whole}.{tenth}") == (float(f"{whole}.{tenth}"), None)


HEIGHT = Range(120.0, 200.0, (("metres", 100.0), ("millimetres", 0.1)))
GLUCOSE = Range(2.0, 33.0, (("mg/dL", 0.0555),))


@pytest.mark.parametrize("value, rng, reason", [
    (165.0, HEIGHT, None),
    (None, HEIGHT, None),
    (1.65, HEIGHT, "looks like metres"),
    (1650.0, HEIGHT, "looks like millimetres"),
    (16.5, HEIGHT, "outside plausible range 120-200"),
    (102.0, GLUCOSE, "looks like mg/dL"),
    (5.6, GLUCOSE, None),
    (0.0, GLUCOSE, "outside plausible range 2-33"),
])
def test_check_value_names_unit_mixups(value, rng, reason):
    assert check_value(value, rng) == reason
    sql = _CON.execute(f"SELECT {check_value_sql('v', rng)} FROM (SELECT $v::DOUBLE AS v)",
                       {"v": value}).fetchall()[0][0]
    assert sql == reason
