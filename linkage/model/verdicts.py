"""Learning from reviewers' verdicts: back-off over evidence patterns.

    learn_verdicts(con, linker, labels_table, names, level_codes, table, thresholds)
        -> VerdictReport, block                  (``linkage train --labels``)
    PatternRules.from_model(model).decide(pair_levels, reason) -> PatternDecision | None

Why not the prior: the review queue is a biased sample of look-alikes.  "68% of reviewed
pairs were the same person" says the model is over-confident in that band, for those
evidence patterns; it says nothing about how likely two random archives are to match, and
rescaling the whole population's prior from it took recall on the next population from
0.877 to 0.838 (issue 9).  So m, u and the prior stay as unsupervised training made them,
and verdicts are counted where they are evidence: per kind of pair.

Why back-off and not a calibration curve: within the review band, match weight hardly
separates reviewers' "same" from "different" (namesakes and movers share a pattern and a
weight: the independent generator's 一致·空·一致·一致·跨县 is 65% "same" at every weight), so
a curve over weight learns little; the kinds of pairs do separate.  A county's few hundred
verdicts spread over ~100 exact level vectors, though, so exact patterns alone were too fine
(3 of 126 patterns became automatic).  A pair is therefore looked up at three granularities,
most specific first:

1. ``pattern``: the full vector of level codes (``name.homophone·id.null·dob.exact·
   sex.same·location.address``, shown as 同音·空·一致·一致·同址);
2. ``class``: the same vector with near-equivalent levels pooled (same-sounding names;
   birth-date typos; one household; one village or township; sex equal or blank);
3. ``reason``: the guard that holds the pair back (none: the score band), whether it
   scored in the review band or above the automatic threshold, and the name's class - a
   guard reason and a score band.

The first granularity whose verdicts are conclusive decides; one that holds verdicts both
ways stops the search (the specific evidence says "mixed", a coarser key must not overrule
it).  Conclusive, with ``s`` same and ``d`` different and the posterior Beta(s + 1, d + 1):

* ``auto``: no "different", and the lower ``CONFIDENCE`` bound of P(same) at least
  ``AUTO_SAME_SHARE`` - 10 of 10 "same" or more.  Pairs of that kind join automatically;
* ``drop``: no "same", and the upper bound at most ``DROP_SAME_SHARE`` - 6 of 6
  "different" or more.  Such pairs are no longer queued (a wrong drop costs a review, not a merge).

One verdict the other way keeps a kind with the reviewers: measured on generator3, a
pattern at 235 of 237 "same" made 5 wrong links among 267 pairs of the next population, one
wrong link per ~50, far beyond precision 0.999.

The bounds were chosen on all three generators: verdicts of one 30,000-person population's
night-1 queue replayed on another's (A -> B and B -> A; benchmarks/learning.py populations),
automatic links right/wrong and dropped pairs right/wrong, of 325 / 1,528 / 1,605 queued:

    rule (auto / drop)   synth         independent      generator3
    21 of 21, pattern    0/0, 0/0      14/0, 0/0        24/2, 0/0     (about the rule before)
    15 of 15 / 6 of 6    0/0, 0/0      141/1, 125/1     84/2, 64/0
    10 of 10 / 6 of 6    16/1, 0/0     183/1, 125/1     135/2, 64/0   (chosen)
    7 of 7 / 6 of 6      26/1, 0/0     195/2, 125/1     147/3, 64/0
    10 of 10 / 4 of 4    16/1, 5/3     183/1, 138/1     135/2, 85/2

10-of-10 is the knee: 7-of-7 adds 34 right links for 2 more wrong ones (one in 17), 15-of-15
gives up 109 right links to save one wrong.  4-of-4 drops would add 39 for 5 true pairs lost.
(The reason granularity keyed on the review row's reason alone gave 313/4 links in all; on
the guard and the score band, 334/4.)

Safety guards that name a danger (twins: names one character apart, similar names with the
same birth date, a newborn placeholder either twin may own; an archive older than the
person; an ID that fits only one record; IDs of two people; cannot-links; every cluster
rule) are never overridden: ``auto`` applies only to reasons in ``OVERRULABLE_REASONS``,
which ask for more evidence, and a learned pair still passes every cluster rule.  Counts
and decisions live in the model JSON under ``linkage_verdicts``, so ``linkage run --model``
uses them, the evidence column explains them ("pattern 同音·空·一致·一致·同址: 41 of 41
reviewer verdicts same"), and they are reversible: retrain without ``--labels``, or delete
the block.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from linkage.decide import clearly_apart, pair_guard
from linkage.model.levels import LABELS, code_of
from linkage.model.splink_adapter import gamma_from_weight_sql

log = logging.getLogger(__name__)

VERDICTS_META = "linkage_verdicts"
CONFIDENCE = 0.9           # one-sided credibility of the bounds
AUTO_SAME_SHARE = 0.8      # lower bound of P(same) for "auto": 10 of 10 same
DROP_SAME_SHARE = 0.3      # upper bound of P(same) for "drop": 6 of 6 different
HELD_OUT_SHARE = 0.2       # labels kept aside for the before/after check
FEW_LABELS = 100           # below this, warn that little can be learned
WRONG_SHARE_WARNED = 0.05  # held-out learned decisions wrong beyond this (and > 1): warn

# The reason a run gives a pair in the score band (linkage.resolve writes it).
BAND_REASON = "score between review and automatic thresholds"

# Reasons a kind's "same" verdicts may overrule: they ask for more evidence, they do not
# name a danger.  An allow-list, so that a new guard stands until it is added here.
OVERRULABLE_REASONS = (
    BAND_REASON,
    "no ID confirms it",
    "no ID and no shared address",
    "names only similar",
    "sexes differ and no matching ID",
    "no name and no matching ID",
    "names differ",
    "birth dates differ and no matching ID",
)

# The granularities, most specific first (see the module docstring).
GRANULARITIES = ("pattern", "class", "reason")

# Levels pooled into one class at the "class" granularity: they say nearly the same thing
# about a pair.  level code -> (class code, display label)
_CLASSES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("name.homophone", "name.fuzzy_pinyin"), ("name.sounds_alike", "音近")),
    **dict.fromkeys(("dob.day_month_swapped", "dob.lunar", "dob.lunar_shift", "dob.year_off"),
                    ("dob.typo", "笔误")),
    **dict.fromkeys(("sex.same", "sex.null"), ("sex.same_or_null", "一致或空")),
    **dict.fromkeys(("location.address_phone", "location.address", "location.phone"),
                    ("location.household", "同户")),
    **dict.fromkeys(("location.address_close", "location.village", "location.township"),
                    ("location.near", "同乡")),
}
_CLASS_LABELS = dict(_CLASSES.values())
_SEP = "·"


def _code(levels: Mapping[str, str], name: str) -> str:
    return levels.get(name) or f"{name}.null"


def pattern_key(levels: Mapping[str, str], names: Sequence[str]) -> str:
    """The comparison pattern of a pair: its level codes in comparison order."""
    return _SEP.join(_code(levels, n) for n in names)


def class_key(levels: Mapping[str, str], names: Sequence[str]) -> str:
    """The pattern with near-equivalent levels pooled (同音/模糊音 -> 音近, ...)."""
    return _SEP.join(_CLASSES.get(_code(levels, n), (_code(levels, n), ""))[0] for n in names)


def reason_key(levels: Mapping[str, str], reason: str, guard: str = "") -> str:
    """The guard that holds the pair back (without its parenthesised hint; none: the band),
    whether it scored in the review band or above the automatic threshold, and the name's
    class - a guard reason and a score band."""
    name = _code(levels, "name")
    band = "band" if reason == BAND_REASON else "above"
    return f"{(guard or reason).split(' (')[0]}|{band}|{_CLASSES.get(name, (name, ''))[0]}"


def display(key: str) -> str:
    """A key as people read it: level (or class) codes shown as their labels."""
    def label(code: str) -> str:
        return LABELS.get(code) or _CLASS_LABELS.get(code) or code

    if "|" in key:
        reason, band, name = key.split("|", 2)
        return f"{reason}|{band}|{label(name)}"
    return _SEP.join(label(code) for code in key.split(_SEP))


def keys_of(levels: Mapping[str, str], names: Sequence[str], reason: str,
            guard: str = "") -> dict[str, str]:
    """The pair's key at every granularity (no reason: no ``reason`` key)."""
    keys = {"pattern": pattern_key(levels, names), "class": class_key(levels, names)}
    if reason:
        keys["reason"] = reason_key(levels, reason, guard)
    return keys


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
    """'auto', 'drop' or 'review' for a kind of pair with these verdict counts.

    Besides the bound, no verdict may go the other way: a kind reviewers called
    "different" d times will make about d wrong links a month once it is automatic,
    however large it is."""
    if different == 0 and same and beta_quantile(same + 1, 1, 1 - CONFIDENCE) >= AUTO_SAME_SHARE:
        return "auto"
    if same == 0 and different and beta_quantile(1, different + 1, CONFIDENCE) <= DROP_SAME_SHARE:
        return "drop"
    return "review"


