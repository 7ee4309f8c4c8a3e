"""Names: one written form, then tone-free pinyin keys that survive homophone typos.

Chinese names are compared as pinyin, not as characters: the same person is written 王芳 and
王方, and DuckDB's string distances count bytes.  Conversion is per character (phrase mode
reads 殷红梅 as "yan hong mei" because 殷红 is a word), with the surname reading for the
first character (曾 zeng, 单 shan) and a table of compound surnames (欧阳, 尉迟 yu chi).

Speed: pypinyin is called once per distinct character (cached); a name then costs a few
dict look-ups (~1M names/s).  OpenCC runs on many names joined by newlines at once, which
is ~5x faster than one call per name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import pyarrow as pa

from linkage.standardise._text import WHITESPACE, char_class

SEPARATOR = "·"  # U+00B7, the prescribed separator in transliterated minority names
# Look-alikes that NFKC leaves alone (or produces), typed in place of U+00B7.
_SEPARATOR_LOOKALIKES = "•・‧⋅∙.･᛫⸱ꞏ・。-‐‑‒–—―"
_SEPARATORS_RE = re.compile(char_class(_SEPARATOR_LOOKALIKES + SEPARATOR) + "+")
_WHITESPACE_RE = re.compile(r"[\s" + char_class(WHITESPACE)[1:-1] + "]+")
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_BATCH_JOIN = "\n"  # never survives clean-up, so it is safe to join names with it


@lru_cache(maxsize=1)
def _t2s() -> Any:
    """The OpenCC traditional->simplified converter, built once on first use."""
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _surname_table() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(single-character surname readings, compound surname readings) from linkage/data."""
    single: dict[str, tuple[str, ...]] = {}
    compound: dict[str, tuple[str, ...]] = {}
    text = resources.files("linkage").joinpath("data/surname_readings.tsv").read_text("utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        surname, reading = line.split("\t")
        target = single if len(surname) == 1 else compound
        target[surname] = tuple(reading.split())
    return single, compound


# Text made only of common Han characters is already clean (NFKC leaves them alone).
_ONLY_HAN_RE = re.compile("[\u4e00-\u9fff]+")


def _pre_clean(raw: str) -> str:
    """NFKC, no whitespace, one '·' between parts: everything before OpenCC."""
    if _ONLY_HAN_RE.fullmatch(raw):
        return raw
    text = _WHITESPACE_RE.sub("", unicodedata.normalize("NFKC", raw))
    return _SEPARATORS_RE.sub(SEPARATOR, text).strip(SEPARATOR)


def clean_name(raw: str | None) -> str | None:
    """Simplified characters, separators unified to '·', no whitespace; None if blank.

    Deliberately conservative: digits, Latin letters and brackets are kept, since
    guessing what they mean would merge or split people silently.
    """
    return clean_names([raw])[0]


def _t2s_batch(texts: list[str]) -> list[str]:
    """OpenCC t2s on many texts with one call (texts never contain the join character)."""
    if not texts:
        return []
    out = _t2s().convert(_BATCH_JOIN.join(texts)).split(_BATCH_JOIN)
    if len(out) != len(texts):  # OpenCC never rewrites "\n"; guard anyway
        out = [_t2s().convert(t) for t in texts]
    return out


def _t2s_stable(texts: list[str]) -> list[str]:
    """t2s repeated until nothing changes: OpenCC 1.4.2 maps 薴 -> 苧 -> 苎, and a clean
    name must clean to itself.  Only texts that changed are converted again."""
    out = _t2s_batch(texts)
    changed = [i for i, (a, b) in enumerate(zip(texts, out)) if a != b]
    for _ in range(4):
        if not changed:
            break
        again = _t2s_batch([out[i] for i in changed])
        still = []
        for i, text in zip(changed, again):
            if text != out[i]:
                out[i] = text
                still.append(i)
        changed = still
    return out


def clean_names(raws: Sequence[str | None]) -> list[str | None]:
    """:func:`clean_name` for many values, with one OpenCC call for the whole batch."""
    pre = [None if r is None else _pre_clean(r) for r in raws]
    converted = iter(_t2s_stable([p for p in pre if p]))
    return [(_pre_clean(next(converted)) or None) if p else None for p in pre]


@dataclass(frozen=True, slots=True)
class NamePinyin:
    """Pinyin keys of one clean name (all tone-free, no spaces, 'ü' written 'v')."""

    surname_py: str
    given_py: str
    name_py: str
    name_py_fuzzy: str
    name_py_sorted: str


class _LazyTable(dict[str, str]):
    """A dict that fills a missing key from ``compute`` once: cheap C-level look-ups after."""

    def __init__(self, compute: Callable[[str], str]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: str) -> str:
        value = self[key] = self._compute(key)
        return value


def _compute_char_pinyin(ch: str) -> str:
    if ch.isascii():
        return ch.lower()
    from pypinyin import Style, lazy_pinyin  # imported lazily: slow to import

    out = lazy_pinyin(ch, style=Style.NORMAL, errors="default")
    return out[0] if len(out) == 1 and out[0] else ch


def fuzzy_syllable(syllable: str) -> str:
    """Fold dialect confusions: zh/ch/sh -> z/c/s, n/r -> l, f -> h, final -ng -> -n."""
    s = syllable
    if s[:2] in ("zh", "ch", "sh"):
        s = s[0] + s[2:]
    elif s[:1] in ("n", "r") and len(s) > 1 and s != "ng":
        s = "l" + s[1:]
    elif s[:1] == "f":
        s = "h" + s[1:]
    if len(s) > 2 and s.endswith("ng"):
        s = s[:-1]  # ang/eng/ing/iang/uang -> an/en/in/ian/uan (ong has no -on partner)
    return s


_CHAR_PINYIN = _LazyTable(_compute_char_pinyin)
_FUZZY = _LazyTable(fuzzy_syllable)
# Names holding these need the general tokeniser; all others are one syllable per character.
_NEEDS_TOKENISER_RE = re.compile("[0-9A-Za-z" + SEPARATOR + "]")


def char_pinyin(ch: str) -> str:
    """Default tone-free reading of one character (the character itself if it has none)."""
    return _CHAR_PINYIN[ch]


def _syllables(text: str) -> list[str]:
    """One token per character, except that a run of ASCII letters/digits is one token."""
    tokens: list[str] = []
    run: list[str] = []
    for ch in text:
        low = ch.lower() if ch.isascii() else ch
        if low in _ASCII_ALNUM:
            run.append(low)
            continue
        if run:
            tokens.append("".join(run))
            run = []
        if ch != SEPARATOR:
            tokens.append(_CHAR_PINYIN[ch])
    if run:
        tokens.append("".join(run))
    return tokens


def _split_surname(clean: str) -> tuple[list[str], list[str]]:
    """(surname syllables, given-name syllables) of a clean name."""
    single, compound = _surname_table()
    if _NEEDS_TOKENISER_RE.search(clean) is None:  # the common case, kept fast
        syllables = list(map(_CHAR_PINYIN.__getitem__, clean))
        head = clean[:2]
        if len(clean) >= 3 and head in compound:
            return list(compound[head]), syllables[2:]
        first = clean[0]
        return (list(single[first]) if first in single else syllables[:1]), syllables[1:]
    if SEPARATOR in clean:
        first_part, _, rest = clean.partition(SEPARATOR)
        return _syllables(first_part), _syllables(rest)
    tokens = _syllables(clean)
    head = clean[:2]
    if len(clean) >= 3 and head in compound:
        return list(compound[head]), tokens[2:]
    first = clean[0]
    if first in single:
        return list(single[first]), tokens[1:]
    return tokens[:1], tokens[1:]


def _keys(clean: str) -> tuple[str, str, str, str, str]:
    """The five pinyin keys of a clean name, in PINYIN_FIELDS order."""
    surname, given = _split_surname(clean)
    syllables = surname + given
    surname_py = "".join(surname)
    given_py = "".join(given)
    return (
        surname_py,
        given_py,
        surname_py + given_py,
        "".join(map(_FUZZY.__getitem__, syllables)),
        "".join(sorted(syllables)),
    )


def name_pinyin(clean: str) -> NamePinyin:
    """Pinyin keys of a name already passed through :func:`clean_name`."""
    return NamePinyin(*_keys(clean))


PINYIN_FIELDS: tuple[str, ...] = (
    "surname_py",
    "given_py",
    "name_py",
    "name_py_fuzzy",
    "name_py_sorted",
)


def pinyin_table(names: Iterable[str]) -> pa.Table:
    """``name_clean`` plus the :class:`NamePinyin` columns, one row per distinct clean name."""
    distinct = list(dict.fromkeys(n for n in names if n))
    rows = list(zip(*map(_keys, distinct))) or [[] for _ in PINYIN_FIELDS]
    return pa.table(
        {
            "name_clean": pa.array(distinct, pa.string()),
            **{f: pa.array(col, pa.string()) for f, col in zip(PINYIN_FIELDS, rows)},
        }
    )


def name_table(raw_names: Iterable[str]) -> pa.Table:
    """``name_raw`` -> name_clean, name_len and pinyin keys, one row per distinct raw value.

    Registered in DuckDB and joined on the raw value, so each distinct name is converted once.
    """
    raws = list(dict.fromkeys(r for r in raw_names if r is not None))
    cleaned = clean_names(raws)
    keys = {n: _keys(n) for n in dict.fromkeys(c for c in cleaned if c)}
    blank = (None,) * len(PINYIN_FIELDS)
    rows = list(zip(*(keys[c] if c else blank for c in cleaned))) or [[] for _ in PINYIN_FIELDS]
    return pa.table(
        {
            "name_raw": pa.array(raws, pa.string()),
            "name_clean": pa.array(cleaned, pa.string()),
            "name_len": pa.array([None if c is None else len(c) for c in cleaned], pa.int32()),
            **{f: pa.array(col, pa.string()) for f, col in zip(PINYIN_FIELDS, rows)},
        }
    )
