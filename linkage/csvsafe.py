"""Text cells made safe for spreadsheets before they leave as CSV.

A cell starting with = + - @ (or a tab or carriage return) is run as a formula by Excel and
WPS when the file is opened (CSV injection).  Reviewers' notes and names are free text, so
such a cell gets a leading apostrophe, which spreadsheets show as text and do not evaluate.
Numbers are left alone (a negative weight is a number, not a formula).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``'=1+1'`` -> ``"'=1+1"``; anything not a string, or not formula-leading, unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The inverse of :func:`neutralise` on text read back: ``"'-5113"`` -> ``"-5113"``.
    Only an apostrophe before a formula lead is taken off (one neutralise put there)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_LEADS):
        return value[1:]
    return value


def csv_cells(row: Iterable[Any]) -> list[Any]:
    """One CSV row's cells: None as an empty field, text neutralised.  A row at a time (the
    rule of ``neutralise`` in one comprehension): a call per cell was a third of writing
    decisions.csv at 1M archives."""
    return ["" if value is None
            else "'" + value if isinstance(value, str) and value.startswith(FORMULA_LEADS)
            else value
            for value in row]