@dataclass(frozen=True)
class PatternDecision:
    action: str  # "auto" | "drop"
    granularity: str  # "pattern" | "class" | "reason"
    key: str
    same: int
    different: int

    @property
    def pattern(self) -> str:
        return self.key

    def note(self) -> str:
        """The evidence text: which kind of pair, and how many verdicts said so."""
        n = self.same + self.different
        said = "same" if self.action == "auto" else "different"
        agree = self.same if self.action == "auto" else self.different
        shown = display(self.key)
        if self.granularity == "reason":
            reason, band, name = shown.split("|", 2)
            where = "in the review band" if band == "band" else "above the automatic threshold"
            kind = f"pairs held back for '{reason}', scored {where}, with name {name}"
        elif self.granularity == "class":
            kind = f"pattern class {shown}"
        else:
            kind = f"pattern {shown}"
        return f"{kind}: {agree} of {n} reviewer verdicts {said}"


def _coded(patterns: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """A block of the first learning rule (patterns spelled in display labels) in codes;
    a pattern with a label the catalogue no longer has is left out."""
    out = {}
    for key, counts in patterns.items():
        codes = [code_of(n, label) for n, label in zip(names, key.split(_SEP))]
        if len(codes) == len(names) and all(codes):
            out[_SEP.join(c for c in codes if c)] = counts
    return out


@dataclass
class PatternRules:
    """Verdict counts per granularity and key (empty when a model learned none)."""

    names: tuple[str, ...] = ()
    counts: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)

    @classmethod
    def of(cls, names: Sequence[str],
           verdicts: Sequence[tuple[Mapping[str, str], str, str, bool]]) -> "PatternRules":
        """Count (pair level codes, reason, guard, same?) at every granularity."""
        counts: dict[str, dict[str, list[int]]] = {g: {} for g in GRANULARITIES}
        for levels, reason, guard, same in verdicts:
            for granularity, key in keys_of(levels, names, reason, guard).items():
                c = counts[granularity].setdefault(key, [0, 0])
                c[0 if same else 1] += 1
        return cls(tuple(names), {g: {k: (v[0], v[1]) for k, v in keys.items()}
                                  for g, keys in counts.items() if keys})

    @classmethod
    def from_model(cls, model: Mapping[str, Any]) -> "PatternRules":
        block = model.get(VERDICTS_META) or {}
        names = tuple(block.get("comparisons") or ())
        by_granularity = dict(block.get("counts") or {})
        if "patterns" in block and "pattern" not in by_granularity:
            by_granularity["pattern"] = _coded(block["patterns"], names)  # learned before back-off
        counts = {g: {k: (int(v["same"]), int(v["different"])) for k, v in keys.items()}
                  for g, keys in by_granularity.items() if g in GRANULARITIES and keys}
        return cls(names, counts)

    def lookup(self, pair_levels: Mapping[str, str], reason: str,
               guard: str = "") -> PatternDecision | None:
        """The most specific conclusive kind of this pair, or None (mixed, or too few)."""
        keys = keys_of(pair_levels, self.names, reason, guard)
        for granularity in GRANULARITIES:
            if granularity not in keys:
                continue
            key = keys[granularity]
            same, different = self.counts.get(granularity, {}).get(key, (0, 0))
            action = decide_counts(same, different)
            if action != "review":
                return PatternDecision(action, granularity, key, same, different)
            if same and different:
                return None  # reviewers disagree on this kind: a coarser one must not overrule
        return None

    def decide(self, pair_levels: Mapping[str, str], reason: str,
               guard: str = "") -> PatternDecision | None:
        """The learned decision for a pair held back for ``reason``, or None.

        ``reason`` is the reason the run writes on the pair's review row (BAND_REASON, or
        the guard that refused a pair scoring above the automatic threshold): it keys the
        ``reason`` granularity.  ``guard`` is the guard's reason with the score set aside
        (a twin-looking pair is not judged by its score; '' for none, then ``reason``): a
        learned "same" applies only when it asks for more evidence.  "drop" (stop
        queueing) applies whatever held the pair back: it can only keep archives apart."""
        if not self.counts:
            return None
        decision = self.lookup(pair_levels, reason, guard)
        if decision is None or (decision.action == "auto" and (
                not (guard or reason).startswith(OVERRULABLE_REASONS)
                # The levels say two people (a spouse's or a parent's ID on the archive,
                # twins of the other sex...), whatever a coarser kind's verdicts say:
                # measured on generator4, "names differ: 19 of 19 same" joined two
                # spouses sharing one ID.
                or clearly_apart(pair_levels))):
            return None
        return decision

    def action(self, pair_levels: Mapping[str, str], reason: str, guard: str = "") -> str:
        decision = self.decide(pair_levels, reason, guard)
        return decision.action if decision is not None else "review"


