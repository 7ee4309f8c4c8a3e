"""Everything that depends on how Splink works inside, in one place.

Why: the engine reads Splink's level objects (Bayes factors, the u estimates EM re-derives
from), recovers each pair's level from its weight, and re-does Splink's term-frequency and
prior arithmetic in SQL to refresh stored pairs.  None of that is Splink's public API.  An
upgrade that changes it must fail here, loudly, rather than change scores silently: so the
module refuses an unknown Splink version on import (:data:`SUPPORTED_SPLINK`), and
tests/test_splink_adapter.py checks each behaviour below against Splink itself.

    connect_splink, make_linker     Splink over our own DuckDB connection and table
    comparisons_of                  the linker's comparison objects (private _settings_obj)
    bayes_factor, trained_m/u       a level's trained values (private attributes)
    fix_u                           a counted u that EM passes keep (_trained_u_probabilities)
    gamma_from_weight_sql           each pair's level, read back from its weight column
    TfLevel, tf_levels, register_term_frequencies, term_frequency_delta_sql
                                    Splink's term-frequency adjustment, for refreshed pairs
    prior_weight, probability_sql   Splink's prior-as-weight and weight-to-probability
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import duckdb
import splink
from splink import DuckDBAPI, Linker, SettingsCreator
from splink.internals.splink_dataframe import SplinkDataFrame

from linkage.errors import ModelError

# The Splink releases whose internals this module was checked against (pyproject pins one).
SUPPORTED_SPLINK = ("5.0.0",)


def check_splink_version(version: str = splink.__version__) -> None:
    """Refuse a Splink whose internals nobody checked: scores could change without a word."""
    if version not in SUPPORTED_SPLINK:
        raise ModelError(
            f"Splink {version} is not supported (checked: {', '.join(SUPPORTED_SPLINK)}); "
            "linkage/model/splink_adapter.py reaches into Splink's internals: check it and "
            "tests/test_splink_adapter.py against this version, then add it to SUPPORTED_SPLINK")


check_splink_version()


def connect_splink(con: duckdb.DuckDBPyConnection) -> DuckDBAPI:
    """Wrap our connection for Splink; allow the old lambda syntax some Splink levels emit."""
    con.execute("SET lambda_syntax='ENABLE_SINGLE_ARROW'")
    api = DuckDBAPI(connection=con)
    _close_spare_database(api)
    return api


def _close_spare_database(api: DuckDBAPI) -> None:
    """Close the in-memory DuckDB that Splink's base DatabaseAPI opens for every API object.

    DuckDBAPI answers ``duckdb_con`` with our connection, so that spare database is never
    used; left open it keeps a pool of worker threads alive until the garbage collector
    happens to free it, and a process that runs many linkages (tests, a service) piles
    them up."""
    spare = getattr(api, "_ddb_con", None)
    if isinstance(spare, duckdb.DuckDBPyConnection) and spare is not api.duckdb_con:
        spare.close()


def make_linker(api: DuckDBAPI, table: str, settings: SettingsCreator | dict[str, Any]) -> Linker:
    """A Linker over an existing DuckDB table (no copy of the data).

    Splink's own progress chatter goes to the 'splink' logger at INFO; we keep it at WARNING
    unless the user asked for verbose logs, so the CLI output stays ours.
    """
    frame = api.table_to_splink_dataframe(table, table)
    level = logging.INFO if logging.getLogger("linkage").isEnabledFor(logging.INFO) else logging.WARNING
    return Linker(frame, settings, log_level=level)


def predict_blocked_pairs(api: DuckDBAPI, linker: Linker, table: str) -> SplinkDataFrame:
    """Splink's predict over our own blocked-pairs ``table`` (match_key, join_key_l,
    join_key_r; linkage.model.blocking) instead of the pairs it would block itself.

    Registered pairs make Splink 5 take its "source pruning" path, which first copies the
    records of each side that occur in a pair; our pairs touch most records, so the copies
    cost more than they save (5M archives: predict 28 -> 33 s).  Clearing the flag after
    registering keeps the registered table and scores it the way Splink scores its own."""
    frame = linker.table_management.register_blocked_pairs_for_predict(
        api.table_to_splink_dataframe(table, table))
    frame.metadata["registered_for_predict"] = False
    try:
        return linker.inference.predict()
    finally:
        # Forgotten once scored: the caller drops the table, and a later predict on this
        # linker must not find it in the cache.
        cache = linker._intermediate_table_cache  # its items are copies: match by table
        for key in [key for key, cached in cache.items() if cached.physical_name == table]:
            del cache[key]


# -- a linker's levels --------------------------------------------------------------------------


def comparisons_of(linker: Linker) -> list[Any]:
    """The linker's live comparison objects (each with ``output_column_name`` and
    ``comparison_levels``); changing a level changes what the linker scores and saves."""
    return list(linker._settings_obj.comparisons)


def bayes_factor(level: Any) -> float:
    """m/u of a trained level, as Splink computes it."""
    return float(level._bayes_factor)


def trained_m(level: Any) -> float | None:
    """The level's m, or None when training never observed it."""
    value = level._m_probability
    return None if value in (None, "level not observed") else float(value)


