"""Per-record columns the comparisons and blocking rules read, derived from ``features``.

Derived here, once per record, so that per-pair SQL is equality on precomputed values:
the best-known birth date and its parts, and the solar date the recorded birth date would
be if the clerk had typed a lunar birthday (a precomputed calendar joined, not computed per
pair).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import duckdb
import pyarrow as pa

from linkage.connection import registered
from linkage.contracts import NamedTable
from linkage.model.shared_phones import SharedPhones, blank_phone_sql, shared_phone_table
from linkage.standardise.dates import lunar_to_solar
from linkage.standardise.name_notes import newborn_placeholder

MODEL_INPUT_TABLE = "model_input"

# Columns added to the features table (name -> DuckDB type); see _MODEL_INPUT_SQL.
DERIVED_COLUMNS: dict[str, str] = {
    "dob_best": "DATE",
    "dob_year": "INTEGER",
    "dob_month": "INTEGER",
    "dob_day": "INTEGER",
    "dob_days": "INTEGER",
    "dob_jan1": "BOOLEAN",
    "dob_lunar": "DATE",
    "name_4c": "VARCHAR",
    "name_placeholder": "BOOLEAN",
    "address_skeleton": "VARCHAR",
}

# Four-corner codes are 5 characters (4 corners + the supplementary stroke).
_UNKNOWN_4C = "?????"


@lru_cache(maxsize=1)
def _four_corner() -> Any:
    from four_corner_method import FourCornerMethod

    return FourCornerMethod()


def four_corner_key(name: str | None) -> str | None:
    """The name's characters as four-corner codes, 5 digits each.

    Characters confused by their look (己/已, 未/末, 王/玉) have equal codes or codes one
    digit apart, while a twin's different given name almost never does: the key tells a
    typo from a sibling without reading the pixels.
    """
    if not name:
        return None
    lookup = _four_corner().query
    return "".join(lookup(ch) or _UNKNOWN_4C for ch in name)


def _four_corner_table(con: duckdb.DuckDBPyConnection, source: str) -> pa.Table:
    """Per distinct clean name: its four-corner key, and whether it is a newborn placeholder
    (王芳之子, 新生儿: "name unknown", compared by the name comparison's own level)."""
    names = [row[0] for row in con.execute(
        f"SELECT DISTINCT name_clean FROM {source} WHERE name_clean IS NOT NULL").fetchall()]
    return pa.table({
        "name_clean": pa.array(names, type=pa.string()),
        "name_4c": pa.array([four_corner_key(n) for n in names], type=pa.string()),
        "name_placeholder": pa.array([newborn_placeholder(n) is not None for n in names],
                                     type=pa.bool_()),
    })

def _lunar_table(con: duckdb.DuckDBPyConnection, source: str) -> pa.Table:
    distinct = con.execute(
        f"SELECT DISTINCT dob_best FROM {source} WHERE dob_best IS NOT NULL"
    ).fetchall()
    recorded = [row[0] for row in distinct]
    return pa.table({
        "recorded": pa.array(recorded, type=pa.date32()),
        "solar_if_lunar": pa.array([lunar_to_solar(d) for d in recorded], type=pa.date32()),
    })


_BEST_DOB_SQL = """
CREATE OR REPLACE TEMP VIEW _features_best AS
SELECT * REPLACE (
           -- a clinic's or doctor's number on many archives is no household's evidence
           {blank_phone} AS phone_norm),
       -- The record's own birth date; else the one embedded in a valid ID number.
       coalesce(dob, CASE WHEN id_valid THEN id_dob END) AS dob_best
FROM {features}
"""

_MODEL_INPUT_SQL = """
CREATE OR REPLACE TABLE {target} AS
SELECT f.*,
       year(f.dob_best)::INTEGER AS dob_year,
       month(f.dob_best)::INTEGER AS dob_month,
       day(f.dob_best)::INTEGER AS dob_day,
       (f.dob_best - DATE '1970-01-01')::INTEGER AS dob_days,
       coalesce(month(f.dob_best) = 1 AND day(f.dob_best) = 1, false) AS dob_jan1,
       lunar.solar_if_lunar AS dob_lunar,
       fc.name_4c,
       coalesce(fc.name_placeholder, false) AS name_placeholder,
       -- The address with its numbers blanked: the same street or village group with a
       -- different house number, or the same building with another flat.
       nullif(regexp_replace(f.address_norm, '[0-9]+', '#', 'g'), '#') AS address_skeleton
FROM _features_best f
LEFT JOIN _lunar_calendar lunar ON lunar.recorded = f.dob_best
LEFT JOIN _four_corner fc ON fc.name_clean = f.name_clean
"""


def build_model_input(
    con: duckdb.DuckDBPyConnection, features: str = "features", target: str = MODEL_INPUT_TABLE,
    *, shared: SharedPhones,
) -> NamedTable:
    """Create ``target``: every features column plus the derived date columns, with the
    phones of ``shared`` blank (linkage.model.shared_phones: counted over the whole
    population by the caller, since ``features`` may be one batch or one night's changes)."""
    with registered(con, "_shared_phones", shared_phone_table(shared)):
        con.execute(_BEST_DOB_SQL.format(features=features, blank_phone=blank_phone_sql("_shared_phones")))
        with (registered(con, "_lunar_calendar", _lunar_table(con, "_features_best")),
              registered(con, "_four_corner", _four_corner_table(con, "_features_best"))):
            con.execute(_MODEL_INPUT_SQL.format(target=target))
        con.execute("DROP VIEW _features_best")
    return NamedTable(target, "model input: the features columns plus the derived date and name-key columns")
