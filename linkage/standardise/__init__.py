"""Standardisation: raw archive fields -> comparable features (schema.FEATURE_COLUMNS).

One module per field, each a pure Python reference (value -> value | None) and, where the
work is per row, its DuckDB SQL twin; :func:`standardise_table` runs the whole table.
"""

from __future__ import annotations

from linkage.standardise.address import address_table, normalise_address
from linkage.standardise.dates import (
    clean_dob,
    dob_precision,
    is_placeholder_dob,
    lunar_calendar_table,
    lunar_to_solar,
    parse_date,
)
from linkage.standardise.id_number import IdInfo, check_digit, is_one_typo, parse_id
from linkage.standardise.name import NamePinyin, clean_name, name_pinyin, name_table, pinyin_table
from linkage.standardise.phone import normalise_phone
from linkage.standardise.sex import normalise_sex
from linkage.standardise.table import standardise_table

__all__ = [
    "IdInfo",
    "NamePinyin",
    "address_table",
    "check_digit",
    "clean_dob",
    "clean_name",
    "dob_precision",
    "is_one_typo",
    "is_placeholder_dob",
    "lunar_calendar_table",
    "lunar_to_solar",
    "name_pinyin",
    "name_table",
    "normalise_address",
    "normalise_phone",
    "normalise_sex",
    "parse_date",
    "parse_id",
    "pinyin_table",
    "standardise_table",
]
