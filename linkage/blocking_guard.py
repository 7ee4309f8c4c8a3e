"""Guard against blocking blow-ups: bound every rule's pairs before scoring, and leave
oversized blocks out of the rule that made them.

A blocking rule pairs the archives that share its key (``l.county = r.county AND
l.dob_best = r.dob_best`` → the key county + birth date).  A block of n archives costs
n(n-1)/2 pairs, so one export with a birth date typed on every row makes one block of the
whole county: 10k rows gave 1.8M pairs, 30k rows 16M pairs and 7.8 GB, 100k rows never
finished.  Before scoring, every rule's blocks are counted (one DuckDB GROUP BY over the
rule's equality columns; the rule's other conditions can only remove pairs, so the count
is an upper bound).  A rule ``K AND (A OR B)`` whose alternatives are equalities themselves
(``l.surname_py = r.surname_py OR l.given_py = r.given_py``) is counted per alternative,
K + A and K + B: its pairs are at most the sum, a much tighter bound than K alone when K is
county + birth date.  The bound is complete: every block of every rule counts, and a rule
with no ``l.x = r.x`` key at all cannot be bounded and is refused (ConfigError).  Then

* a block estimated above ``[limits] max_block_pairs`` is dropped from that rule;
* if all rules together still exceed the total limit (``max_pairs_per_archive`` per
  archive of the run, at most ``max_total_pairs``), the largest remaining blocks are
  dropped too, largest first, until the bound fits: after the guard, the pairs scored are
  at most ``pairs_estimated_after_guard`` <= the total limit, whatever the population.

A dropped block is left out of that rule only: its archives still meet through the other
rules (a real duplicate shares more than a birth date).  Each rule with dropped blocks gets
one extra condition per key with drops, ``NOT list_contains(getvariable('linkage_guard_<i>'),
hash(l.<key>...))`` and the same for ``r``; the hashes of its dropped keys live in a DuckDB
variable of the connection, so the SQL handed to Splink holds no values at all.  DuckDB
pushes the condition below the join, so the dropped archives never enter it.

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
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import duckdb

from linkage.config import BlockingRule, Config, Limits
from linkage.errors import ConfigError
from linkage.rule_sql import split_and as _split_and
from linkage.rule_sql import split_word as _split_word
from linkage.rule_sql import strip_parens as _strip_parens

log = logging.getLogger(__name__)

VARIABLE_PREFIX = "linkage_guard_"
# Key columns whose values may be shown: administrative codes and dates, never identity.
SHOWN_COLUMNS = ("county", "township", "dob_best", "dob_year", "dob_month", "dob_day")
# Blocks listed in summary.json and in the log (the rest are counted).
_LISTED = 100
_LOGGED = 10
_KEYS = "_linkage_guard_keys"
_BLOCKS = "_linkage_guard_blocks"
_GROUPS = "_linkage_guard_groups"

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
    unguarded_rules: list[str] = field(default_factory=list)  # always empty: a keyless rule is refused
    signature: str = ""  # of the blocks skipped ("" when none): a nightly state compares it


    def as_dict(self) -> dict[str, Any]:
        listed = self.dropped[:_LISTED]
        data: dict[str, Any] = {}
        for f in fields(self):  # in field order: summary.json reads the same as ever
            value = getattr(self, f.name)
            if f.name == "dropped":
                value = [dict(asdict(b), same=list(b.same)) for b in listed]
            elif isinstance(value, (dict, list)):
                value = type(value)(value)
            data[f.name] = value
        data["dropped_not_listed"] = max(0, self.blocks_dropped - len(listed))
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


def rule_key_sets(sql: str) -> tuple[tuple[str, ...], ...]:
    """The keys whose blocks bound a rule's pairs: its top-level keys, or, for a rule
    ``K AND (A OR B ...)`` whose every alternative has keys of its own, K + A, K + B, ...
    (the first such OR).  A pair of the rule shares the archives' values of at least one
    key set, so the rule's pairs are at most the sum over the key sets of their blocks'
    pairs.  Empty when the rule has no key (it cannot be bounded)."""
    top = rule_keys(sql)
    for conjunct in _split_and(_strip_parens(sql)):
        alternatives = _split_word(_strip_parens(conjunct), "OR")
        if len(alternatives) < 2:
            continue
        sets = []
        for alternative in alternatives:
            extra = rule_keys(alternative)
            if not extra:
                break
            sets.append(tuple(dict.fromkeys(top + extra)))
        else:
            if top or all(sets):
                return tuple(dict.fromkeys(sets))
    return (top,) if top else ()


def total_limit(limits: Limits, archives: int) -> int:
    """The pairs all rules may make together in a run of ``archives`` archives."""
    return min(limits.max_total_pairs,
               max(limits.max_block_pairs, limits.max_pairs_per_archive * archives))


@dataclass(frozen=True)
class _Unit:
    """One key set of one rule: its blocks bound part of the rule's pairs."""

    rule: int
    keyset: int
    key: tuple[str, ...]

    @property
    def variable(self) -> str:
        return f"{VARIABLE_PREFIX}{self.rule}_{self.keyset}"


