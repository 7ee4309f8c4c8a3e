"""Learning from reviewers per comparison pattern (linkage.model.verdicts)."""

from __future__ import annotations

import pytest

from linkage.model.verdicts import (
    VERDICTS_META, PatternRules, beta_quantile, decide_counts, pattern_key,
)

NAMES = ("name", "id", "dob", "sex", "location")


def test_beta_quantile_matches_closed_forms():
    # Beta(n+1, 1): CDF x^(n+1), so the q-quantile is q^(1/(n+1)).
    for n in (0, 5, 20):
        assert beta_quantile(n + 1, 1, 0.1) == pytest.approx(0.1 ** (1 / (n + 1)), abs=1e-6)
    assert beta_quantile(1, 1, 0.3) == pytest.approx(0.3, abs=1e-6)   # uniform
    assert beta_quantile(5, 5, 0.5) == pytest.approx(0.5, abs=1e-6)   # symmetric


@pytest.mark.parametrize("same,different,decision", [
    (41, 0, "auto"), (21, 0, "auto"), (14, 0, "review"), (9, 0, "review"),  # too few to act on
    (118, 55, "review"), (14, 1, "review"),                  # reviewers disagree
    (36, 1, "review"), (224, 4, "review"), (400, 1, "auto"),  # 4 "different" = 4 wrong links
    (0, 25, "drop"), (1, 40, "review"), (0, 20, "review"), (0, 5, "review"),
])
def test_a_pattern_is_decided_only_once_enough_verdicts_agree(same, different, decision):
    assert decide_counts(same, different) == decision


def _rules() -> PatternRules:
    model = {VERDICTS_META: {"comparisons": list(NAMES), "patterns": {
        "同音·空·一致·一致·同址": {"same": 41, "different": 0},
        "一字之差·空·一致·一致·同址": {"same": 30, "different": 0},
        "一字之差·空·一致·一致·同电话": {"same": 0, "different": 30},
        "一致·空·一致·一致·同县": {"same": 29, "different": 97},
    }}}
    return PatternRules.from_model(model)


def _labels(key: str) -> dict[str, str]:
    return dict(zip(NAMES, key.split("·")))


def test_confirmed_pattern_joins_and_explains_itself():
    decision = _rules().decide(_labels("同音·空·一致·一致·同址"),
                               "score between review and automatic thresholds")
    assert decision is not None and decision.action == "auto"
    assert decision.note() == "pattern 同音·空·一致·一致·同址: 41 of 41 reviewer verdicts same"


def test_safety_guards_are_never_learned_away_but_rejections_are():
    rules = _rules()
    # Even 30 of 30 "same" does not make twins-looking pairs automatic.
    assert rules.decide(_labels("一字之差·空·一致·一致·同址"), "names one character apart (twins?)") is None
    drop = rules.decide(_labels("一字之差·空·一致·一致·同电话"), "names one character apart (twins?)")
    assert drop is not None and drop.action == "drop"
    assert rules.decide(_labels("一致·空·一致·一致·同县"), "score between review and automatic thresholds") is None


def test_a_model_without_verdicts_decides_nothing():
    assert PatternRules.from_model({}).decide(_labels("同音·空·一致·一致·同址"), "score") is None
    assert pattern_key({"name": "同音"}, ("name", "id")) == "同音·空"


def test_household_levels_pool_when_a_pattern_does_not_settle_itself():
    rules = PatternRules.of(NAMES, {
        "同音·空·一致·一致·同址": (9, 0), "同音·空·一致·一致·同电话": (9, 0),
        "同音·空·一致·一致·同址同电话": (12, 0), "同音·空·一致·一致·同县": (3, 1),
    })
    pooled = rules.decide(_labels("同音·空·一致·一致·同电话"), "score between review and automatic thresholds")
    assert pooled is not None and pooled.action == "auto" and pooled.pattern.endswith("同户")
    assert pooled.note() == "pattern 同音·空·一致·一致·同户: 30 of 30 reviewer verdicts same"
    # a pattern whose own verdicts include a "different" does not borrow anything
    assert rules.decide(_labels("同音·空·一致·一致·同县"), "score between review and automatic thresholds") is None
