"""Names: one written form, then tone-free pinyin keys that survive homophone typos.

Chinese names are compared as pinyin, not as characters: the same person is written 王芳 and
王方, and DuckDB's string distances count bytes.  Conversion is per character (phrase mode
reads 殷红梅 as "yan hong mei" because 殷红 is a word), with the surname reading for the
first character (曾 zeng, 单 shan) and a table of compound surnames (欧阳, 尉迟 yu chi).

Speed: pypinyin is called once per distinct character (cached), so a name costs a few
dict look-ups (~3 us for all five keys); OpenCC runs once on many names joined by
newlines (~5x faster than a call per name).  name_table: ~170k distinct names/s here.
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

from linkage.standardise.name_notes import TRAILING_NOTES_RE
from linkage.standardise._text import WHITESPACE, char_class

SEPARATOR = "·"  # U+00B7, the prescribed separator in transliterated minority names
# Look-alikes that NFKC leaves alone (or produces), typed in place of U+00B7.
_SEPARATOR_LOOKALIKES = "•・‧⋅∙.･᛫⸱ꞏ・。-‐‑‒–—―▪◦"
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
def _surname_table() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(single-character surname -> reading, compound surname -> two syllables), from
    linkage/data/surname_readings.tsv."""
    single: dict[str, str] = {}
    compound: dict[str, tuple[str, str]] = {}
    text = resources.files("linkage").joinpath("data/surname_readings.tsv").read_text("utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        surname, reading = line.split("\t")
        syllables = reading.split()
        if len(surname) == 1 and len(syllables) == 1:
            single[surname] = syllables[0]
        elif len(surname) == 2 and len(syllables) == 2:
            compound[surname] = (syllables[0], syllables[1])
        else:
            raise ValueError("surname_readings.tsv: one syllable per character expected")
    return single, compound


# Text made only of common Han characters is already clean (NFKC leaves them alone).
_ONLY_HAN_RE = re.compile("[\u4e00-\u9fff]+")


# Clerks' status notes (王秀英(已故)) are dropped; the list lives in name_notes.
_TRAILING_NOTES_RE = TRAILING_NOTES_RE


def _pre_clean(raw: str) -> str:
    """NFKC, no whitespace, no trailing bracketed note, one '·' between parts: everything
    before OpenCC."""
    if _ONLY_HAN_RE.fullmatch(raw):
        return raw
    text = _WHITESPACE_RE.sub("", unicodedata.normalize("NFKC", raw))
    text = _TRAILING_NOTES_RE.sub("", text)
    return _SEPARATORS_RE.sub(SEPARATOR, text).strip(SEPARATOR)


def clean_name(raw: str | None) -> str | None:
    """Simplified characters, separators unified to '·', no whitespace; None if blank.

    Deliberately conservative: digits, Latin letters and brackets inside the name are
    kept, since guessing what they mean would merge or split people silently; only a
    bracketed status note at the end (王秀英(已故), 李强【户主】) is dropped.
    """
    return clean_names([raw])[0]


def _t2s_batch(texts: list[str]) -> list[str]:
    """OpenCC t2s on many texts with one call (texts never contain the join character)."""
    if not texts:
        return []
    out: list[str] = _t2s().convert(_BATCH_JOIN.join(texts)).split(_BATCH_JOIN)
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


# f/hu (Southwestern Mandarin, Hunan, Fujian, Guangdong: 黄 huang said fang, 飞 fei said hui,
# 发 fa said hua): the f syllable, once -ng is folded, as its hu partner.  Not "f -> h": that
# folded 方 fang with 韩 han and 杭 hang, which no dialect merges, and missed 芳/黄.
_F_AS_HU = {"fa": "hua", "fo": "huo", "fan": "huan", "fei": "hui", "fen": "hun", "fu": "hu"}


def fuzzy_syllable(syllable: str) -> str:
    """Fold dialect confusions: zh/ch/sh -> z/c/s, n/r -> l, final -ng -> -n, f -> hu."""
    s = syllable
    if s[:2] in ("zh", "ch", "sh"):
        s = s[0] + s[2:]
    elif s[:1] in ("n", "r") and len(s) > 1 and s != "ng":
        s = "l" + s[1:]
    if len(s) > 2 and s.endswith("ng"):
        s = s[:-1]  # ang/eng/ing/iang/uang -> an/en/in/ian/uan (ong has no -on partner)
    return _F_AS_HU.get(s, s)


_CHAR_PINYIN = _LazyTable(_compute_char_pinyin)
_FUZZY = _LazyTable(fuzzy_syllable)
# Names holding these need the general tokeniser; all others are one syllable per character.
_NEEDS_TOKENISER_RE = re.compile("[0-9A-Za-z" + SEPARATOR + "]")


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


def _split_surname(clean: str) -> tuple[list[str], int]:
    """(syllables of a clean name, how many of them belong to the surname)."""
    single, compound = _surname_table()
    if SEPARATOR in clean:
        first_part, _, rest = clean.partition(SEPARATOR)
        surname = _syllables(first_part)
        return surname + _syllables(rest), len(surname)
    if _NEEDS_TOKENISER_RE.search(clean) is None:  # the common case: one syllable a character
        syllables = list(map(_CHAR_PINYIN.__getitem__, clean))
    else:
        syllables = _syllables(clean)
    if len(clean) >= 3 and clean[:2] in compound:  # two Han characters, two syllables
        syllables[0:2] = compound[clean[:2]]
        return syllables, 2
    first = clean[0]
    if first in single:
        syllables[0] = single[first]
    return syllables, 1


def _keys(clean: str) -> tuple[str, str, str, str, str]:
    """The five pinyin keys of a clean name, in PINYIN_FIELDS order."""
    syllables, n_surname = _split_surname(clean)
    surname_py = "".join(syllables[:n_surname])
    given_py = "".join(syllables[n_surname:])
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


def _columns(names: list[str | None]) -> dict[str, pa.Array]:
    """name_clean, name_len and the pinyin key columns for clean names (None -> all NULL)."""
    blank = (None,) * len(PINYIN_FIELDS)
    keys = [_keys(n) if n else blank for n in names]
    return {
        "name_clean": pa.array(names, pa.string()),
        "name_len": pa.array([len(n) if n else None for n in names], pa.int32()),
        **{
            field: pa.array([k[i] for k in keys], pa.string())
            for i, field in enumerate(PINYIN_FIELDS)
        },
    }


def pinyin_table(names: Iterable[str]) -> pa.Table:
    """``name_clean`` plus the :class:`NamePinyin` columns, one row per distinct clean name."""
    columns = _columns(list(dict.fromkeys(n for n in names if n)))
    del columns["name_len"]
    return pa.table(columns)


def name_table(raw_names: Iterable[str | None]) -> pa.Table:
    """``name_raw`` -> name_clean, name_len and pinyin keys, one row per distinct raw value.

    Each distinct name is converted once; standardise_table spreads the rows back.
    """
    raws = list(dict.fromkeys(r for r in raw_names if r is not None))
    return pa.table({"name_raw": pa.array(raws, pa.string()), **_columns(clean_names(raws))})