@dataclass
class _Block:
    unit: int
    key_hash: int
    archives: int
    pairs: int
    members: int  # xor of the members' archive_id hashes: blocks of several rules that hold
    # the same archives (one resident exported 500 times) make their pairs only once


def _units(config: Config) -> list[_Unit]:
    units = []
    for i, rule in enumerate(config.blocking_rules):
        sets = rule_key_sets(rule.sql)
        if not sets:
            raise ConfigError(
                f"[blocking] rule {rule.name!r} has no l.column = r.column condition: its pairs "
                "cannot be bounded before scoring (every rule needs one, e.g. l.county = r.county)")
        units += [_Unit(i, j, key) for j, key in enumerate(sets)]
    return units


def guard_blocking(
    con: duckdb.DuckDBPyConnection, table: str, config: Config
) -> tuple[Config, GuardReport]:
    """Bound the pairs of every rule on ``table`` (tonight's whole population) and return
    the config whose rules leave the dropped blocks out, with the report.

    The DuckDB variables the guarded rules read are set on ``con``: score on the same
    connection.  With nothing to drop, ``config`` comes back unchanged.  A rule without
    any ``l.x = r.x`` key raises ConfigError.
    """
    units = _units(config)
    try:
        # One scan of the population (a view over the state file on a nightly run) hashes
        # every key set into one integer (NULL where a key column is NULL: no block), then
        # each key set's GROUP BY is on that integer, not on two or three text columns
        # (5M archives: 6.7 -> 4.9 s).  The hash is the block's ``key_hash`` as the guarded
        # rules spell it (_guarded_sql); two keys sharing a 64-bit hash would count as one
        # block, which can only raise the bound.
        hashed = ", ".join(f"CASE WHEN {_not_null(unit.key)} THEN {_hash_sql(unit.key, '')} END "
                           f"AS {_hash_column(i)}" for i, unit in enumerate(units))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_KEYS} AS "
                    f"SELECT hash(archive_id) AS _archive_hash, {hashed} FROM {table}")
        return _guard(con, _KEYS, table, config, units)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_KEYS}")
        con.execute(f"DROP TABLE IF EXISTS {_BLOCKS}")


def _guard(con: duckdb.DuckDBPyConnection, table: str, population: str, config: Config,
           units: list[_Unit]) -> tuple[Config, GuardReport]:
    """guard_blocking on ``table`` (the key columns); ``population`` describes the blocks."""
    limits = config.limits
    archives = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    budget = total_limit(limits, archives)
    report = GuardReport(limits.max_block_pairs, budget)
    largest = 0
    totals = []
    blocks_made = False
    for i in range(len(units)):
        totals.append(_totals(con, table, _hash_column(i)))
        if sum(t for t, _ in totals) > budget or totals[-1][1] > limits.max_block_pairs:
            # The blocks will be looked at: made once for every key set and totalled from
            # there, not grouped a second time (the same figures either way).
            _make_blocks(con, table, units)
            blocks_made = True
            made = {int(u): (int(t), int(m)) for u, t, m in con.execute(
                f"SELECT unit, sum(pairs), max(pairs) FROM {_BLOCKS} GROUP BY unit").fetchall()}
            totals = [made.get(j, (0, 0)) for j in range(len(units))]
            break
    for unit, (total, most) in zip(units, totals):
        name = config.blocking_rules[unit.rule].name
        report.pairs_estimated_by_rule[name] = report.pairs_estimated_by_rule.get(name, 0) + total
        largest = max(largest, most)
    report.pairs_estimated = sum(report.pairs_estimated_by_rule.values())
    dropped: list[tuple[_Block, str]] = []
    remaining = report.pairs_estimated
    if largest > limits.max_block_pairs or report.pairs_estimated > budget:
        # Only then are the blocks themselves looked at (a realistic run never gets here).
        if not blocks_made:
            _make_blocks(con, table, units)
        report.pairs_estimated, dropped = _select(con, limits.max_block_pairs, budget,
                                                  report.pairs_estimated)
        remaining = report.pairs_estimated - sum(
            b.pairs for b in _one_per_group(dropped))
    report.pairs_estimated_after_guard = remaining
    if not dropped:
        return config, report

    by_unit: dict[int, list[int]] = {}
    for block, _ in sorted(dropped, key=lambda d: (d[0].unit, d[0].key_hash)):
        by_unit.setdefault(block.unit, []).append(block.key_hash)
    rules = list(config.blocking_rules)
    for unit_index, hashes in by_unit.items():
        unit = units[unit_index]
        con.execute(f"SET VARIABLE {unit.variable} = ?::UBIGINT[]", [hashes])
        rules[unit.rule] = BlockingRule(
            rules[unit.rule].name, _guarded_sql(rules[unit.rule].sql, unit.key, unit.variable))
    names = [r.name for r in config.blocking_rules]
    report.signature = hashlib.sha256("\n".join(
        f"{names[units[u].rule]}\x1f{units[u].keyset}\x1f{h}"
        for u, hashes in sorted(by_unit.items()) for h in hashes).encode()).hexdigest()[:32]
    blocks = sorted(dropped, key=lambda d: (-d[0].pairs, d[0].unit, d[0].key_hash))
    # Only the listed blocks are described (5M archives skipped 168k blocks: describing
    # them all took 3 s for a list nobody reads past the largest).
    report.dropped = _describe(con, population, config, units, blocks[:_LISTED])
    report.blocks_dropped = len(blocks)
    for block in report.dropped[:_LOGGED]:
        log.warning("blocking guard: %s", block.describe())
    if report.blocks_dropped > _LOGGED:
        listed = ("lists them" if report.blocks_dropped <= _LISTED
                  else f"lists the largest {_LISTED} and counts the rest")
        log.warning("blocking guard: %d more blocks skipped (summary.json %s)",
                    report.blocks_dropped - _LOGGED, listed)
    log.warning("blocking guard: %d blocks skipped by their rules (their archives are still "
                "compared by the other rules): at most %s pairs instead of %s (limits: %s per "
                "block, %s in all, [limits] in the config)", report.blocks_dropped,
                f"{remaining:,}", f"{report.pairs_estimated:,}",
                f"{limits.max_block_pairs:,}", f"{budget:,}")
    return replace(config, blocking_rules=tuple(rules)), report


