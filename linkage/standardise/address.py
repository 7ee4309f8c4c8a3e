"""Addresses: reduce free text to the part below the county, in one written form.

The county, township and village come from ``region_code``; what the address adds is the
remainder (street, group, house number).  So the leading administrative run (province,
prefecture, county) is stripped, Chinese numerals before address units become digits, and
unit words are unified (幢/号楼 -> 栋, 村民小组/社 -> 组).  No free parsing: numerals are
converted only where an address unit follows (cn2an on a whole address rewrites place
names: 六盘水市 -> 6盘水市), and prefixes only at the very start of the text.

Normalising is idempotent: prefixes are stripped until none is left, so a normalised
address normalises to itself.  About 4 us an address here (prefix decisions are cached
per leading run of Han characters, which the addresses of one village share).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import pyarrow as pa

# --- clean-up ------------------------------------------------------------------------
_PUNCT_RE = re.compile(r"[^\w#-]|_")
_HYPHENS_RE = re.compile(r"-+")
_LONE_HYPHEN_RE = re.compile(r"(?<![0-9])-|-(?![0-9])")

# --- numbers before address units -----------------------------------------------------
_UNIT_ALT = "村民小组|小组|号院|号楼|单元|号|栋|幢|楼|室|层|组|队|弄|巷|排|社(?!区)"
_CN_DIGITS = "零〇一二两三四五六七八九十百千"
# Every pattern below is linear in the length of the text: each may start only at the
# beginning of a run (the look-behinds), and no unit word starts with a digit or 第, so a
# failed look-ahead costs one step per character given back.  Without the look-behinds a
# run of k numerals was re-scanned from each of its k characters: a 1 MB address took
# minutes.
_CN_NUMBER_RE = re.compile(f"(?<![{_CN_DIGITS}])[{_CN_DIGITS}]+(?={_UNIT_ALT})")
_CN_DIGIT_RE = re.compile(f"[{_CN_DIGITS}]")
_ORDINAL_RE = re.compile(f"(?<!第)第+(?=[0-9]+(?:{_UNIT_ALT}))")
# Leading zeros of a number before a unit (0012号 -> 12号, 000号 -> 0号): all of them before
# a non-zero digit, all but one in a number of zeros only.
_LEADING_ZERO_RE = re.compile(f"(?<![0-9])0+(?=[1-9][0-9]*(?:{_UNIT_ALT})|0(?:{_UNIT_ALT}))")
_SIMPLE_DIGITS = str.maketrans("零〇一二两三四五六七八九", "001223456789")
# Unit words after a number, unified in one pass: 号楼/幢 -> 栋, 号院 -> 号, 村民小组/小组/社 -> 组.
# The match includes the digit (a leading character class scans fast; a look-behind does not);
# 号院*楼 and 号院+ swallow repeats so the output never forms a new match (idempotent).
_UNIT_WORD_RE = re.compile("[0-9](?:号院*楼|幢|号院+|村民小组|小组|社(?!区))")
_LOWER_ASCII_RE = re.compile("[a-z]+")


def _unit_replacement(match: re.Match[str]) -> str:
    word = match.group(0)
    if word[-1] in "楼幢":
        return word[0] + "栋"
    if word[1] == "号":
        return word[0] + "号"
    return word[0] + "组"


# --- leading administrative run -------------------------------------------------------


def _han_class_excluding(chars: str) -> str:
    """A single regex class of CJK ideographs minus ``chars`` (faster than a look-ahead)."""
    ranges: list[tuple[int, int]] = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF)]
    for cp in sorted(map(ord, chars)):
        ranges = [
            piece
            for lo, hi in ranges
            for piece in (((lo, cp - 1), (cp + 1, hi)) if lo <= cp <= hi else ((lo, hi),))
            if piece[0] <= piece[1]
        ]
    return "[" + "".join(f"{chr(lo)}-{chr(hi)}" if lo < hi else chr(lo) for lo, hi in ranges) + "]"


PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州",
    "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港",
    "澳门",
)
_PROVINCE_FULL_RE = re.compile(
    "(?:北京|天津|上海|重庆)(?:市市辖区|市辖区|市)"
    "|(?:河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南"
    "|四川|贵州|云南|陕西|甘肃|青海|台湾)省"
    "|内蒙古自治区|广西壮族自治区|西藏自治区|宁夏回族自治区|新疆维吾尔自治区"
    "|(?:香港|澳门)特别行政区"
)
_PROVINCE_SHORT_RE = re.compile("|".join(sorted(PROVINCES, key=len, reverse=True)))
# A character that may be part of an administrative name: Han, not a sub-county word.
_BASE = _han_class_excluding("镇乡村街路巷号楼栋幢组社场弄室层")
# Characters that, right after 市/州/区/县, show the word was not an administrative name.
_NOT_AFTER = "(?![村组号栋幢楼室层场站厂路街巷道里弄社屯庄店院])(?=[\\s\\S])"
_PREFECTURE_RE = re.compile(f"(?:市辖区|{_BASE}{{2,7}}?(?:自治州|地区|市|州|盟)){_NOT_AFTER}")
# 镇/乡 may open a county name (镇原县, 乡宁县) but not sit inside one (柳湖镇新市村).
_COUNTY_RE = re.compile(
    f"(?:(?:[镇乡]{_BASE}{{1,7}}?|{_BASE}{{2,8}}?)(?:县|区|市|旗)|{_BASE}县|[城郊矿]区){_NOT_AFTER}"
)
# Endings that look like a prefecture or county but name a place inside one.
_NOT_ADMIN_ENDINGS = (
    "小区", "社区", "园区", "校区", "景区", "厂区", "营区", "片区", "街区", "住宅区", "生活区",
    "家属区", "宿舍区", "工业区", "商业区", "保护区", "服务区", "示范区", "安置区", "超市",
    "菜市", "集市", "门市", "夜市",
)


def _cn_number(numeral: str) -> str:
    """Arabic form of a Chinese numeral; unchanged if cn2an cannot read it."""
    if not any(ch in "十百千" for ch in numeral):
        return numeral.translate(_SIMPLE_DIGITS)  # 一二 -> 12, read digit by digit
    import cn2an  # imported lazily: slow to import

    try:
        return str(int(cn2an.cn2an(numeral, "smart")))
    except (ValueError, KeyError, TypeError, IndexError):
        return numeral


_NUMBER_CACHE: dict[str, str] = {}


def _replace_number(match: re.Match[str]) -> str:
    numeral = match.group(0)
    arabic = _NUMBER_CACHE.get(numeral)
    if arabic is None:
        arabic = _NUMBER_CACHE[numeral] = _cn_number(numeral)
    return arabic


def _admin_end(level: re.Pattern[str], text: str) -> int:
    """Length of the leading administrative name of this level in ``text`` (0 if none)."""
    match = level.match(text)
    if match is None or match.group(0).endswith(_NOT_ADMIN_ENDINGS):
        return 0
    return match.end()


def _strip_prefix_once(text: str) -> str:
    """Remove at most one province, one prefecture and one county name from the start."""
    match = _PROVINCE_FULL_RE.match(text)
    if match and match.end() < len(text):
        text = text[match.end():]
    else:
        short = _PROVINCE_SHORT_RE.match(text)
        if short:  # "甘肃平凉市...": a bare province name only before another level
            rest = text[short.end():]
            if _admin_end(_PREFECTURE_RE, rest) or _admin_end(_COUNTY_RE, rest):
                text = rest
    text = text[_admin_end(_PREFECTURE_RE, text):]
    return text[_admin_end(_COUNTY_RE, text):]


_ADMIN_SUFFIX_RE = re.compile("[省市州区县旗盟]")
# Every administrative name above is made of Han characters, and the rules look at most
# one character past a name (any non-Han character acts alike).  So what is stripped
# depends only on the leading run of Han characters and on whether more text follows:
# addresses of one village share that key, and the answer is cached per key.
_HAN_RUN_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]*")
_MORE_TEXT = "\x00"
_STRIP_CACHE: dict[str, int] = {}
_STRIP_CACHE_LIMIT = 500_000


def _strip_uncached(text: str) -> str:
    while True:
        if _ADMIN_SUFFIX_RE.search(text, 0, 24) is None:  # no admin name can end in reach
            return text
        stripped = _strip_prefix_once(text)
        if stripped == text:
            return text
        text = stripped


def strip_admin_prefix(text: str) -> str:
    """Strip the leading administrative run until nothing more is stripped."""
    match = _HAN_RUN_RE.match(text)
    run = match.end() if match else 0
    key = text[:run] + _MORE_TEXT if run < len(text) else text
    cut = _STRIP_CACHE.get(key)
    if cut is None:
        cut = len(key) - len(_strip_uncached(key))
        if len(_STRIP_CACHE) >= _STRIP_CACHE_LIMIT:
            _STRIP_CACHE.clear()
        _STRIP_CACHE[key] = cut
    return text[cut:]


def normalise_address(raw: str | None) -> str | None:
    """The address below the county in one written form; None if nothing is left."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw)
    if not text.isalnum():  # isalnum() is \w without "_": nothing to remove when it holds
        text = _PUNCT_RE.sub("", text)
    if "-" in text:
        text = _LONE_HYPHEN_RE.sub("", _HYPHENS_RE.sub("-", text))
    if "#" in text:
        text = text.replace("#", "号")
    if text.upper() != text:  # cheap test; only ASCII letters are upper-cased
        text = _LOWER_ASCII_RE.sub(lambda m: m.group(0).upper(), text)
    if _CN_DIGIT_RE.search(text):
        text = _CN_NUMBER_RE.sub(_replace_number, text)
    if "第" in text:
        text = _ORDINAL_RE.sub("", text)
    if "0" in text:
        text = _LEADING_ZERO_RE.sub("", text)
    text = _UNIT_WORD_RE.sub(_unit_replacement, text)
    text = strip_admin_prefix(text)
    return text or None


def address_table(raw_addresses: Iterable[str | None]) -> pa.Table:
    """``address_raw`` -> address_norm, one row per distinct raw value."""
    raws = list(dict.fromkeys(a for a in raw_addresses if a is not None))
    norms = [normalise_address(a) for a in raws]
    return pa.table(
        {
            "address_raw": pa.array(raws, pa.string()),
            "address_norm": pa.array(norms, pa.string()),
        }
    )
