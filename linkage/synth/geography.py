"""Where the synthetic residents live: real NBS 2023 villages of 平凉市 and two districts of 兰州市.

Population is skewed between counties (roughly by census size, Lanzhou scaled down) and
within a county towards urban residents' committees, so blocking on county or village
sees realistic block sizes.  Moves go mostly to the urban districts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.dtypes import StringDType

from linkage.synth.resources import read_table

# Share of households per county (current GB/T 2260 codes).
COUNTY_WEIGHTS: dict[int, float] = {
    620802: 0.19,  # 崆峒区
    620821: 0.10,  # 泾川县
    620822: 0.065,  # 灵台县
    620823: 0.035,  # 崇信县
    620881: 0.06,  # 华亭市
    620825: 0.125,  # 庄浪县
    620826: 0.14,  # 静宁县
    620102: 0.18,  # 兰州市城关区
    620103: 0.105,  # 兰州市七里河区
}
# Where people who leave their county go.
MOVE_DESTINATION_WEIGHTS: dict[int, float] = {
    620802: 0.25,
    620102: 0.30,
    620103: 0.15,
    620821: 0.05,
    620822: 0.05,
    620823: 0.05,
    620881: 0.05,
    620825: 0.05,
    620826: 0.05,
}
URBAN_WEIGHT = 3.0  # a residents' committee holds ~3x the people of a village committee
URBAN_MOVE_WEIGHT = 5.0  # movers go to town

_SUFFIXES = (
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("社区服务中心", "社区"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
)


def short_village(name: str) -> str:
    """The name people write in an address: 阳坡村民委员会 → 阳坡村, 东街社区居委会 → 东街社区."""
    for suffix, replacement in _SUFFIXES:
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            return base if base.endswith(replacement) else base + replacement
    return name


@dataclass(frozen=True)
class Geography:
    """Villages as parallel arrays; an index into them identifies a village."""

    code: np.ndarray  # int64, 12-digit NBS code
    code_str: np.ndarray  # StringDType
    county: np.ndarray  # int64, 6-digit
    township: np.ndarray  # int64, 9-digit
    urban: np.ndarray  # bool: residents' committee (village part 001-199)
    prefix: np.ndarray  # StringDType: 甘肃省平凉市崆峒区东关街道东街社区
    cut_city: np.ndarray  # int64: characters of province + city at the start of prefix
    cut_county: np.ndarray  # int64: characters of province + city + county
    weight: np.ndarray  # float64: share of households, sums to 1
    counties: np.ndarray  # int64: the home county codes, sorted

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Villages for n new households, by population weight."""
        return rng.choice(len(self.code), size=n, p=self.weight)

    def sample_in_counties(self, rng: np.random.Generator, counties: np.ndarray, movers: bool = False) -> np.ndarray:
        """One village per row inside the row's county (urban-heavy when ``movers``)."""
        weight = self.weight * np.where(self.urban, URBAN_MOVE_WEIGHT / URBAN_WEIGHT, 1.0) if movers else self.weight
        return _choose_in_groups(rng, counties, self.county, weight)

    def sample_other_county(self, rng: np.random.Generator, villages: np.ndarray) -> np.ndarray:
        """A destination village in another county, for each origin village."""
        codes = np.array(sorted(MOVE_DESTINATION_WEIGHTS), dtype=np.int64)
        w = np.array([MOVE_DESTINATION_WEIGHTS[int(c)] for c in codes])
        w = np.broadcast_to(w, (len(villages), len(codes))).copy()
        w[self.county[villages][:, None] == codes[None, :]] = 0.0
        cum = np.cumsum(w, axis=1)
        u = rng.random(len(villages)) * cum[:, -1]
        dest = codes[(cum <= u[:, None]).sum(axis=1)]
        return self.sample_in_counties(rng, dest, movers=True)

    def sample_other_township(self, rng: np.random.Generator, villages: np.ndarray) -> np.ndarray:
        """A village in another township of the same county (the county seat most often)."""
        return self._resample_until(rng, villages, self.county, lambda new: self.township[new] != self.township[villages], True)

    def sample_same_township(self, rng: np.random.Generator, villages: np.ndarray) -> np.ndarray:
        """Another village of the same township (an archive filed by a neighbouring clinic)."""
        return self._resample_until(rng, villages, self.township, lambda new: new != villages, False)

    def _resample_until(self, rng, villages, groups, accept, movers) -> np.ndarray:
        weight = self.weight * np.where(self.urban, URBAN_MOVE_WEIGHT / URBAN_WEIGHT, 1.0) if movers else self.weight
        out = villages.copy()
        todo = np.arange(len(villages))
        for _ in range(30):
            if len(todo) == 0:
                break
            out[todo] = _choose_in_groups(rng, groups[villages[todo]], groups, weight)
            todo = todo[~accept(out)[todo]]
        return out  # rows still failing have a single-village group: keep the draw


def _choose_in_groups(rng: np.random.Generator, row_group: np.ndarray, cand_group: np.ndarray, cand_weight: np.ndarray) -> np.ndarray:
    """For each row, a candidate index from the row's group, by weight (vectorised)."""
    order = np.argsort(cand_group, kind="stable")
    groups = cand_group[order]
    cum = np.cumsum(cand_weight[order])
    start = np.searchsorted(groups, row_group, side="left")
    end = np.searchsorted(groups, row_group, side="right")
    if np.any(end == start):
        raise ValueError("a row's group has no candidate village")
    base = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    target = base + rng.random(len(row_group)) * (cum[end - 1] - base)
    pos = np.clip(np.searchsorted(cum, target, side="right"), start, end - 1)
    return order[pos]


@lru_cache(maxsize=1)
def _village_rows() -> tuple[tuple[int, str, str], ...]:
    return tuple((int(r["code"]), r["township"], r["village"]) for r in read_table("synth_villages.csv"))


@lru_cache(maxsize=1)
def county_names() -> dict[int, tuple[str, str, str]]:
    """Current county code → (province, city, county) names."""
    out = {}
    for r in read_table("synth_counties.csv"):
        if r["role"] == "home" and r["code"] == r["current_code"]:
            out[int(r["code"])] = (r["province"], r["city"], r["name"])
    return out


def load_geography(rng: np.random.Generator) -> Geography:
    """Villages with population weights (village sizes vary by a seeded log-normal factor)."""
    rows = _village_rows()
    code = np.array([r[0] for r in rows], dtype=np.int64)
    county = code // 1_000_000
    township = code // 1000
    urban = (code % 1000) < 200
    names = county_names()
    prefixes, cut_city, cut_county = [], [], []
    for c, town, village in rows:
        province, city, county_name = names[c // 1_000_000]
        prefixes.append(province + city + county_name + town + short_village(village))
        cut_city.append(len(province + city))
        cut_county.append(len(province + city + county_name))
    size = np.where(urban, URBAN_WEIGHT, 1.0) * rng.lognormal(0.0, 0.4, len(code))
    weight = np.zeros(len(code))
    for c, share in COUNTY_WEIGHTS.items():
        m = county == c
        weight[m] = share * size[m] / size[m].sum()
    weight /= weight.sum()
    return Geography(
        code=code,
        code_str=code.astype(str).astype(StringDType()),
        county=county,
        township=township,
        urban=urban,
        prefix=np.array(prefixes, dtype=StringDType()),
        cut_city=np.array(cut_city, dtype=np.int64),
        cut_county=np.array(cut_county, dtype=np.int64),
        weight=weight,
        counties=np.array(sorted(COUNTY_WEIGHTS), dtype=np.int64),
    )