def _one_per_group(dropped: list[tuple[_Block, str]]) -> list[_Block]:
    """One block per group of identical blocks (same archives): their pairs count once."""
    seen: dict[tuple[int, int], _Block] = {}
    for block, _ in dropped:
        seen.setdefault((block.members, block.archives), block)
    return list(seen.values())


def _make_blocks(con: duckdb.DuckDBPyConnection, table: str, units: list[_Unit]) -> None:
    """``_BLOCKS``: every block of two or more archives of every key set, with its size,
    pairs and the xor of its members' hashes (blocks of several key sets that hold the same
    archives make their pairs once)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_BLOCKS} (unit INTEGER, key_hash UBIGINT, "
                "n BIGINT, pairs HUGEINT, members UBIGINT)")
    for i in range(len(units)):
        column = _hash_column(i)
        con.execute(f"""
            INSERT INTO {_BLOCKS}
            SELECT {i}, {column}, count(*), count(*) * (count(*) - 1) // 2, bit_xor(_archive_hash)
            FROM {table} WHERE {column} IS NOT NULL GROUP BY {column} HAVING count(*) > 1
        """)


def _select(con: duckdb.DuckDBPyConnection, block_limit: int, budget: int,
            estimated: int) -> tuple[int, list[tuple[_Block, str]]]:
    """The blocks of ``_BLOCKS`` grouped where several hold the same archives (their pairs
    count once); the groups to drop: all above the block limit, then the largest others
    until the bound fits the budget.  Returns the bound with repeats counted once, and the
    dropped blocks with why.

    Groups are taken largest first (ties by their first hash, then members); one is dropped
    while it is over the block limit or the bound minus the pairs of all groups before it
    is still over the budget.  That walk runs over the group sizes (a few hundred distinct
    values), not over the millions of groups: every group of a size is dropped, or the
    first k of it, or none."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {_GROUPS} AS
        SELECT members, n, any_value(pairs) AS pairs, min(key_hash) AS first_hash, count(*) AS copies
        FROM {_BLOCKS} GROUP BY members, n
    """)
    try:
        repeated, = con.execute(
            f"SELECT coalesce(sum(pairs * (copies - 1)), 0)::HUGEINT FROM {_GROUPS}").fetchone()  # type: ignore[misc]
        bound = estimated - int(repeated)
        sizes = con.execute(
            f"SELECT pairs, count(*) FROM {_GROUPS} GROUP BY pairs ORDER BY pairs DESC").fetchall()
        floor, partial = _dropped_sizes([(int(p), int(c)) for p, c in sizes], block_limit, bound - budget)
        parts = []
        if floor is not None:
            parts.append(f"SELECT members, n FROM {_GROUPS} WHERE pairs >= {floor}")
        if partial is not None:
            size, take = partial
            parts.append(f"""SELECT members, n FROM (
                SELECT members, n, row_number() OVER (ORDER BY first_hash, members) AS k
                FROM {_GROUPS} WHERE pairs = {size}) WHERE k <= {take}""")
        if not parts:
            return bound, []
        rows = con.execute(f"""
            SELECT b.unit, b.key_hash, b.n, b.pairs, b.members
            FROM {_BLOCKS} b JOIN ({" UNION ALL ".join(parts)}) c USING (members, n)
        """).fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_GROUPS}")
    dropped = [(_Block(int(u), int(h), int(n), int(p), int(m)),
                "block limit" if int(p) > block_limit else "total limit")
               for u, h, n, p, m in rows]
    return bound, dropped


def _dropped_sizes(sizes: list[tuple[int, int]], block_limit: int,
                   excess: int) -> tuple[int | None, tuple[int, int] | None]:
    """From (pairs per group, groups of that size), largest first, and the pairs the bound
    exceeds the budget by: the smallest size whose groups are all dropped (with all larger
    ones), and the size of which only the first k are dropped, with k (see _select)."""
    floor: int | None = None
    before = 0
    for pairs, count in sizes:
        room = excess - before  # a group is dropped while the pairs before it leave room > 0
        take = count if pairs > block_limit else (0 if room <= 0 else min(count, -(-room // pairs)))
        if take < count:
            return floor, ((pairs, take) if take else None)
        floor = pairs
        before += pairs * count
    return floor, None


def _hash_sql(key: tuple[str, ...], side: str) -> str:
    return f"hash({', '.join(f'{side}{c}' for c in key)})"


def _guarded_sql(sql: str, key: tuple[str, ...], variable: str) -> str:
    """The rule with its dropped blocks left out (both sides, so either can be pushed down)."""
    def outside(side: str) -> str:
        return f"NOT coalesce(list_contains(getvariable('{variable}'), {_hash_sql(key, side)}), false)"
    return f"({sql}) AND {outside('l.')} AND {outside('r.')}"


def _not_null(key: tuple[str, ...]) -> str:
    return " AND ".join(f"{c} IS NOT NULL" for c in key)


def _hash_column(unit_index: int) -> str:
    """The keys table's column with a key set's hash (guard_blocking)."""
    return f"_key_hash_{unit_index}"


def _totals(con: duckdb.DuckDBPyConnection, table: str, column: str) -> tuple[int, int]:
    """A key set's bound on pairs and the pairs of its largest block: one GROUP BY on the
    key set's hash ``column``."""
    total, most = con.execute(f"""
        SELECT coalesce(sum(n * (n - 1) // 2), 0)::HUGEINT, coalesce(max(n * (n - 1) // 2), 0)
        FROM (SELECT count(*) AS n FROM {table} WHERE {column} IS NOT NULL GROUP BY {column})
    """).fetchall()[0]
    return int(total), int(most)


