"""Learning from reviewers by back-off over kinds of pair (linkage.model.verdicts)."""

from __future__ import annotations

import pytest

from linkage.model.levels import code_of
from linkage.model.verdicts import (
    BAND_REASON, VERDICTS_META, PatternRules, beta_quantile, class_key, decide_counts, display,
    held_reasons, pattern_key, reason_key,
)

NAMES = ("name", "id", "dob", "sex", "location")
BAND = BAND_REASON


def test_beta_quantile_matches_closed_forms():
    # Beta(n+1, 1): CDF x^(n+1), so the q-quantile is q^(1/(n+1)).
    for n in (0, 5, 20):
        assert beta_quantile(n + 1, 1, 0.1) == pytest.approx(0.1 ** (1 / (n + 1)), abs=1e-6)
    assert beta_quantile(1, 1, 0.3) == pytest.approx(0.3, abs=1e-6)   # uniform
    assert beta_quantile(5, 5, 0.5) == pytest.approx(0.5, abs=1e-6)   # symmetric


@pytest.mark.parametrize("same,different,decision", [
    (10, 0, "auto"), (41, 0, "auto"), (9, 0, "review"), (1, 0, "review"),   # 10 of 10 same
    (6, 0, "review"), (0, 0, "review"),
    (0, 6, "drop"), (0, 25, "drop"), (0, 5, "review"),                      # 6 of 6 different
    (235, 2, "review"), (400, 1, "review"), (1, 40, "review"),              # one the other way
    (118, 55, "review"),
])
def test_a_kind_is_decided_only_once_enough_verdicts_agree(same, different, decision):
    assert decide_counts(same, different) == decision


def _labels(key: str) -> dict[str, str]:
    """A pair's level codes from its pattern as people read it (同音·空·一致·一致·同址)."""
    codes = {n: code_of(n, label) for n, label in zip(NAMES, key.split("·"))}
    assert all(codes.values()), key
    return codes


def _verdicts(key: str, reason: str, same: int, different: int, guard: str = "") -> list:
    return ([(_labels(key), reason, guard, True)] * same
            + [(_labels(key), reason, guard, False)] * different)


@pytest.mark.parametrize("key,expected", [
    ("同音·空·一致·一致·同址", "音近·空·一致·一致或空·同户"),
    ("模糊音·空·农历生日·空·同址同电话", "音近·空·笔误·一致或空·同户"),
    ("一致·空·一致·不同·同村", "一致·空·一致·不同·同乡"),
    ("一字之差·均有效但不同·一致·一致·跨县", "一字之差·均有效但不同·一致·一致或空·跨县"),
])
def test_class_key_pools_near_equivalent_levels(key, expected):
    assert display(class_key(_labels(key), NAMES)) == expected


@pytest.mark.parametrize("reason,guard,expected", [
    ("similar names, same birth date, no matching ID (twins?)", "",
     "similar names, same birth date, no matching ID|above|音近"),
    (BAND, "", f"{BAND}|band|音近"),
    (BAND, "no ID and no shared address, phone or village (namesakes?)",
     "no ID and no shared address, phone or village|band|音近"),
])
def test_reason_key_is_the_guard_and_the_score_band(reason, guard, expected):
    key = reason_key(_labels("模糊音·空·一致·一致·跨县"), reason, guard)
    assert key.endswith("|name.sounds_alike")
    assert display(key) == expected


# (verdicts learned, the pair, its reason) -> (action, granularity) or None
@pytest.mark.parametrize("learned,pair,expected", [
    # the exact pattern settles it
    ([("同音·空·一致·一致·同址", BAND, 41, 0)], "同音·空·一致·一致·同址", ("auto", "pattern")),
    # too few of its own: its class (one household, same-sounding) settles it
    ([("同音·空·一致·一致·同址", BAND, 4, 0), ("模糊音·空·一致·空·同电话", BAND, 7, 0)],
     "同音·空·一致·一致·同址", ("auto", "class")),
    # neither pattern nor class: the reason and the name's class
    ([("一致·空·一致·不同·跨县", "sexes differ and no matching ID", 5, 0),
      ("一致·空·一致·不同·同县", "sexes differ and no matching ID", 6, 0)],
     "一致·空·一致·不同·跨县", ("auto", "reason")),
    # the pattern's own verdicts are mixed: a pure coarser kind does not overrule them
    ([("同音·空·一致·一致·同址", BAND, 3, 1), ("同音·空·一致·一致·同址同电话", BAND, 30, 0)],
     "同音·空·一致·一致·同址", None),
    # one "different" in the class stops the search at the class
    ([("同音·空·一致·一致·同址", BAND, 4, 0), ("同音·空·一致·一致·同电话", BAND, 20, 1),
      ("同音·空·一致·一致·跨县", BAND, 40, 0)],
     "同音·空·一致·一致·同址", None),
    # rejections: stop queueing
    ([("一致·空·一致·一致·同乡镇", BAND, 0, 3), ("一致·空·一致·空·同村", BAND, 0, 4)],
     "一致·空·一致·一致·同乡镇", ("drop", "class")),
    ([("一致·空·一致·一致·同县", BAND, 0, 5)], "一致·空·一致·一致·同县", None),
])
def test_back_off_uses_the_most_specific_conclusive_kind(learned, pair, expected):
    rules = PatternRules.of(NAMES, [v for key, reason, s, d in learned for v in _verdicts(key, reason, s, d)])
    reason = learned[0][1]
    decision = rules.decide(_labels(pair), reason)
    assert (None if decision is None else (decision.action, decision.granularity)) == expected


