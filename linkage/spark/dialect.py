"""A saved model and the blocking rules, spelled for Spark.

A model JSON saved from DuckDB holds DuckDB SQL; Splink refuses to load it on Spark, and
two functions in it do not exist there.  Rather than keep a second, hand-written copy of
the comparison levels (which would drift from the model actually trained), every
``sql_condition`` of the model and every blocking rule of the config is transpiled by
sqlglot (which Splink itself uses) from DuckDB to Spark.  sqlglot renames most functions
(``substr`` → ``SUBSTRING``, ``contains``, ``right``, ``abs``); the ones it cannot map are
rewritten here, and :data:`SPARK_SPECIFIC` says which and why.

Every comparison reads prepared ASCII keys (pinyin, ID digits, four-corner codes) or
compares Chinese text only for equality and by character position (``substr``, which
counts characters on both engines), so Spark's character-based string functions and
DuckDB's byte-based ones give the same levels.
"""

from __future__ import annotations

import copy
from typing import Any

import sqlglot
from sqlglot import exp

# Functions of the DuckDB SQL that Spark lacks, with the Spark form used and why it is equal.
SPARK_SPECIFIC: dict[str, str] = {
    "hamming": (
        "Spark has no hamming(): counted position by position with aggregate() over "
        "sequence(); NULL (not an error, as in DuckDB) for strings of unequal length, which "
        "never meets a '<= 1' or '= 2' condition. Used by name 形近字 (four-corner codes) "
        "and id 一位之差或互换 (18-character IDs)."
    ),
    "jaro_winkler_similarity": (
        "Spark has no Jaro-Winkler: Splink's Scala UDF jaro_winkler (registered by SparkAPI "
        "from Splink's jar), the same definition as DuckDB's (prefix bonus 0.1 per shared "
        "leading character, at most 4, only above Jaro 0.7); tests/test_spark.py checks "
        "equal verdicts at 0.88 on every pair of a few hundred given-name pinyin. Used by "
        "name 拼音相近 (ASCII pinyin)."
    ),
}

_HAMMING_SPARK = (
    "CASE WHEN length({a}) = length({b}) THEN aggregate(sequence(1, length({a})), 0, "
    "(acc, pos) -> acc + IF(substring({a}, pos, 1) <> substring({b}, pos, 1), 1, 0)) END"
)


def _rewrite(node: exp.Expression) -> exp.Expression:
    """Replace the DuckDB-only functions by their Spark forms (see SPARK_SPECIFIC)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "hamming":
        a, b = (arg.sql(dialect="spark") for arg in node.expressions)
        return exp.Paren(this=sqlglot.parse_one(_HAMMING_SPARK.format(a=a, b=b), read="spark"))
    if isinstance(node, exp.JarowinklerSimilarity):
        return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
    return node


def to_spark_sql(duckdb_sql: str) -> str:
    """One SQL condition (a comparison level or a blocking rule) from DuckDB to Spark."""
    if duckdb_sql.strip().upper() == "ELSE":
        return duckdb_sql
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    return tree.transform(_rewrite).sql(dialect="spark")


def spark_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Splink settings (as linkage.model.settings.settings_for_prediction returns them) with
    every comparison level and blocking rule in Spark SQL; m, u and labels unchanged."""
    spark = copy.deepcopy(settings)
    spark["sql_dialect"] = "spark"
    for comparison in spark["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = to_spark_sql(level["sql_condition"])
    rules = []
    for rule in spark["blocking_rules_to_generate_predictions"]:
        sql = rule["blocking_rule"] if isinstance(rule, dict) else rule
        rules.append({"blocking_rule": to_spark_sql(sql), "sql_dialect": "spark"})
    spark["blocking_rules_to_generate_predictions"] = rules
    return spark
