"""The part of an address below the village: 三组12号 in the country, 解放路8号3栋2单元502室 in town.

Rural groups are written with Chinese numerals, house and flat numbers with Arabic ones, as
most clerks do; the ``address_numerals`` corruption flips one of them.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from numpy.dtypes import StringDType

ROADS = (
    "解放路", "人民路", "中山路", "建设路", "和平路", "新民路", "东大街", "西大街", "南大街",
    "北大街", "文化路", "团结路", "胜利路", "民主路", "滨河路", "工业路", "长庆路", "南关路",
    "北关路", "东关路", "西关路", "宝塔路", "紫荆路", "南滨路",
    "广场路", "新华路", "友谊路", "育才路", "体育路", "商贸路", "迎宾路", "光明路", "安定路",
    "永安路", "兴隆路", "东环路", "西环路",
)
_NUM = np.array([str(i) for i in range(1000)], dtype=StringDType())
_ROADS = np.array(ROADS, dtype=StringDType())


@lru_cache(maxsize=1)
def _cn() -> np.ndarray:
    """一 ... 九十九 by number (index 0 empty).  Built on first use: cn2an takes 0.1 s to
    import, and every `linkage` command imports this module through the CLI."""
    import cn2an

    return np.array([""] + [cn2an.an2cn(str(i)) for i in range(1, 100)], dtype=StringDType())


@lru_cache(maxsize=1)
def _cn_value() -> dict[str, int]:
    return {str(text): i for i, text in enumerate(_cn().tolist()) if i}


def _cat(*parts: np.ndarray | str) -> np.ndarray:
    out = parts[0]
    for p in parts[1:]:
        out = np.strings.add(out, p)
    return out


def draw_rests(rng: np.random.Generator, urban: np.ndarray) -> np.ndarray:
    """One address remainder per household (village or community already known)."""
    n = len(urban)
    group = rng.integers(1, 13, n)
    house = rng.integers(1, 151, n)
    rural = _cat(_cn()[group], "组", _NUM[house], "号")
    road = _ROADS[rng.integers(0, len(ROADS), n)]
    number = rng.integers(1, 300, n)
    building = rng.integers(1, 25, n)
    unit = rng.integers(1, 7, n)
    flat = rng.integers(1, 19, n) * 100 + rng.integers(1, 5, n)
    block = np.where(rng.random(n) < 0.6, "栋", "号楼").astype(StringDType())
    town = _cat(road, _NUM[number], "号", _NUM[building], block, _NUM[unit], "单元", flat.astype(str).astype(StringDType()), "室")
    return np.where(urban, town, rural).astype(StringDType())


_CN_UNIT = re.compile(r"([一二三四五六七八九十]+)(组|队|社)")
_AN_UNIT = re.compile(r"(\d+)(组|栋|号楼|单元)")


def flip_numerals(address: str, u: float) -> str | None:
    """One number before an address unit rewritten in the other style (三组 ↔ 3组), or None."""
    cn, cn_value = _cn(), _cn_value()
    spans = [(m, "cn") for m in _CN_UNIT.finditer(address) if m.group(1) in cn_value]
    spans += [(m, "an") for m in _AN_UNIT.finditer(address) if 0 < int(m.group(1)) < len(cn)]
    if not spans:
        return None
    m, style = spans[int(u * len(spans))]
    number = str(cn_value[m.group(1)]) if style == "cn" else str(cn[int(m.group(1))])
    return address[: m.start(1)] + number + address[m.end(1) :]
