"""Scoring for a stateful run: only the pairs that involve what changed, scored exactly as a
full rebuild would score them.

Two things make a pair's score depend on the whole population, not only on its two
archives: the term frequency of the name (a rare name agreeing is stronger evidence), and
the prior, which ``settings_for_prediction`` rescales to the population size.  So:

* term-frequency tables are computed from ALL current archives and registered with Splink,
  in full and incremental runs alike, and ``predict_within`` / ``predict_between`` (which
  use only registered tables) score tonight's pairs exactly as ``predict`` over everyone;
* pairs kept from earlier nights are *refreshed*: their name term-frequency adjustment and
  prior are recomputed for tonight's population in SQL (Splink's formula, from the stored
  gamma and the term frequency each pair was scored with), instead of being re-scored.

Pairs come out in the ``scored_pairs`` shape of linkage.model.score (archive_id_l <
archive_id_r, probability, weight, gamma_* and w_* per comparison) plus ``tfmax_<column>``
(the term frequency the pair was scored with), ``prior_weight`` and ``match_key``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from linkage.config import Config
from linkage.model.blocking import block_pairs
from linkage.model.rule_split import prediction_rules
from linkage.model.score import comparison_names
from linkage.model.settings import settings_for_prediction
from linkage.model.splink_adapter import (
    connect_splink, gamma_from_weight_sql, make_linker, predict_blocked_pairs, prior_weight,
    probability_sql, register_term_frequencies, term_frequency_delta_sql, tf_columns, tf_levels,
)


PARTNERS_TABLE = "night_partners"  # archives of the big side that share a blocking key


def _tf_table(column: str) -> str:
    """Tonight's term frequencies of ``column`` (this module's table)."""
    return f"night_tf_{column}"


class Scorer:
    """Splink bound to tonight's population, with its term frequencies registered."""

    def __init__(self, con: duckdb.DuckDBPyConnection, model: dict[str, Any], config: Config,
                 population: str) -> None:
        self.con = con
        self.model = model
        self.config = config
        self.population = population
        self.names = comparison_names(model)
        self.levels = tf_levels(model)
        self.columns = tf_columns(model)
        records = con.execute(f"SELECT count(*) FROM {population}").fetchall()[0][0]
        settings = settings_for_prediction(model, config, records)
        self.prior_weight = prior_weight(float(settings["probability_two_random_records_match"]))
        self.api = connect_splink(con)
        self.linker = make_linker(self.api, population, settings)
        for column in self.columns:
            register_term_frequencies(con, self.api, self.linker, column, population,
                                      _tf_table(column))
        self._gamma_sql = gamma_from_weight_sql(self.linker)
        self.pairs_scored = 0
        self.pairs_by_rule = {rule.name: 0 for rule in config.blocking_rules}

    def _frame(self, table: str) -> Any:
        return self.api.table_to_splink_dataframe(table, table)

    def within(self, table: str, out: str) -> int:
        """Score the pairs inside ``table`` into ``out``.

        The whole population (a full night) is blocked as a stateless run blocks it
        (linkage.model.blocking, one-sided alternatives split per side): Splink's own
        blocking re-tests every earlier rule inside each join, which doubled the score
        stage of a full night at 1M archives.  A night's few new archives go through
        Splink's predict_within, which reads only them."""
        if table != self.population:
            return self._shape(self.linker.inference.predict_within(self._frame(table)), out)
        rules = prediction_rules([rule.sql for rule in self.config.blocking_rules])
        blocked = block_pairs(self.con, table, rules.sql)
        try:
            predictions = predict_blocked_pairs(self.api, self.linker, blocked)
        finally:
            self.con.execute(f"DROP TABLE IF EXISTS {blocked}")
        return self._shape(predictions, out, rules.origins)

    def unblocked(self, table: str, out: str) -> int:
        """Score every pair inside a small ``table`` whatever the blocking rules (``linkage
        explain`` asks about pairs no rule proposed), with the population's term frequencies."""
        return self._shape(self.linker.inference.predict_within(
            self._frame(table), blocking_rules_to_generate_predictions=["1=1"]), out)

    def between(self, left: str, right: str, out: str, keys_from: str | None = None) -> int:
        """Score the pairs across ``left`` and ``right`` (never within either) into ``out``.

        ``right`` is the big side (everyone else).  Splink's blocking would copy all its
        columns once per rule; instead the archives of ``right`` that share a blocking key
        with ``left`` are found first, and Splink blocks against those: the same pairs, a
        fraction of the work.  ``keys_from``: a plain table holding (at least) every archive
        of ``right`` with the same key values, cheaper to join than ``right`` (a view).
        """
        rules = " UNION ".join(
            f"SELECT r.archive_id FROM {left} l JOIN {keys_from or right} r ON ({rule.sql})"
            for rule in self.config.blocking_rules)
        self.con.execute(f"""
            CREATE OR REPLACE TABLE {PARTNERS_TABLE} AS
            SELECT * FROM {right} WHERE archive_id IN ({rules})
        """)
        try:
            return self._shape(self.linker.inference.predict_between(
                self._frame(left), self._frame(PARTNERS_TABLE)), out)
        finally:
            self.con.execute(f"DROP TABLE {PARTNERS_TABLE}")

    def _shape(self, predictions: Any, out: str, origins: Sequence[int] | None = None) -> int:
        """``predictions`` in the scored-pairs shape; ``origins``: the config rule of each
        blocking rule the pairs were made with (split rules), so match_key names the config
        rule, as stored pairs always have."""
        physical = predictions.physical_name
        present = {row[0] for row in self.con.execute(f"DESCRIBE {physical}").fetchall()}
        match_key = "match_key::INTEGER"
        if origins is not None:
            match_key = ("CASE match_key::INTEGER " + " ".join(
                f"WHEN {i} THEN {origin}" for i, origin in enumerate(origins)) + " END")
        columns = []
        for name in self.names:
            weight = f"mw_{name}"
            if f"mw_tf_adj_{name}" in present:
                weight = f"(mw_{name} + coalesce(mw_tf_adj_{name}, 0))"
            columns.append(f"{self._gamma_sql[name]} AS gamma_{name}, {weight} AS w_{name}")
        for column in self.columns:
            left, right = f"tf_{column}_l", f"tf_{column}_r"
            tf = (f"greatest(coalesce({left}, {right}), coalesce({right}, {left}))"
                  if left in present else "NULL::DOUBLE")
            columns.append(f"{tf} AS tfmax_{column}")
        self.con.execute(f"""
            CREATE OR REPLACE TABLE {out} AS
            SELECT least(archive_id_l, archive_id_r) AS archive_id_l,
                   greatest(archive_id_l, archive_id_r) AS archive_id_r,
                   match_probability, match_weight, {", ".join(columns)},
                   {self.prior_weight!r}::DOUBLE AS prior_weight, {match_key} AS match_key
            FROM {physical}
        """)
        for key, count in self.con.execute(
                f"SELECT match_key, count(*) FROM {out} GROUP BY match_key").fetchall():
            self.pairs_by_rule[self.config.blocking_rules[int(key)].name] += int(count)
        predictions.drop_table_from_database_and_remove_from_cache()
        count = int(self.con.execute(f"SELECT count(*) FROM {out}").fetchall()[0][0])
        self.pairs_scored += count
        return count

    def refresh(self, pairs: str, out: str, archives: str | None = None) -> None:
        """``out``: ``pairs`` re-weighted for tonight's term frequencies and prior; everything
        else about each pair is kept.  ``archives`` holds both ends' current features
        (default: the population).

        Only pairs at a term-frequency-adjusted level (a quarter of them, typically) need
        their archives' values looked up; the rest just move with the prior.
        """
        source = archives or self.population
        joins, new_tf = [], []
        for i, column in enumerate(self.columns):
            table = _tf_table(column)
            joins.append(f"LEFT JOIN {table} tl{i} ON tl{i}.{column} = l.{column} "
                         f"LEFT JOIN {table} tr{i} ON tr{i}.{column} = r.{column}")
            new_tf.append(f"greatest(coalesce(tl{i}.tf_{column}, tr{i}.tf_{column}), "
                          f"coalesce(tr{i}.tf_{column}, tl{i}.tf_{column})) AS new_tf_{column}")
        deltas: dict[str, str] = {}
        for name in self.names:
            whens = [
                f"WHEN gamma_{name} = {lv.gamma} AND tfmax_{lv.column} IS NOT NULL THEN "
                + term_frequency_delta_sql(lv, f"tfmax_{lv.column}", f"new_tf_{lv.column}")
                for lv in self.levels if lv.comparison == name
            ]
            if whens:
                deltas[name] = f"CASE {' '.join(whens)} ELSE 0.0 END"
        at_tf_level = " OR ".join(f"gamma_{lv.comparison} = {lv.gamma}" for lv in self.levels) or "false"
        prior = f"({self.prior_weight!r} - prior_weight)"
        total = " + ".join([f"d_{n}" for n in deltas] + [prior])
        select = [f"gamma_{n}, w_{n} + d_{n} AS w_{n}" if n in deltas else f"gamma_{n}, w_{n}"
                  for n in self.names]
        select += [f"new_tf_{c} AS tfmax_{c}" for c in self.columns]
        plain = [f"gamma_{n}, w_{n}" for n in self.names] + [f"tfmax_{c}" for c in self.columns]
        self.con.execute(f"""
            CREATE OR REPLACE TABLE {out} AS
            WITH joined AS (
                SELECT p.*{"".join(", " + t for t in new_tf)}
                FROM (SELECT * FROM {pairs} WHERE {at_tf_level}) p
                JOIN (SELECT archive_id, {", ".join(self.columns) or "NULL AS none"} FROM {source}) l
                    ON l.archive_id = p.archive_id_l
                JOIN (SELECT archive_id, {", ".join(self.columns) or "NULL AS none"} FROM {source}) r
                    ON r.archive_id = p.archive_id_r
                {" ".join(joins)}
            ),
            adjusted AS (
                SELECT *{"".join(f", {sql} AS d_{n}" for n, sql in deltas.items())} FROM joined
            ),
            weighted AS (
                SELECT *, match_weight + {total} AS new_weight FROM adjusted
            ),
            plain AS (
                SELECT *, match_weight + {prior} AS new_weight
                FROM {pairs} WHERE NOT ({at_tf_level})
            )
            SELECT archive_id_l, archive_id_r,
                   {probability_sql("new_weight")} AS match_probability,
                   new_weight AS match_weight, {", ".join(select)},
                   {self.prior_weight!r}::DOUBLE AS prior_weight, match_key
            FROM weighted
            UNION ALL
            SELECT archive_id_l, archive_id_r,
                   {probability_sql("new_weight")} AS match_probability,
                   new_weight AS match_weight, {", ".join(plain)},
                   {self.prior_weight!r}::DOUBLE AS prior_weight, match_key
            FROM plain
        """)

    def close(self) -> None:
        self.linker.table_management.delete_tables_created_by_splink_from_db()
        for column in self.columns:
            self.con.execute(f"DROP TABLE IF EXISTS {_tf_table(column)}")
