"""Guard against blocking blow-ups: estimate each rule's pairs before scoring, and leave
oversized blocks out of the rule that made them.

A blocking rule pairs the archives that share its key (``l.county = r.county AND
l.dob_best = r.dob_best`` → the key county + birth date).  A block of n archives costs
n(n-1)/2 pairs, so one export with a birth date typed on every row makes one block of the
whole county: 10k rows gave 1.8M pairs, 30k rows 16M pairs and 7.8 GB, 100k rows never
finished.  Before scoring, every rule's blocks are counted (one DuckDB GROUP BY over the
rule's equality columns; the rule's other conditions can only remove pairs, so the count
is an upper bound), and

* a block estimated above ``[limits] max_block_pairs`` is dropped from that rule;
* if all rules together still exceed the total limit (``max_pairs_per_archive`` per
  archive of the run, at most ``max_total_pairs``), the largest remaining blocks are
  dropped too, largest first, until the estimate fits.

A dropped block is left out of that rule only: its archives still meet through the other
rules (a real duplicate shares more than a birth date).  Each rule with dropped blocks gets
one extra condition, ``NOT list_contains(getvariable('linkage_guard_<i>'), hash(l.<key>...))``
and the same for ``r``; the hashes of its dropped keys live in a DuckDB variable of the
connection, so the SQL handed to Splink holds no values at all.  DuckDB pushes the
condition below the join, so the dropped archives never enter it.

A nightly state remembers which blocks were skipped (``signature``): pairs stored from
earlier nights were made under those skips, so a night whose skips differ rebuilds in full
(linkage.state.nightly), and an incremental night decides exactly as a full one.

Every dropped block is reported (log warning and summary.json) by rule, size, county code
and date, never by a name, ID number or phone: a key column that could carry those is named,
not shown.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import duckdb

from linkage.config import BlockingRule, Config, Limits

log = logging.getLogger(__name__)

VARIABLE_PREFIX = "linkage_guard_"
# Key columns whose values may be shown: administrative codes and dates, never identity.
SHOWN_COLUMNS = ("county", "township", "dob_best", "dob_year", "dob_month", "dob_day")
# Blocks fetched per rule as candidates for the total limit (the largest first).
_CANDIDATES_PER_RULE = 2000
# Blocks listed in summary.json and in the log (the rest are counted).
_LISTED = 100
_LOGGED = 10
_KEYS = "_linkage_guard_keys"

_EQUALITY = re.compile(r"^l\.(\w+)\s*=\s*r\.(\w+)$|^r\.(\w+)\s*=\s*l\.(\w+)$")


@dataclass(frozen=True)
class DroppedBlock:
    """One block left out of one rule, described without personal data."""

    rule: str
    archives: int
    pairs_estimated: int
    why: str  # "block limit" | "total limit"
    county: str | None  # the block's county code (its most common one if the key has none)
    other_counties: int  # further counties in the block
    date: str | None  # the birth date part of the key (1960-01-01, year 1960, 01-01), if any
    same: tuple[str, ...]  # key columns not shown (the archives agree on them)

    def describe(self) -> str:
        where = f"county {self.county}" if self.county else "no county"
        if self.other_counties:
            where += f" and {self.other_counties} other counties"
        parts = [where]
        if self.date:
            parts.append(f"birth date {self.date}")
        if self.same:
            parts.append("same " + ", ".join(self.same))
        return (f"rule {self.rule} skips a block of {self.archives:,} archives "
                f"(~{self.pairs_estimated:,} pairs, over the {self.why}): {', '.join(parts)}")


@dataclass
class GuardReport:
    """What the guard estimated and dropped; goes to summary.json under guards.blocking."""

    max_block_pairs: int
    max_total_pairs: int
    pairs_estimated_by_rule: dict[str, int] = field(default_factory=dict)
    # All rules together; when the blocks were looked at (a limit was reached), blocks that
    # several rules make of the same archives count once, as Splink scores a pair once.
    pairs_estimated: int = 0
    pairs_estimated_after_guard: int = 0
    blocks_dropped: int = 0
    dropped: list[DroppedBlock] = field(default_factory=list)
    unguarded_rules: list[str] = field(default_factory=list)  # no key found: not estimated
    signature: str = ""  # of the blocks skipped ("" when none): a nightly state compares it


    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["dropped"] = [dict(asdict(b), same=list(b.same)) for b in self.dropped[:_LISTED]]
        data["dropped_not_listed"] = max(0, len(self.dropped) - _LISTED)
        return data


def rule_keys(sql: str) -> tuple[str, ...]:
    """The columns a rule's pairs must agree on: its top-level ``l.x = r.x`` conditions.

    Conditions inside OR, comparisons of different columns and functions are not keys (they
    only narrow the pairs further), so the pairs of a key's block bound the rule's pairs.
    """
    keys: list[str] = []
    for conjunct in _split_and(_strip_parens(sql)):
        match = _EQUALITY.match(_strip_parens(conjunct))
        if not match:
            continue
        left, right = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        if left == right and left not in keys:
            keys.append(left)
    return tuple(keys)


def _strip_parens(text: str) -> str:
    text = " ".join(text.split())
    while text.startswith("(") and text.endswith(")") and _closes_at_end(text):
        text = text[1:-1].strip()
    return text


def _closes_at_end(text: str) -> bool:
    """Whether the opening parenthesis at 0 closes at the last character."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return i == len(text) - 1
    return False


