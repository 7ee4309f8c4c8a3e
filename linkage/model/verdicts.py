"""Learning from reviewers' verdicts, per comparison pattern.

    learn_verdicts(con, linker, labels_table, names, labels) -> VerdictReport, block
    PatternRules.from_model(model).decide(pair_labels) -> PatternDecision | None

Why patterns and not the prior: the review queue is a biased sample of look-alikes.  "68%
of reviewed pairs were the same person" says the model is over-confident in that band, for
those evidence patterns; it says nothing about how likely two random archives are to match,
and rescaling the whole population's prior from it (the old ``train --labels``) took recall
on the next population from 0.877 to 0.838.  So the unsupervised model is left as it is,
and verdicts are kept where they are evidence: per comparison pattern (the vector of levels,
e.g. ``同音·空·一致·一致·同址``), counted as "same" and "different".

A pattern is decided automatically only once enough verdicts agree: with ``s`` same and
``d`` different, the share of "same" has the posterior Beta(s + 1, d + 1) (uniform prior);

* ``auto``: its lower ``CONFIDENCE`` bound is at least ``AUTO_SAME_SHARE`` (e.g. at least
  21 of 21 verdicts same) - pairs of this pattern in the review band, or held back by a
  guard that only asks for more evidence, join automatically;
* ``drop``: its upper bound is at most ``DROP_SAME_SHARE`` - such pairs are no longer
  queued for review;
* otherwise the pattern stays with the reviewers.

Safety guards that name a specific danger (twins: names one character apart, or a
newborn placeholder that either twin may own; an archive older
than the person; an ID that fits only one record; IDs of two people; cannot-links) are
never overridden: a learned pair still passes every cluster rule.  Everything lives in the
model JSON under ``linkage_verdicts`` (counts per pattern and the decision), so ``linkage run
--model`` uses it, the evidence column explains it ("pattern 同音·空·一致·一致·同址: 21 of 21
reviewer verdicts same"), and it is reversible: retrain without ``--labels``, or delete the
block.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from linkage.decide import pair_guard
from linkage.model.splink_adapter import gamma_from_weight_sql

log = logging.getLogger(__name__)

VERDICTS_META = "linkage_verdicts"
MIN_VERDICTS = 10          # fewer verdicts on a pattern: never decided
CONFIDENCE = 0.9           # one-sided credibility of the bounds
AUTO_SAME_SHARE = 0.9      # lower bound of P(same) for "auto"
DROP_SAME_SHARE = 0.1      # upper bound of P(same) for "drop"
MAX_MINORITY_SHARE = 0.005  # at most 1 verdict in 200 the other way
HELD_OUT_SHARE = 0.2       # labels kept aside for the before/after check
FEW_LABELS = 100           # below this, warn that little can be learned

# Guard reasons a pattern's verdicts may overrule: they ask for more evidence, they do not
# name a danger.  (pair_guard's other reasons, and every cluster rule, always stand.)
OVERRULABLE_REASONS = (
    "score between review and automatic thresholds",
    "no ID confirms it",
    "no ID and no shared address",
    "names only similar",
    "similar names, same birth date, no matching ID",
    "sexes differ and no matching ID",
    "no name and no matching ID",
    "names differ",
    "birth dates differ and no matching ID",
)


def pattern_key(pair_labels: Mapping[str, str], names: Sequence[str]) -> str:
    """The comparison pattern of a pair: its level labels in comparison order."""
    return "·".join(pair_labels.get(n, "空") for n in names)


def _binomial_tail(n: int, k: int, x: float) -> float:
    """P(Binomial(n, x) >= k)."""
    if x <= 0.0:
        return 0.0 if k > 0 else 1.0
    if x >= 1.0:
        return 1.0
    total = 0.0
    lx, l1x = math.log(x), math.log1p(-x)
    for i in range(k, n + 1):
        total += math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                          + i * lx + (n - i) * l1x)
    return min(total, 1.0)


def beta_quantile(a: int, b: int, q: float) -> float:
    """The q-quantile of Beta(a, b) for whole a, b >= 1 (CDF = a binomial tail)."""
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        if _binomial_tail(a + b - 1, a, mid) < q:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def decide_counts(same: int, different: int) -> str:
    """'auto', 'drop' or 'review' for a pattern with these verdict counts.

    Besides the bound, the minority must be (nearly) absent: a pattern the reviewers
    called "different" d times in a month will make about d wrong links a month once it is
    automatic, however large the pattern (224 of 228 "same" is still four wrong links)."""
    n = same + different
    if n < MIN_VERDICTS:
        return "review"
    if (different <= MAX_MINORITY_SHARE * n
            and beta_quantile(same + 1, different + 1, 1 - CONFIDENCE) >= AUTO_SAME_SHARE):
        return "auto"
    if (same <= MAX_MINORITY_SHARE * n
            and beta_quantile(same + 1, different + 1, CONFIDENCE) <= DROP_SAME_SHARE):
        return "drop"
    return "review"


@dataclass(frozen=True)
class PatternDecision:
    action: str  # "auto" | "drop"
    pattern: str
    same: int
    different: int

    def note(self) -> str:
        n = self.same + self.different
        said = "same" if self.action == "auto" else "different"
        agree = self.same if self.action == "auto" else self.different
        return f"pattern {self.pattern}: {agree} of {n} reviewer verdicts {said}"


# Location levels that all say "one household"; a pattern with too few verdicts of its own
# borrows those of its household-wide pattern (同音·空·一致·一致·同户).
# (location is the last comparison of the pattern.)
_HOUSEHOLD_LEVELS = {"同址同电话": "同户", "同址": "同户", "同电话": "同户"}


def coarse_key(key: str) -> str:
    """The pattern with its household location levels pooled."""
    parts = key.split("·")
    return "·".join(parts[:-1] + [_HOUSEHOLD_LEVELS.get(parts[-1], parts[-1])])


@dataclass
class PatternRules:
    """The learned decisions of a model (empty when it learned none)."""

    names: tuple[str, ...] = ()
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    pooled: dict[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, names: Sequence[str], counts: Mapping[str, tuple[int, int]]) -> "PatternRules":
        pooled: dict[str, list[int]] = {}
        for key, (same, different) in counts.items():
            c = pooled.setdefault(coarse_key(key), [0, 0])
            c[0] += same
            c[1] += different
        return cls(tuple(names), dict(counts), {k: (v[0], v[1]) for k, v in pooled.items()})

    @classmethod
    def from_model(cls, model: Mapping[str, Any]) -> "PatternRules":
        block = model.get(VERDICTS_META) or {}
        counts = {k: (int(v["same"]), int(v["different"]))
                  for k, v in (block.get("patterns") or {}).items()}
        return cls.of(block.get("comparisons") or (), counts)

    def decide_key(self, key: str) -> PatternDecision | None:
        """The pattern's own decision; when its own verdicts do not settle it, its
        household-wide pattern's, unless a verdict of its own went the other way."""
        same, different = self.counts.get(key, (0, 0))
        action = decide_counts(same, different)
        if action != "review":
            return PatternDecision(action, key, same, different)
        if coarse_key(key) == key:
            return None
        pooled = coarse_key(key)
        p_same, p_different = self.pooled.get(pooled, (0, 0))
        action = decide_counts(p_same, p_different)
        if (action == "auto" and different == 0) or (action == "drop" and same == 0):
            return PatternDecision(action, pooled, p_same, p_different)
        return None

    def decide(self, pair_labels: Mapping[str, str], reason: str) -> PatternDecision | None:
        """The learned decision for a pair held back for ``reason``, or None.

        "drop" (stop queueing) applies whatever held the pair back: it can only keep
        archives apart.  "auto" applies only to reasons that ask for more evidence."""
        if not self.counts:
            return None
        decision = self.decide_key(pattern_key(pair_labels, self.names))
        if decision is None or (decision.action == "auto" and not reason.startswith(OVERRULABLE_REASONS)):
            return None
        return decision


