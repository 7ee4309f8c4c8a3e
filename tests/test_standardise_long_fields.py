"""Standardising is linear in the length of a field (issue 10: a 1 MB address took 68 s for
40 rows, and time grew with the square of the length).

The address patterns were made linear by letting them start only at the beginning of a run;
these tests hold them to the exact matches of the original patterns, and run pathological
runs of numerals, zeros and 第 long enough that the quadratic versions took seconds each.
No test asserts on time.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.standardise import address as A
from linkage.standardise.address import normalise_address

# The original (quadratic) patterns, as the reference for what must be matched.
_REFERENCE = {
    "numeral": (re.compile(f"[{A._CN_DIGITS}]+(?={A._UNIT_ALT})"), A._CN_NUMBER_RE),
    "ordinal": (re.compile(f"第+(?=[0-9]+(?:{A._UNIT_ALT}))"), A._ORDINAL_RE),
    "zeros": (re.compile(f"0(?<![0-9]0)0*(?=[0-9]+(?:{A._UNIT_ALT}))"), A._LEADING_ZERO_RE),
}
_ALPHABET = list("000012369第一二两十百千零〇号组社区村民小院楼单元栋幢室层队弄巷排a-")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=24).map("".join))
def test_linear_patterns_match_exactly_what_the_originals_matched(text: str) -> None:
    for name, (reference, linear) in _REFERENCE.items():
        assert [m.span() for m in linear.finditer(text)] == \
            [m.span() for m in reference.finditer(text)], name


def test_pathological_runs_normalise_as_before() -> None:
    n = 20_000
    assert normalise_address("0" * n + "号") == "0号"
    assert normalise_address("0" * n + "12号") == "12号"
    assert normalise_address("0" * n) == "0" * n  # no unit: left alone
    assert normalise_address("一" * n) == "一" * n
    assert normalise_address("二" * n + "组") == "2" * n + "组"
    assert normalise_address("第" * n + "3组") == "3组"
    assert normalise_address("第" * n) == "第" * n
    assert normalise_address("0012号" * n) == "12号" * n


