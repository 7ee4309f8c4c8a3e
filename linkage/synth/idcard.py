"""Resident ID numbers (GB 11643-1999) for synthetic people, vectorised.

The address code is the county that first issued the number, as it was coded then: people
of 平凉 registered before 2002 carry 6227xx codes of 平凉地区, which the engine must accept
although they are no longer in the current code list.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.dtypes import StringDType

from linkage.standardise.id_number import CHECK_CHARS
from linkage.standardise.id_number import WEIGHTS as ID_WEIGHTS
from linkage.synth.resources import read_table

WEIGHTS = np.array(ID_WEIGHTS, dtype=np.int64)
_CHECK_ARRAY = np.array(list(CHECK_CHARS), dtype=StringDType())
# Before the 1984-1989 card campaign nobody held a number: older people got theirs then.
FIRST_ISSUE_YEAR = 1984


def check_char(body: str) -> str:
    """The MOD 11-2 check character of a 17-digit body."""
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(body, WEIGHTS.tolist())) % 11]


def id_bodies(code: np.ndarray, ymd: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """17-digit bodies as int64: county code, YYYYMMDD birth date, 3-digit sequence."""
    return code.astype(np.int64) * 10**11 + ymd.astype(np.int64) * 1000 + seq.astype(np.int64)


def build_ids(body: np.ndarray) -> np.ndarray:
    """18-character ID strings (check character appended) for int64 bodies."""
    total = np.zeros(len(body), dtype=np.int64)
    rest = body.copy()
    for w in WEIGHTS[::-1]:
        total += (rest % 10) * w
        rest //= 10
    return np.strings.add(body.astype(str).astype(StringDType()), _CHECK_ARRAY[total % 11])


def to_15(id18: str) -> str:
    """The legacy 15-digit form: century and check character dropped."""
    return id18[:6] + id18[8:17]


@lru_cache(maxsize=1)
def _code_history() -> tuple[tuple[int, int, int, int], ...]:
    """(code, valid_from, valid_to, current_code) for the home counties."""
    return tuple(
        (int(r["code"]), int(r["valid_from"]), int(r["valid_to"]), int(r["current_code"]))
        for r in read_table("synth_counties.csv")
        if r["role"] == "home"
    )


@lru_cache(maxsize=1)
def elsewhere_codes() -> np.ndarray:
    """County codes unchanged 1980-2024 in 甘肃, 宁夏 and 陕西: birth counties of in-migrants."""
    return np.array([int(r["code"]) for r in read_table("synth_counties.csv") if r["role"] == "elsewhere"], dtype=np.int64)


def issuing_code(county: np.ndarray, birth_year: np.ndarray) -> np.ndarray:
    """The code a county had when it issued a number to someone born in ``birth_year``."""
    issue_year = np.maximum(birth_year, FIRST_ISSUE_YEAR)
    out = county.astype(np.int64).copy()
    history = _code_history()
    for code, start, stop, current in history:
        out[(county == current) & (issue_year >= start) & (issue_year <= stop)] = code
    earliest = {}
    for code, start, _stop, current in history:
        if current not in earliest or start < earliest[current][0]:
            earliest[current] = (start, code)
    for current, (start, code) in earliest.items():
        out[(county == current) & (issue_year < start)] = code
    return out


def draw_sequences(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """3-digit sequence numbers, odd for men and even for women."""
    return rng.integers(0, 500, len(male)) * 2 + male.astype(np.int64)


def make_unique(rng: np.random.Generator, code: np.ndarray, ymd: np.ndarray, seq: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Redraw sequences until no two people share a body (first holder keeps its number)."""
    seq = seq.copy()
    for _ in range(100):
        body = id_bodies(code, ymd, seq)
        _, first = np.unique(body, return_index=True)
        dup = np.ones(len(body), dtype=bool)
        dup[first] = False
        if not dup.any():
            return seq
        seq[dup] = draw_sequences(rng, male[dup])
    raise RuntimeError("could not make ID numbers unique")