def _describe(con: duckdb.DuckDBPyConnection, table: str, config: Config,
              units: list[_Unit], blocks: list[tuple[_Block, str]]) -> list[DroppedBlock]:
    """County and date of each dropped block, from its archives (never other values)."""
    described: list[DroppedBlock] = []
    by_unit: dict[int, list[int]] = {}
    for block, _ in blocks:
        by_unit.setdefault(block.unit, []).append(block.key_hash)
    facts: dict[tuple[int, int], tuple[Any, ...]] = {}
    for unit_index, hashes in by_unit.items():
        key = units[unit_index].key
        date = _date_sql(key)
        con.execute("CREATE OR REPLACE TEMP TABLE _linkage_guard_wanted AS "
                    "SELECT unnest(?::UBIGINT[]) AS key_hash", [hashes])
        rows = con.execute(f"""
            SELECT key_hash,
                   -- the most common county, ties to the smallest code (mode() breaks them
                   -- in no fixed order: summary.json must be the same run after run)
                   first(county ORDER BY county_n DESC, county) AS county,
                   count(DISTINCT county) AS counties, {date} AS date
            FROM (SELECT *, count(*) OVER (PARTITION BY key_hash, county) AS county_n
                  FROM (SELECT {_hash_sql(key, '')} AS key_hash, * FROM {table})
                  SEMI JOIN _linkage_guard_wanted USING (key_hash))
            GROUP BY key_hash
        """).fetchall()
        con.execute("DROP TABLE _linkage_guard_wanted")
        for key_hash, county, counties, when in rows:
            facts[(unit_index, int(key_hash))] = (county, counties, when)
    for block, why in blocks:
        county, counties, when = facts.get((block.unit, block.key_hash), (None, 0, None))
        unit = units[block.unit]
        described.append(DroppedBlock(
            rule=config.blocking_rules[unit.rule].name, archives=block.archives,
            pairs_estimated=block.pairs, why=why, county=county,
            other_counties=max(0, int(counties or 0) - 1), date=when,
            same=tuple(c for c in unit.key if c not in SHOWN_COLUMNS)))
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