@pytest.mark.parametrize("reason", [
    "names one character apart (twins?)",
    "similar names, same birth date, no matching ID (twins?)",
    "similar names, birth dates a typo apart, no matching ID (twins?)",
    "newborn placeholder name (name unknown) and no matching ID",
    "an archive predates the other record's birth",
    "shared ID does not fit both records",
    "shared ID but birth dates differ",
    "weak link: chain joins archives that score as different",
    "a guard added later that this module has never heard of",
])
def test_dangerous_guards_are_never_learned_away_but_rejections_are(reason):
    same = PatternRules.of(NAMES, _verdicts("一字之差·空·一致·一致·同址", reason, 50, 0))
    assert same.decide(_labels("一字之差·空·一致·一致·同址"), reason) is None
    apart = PatternRules.of(NAMES, _verdicts("一字之差·空·一致·一致·同址", reason, 0, 50))
    drop = apart.decide(_labels("一字之差·空·一致·一致·同址"), reason)
    assert drop is not None and drop.action == "drop"


def test_decisions_explain_themselves():
    rules = PatternRules.of(NAMES, _verdicts("同音·空·一致·一致·同址", BAND, 41, 0)
                            + _verdicts("一致·空·一致·不同·跨县", "sexes differ and no matching ID", 12, 0)
                            + _verdicts("一致·空·一致·不同·同县", "sexes differ and no matching ID", 1, 0))
    assert rules.decide(_labels("同音·空·一致·一致·同址"), BAND).note() == \
        "pattern 同音·空·一致·一致·同址: 41 of 41 reviewer verdicts same"
    by_reason = rules.decide(_labels("一致·空·一致·不同·同县"), "sexes differ and no matching ID")
    assert by_reason.note() == ("pairs held back for 'sexes differ and no matching ID', scored above "
                                "the automatic threshold, with name 一致: 13 of 13 reviewer verdicts same")


def test_a_model_without_verdicts_decides_nothing():
    assert PatternRules.from_model({}).decide(_labels("同音·空·一致·一致·同址"), BAND) is None
    assert pattern_key({"name": "name.homophone"}, ("name", "id")) == "name.homophone·id.null"
    assert display("name.homophone·id.null") == "同音·空"


def test_a_model_learned_before_back_off_still_reads():
    """Its patterns were spelled in display labels: read as codes."""
    model = {VERDICTS_META: {"comparisons": list(NAMES), "patterns": {
        "同音·空·一致·一致·同址": {"same": 41, "different": 0, "decision": "auto"}}}}
    decision = PatternRules.from_model(model).decide(_labels("同音·空·一致·一致·同址"), BAND)
    assert decision is not None and decision.action == "auto"


def test_held_reasons_are_the_ones_the_run_gives():
    """(the review row's reason, the guard with the score set aside)"""
    twins = _labels("一字之差·空·一致·一致·同址")
    assert held_reasons(twins, 0.7, 0.999, 0.9995, False) == (BAND, "names one character apart (twins?)")
    plain = _labels("一致·空·一致·一致·同址")
    assert held_reasons(plain, 0.7, 0.999, 0.9995, False) == (BAND, BAND)
    reason, guard = held_reasons(_labels("一致·空·一致·一致·同村"), 0.9992, 0.999, 0.9995, False)
    assert reason == guard and reason.startswith("no ID confirms it")
    assert held_reasons(plain, 0.7, 0.999, 0.9995, True)[1].startswith("an archive predates")


def test_a_band_pair_that_looks_like_twins_is_not_joined_by_band_verdicts():
    rules = PatternRules.of(NAMES, _verdicts("一字之差·空·一致·一致·同址", BAND, 50, 0))
    assert rules.decide(_labels("一字之差·空·一致·一致·同址"), BAND) is not None
    assert rules.decide(_labels("一字之差·空·一致·一致·同址"), BAND, "names one character apart (twins?)") is None


def test_every_guard_reason_is_either_overrulable_or_a_named_danger():
    """All reasons pair_guard can give, over every combination of levels: the ones that name
    a danger are never in OVERRULABLE_REASONS (a guard added later fails here until it is
    classified)."""
    import itertools

    from linkage.decide import pair_guard
    from linkage.model.levels import LEVELS
    from linkage.model.verdicts import OVERRULABLE_REASONS

    dangers = ("an archive predates", "newborn placeholder", "similar names, same birth date",
               "similar names, birth dates a typo apart",
               "names one character apart", "shared ID does not fit", "shared ID but birth dates")
    reasons = set()
    codes = [[code for code, _ in LEVELS[n]] for n in NAMES]
    for combo in itertools.product(*codes):
        levels = dict(zip(NAMES, combo))
        for probability, impossible, sole in ((1.0, False, False), (0.9991, False, False),
                                              (1.0, True, False), (1.0, False, True)):
            reasons.add(pair_guard(levels, probability, 0.9995, impossible, sole_newborn=sole))
    reasons.discard("")
    for reason in reasons:
        overrulable = reason.startswith(OVERRULABLE_REASONS)
        danger = reason.startswith(dangers)
        assert overrulable != danger, f"unclassified or both: {reason!r}"


def test_a_kinds_same_never_joins_a_pair_its_ids_tell_apart():
    """generator4: 'names differ', above the automatic threshold, 19 of 19 same (renamed
    children) then joined two spouses whose archives carry one of their IDs."""
    reason = "names differ"
    rules = PatternRules.of(NAMES, _verdicts("不同·一致·一致·一致·同址", reason, 19, 0))
    renamed = rules.decide(_labels("不同·一致·一致·一致·同址"), reason)
    assert renamed is not None and renamed.action == "auto"
    spouses = _labels("不同·号同但生日/性别不符·差一年·不同·同址")
    assert rules.lookup(spouses, reason) is not None  # the reason granularity would match
    assert rules.decide(spouses, reason) is None