def trained_u(level: Any) -> float | None:
    """The level's u, or None when training never observed it."""
    value = level._u_probability
    return None if value in (None, "level not observed") else float(value)


def fix_u(level: Any, u: float, description: str) -> None:
    """Set the level's u for good.  Splink re-derives u from its list of estimates after every
    EM pass; making this the only estimate is what lets it survive."""
    level._trained_u_probabilities = [{"probability": u, "description": description, "m_or_u": "u"}]
    level.u_probability = u


def gamma_from_weight_sql(linker: Linker) -> dict[str, str]:
    """SQL recovering each comparison's level (gamma) from its match-weight column.

    Splink 5 keeps gammas only together with every input column (retain_matching_columns),
    which would multiply the size of the pairs table.  Each level's weight is a distinct
    constant log2(m/u), so the level is read back from it; the null level weighs 0.
    """
    sql: dict[str, str] = {}
    for comparison in comparisons_of(linker):
        name = comparison.output_column_name
        whens = []
        for level in comparison.comparison_levels:
            gamma = level.comparison_vector_value
            if level.is_null_level:
                continue
            weight = math.log2(bayes_factor(level))
            whens.append(f"WHEN abs(mw_{name} - ({weight!r})) < 1e-9 THEN {gamma}")
        sql[name] = f"CASE {' '.join(whens)} ELSE -1 END"
    return sql


# -- term frequencies and the prior, as Splink computes them ------------------------------------


@dataclass(frozen=True)
class TfLevel:
    """A comparison level whose weight Splink adjusts by the term frequency of a column."""

    comparison: str
    gamma: int
    column: str
    weight: float
    min_u: float


def tf_levels(model: dict[str, Any]) -> list[TfLevel]:
    """Every term-frequency-adjusted level of a saved model (gamma numbered as Splink does:
    the non-null levels from the top, highest first, down to 0)."""
    levels: list[TfLevel] = []
    for comparison in model["comparisons"]:
        non_null = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
        for position, level in enumerate(non_null):
            column = level.get("tf_adjustment_column")
            weight = float(level.get("tf_adjustment_weight", 1.0) or 0.0)
            if column and weight:
                levels.append(TfLevel(
                    comparison["output_column_name"], len(non_null) - 1 - position, column,
                    weight, float(level.get("tf_minimum_u_value", 0.0) or 0.0),
                ))
    return levels


def tf_columns(model: dict[str, Any]) -> list[str]:
    return sorted({level.column for level in tf_levels(model)})


_TF_TABLE_SQL = """
CREATE OR REPLACE TABLE {table} AS
SELECT {column}, count(*)::DOUBLE / (SELECT count({column}) FROM {population}) AS tf_{column}
FROM {population} WHERE {column} IS NOT NULL GROUP BY {column}
"""


def register_term_frequencies(con: duckdb.DuckDBPyConnection, api: DuckDBAPI, linker: Linker,
                              column: str, population: str, table: str) -> None:
    """``table``: the term frequencies of ``column`` in ``population``, in the shape Splink
    computes them (``tf_<column>``), registered as the linker's lookup for ``column``."""
    con.execute(_TF_TABLE_SQL.format(table=table, column=column, population=population))
    linker.table_management.register_term_frequency_lookup(
        api.table_to_splink_dataframe(table, table), column)


def term_frequency_delta_sql(level: TfLevel, old_tf: str, new_tf: str) -> str:
    """How much the level's weight changes when its term frequency goes from ``old_tf`` to
    ``new_tf`` (SQL expressions): Splink adds ``weight * log2(u / max(tf, min_u))``."""
    return (f"{level.weight!r} * (log2(greatest({old_tf}, {level.min_u!r})) "
            f"- log2(greatest({new_tf}, {level.min_u!r})))")


def prior_weight(probability: float) -> float:
    """The prior as a match weight: log2 of the prior odds."""
    return math.log2(probability / (1.0 - probability))


def probability_sql(weight: str) -> str:
    """Splink's numerically stable 2^w / (1 + 2^w)."""
    return (f"CASE WHEN ({weight}) >= 0 THEN 1.0 / (1.0 + pow(2.0, -({weight}))) "
            f"ELSE pow(2.0, {weight}) / (1.0 + pow(2.0, {weight})) END")
