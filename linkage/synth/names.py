"""Chinese names with realistic collisions.

Surnames follow the national frequency ranking with a long tail of rare, compound and
polyphonic surnames (欧阳, 单, 区, 解 ...).  Given names come half from a Zipf-weighted list
of fashionable names per sex and birth cohort (so 张伟, 王芳, 李秀英 recur many times) and
half from character pools; a few residents carry transliterated minority names with "·".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.dtypes import StringDType

from linkage.synth.resources import read_table

ERAS = ("old", "mid", "young")  # born <1960, 1960-1989, >=1990
FULL_NAME_SHARE = 0.4  # otherwise composed from two pooled characters
MINORITY_SHARE = 0.003


def era_of(birth_year: np.ndarray) -> np.ndarray:
    """Cohort index into ERAS."""
    return np.where(birth_year < 1960, 0, np.where(birth_year < 1990, 1, 2))


@dataclass(frozen=True)
class _Choice:
    """Strings with sampling probabilities."""

    text: np.ndarray
    p: np.ndarray

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.text[rng.choice(len(self.text), size=n, p=self.p)]


def _choice(pairs: list[tuple[str, float]]) -> _Choice:
    w = np.array([p for _, p in pairs], dtype=float)
    return _Choice(np.array([t for t, _ in pairs], dtype=StringDType()), w / w.sum())


@lru_cache(maxsize=1)
def surnames() -> _Choice:
    """Surnames by national share."""
    return _choice([(r["surname"], float(r["share_pct"])) for r in read_table("synth_surnames.csv")])


@lru_cache(maxsize=None)
def _pool(sex: str, era: str, kind: str) -> _Choice:
    rows = read_table("synth_given_names.csv")
    return _choice([(r["text"], float(r["weight"])) for r in rows if r["sex"] == sex and r["era"] == era and r["kind"] == kind])


def draw_surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    """n surnames by frequency."""
    return surnames().draw(rng, n)


def draw_given(rng: np.random.Generator, female: np.ndarray, birth_year: np.ndarray) -> np.ndarray:
    """Given names fitting each person's sex and cohort."""
    n = len(female)
    out = np.full(n, "", dtype=StringDType())
    era = era_of(birth_year)
    full = rng.random(n) < FULL_NAME_SHARE
    for s, sex in enumerate("MF"):
        for e, era_name in enumerate(ERAS):
            grp = (female == s) & (era == e)
            f = np.flatnonzero(grp & full)
            out[f] = _pool(sex, era_name, "full").draw(rng, len(f))
            c = np.flatnonzero(grp & ~full)
            first = _pool(sex, era_name, "first").draw(rng, len(c))
            out[c] = np.strings.add(first, _pool(sex, era_name, "second").draw(rng, len(c)))
    return out


def draw_minority(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    """Transliterated names: own name · father's name (阿卜杜拉·买买提)."""
    n = len(female)
    own = np.where(female == 1, _pool("F", "any", "minority").draw(rng, n), _pool("M", "any", "minority").draw(rng, n))
    return np.strings.add(np.strings.add(own.astype(StringDType()), "·"), _pool("M", "any", "father").draw(rng, n))


def alternative_given(rng: np.random.Generator, given: np.ndarray, female: np.ndarray, birth_year: np.ndarray) -> np.ndarray:
    """A sibling's given name one character away from ``given`` (for twins)."""
    out = given.copy()
    era = era_of(birth_year)
    for i in range(len(given)):
        g = str(given[i])
        sex = "F" if female[i] else "M"
        era_name = ERAS[int(era[i])]
        if len(g) >= 2:
            pool = _pool(sex, era_name, "second").text
            pos = len(g) - 1
        else:
            pool = np.array([t for t in _pool(sex, era_name, "full").text.tolist() if len(t) == 1] or ["强"], dtype=StringDType())
            pos = 0
        options = [str(c) for c in pool.tolist() if str(c) != g[pos]]
        new_char = options[int(rng.integers(len(options)))]
        out[i] = g[:pos] + new_char + g[pos + 1 :]
    return out


def name_universe() -> tuple[str, ...]:
    """Every character the generator puts in a name (for homophone and similar tables)."""
    chars = set()
    for r in read_table("synth_surnames.csv"):
        chars.update(r["surname"])
    for r in read_table("synth_given_names.csv"):
        chars.update(r["text"])
    chars.discard("·")
    return tuple(sorted(chars))
