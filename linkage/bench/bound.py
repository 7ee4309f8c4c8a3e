"""How much automatic recall any decision over the compared fields could reach, at a given
precision, on a population with known truth: an upper bound for rules, thresholds and
learned patterns alike.

An oracle sorts every blocked pair into a pattern (the five comparison levels, optionally
with how common the name is, how big the shared village is, and how many of the two archives
have a phone), learns each pattern's share of true pairs *from the truth of this very
population*, and links the purest patterns first as long as precision stays at or above the
target.  Fitted on the data it is scored on, it is optimistic: no engine that sees only these
facts can do better on that population.  When the bound is below a target, the target
needs facts the input does not carry, not better rules.

The engine's own scores are judged the same way (:func:`best_single_threshold`): the best
recall one threshold on the model's probability reaches at the target precision.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from linkage.blocking_guard import guard_blocking
from linkage.config import Config
from linkage.model.score import comparison_names, score_pairs

# What a pattern may see beyond the levels, cumulatively (each key adds one fact).
FEATURE_SETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("levels", ()),
    ("levels + name frequency", ("name_freq",)),
    ("levels + name frequency + village size", ("name_freq", "village_size")),
    ("levels + name frequency + village size + phones present",
     ("name_freq", "village_size", "phones")),
)


@dataclass(frozen=True)
class ScoredPair:
    levels: tuple[int, ...]
    facts: dict[str, int]
    probability: float
    same: bool


@dataclass(frozen=True)
class Bound:
    label: str
    patterns: int
    true_linked: int
    false_linked: int
    recall: float


def scored_pairs_with_truth(con: duckdb.DuckDBPyConnection, model_input: str, truth: str,
                            model: dict[str, Any], config: Config) -> tuple[list[ScoredPair], int]:
    """Every pair the blocking rules propose, scored by ``model`` (no review threshold: the
    pairs below it are kept too), with the facts a pattern may see and whether the truth
    table (archive_id, person_id) says they are one person; and the number of true pairs."""
    guarded, _ = guard_blocking(con, model_input, config)
    keep_all = dataclasses.replace(
        guarded, thresholds=dataclasses.replace(guarded.thresholds, review_match_probability=0.0))
    report = score_pairs(con, model_input, model, keep_all)
    names = comparison_names(model)
    gammas = ", ".join(f"p.gamma_{n}" for n in names)
    rows = con.execute(f"""
        WITH names AS (SELECT name_clean, count(*) AS n FROM {model_input} GROUP BY name_clean),
             villages AS (SELECT region_code, count(*) AS n FROM {model_input} GROUP BY region_code)
        SELECT {gammas},
               coalesce(round(log2(greatest(nl.n, nr.n))), -1)::INT AS name_freq,
               CASE WHEN a.region_code = b.region_code THEN round(log2(v.n))::INT ELSE -1 END AS village_size,
               (a.phone_norm IS NOT NULL)::INT + (b.phone_norm IS NOT NULL)::INT AS phones,
               p.match_probability, ta.person_id = tb.person_id AS same
        FROM {report.pairs.name} p
        JOIN {model_input} a ON a.archive_id = p.archive_id_l
        JOIN {model_input} b ON b.archive_id = p.archive_id_r
        JOIN {truth} ta ON ta.archive_id = p.archive_id_l
        JOIN {truth} tb ON tb.archive_id = p.archive_id_r
        LEFT JOIN names nl ON nl.name_clean = a.name_clean
        LEFT JOIN names nr ON nr.name_clean = b.name_clean
        LEFT JOIN villages v ON v.region_code = a.region_code
    """).fetchall()
    (true_pairs,) = con.execute(
        f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) AS n FROM {truth} GROUP BY person_id)"
    ).fetchall()[0]
    k = len(names)
    pairs = [ScoredPair(tuple(r[:k]), {"name_freq": r[k], "village_size": r[k + 1], "phones": r[k + 2]},
                        float(r[k + 3]), bool(r[k + 4])) for r in rows]
    return pairs, int(true_pairs)


def oracle_bound(pairs: Sequence[ScoredPair], true_pairs: int, label: str,
                 facts: Sequence[str], precision: float = 0.999) -> Bound:
    """Link whole patterns, purest first (then largest), skipping any that would take
    precision below ``precision``: the recall a pattern-level decision could reach."""
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for pair in pairs:
        key = pair.levels + tuple(pair.facts[f] for f in facts)
        counts[key][0 if pair.same else 1] += 1
    order = sorted(counts.values(), key=lambda c: (c[1] / (c[0] + c[1]), -c[0]))
    tp = fp = 0
    for same, different in order:
        if fp + different > (1 - precision) * (tp + fp + same + different):
            continue
        tp, fp = tp + same, fp + different
    return Bound(label, len(counts), tp, fp, tp / true_pairs if true_pairs else 0.0)


def best_single_threshold(pairs: Sequence[ScoredPair], true_pairs: int,
                          precision: float = 0.999) -> tuple[Bound, float]:
    """The best recall of one threshold on the model's probability at ``precision`` (no
    guards), and that threshold."""
    best, threshold = (0, 0), 1.0
    tp = fp = 0
    for pair in sorted(pairs, key=lambda p: -p.probability):
        tp, fp = tp + pair.same, fp + (not pair.same)
        if fp <= (1 - precision) * (tp + fp) and tp > best[0]:
            best, threshold = (tp, fp), pair.probability
    return (Bound("the model's probability, best single threshold", 0, best[0], best[1],
                  best[0] / true_pairs if true_pairs else 0.0), threshold)


def bounds(pairs: Sequence[ScoredPair], true_pairs: int, precision: float = 0.999,
           feature_sets: Sequence[tuple[str, Sequence[str]]] = FEATURE_SETS) -> list[Bound]:
    """The oracle bound for each feature set, in order."""
    return [oracle_bound(pairs, true_pairs, label, facts, precision) for label, facts in feature_sets]