def _split_and(text: str) -> list[str]:
    """Split on AND outside parentheses and quotes."""
    parts, depth, quote, start, i = [], 0, "", 0, 0
    upper = text.upper()
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and upper.startswith(" AND ", i):
            parts.append(text[start:i])
            start = i = i + 5
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def total_limit(limits: Limits, archives: int) -> int:
    """The pairs all rules may make together in a run of ``archives`` archives."""
    return min(limits.max_total_pairs,
               max(limits.max_block_pairs, limits.max_pairs_per_archive * archives))


@dataclass
class _Block:
    rule: int
    key_hash: int
    archives: int
    pairs: int
    members: int  # xor of the members' archive_id hashes: blocks of several rules that hold
    # the same archives (one resident exported 500 times) make their pairs only once


def guard_blocking(
    con: duckdb.DuckDBPyConnection, table: str, config: Config
) -> tuple[Config, GuardReport]:
    """Estimate the pairs of every rule on ``table`` (tonight's whole population) and return
    the config whose rules leave the dropped blocks out, with the report.

    The DuckDB variables the guarded rules read are set on ``con``: score on the same
    connection.  With nothing to drop, ``config`` comes back unchanged.
    """
    keys = [rule_keys(rule.sql) for rule in config.blocking_rules]
    try:
        # One scan of the population (a view over the state file on a nightly run), then
        # every rule's GROUP BY on the few key columns.
        columns = sorted({c for key in keys for c in key} | {"archive_id"})
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_KEYS} AS SELECT {', '.join(columns)} FROM {table}")
        return _guard(con, _KEYS, table, config, keys)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_KEYS}")