def held_reasons(pair_levels: Mapping[str, str], probability: float, auto: float,
                 auto_without_id: float, impossible_dates: bool) -> tuple[str, str]:
    """(reason, guard) as a run gives them to PatternRules.decide for a pair scoring
    ``probability``: the reason its review row says (the band; above the automatic
    threshold, the guard that refused it, '' if none did), and the guard's reason with the
    score set aside."""
    if probability >= auto:
        reason = pair_guard(pair_levels, probability, auto_without_id, impossible_dates)
    else:
        reason = BAND_REASON
    return reason, pair_guard(pair_levels, 1.0, impossible_dates=impossible_dates) or reason


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
    kinds_auto: dict[str, int] = field(default_factory=dict)
    kinds_drop: dict[str, int] = field(default_factory=dict)
    labels_auto: int = 0
    labels_drop: int = 0
    decided: tuple[str, ...] = ()  # "join: <note>" / "stop queueing: <note>", most verdicts first


def _held_out(a: str, b: str) -> bool:
    digest = hashlib.sha256(f"{a}|{b}".encode()).digest()
    return digest[0] < 256 * HELD_OUT_SHARE


@dataclass(frozen=True)
class LabelledPair:
    archive_id_l: str
    archive_id_r: str
    levels: dict[str, str]
    reason: str
    guard: str
    same: bool


