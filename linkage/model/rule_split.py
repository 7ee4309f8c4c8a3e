"""Blocking rules as Splink runs them: a rule with a one-sided alternative is split per side.

Why: a rule ``K AND (l.x OR r.x)`` (newborn_household: a placeholder name on either side)
is one hash join on its keys K, and only then is ``l.x OR r.x`` tested, on every pair of
K's blocks: at a million archives the two newborn rules joined every county + birth-date
block to keep 50 pairs, 40% of all blocking time.  The same rule written as two,
``K AND l.x`` then ``K AND r.x``, lets DuckDB filter each side below the join, so only the
few archives with ``x`` enter it.

The pairs are the same: ``K AND (A OR B)`` is ``(K AND A) OR (K AND B)``; Splink proposes a
pair under the first rule that makes it and leaves it out of every later one, so the two
halves together propose exactly the pairs the whole rule did, and every later rule leaves
out the same pairs.  Each half's match key maps back to its config rule (``origins``), so
pairs are counted per config rule as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linkage.blocking_guard import rule_keys
from linkage.rule_sql import split_and, split_word, strip_parens

_LEFT = re.compile(r"(?<![\w.])l\.\w")
_RIGHT = re.compile(r"(?<![\w.])r\.\w")
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


@dataclass(frozen=True)
class PredictionRules:
    """The SQL of each rule Splink runs, and the index of the config rule it came from."""

    sql: tuple[str, ...]
    origins: tuple[int, ...]

    def settings(self) -> list[dict[str, str]]:
        """The rules as Splink settings' ``blocking_rules_to_generate_predictions``."""
        return [{"blocking_rule": sql, "sql_dialect": "duckdb"} for sql in self.sql]


def _conjuncts(sql: str) -> list[str]:
    """Top-level AND terms, with parenthesised AND groups flattened."""
    out: list[str] = []
    for term in split_and(strip_parens(sql)):
        inner = strip_parens(term)
        parts = split_and(inner)
        if len(parts) > 1:
            out += _conjuncts(inner)
        else:
            out.append(inner)
    return out


def _side(sql: str) -> str | None:
    """"l" or "r" if ``sql`` reads columns of one side only, else None."""
    text = _QUOTED.sub("''", sql)
    left, right = bool(_LEFT.search(text)), bool(_RIGHT.search(text))
    if left == right:
        return None
    return "l" if left else "r"


def split_by_side(sql: str) -> tuple[str, ...]:
    """``sql`` as one rule per alternative of its first top-level OR whose every alternative
    reads one side only and that leaves an ``l.x = r.x`` key to join on; ``(sql,)`` when it
    has none."""
    terms = _conjuncts(sql)
    for i, term in enumerate(terms):
        alternatives = split_word(term, "OR")
        if len(alternatives) < 2 or any(_side(a) is None for a in alternatives):
            continue
        others = terms[:i] + terms[i + 1:]
        if not rule_keys(" AND ".join(f"({t})" for t in others)):
            continue  # nothing left to join on: splitting would not help
        return tuple(
            " AND ".join(f"({t})" for t in others[:i] + [alternative] + others[i:])
            for alternative in alternatives)
    return (sql,)


def prediction_rules(rules: list[str] | tuple[str, ...]) -> PredictionRules:
    """The rules Splink should run for the config rules ``rules`` (in order)."""
    sql: list[str] = []
    origins: list[int] = []
    for index, rule in enumerate(rules):
        halves = split_by_side(rule)
        sql += halves
        origins += [index] * len(halves)
    return PredictionRules(tuple(sql), tuple(origins))