def _guard(con: duckdb.DuckDBPyConnection, table: str, population: str, config: Config,
           keys: list[tuple[str, ...]]) -> tuple[Config, GuardReport]:
    """guard_blocking on ``table`` (the key columns); ``population`` describes the blocks."""
    limits = config.limits
    archives = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    budget = total_limit(limits, archives)
    report = GuardReport(limits.max_block_pairs, budget)
    largest = 0
    for rule, key in zip(config.blocking_rules, keys):
        if not key:
            report.unguarded_rules.append(rule.name)
            continue
        total, most = _totals(con, table, key)
        report.pairs_estimated_by_rule[rule.name] = total
        largest = max(largest, most)
    candidates: list[_Block] = []
    if largest > limits.max_block_pairs or sum(report.pairs_estimated_by_rule.values()) > budget:
        # Only then are the blocks themselves looked at (a realistic run never gets here).
        for i, key in enumerate(keys):
            if key:
                candidates += _blocks(con, table, key, i, limits.max_block_pairs)
    # Splink scores a pair once, whichever rules find it: identical blocks count once.
    groups: dict[tuple[int, int], list[_Block]] = {}
    for block in candidates:
        groups.setdefault((block.members, block.archives), []).append(block)
    repeated = sum(g[0].pairs * (len(g) - 1) for g in groups.values())
    report.pairs_estimated = sum(report.pairs_estimated_by_rule.values()) - repeated

    dropped: dict[tuple[int, int], tuple[_Block, str]] = {}
    remaining = report.pairs_estimated
    ordered = sorted(groups.values(), key=lambda g: (-g[0].pairs, g[0].rule, g[0].key_hash))
    for group in ordered:
        over_block = group[0].pairs > limits.max_block_pairs
        if not over_block and remaining <= budget:
            continue
        for block in group:
            dropped[(block.rule, block.key_hash)] = (
                block, "block limit" if over_block else "total limit")
        remaining -= group[0].pairs
    report.pairs_estimated_after_guard = remaining
    if remaining > budget:
        log.warning("blocking guard: about %s pairs estimated after leaving out the largest "
                    "blocks, above the total limit of %s ([limits]); the run goes on",
                    f"{remaining:,}", f"{budget:,}")
    if not dropped:
        return config, report

    by_rule: dict[int, list[int]] = {}
    for rule_index, key_hash in sorted(dropped):
        by_rule.setdefault(rule_index, []).append(key_hash)
    rules = list(config.blocking_rules)
    for rule_index, hashes in by_rule.items():
        variable = f"{VARIABLE_PREFIX}{rule_index}"
        con.execute(f"SET VARIABLE {variable} = ?::UBIGINT[]", [hashes])
        rules[rule_index] = BlockingRule(
            rules[rule_index].name, _guarded_sql(rules[rule_index].sql, keys[rule_index], variable))
    names = [r.name for r in config.blocking_rules]
    report.signature = hashlib.sha256("\n".join(
        f"{names[rule]}\x1f{key_hash}" for rule, key_hash in sorted(dropped)).encode()).hexdigest()[:32]
    blocks = [dropped[k] for k in sorted(dropped, key=lambda k: (-dropped[k][0].pairs, k))]
    report.dropped = _describe(con, population, config, keys, blocks)
    report.blocks_dropped = len(report.dropped)
    for block in report.dropped[:_LOGGED]:
        log.warning("blocking guard: %s", block.describe())
    if len(report.dropped) > _LOGGED:
        log.warning("blocking guard: %d more blocks skipped (summary.json lists them)",
                    len(report.dropped) - _LOGGED)
    log.warning("blocking guard: %d blocks skipped by their rules (their archives are still "
                "compared by the other rules): about %s pairs instead of %s (limits: %s per "
                "block, %s in all, [limits] in the config)", len(report.dropped),
                f"{remaining:,}", f"{report.pairs_estimated:,}",
                f"{limits.max_block_pairs:,}", f"{budget:,}")
    return replace(config, blocking_rules=tuple(rules)), report


def _hash_sql(key: tuple[str, ...], side: str) -> str:
    return f"hash({', '.join(f'{side}{c}' for c in key)})"


def _guarded_sql(sql: str, key: tuple[str, ...], variable: str) -> str:
    """The rule with its dropped blocks left out (both sides, so either can be pushed down)."""
    def outside(side: str) -> str:
        return f"NOT coalesce(list_contains(getvariable('{variable}'), {_hash_sql(key, side)}), false)"
    return f"({sql}) AND {outside('l.')} AND {outside('r.')}"


