"""What each blocking rule costs and what it alone finds, against a known truth.

Used by benchmarks/blocking.py and the scale benchmark to judge rules on the pairs they make
(pairs per archive, largest block) against the true pairs no other rule would propose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from linkage.blocking_guard import rule_keys
from linkage.config import BlockingRule

_PAIRS = "_rule_pairs"


def rule_pairs_sql(table: str, rule: BlockingRule, index: int) -> str:
    """Every pair (archive_id_l < archive_id_r) the rule proposes, tagged with its index."""
    return (f"SELECT l.archive_id AS a, r.archive_id AS b, {index} AS rule "
            f"FROM {table} AS l JOIN {table} AS r ON ({rule.sql}) AND l.archive_id < r.archive_id")


def largest_block(con: duckdb.DuckDBPyConnection, table: str, rule: BlockingRule) -> int:
    """Archives in the rule's largest block (by its top-level equality keys; 0 with none)."""
    key = rule_keys(rule.sql)
    if not key:
        return 0
    not_null = " AND ".join(f"{c} IS NOT NULL" for c in key)
    row = con.execute(f"SELECT max(n) FROM (SELECT count(*) AS n FROM {table} WHERE {not_null} "
                      f"GROUP BY {', '.join(key)})").fetchone()
    return int(row[0] or 0) if row else 0


def rule_statistics(con: duckdb.DuckDBPyConnection, table: str, truth: str,
                    rules: Sequence[BlockingRule], with_truth: bool = True) -> dict[str, Any]:
    """Pairs, pairs no other rule proposes (what the rule costs), true pairs and true pairs
    found by that rule only (what it is for), per rule; ``truth`` holds
    archive_id, person_id (ignored without ``with_truth``)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_PAIRS} (a VARCHAR, b VARCHAR, rule INTEGER)")
    for i, rule in enumerate(rules):
        con.execute(f"INSERT INTO {_PAIRS} {rule_pairs_sql(table, rule, i)}")
    archives = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
    by_rule: dict[str, dict[str, int]] = {}
    if with_truth:
        rows = con.execute(f"""
            WITH p AS (SELECT a, b, list(rule) AS rules FROM {_PAIRS} GROUP BY a, b),
                 t AS (SELECT p.*, ta.person_id = tb.person_id AS same FROM p
                       JOIN {truth} ta ON ta.archive_id = p.a JOIN {truth} tb ON tb.archive_id = p.b)
            SELECT r.rule, count(*) AS pairs, count(*) FILTER (WHERE same),
                   count(*) FILTER (WHERE same AND len(rules) = 1),
                   count(*) FILTER (WHERE len(rules) = 1)
            FROM (SELECT unnest(rules) AS rule, same, rules FROM t) r GROUP BY r.rule
        """).fetchall()
        stats = {int(r): (int(p), int(t), int(o), int(po)) for r, p, t, o, po in rows}
        true_pairs = int(con.execute(f"""SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM
            (SELECT count(*) AS n FROM {truth} WHERE archive_id IN (SELECT archive_id FROM {table})
             GROUP BY person_id)""").fetchone()[0])  # type: ignore[index]
        found = int(con.execute(f"""SELECT count(*) FROM (SELECT DISTINCT a, b FROM {_PAIRS}) p
            JOIN {truth} ta ON ta.archive_id = p.a JOIN {truth} tb ON tb.archive_id = p.b
            WHERE ta.person_id = tb.person_id""").fetchone()[0])  # type: ignore[index]
    else:
        stats = {int(r): (int(p), 0, 0, int(po)) for r, p, po in con.execute(f"""
            SELECT rule, count(*), count(*) FILTER (WHERE n = 1) FROM
            (SELECT unnest(list(rule)) AS rule, count(*) AS n FROM {_PAIRS} GROUP BY a, b) GROUP BY rule
        """).fetchall()}
        true_pairs = found = 0
    for i, rule in enumerate(rules):
        pairs, true, only, pairs_only = stats.get(i, (0, 0, 0, 0))
        by_rule[rule.name] = {"pairs": pairs, "pairs_only": pairs_only, "true_pairs": true,
                              "true_only": only,
                              "largest_block": largest_block(con, table, rule)}
    distinct = int(con.execute(f"SELECT count(*) FROM (SELECT DISTINCT a, b FROM {_PAIRS})").fetchone()[0])  # type: ignore[index]
    con.execute(f"DROP TABLE {_PAIRS}")
    return {"archives": archives, "pairs": distinct, "true_pairs": true_pairs,
            "blocking_recall": round(found / true_pairs, 6) if true_pairs else None,
            "by_rule": by_rule}
