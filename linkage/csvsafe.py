"""Text cells made safe for spreadsheets before they leave as CSV.

A cell starting with = + - @ (or a tab or carriage return) is run as a formula by Excel and
WPS when the file is opened (CSV injection).  Reviewers' notes and names are free text, so
such a cell gets a leading apostrophe, which spreadsheets show as text and do not evaluate.
Numbers are left alone (a negative weight is a number, not a formula).
"""

from __future__ import annotations

from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``'=1+1'`` -> ``"'=1+1"``; anything not a string, or not formula-leading, unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value