def _not_null(key: tuple[str, ...]) -> str:
    return " AND ".join(f"{c} IS NOT NULL" for c in key)


def _totals(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...]) -> tuple[int, int]:
    """A rule's estimated pairs and the pairs of its largest block: one GROUP BY (about
    0.1 s per rule at a million archives)."""
    total, most = con.execute(f"""
        SELECT coalesce(sum(n * (n - 1) // 2), 0)::HUGEINT, coalesce(max(n * (n - 1) // 2), 0)
        FROM (SELECT count(*) AS n FROM {table} WHERE {_not_null(key)} GROUP BY {", ".join(key)})
    """).fetchall()[0]
    return int(total), int(most)


def _blocks(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], rule: int,
            block_limit: int) -> list[_Block]:
    """The rule's largest blocks: every one above the block limit, and the largest others
    (candidates for the total limit)."""
    rows = con.execute(f"""
        SELECT key_hash, n, n * (n - 1) // 2 AS pairs, members
        FROM (SELECT {_hash_sql(key, '')} AS key_hash, count(*) AS n,
                     bit_xor(hash(archive_id)) AS members
              FROM {table} WHERE {_not_null(key)} GROUP BY {", ".join(key)} HAVING count(*) > 1)
        QUALIFY n * (n - 1) // 2 > {block_limit}
             OR row_number() OVER (ORDER BY n DESC, key_hash) <= {_CANDIDATES_PER_RULE}
        ORDER BY n DESC, key_hash
    """).fetchall()
    return [_Block(rule, int(h), int(n), int(p), int(m)) for h, n, p, m in rows]


def _describe(con: duckdb.DuckDBPyConnection, table: str, config: Config,
              keys: list[tuple[str, ...]], blocks: list[tuple[_Block, str]]) -> list[DroppedBlock]:
    """County and date of each dropped block, from its archives (never other values)."""
    described: list[DroppedBlock] = []
    by_rule: dict[int, list[int]] = {}
    for block, _ in blocks:
        by_rule.setdefault(block.rule, []).append(block.key_hash)
    facts: dict[tuple[int, int], tuple[Any, ...]] = {}
    for rule, hashes in by_rule.items():
        key = keys[rule]
        date = _date_sql(key)
        rows = con.execute(f"""
            SELECT key_hash, mode(county) AS county, count(DISTINCT county) AS counties,
                   {date} AS date
            FROM (SELECT {_hash_sql(key, '')} AS key_hash, * FROM {table})
            WHERE list_contains(?::UBIGINT[], key_hash)
            GROUP BY key_hash
        """, [hashes]).fetchall()
        for key_hash, county, counties, when in rows:
            facts[(rule, int(key_hash))] = (county, counties, when)
    for block, why in blocks:
        county, counties, when = facts.get((block.rule, block.key_hash), (None, 0, None))
        key = keys[block.rule]
        described.append(DroppedBlock(
            rule=config.blocking_rules[block.rule].name, archives=block.archives,
            pairs_estimated=block.pairs, why=why, county=county,
            other_counties=max(0, int(counties or 0) - 1), date=when,
            same=tuple(c for c in key if c not in SHOWN_COLUMNS)))
    return described


def _date_sql(key: tuple[str, ...]) -> str:
    """The birth-date part of a key as text (any_value: the key fixes it), or NULL."""
    if "dob_best" in key:
        return "strftime(any_value(dob_best), '%Y-%m-%d')"
    parts = []
    if "dob_year" in key:
        parts.append("'year ' || any_value(dob_year)")
    if "dob_month" in key and "dob_day" in key:
        parts.append("'month-day ' || lpad(any_value(dob_month)::VARCHAR, 2, '0') || '-' "
                     "|| lpad(any_value(dob_day)::VARCHAR, 2, '0')")
    elif "dob_month" in key:
        parts.append("'month ' || any_value(dob_month)")
    return " || ', ' || ".join(parts) if parts else "NULL::VARCHAR"
