"""Every branch of decide.pair_guard reached directly, by the reason it gives.

tests/test_decide.py checks which pairs are held back; this file checks that each rule of
the guard is the one holding them, so a rule that stops firing (another rule above it now
catches its pairs, or nothing does) fails here by name.  Also born_before_created, whose
result the guard's first rule reads.
"""

from __future__ import annotations

import ast
import inspect
import itertools
from datetime import date

import pytest

from linkage import decide
from linkage.decide import ArchiveFacts, born_before_created, pair_guard
from linkage.model.levels import LEVELS

THRESHOLD = 0.9995  # auto_match_probability_without_id, as in configs/default.toml
AGREE = {"name": "name.exact", "id": "id.exact", "dob": "dob.exact", "sex": "sex.same",
         "location": "location.village"}


def levels(**changed: str) -> dict[str, str]:
    return {**AGREE, **changed}


NO_ID = {"id": "id.null"}


@pytest.mark.parametrize("pair, probability, impossible, reason", [
    # everything agrees, an ID confirms: joined
    (levels(), 1.0, False, ""),
    # born before created, unless the birth date level already says a date is a typo
    (levels(), 1.0, True, "an archive predates the other record's birth"),
    (levels(dob="dob.lunar"), 1.0, True, ""),
    # a newborn placeholder name: only an ID confirms
    (levels(name="name.placeholder", **NO_ID), 1.0, False,
     "newborn placeholder name (name unknown) and no matching ID"),
    (levels(name="name.placeholder"), 1.0, False, ""),
    # the ID-less threshold: asked below it, not above it, not of a same-name household
    (levels(**NO_ID), THRESHOLD - 1e-6, False,
     "no ID confirms it and the score is below the threshold for ID-less links"),
    (levels(**NO_ID), THRESHOLD, False, ""),
    (levels(location="location.phone", **NO_ID), 0.99, False, ""),
    (levels(id="id.one_typo"), 0.99, False, ""),  # a one-typo ID supports the pair
    # no ID and nothing that places them together: namesakes?
    (levels(location="location.township", **NO_ID), 1.0, False,
     "no ID and no shared address, phone or village (namesakes?)"),
    # different names, even with an ID
    (levels(name="name.surname_only"), 1.0, False, "names differ"),
    # twin-like names with one birth date and no ID
    (levels(name="name.homophone", **NO_ID), 1.0, False,
     "similar names, same birth date, no matching ID (twins?)"),
    # ...and with one twin's birth date mistyped; an ID one typo apart supports the pair
    (levels(name="name.homophone", dob="dob.year_off", **NO_ID), 1.0, False,
     "similar names, birth dates a typo apart, no matching ID (twins?)"),
    (levels(name="name.lookalike", dob="dob.lunar", location="location.phone", **NO_ID), 1.0, False,
     "similar names, birth dates a typo apart, no matching ID (twins?)"),
    (levels(name="name.homophone", dob="dob.lunar_shift", id="id.one_typo"), 1.0, False, ""),
    # names one character apart, even with an ID
    (levels(name="name.one_char"), 1.0, False, "names one character apart (twins?)"),
    # sexes differ: only an ID supports a sex typo; one household alone is how opposite-sex
    # twins filed under one name look
    (levels(sex="sex.different", **NO_ID), 1.0, False, "sexes differ and no matching ID"),
    (levels(sex="sex.different", location="location.address", **NO_ID), 1.0, False,
     "sexes differ and no matching ID"),
    (levels(sex="sex.different", location="location.address", id="id.one_typo"), 1.0, False, ""),
    (levels(sex="sex.different"), 1.0, False, ""),
    # no name at all
    (levels(name="name.null", **NO_ID), 1.0, False, "no name and no matching ID"),
    (levels(name="name.null"), 1.0, False, ""),
    # near names need an ID, or one household with the birth date agreeing
    (levels(name="name.pinyin_close", **NO_ID), 1.0, False,
     "names only similar and no matching ID"),
    (levels(name="name.chars_swapped", location="location.phone", **NO_ID), 1.0, False, ""),
    # one ID on both records that fits only one of them
    (levels(id="id.shared_not_fitting", dob="dob.within_year"), 1.0, False,
     "shared ID but birth dates differ"),
    (levels(id="id.shared_not_fitting"), 1.0, False, ""),  # a mistyped sex digit
    # birth dates differ without an ID
    (levels(dob="dob.different", id="id.one_typo"), 1.0, False,
     "birth dates differ and no matching ID"),
    (levels(dob="dob.different"), 1.0, False, ""),
])
def test_each_rule_of_the_guard(pair, probability, impossible, reason) -> None:
    assert pair_guard(pair, probability, THRESHOLD, impossible) == reason


def _reasons_in_source() -> set[str]:
    tree = ast.parse(inspect.getsource(decide.pair_guard))
    returned = [node.value for node in ast.walk(tree) if isinstance(node, ast.Return) and node.value]
    return {const.value for value in returned for const in ast.walk(value)
            if isinstance(const, ast.Constant) and isinstance(const.value, str) and const.value}


def test_every_rule_of_the_guard_is_reachable_over_all_level_combinations() -> None:
    comparisons = ("name", "id", "dob", "sex", "location")
    codes = [[code for code, _ in LEVELS[c]] for c in comparisons]
    reached = set()
    for combination in itertools.product(*codes):
        pair = dict(zip(comparisons, combination))
        for probability, impossible in itertools.product((0.5, 1.0), (False, True)):
            reached.add(pair_guard(pair, probability, THRESHOLD, impossible))
    reasons = _reasons_in_source()
    assert len(reasons) >= 12
    assert reached - {""} == reasons


def _facts(created: date | None, born: date | None) -> ArchiveFacts:
    return ArchiveFacts("a", "620802001001", created, None, False, 1, born)


@pytest.mark.parametrize("left, right, expected", [
    (_facts(date(2010, 1, 1), date(1950, 1, 1)), _facts(date(2012, 1, 1), date(1950, 1, 1)), False),
    # the left archive was opened in 2010 for someone born in 2015: not one person
    (_facts(date(2010, 1, 1), date(1950, 1, 1)), _facts(date(2016, 1, 1), date(2015, 6, 1)), True),
    (_facts(date(2016, 1, 1), date(2015, 6, 1)), _facts(date(2010, 1, 1), date(1950, 1, 1)), True),
    # opened on the birthday itself is possible (a newborn's archive)
    (_facts(date(2015, 6, 1), None), _facts(date(2016, 1, 1), date(2015, 6, 1)), False),
    # an unknown date proves nothing
    (_facts(None, date(1950, 1, 1)), _facts(date(2016, 1, 1), None), False),
])
def test_born_before_created(left, right, expected) -> None:
    assert born_before_created(left, right) is expected