@dataclass(frozen=True)
class VerdictReport:
    """What learning from verdicts did (printed by ``linkage train``; counts only)."""

    labels_same: int
    labels_different: int
    labels_not_in_data: int
    patterns: int
    patterns_auto: int
    patterns_drop: int
    held_out: int
    held_out_auto: int
    held_out_auto_wrong: int
    held_out_drop: int
    held_out_drop_wrong: int
    warnings: tuple[str, ...] = ()


def _held_out(a: str, b: str) -> bool:
    digest = hashlib.sha256(f"{a}|{b}".encode()).digest()
    return digest[0] < 256 * HELD_OUT_SHARE


def _count(rows: list[tuple[str, float]]) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = {}
    for key, score in rows:
        c = counts.setdefault(key, [0, 0])
        c[0 if score >= 0.5 else 1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def labelled_patterns(
    con: duckdb.DuckDBPyConnection, linker: Any, labels_table: str,
    names: Sequence[str], level_labels: Mapping[str, Mapping[int, str]],
) -> list[tuple[str, str, str, float]]:
    """(archive_id_l, archive_id_r, pattern, score) of every labelled pair in the data."""
    pairs = con.sql(
        f"SELECT '0' AS match_key, archive_id_l AS join_key_l, archive_id_r AS join_key_r "
        f"FROM {labels_table}").to_arrow_table()
    if pairs.num_rows == 0:
        return []
    name = f"__linkage_verdict_pairs_{labels_table}"
    blocked = linker.table_management.register_table(pairs, name, overwrite=True)
    linker.table_management.register_blocked_pairs_for_predict(blocked)
    gamma_sql = gamma_from_weight_sql(linker)
    try:
        predictions = linker.inference.predict(warning_mode="never")
        gammas = ", ".join(f"{gamma_sql[n]} AS g_{n}" for n in names)
        rows = con.execute(f"""
            SELECT l.archive_id_l, l.archive_id_r, l.clerical_match_score, {gammas}
            FROM {predictions.physical_name} p
            JOIN {labels_table} l
              ON l.archive_id_l = least(p.archive_id_l, p.archive_id_r)
             AND l.archive_id_r = greatest(p.archive_id_l, p.archive_id_r)
            ORDER BY 1, 2
        """).fetchall()
    finally:
        linker.table_management.invalidate_cache()
        con.unregister(name)
    out = []
    for a, b, score, *g in rows:
        labels = {n: level_labels[n].get(int(v), "") for n, v in zip(names, g)}
        out.append((a, b, pattern_key(labels, names), float(score)))
    return out


def learn_verdicts(
    con: duckdb.DuckDBPyConnection, linker: Any, labels_table: str,
    names: Sequence[str], level_labels: Mapping[str, Mapping[int, str]],
) -> tuple[VerdictReport, dict[str, Any]]:
    """Count verdicts per pattern; check the decisions on held-out labels first."""
    total_same, total_diff = con.execute(
        f"SELECT count(*) FILTER (WHERE clerical_match_score >= 0.5), "
        f"count(*) FILTER (WHERE clerical_match_score < 0.5) FROM {labels_table}").fetchall()[0]
    rows = labelled_patterns(con, linker, labels_table, names, level_labels)
    def action_of(rules: PatternRules, key: str) -> str:
        """What a run does with a pair of this pattern (the guard's dangers stand)."""
        labels = dict(zip(names, key.split("·")))
        decision = rules.decide(labels, pair_guard(labels) or OVERRULABLE_REASONS[0])
        return decision.action if decision is not None else "review"

    learn_rules = PatternRules.of(names, _count([(k, s) for a, b, k, s in rows if not _held_out(a, b)]))
    held = [(k, s) for a, b, k, s in rows if _held_out(a, b)]
    auto = auto_wrong = drop = drop_wrong = 0
    for key, score in held:
        action = action_of(learn_rules, key)
        if action == "auto":
            auto += 1
            auto_wrong += score < 0.5
        elif action == "drop":
            drop += 1
            drop_wrong += score >= 0.5
    counts = _count([(k, s) for _, _, k, s in rows])
    rules = PatternRules.of(names, counts)
    decisions = {k: action_of(rules, k) for k in counts}
    warnings = []
    if len(rows) < FEW_LABELS:
        warnings.append(f"only {len(rows)} labelled pairs: too few to learn much "
                        f"(a pattern needs {MIN_VERDICTS}+ agreeing verdicts)")
    if not any(d != "review" for d in decisions.values()):
        warnings.append("no pattern has enough agreeing verdicts yet: the model decides as before")
    if auto_wrong or drop_wrong:
        warnings.append(f"on held-out labels {auto_wrong + drop_wrong} learned decisions were "
                        "wrong: check the verdicts")
    report = VerdictReport(
        labels_same=int(total_same), labels_different=int(total_diff),
        labels_not_in_data=int(total_same + total_diff - len(rows)),
        patterns=len(counts),
        patterns_auto=sum(1 for d in decisions.values() if d == "auto"),
        patterns_drop=sum(1 for d in decisions.values() if d == "drop"),
        held_out=len(held), held_out_auto=auto, held_out_auto_wrong=auto_wrong,
        held_out_drop=drop, held_out_drop_wrong=drop_wrong, warnings=tuple(warnings),
    )
    block = {
        "comparisons": list(names),
        "rule": {"min_verdicts": MIN_VERDICTS, "confidence": CONFIDENCE,
                 "auto_same_share": AUTO_SAME_SHARE, "drop_same_share": DROP_SAME_SHARE},
        "labels": len(rows),
        "patterns": {k: {"same": s, "different": d, "decision": decisions[k]}
                     for k, (s, d) in sorted(counts.items())},
    }
    log.info("verdicts learned: %d patterns (%d auto, %d drop) from %d labels",
             report.patterns, report.patterns_auto, report.patterns_drop, len(rows))
    return report, block