def labelled_pairs(
    con: duckdb.DuckDBPyConnection, linker: Any, labels_table: str, table: str,
    names: Sequence[str], level_codes: Mapping[str, Mapping[int, str]],
    thresholds: tuple[float, float],
) -> list[LabelledPair]:
    """Every labelled pair found in ``table``, with its levels and held-back reason under
    the model being trained (``thresholds``: automatic, automatic without an ID)."""
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
            SELECT l.archive_id_l, l.archive_id_r, l.clerical_match_score, p.match_probability,
                   coalesce(a.created_date < b.dob_best OR b.created_date < a.dob_best, false),
                   {gammas}
            FROM {predictions.physical_name} p
            JOIN {labels_table} l
              ON l.archive_id_l = least(p.archive_id_l, p.archive_id_r)
             AND l.archive_id_r = greatest(p.archive_id_l, p.archive_id_r)
            JOIN {table} a ON a.archive_id = l.archive_id_l
            JOIN {table} b ON b.archive_id = l.archive_id_r
            ORDER BY 1, 2
        """).fetchall()
    finally:
        linker.table_management.invalidate_cache()
        con.unregister(name)
    auto, auto_without_id = thresholds
    out = []
    for a, b, score, probability, impossible, *g in rows:
        levels = {n: level_codes[n].get(int(v), "") for n, v in zip(names, g)}
        reason, guard = held_reasons(levels, float(probability), auto, auto_without_id, bool(impossible))
        out.append(LabelledPair(a, b, levels, reason, guard, float(score) >= 0.5))
    return out


def _held_out_check(names: Sequence[str], pairs: Sequence[LabelledPair]) -> tuple[int, int, int, int, int]:
    """Decide the held-out labels with rules learned from the others: (held out, joined,
    wrongly joined, left out, wrongly left out)."""
    rules = PatternRules.of(names, [(p.levels, p.reason, p.guard, p.same) for p in pairs
                                    if not _held_out(p.archive_id_l, p.archive_id_r)])
    held = [p for p in pairs if _held_out(p.archive_id_l, p.archive_id_r)]
    auto = auto_wrong = drop = drop_wrong = 0
    for p in held:
        action = rules.action(p.levels, p.reason, p.guard)
        if action == "auto":
            auto += 1
            auto_wrong += not p.same
        elif action == "drop":
            drop += 1
            drop_wrong += p.same
    return len(held), auto, auto_wrong, drop, drop_wrong


def learn_verdicts(
    con: duckdb.DuckDBPyConnection, linker: Any, labels_table: str,
    names: Sequence[str], level_codes: Mapping[str, Mapping[int, str]],
    table: str = "model_input", thresholds: tuple[float, float] = (0.999, 0.9995),
) -> tuple[VerdictReport, dict[str, Any]]:
    """Count verdicts per kind of pair; check the decisions on held-out labels first."""
    total_same, total_diff = con.execute(
        f"SELECT count(*) FILTER (WHERE clerical_match_score >= 0.5), "
        f"count(*) FILTER (WHERE clerical_match_score < 0.5) FROM {labels_table}").fetchall()[0]
    pairs = labelled_pairs(con, linker, labels_table, table, names, level_codes, thresholds)
    held, auto, auto_wrong, drop, drop_wrong = _held_out_check(names, pairs)
    rules = PatternRules.of(names, [(p.levels, p.reason, p.guard, p.same) for p in pairs])
    # What each decided kind does to the labelled pairs themselves (a kind whose every pair
    # is a twin-looking one decides nothing: the guard stands).
    used: dict[tuple[str, str], str] = {}
    notes: dict[tuple[str, str], PatternDecision] = {}
    labels_auto = labels_drop = 0
    for p in pairs:
        decision = rules.decide(p.levels, p.reason, p.guard)
        if decision is not None:
            used[(decision.granularity, decision.key)] = decision.action
            notes[(decision.granularity, decision.key)] = decision
            labels_auto += decision.action == "auto"
            labels_drop += decision.action == "drop"
    kinds_auto = {g: sum(1 for (gg, _), a in used.items() if gg == g and a == "auto") for g in GRANULARITIES}
    kinds_drop = {g: sum(1 for (gg, _), a in used.items() if gg == g and a == "drop") for g in GRANULARITIES}
    warnings = []
    if len(pairs) < FEW_LABELS:
        warnings.append(f"only {len(pairs)} labelled pairs: too few to learn much "
                        "(a kind of pair needs 10 of 10 verdicts same, or 6 of 6 different)")
    if not used:
        warnings.append("no kind of pair has enough agreeing verdicts yet: the model decides as before")
    if (auto_wrong + drop_wrong) > max(1, WRONG_SHARE_WARNED * (auto + drop)):
        # One wrong in ~75 learned links is what the rule makes on the benchmarks; much more
        # says the verdicts disagree with each other (two reviewers, two standards).
        warnings.append(f"on held-out labels {auto_wrong + drop_wrong} of {auto + drop} learned "
                        "decisions were wrong: check the verdicts")
    patterns = rules.counts.get("pattern", {})
    report = VerdictReport(
        labels_same=int(total_same), labels_different=int(total_diff),
        labels_not_in_data=int(total_same + total_diff - len(pairs)),
        patterns=len(patterns),
        patterns_auto=sum(kinds_auto.values()), patterns_drop=sum(kinds_drop.values()),
        held_out=held, held_out_auto=auto, held_out_auto_wrong=auto_wrong,
        held_out_drop=drop, held_out_drop_wrong=drop_wrong, warnings=tuple(warnings),
        kinds_auto=kinds_auto, kinds_drop=kinds_drop,
        labels_auto=labels_auto, labels_drop=labels_drop,
        decided=tuple(f"{'join' if d.action == 'auto' else 'stop queueing'}: {d.note()}"
                      for d in sorted(notes.values(), key=lambda d: (-(d.same + d.different), d.key))),
    )
    block = {
        "comparisons": list(names),
        "rule": {"granularities": list(GRANULARITIES), "confidence": CONFIDENCE,
                 "auto_same_share": AUTO_SAME_SHARE, "drop_same_share": DROP_SAME_SHARE,
                 "minority_allowed": 0},
        "labels": len(pairs),
        "counts": {g: {k: {"same": s, "different": d, "decision": decide_counts(s, d)}
                       for k, (s, d) in sorted(keys.items())}
                   for g, keys in rules.counts.items()},
    }
    log.info("verdicts learned: %d kinds auto, %d drop, from %d labels",
             report.patterns_auto, report.patterns_drop, len(pairs))
    return report, block
