"""Character confusions a clerk makes: same sound, same look, traditional form.

Homophones are what a pinyin input method offers for the same toneless syllable (with the
common -n/-ng confusion folded, so 敏/明 and 林/玲 count); they are built on first use from
pypinyin over the characters names use plus a few favourites (莉, 玮, 薇 ...).
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

import opencc

from linkage.synth.names import name_universe
from linkage.synth.resources import read_table

# Name characters the generator never draws but a clerk's input method offers.
_EXTRA_NAME_CHARS = (
    "莉俐力立利黎玮维薇炜卫纬娅雅亚婕捷琪淇琦祺棋瑄宣晗寒菡韩钰毓煜昱铭鸣茗珺君筠瑾锦"
    "槿璐露潞芸昀韵妮霓倪鑫馨欣昕琳霖淋麟翔祥详彤桐童亭庭廷霆怡仪宜颐瑶遥姚谣涵含函琦"
    "淇"
)


def _fold(syllable: str) -> str:
    """Fold -ng into -n after a/e/i (the commonest input-method confusion)."""
    s = syllable
    return s[:-1] if s.endswith("ng") and len(s) > 2 and s[-3] in "aei" else s


@lru_cache(maxsize=1)
def homophones() -> dict[str, tuple[str, ...]]:
    """char → other name characters with the same toneless syllable, or failing that the
    same syllable once -n/-ng is folded (敏→明)."""
    # pypinyin takes 0.2 s to import, and every `linkage` command imports this module
    # through the CLI: loaded on first use.
    from pypinyin import lazy_pinyin

    universe = sorted(set(name_universe()) | set(_EXTRA_NAME_CHARS))
    sound = {ch: lazy_pinyin(ch)[0] for ch in universe}
    exact: dict[str, list[str]] = defaultdict(list)
    fuzzy: dict[str, list[str]] = defaultdict(list)
    for ch in universe:
        exact[sound[ch]].append(ch)
        fuzzy[_fold(sound[ch])].append(ch)
    table = {}
    for ch in universe:
        others = tuple(c for c in exact[sound[ch]] if c != ch) or tuple(c for c in fuzzy[_fold(sound[ch])] if c != ch)
        if others:
            table[ch] = others
    return table


@lru_cache(maxsize=1)
def similar() -> dict[str, tuple[str, ...]]:
    """char → visually similar characters (both directions of the shipped pairs)."""
    table: dict[str, set[str]] = defaultdict(set)
    for r in read_table("synth_similar_chars.csv"):
        table[r["char"]].add(r["similar"])
        table[r["similar"]].add(r["char"])
    return {k: tuple(sorted(v)) for k, v in sorted(table.items())}


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    """The traditional-character form (OpenCC s2t)."""
    return _converter().convert(text)
