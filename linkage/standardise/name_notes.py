"""What a name field says besides a name: newborn placeholders and clerks' status notes.

Why a module of its own: the scorer (a newborn placeholder is "name unknown, mother's name
known", never "names differ"), the review screen (flag it to the reviewer) and the report
all need the same reading, so there is exactly one.

Newborn archives are opened at the first home visit (新生儿访视), often before the child is
named.  The clerk then types a placeholder built on the mother's name (王芳之子, 李娜之女,
张敏之婴, 赵丽宝宝, 杨瑞的孩子), the child's surname and a baby word (王女婴, 张宝宝) or a
generic word (婴儿, 新生儿, 男婴, 女婴, 小孩).
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Generic placeholders: the whole field is one of these words.
GENERIC_NEWBORN_WORDS = frozenset({
    "婴儿", "新生儿", "男婴", "女婴", "婴", "小孩", "宝宝", "男孩", "女孩", "儿子", "女儿",
    "之子", "之女", "未取名", "未起名", "无名", "待定", "新生", "男宝", "女宝", "大宝", "二宝",
    # Dialect words for a baby or the youngest child, typed before the child is named:
    # 幺儿/幺妹/幺女 (西南官话), 男娃/女娃/娃娃 (西北, 西南), 囡囡 (吴语), 毛毛 (湘, 黔, 川).
    # Twins' archives both called 幺妹 at one address were joined as one child
    # (generator4, 1M persons).
    "幺儿", "幺妹", "幺女", "男娃", "女娃", "娃娃", "囡囡", "毛毛",
})

# A mother's (or father's) name followed by a kinship or baby word: 王芳之子, 赵丽宝宝.
_MOTHER_SUFFIX_RE = re.compile(
    r"^(?P<parent>[\u4e00-\u9fff·]{2,5}?)"
    r"(?:之子|之女|之婴|之儿|的儿子|的女儿|家宝宝|宝宝|之男婴|之女婴|男婴|女婴|之孩|小孩|婴儿|新生儿"
    r"|的孩子|之孩子|的宝宝|的小孩|的婴儿)"
    r"(?:[一二三1-3]|[(（][^)）]*[)）])?$")

# The child's surname and a baby word (王女婴, 李男婴, 张宝宝, 赵婴儿): the family is known, the
# child's name is not.  (A resident really called 王宝宝 loses only the name's evidence: the
# level is neutral, and an ID or the household's one archive of that birth date still links.)
_SURNAME_BABY_RE = re.compile(
    r"^[\u4e00-\u9fff](?:男婴|女婴|宝宝|婴儿|新生儿|之子|之女|幺儿|幺妹|幺女|男娃|女娃)(?:[一二三1-3])?$")

# Clerks' status notes after a name (王秀英(已故), 李强【户主】).  Only these count as
# notes: 张伟(大)/(小) and (1)/(2) tell household namesakes apart and are part of the name.
STATUS_NOTES = ("已故", "故", "死亡", "已死亡", "户主", "迁出", "已迁出", "外出", "外出务工",
                "务工", "重复", "注销", "已注销", "销户", "已销户", "不详")
TRAILING_NOTES_RE = re.compile(
    r"(?:[(\[【〔（](?:" + "|".join(STATUS_NOTES) + r")[)\]】〕）])+$")


class NewbornPlaceholder(NamedTuple):
    """A newborn placeholder: `parent` is the parent's name it is built on, or None."""

    parent: str | None


def newborn_placeholder(name: str | None) -> NewbornPlaceholder | None:
    """The placeholder reading of a cleaned name (simplified, no whitespace), or None
    when the field looks like a real name.

    >>> newborn_placeholder("王芳之子")
    NewbornPlaceholder(parent='王芳')
    >>> newborn_placeholder("新生儿")
    NewbornPlaceholder(parent=None)
    >>> newborn_placeholder("王女婴")           # the child's surname and a baby word
    NewbornPlaceholder(parent=None)
    >>> newborn_placeholder("王宝") is None
    True
    """
    if not name:
        return None
    if name in GENERIC_NEWBORN_WORDS or _SURNAME_BABY_RE.match(name):
        return NewbornPlaceholder(None)
    match = _MOTHER_SUFFIX_RE.match(name)
    if match:
        return NewbornPlaceholder(match.group("parent"))
    return None


def has_status_note(raw: str | None) -> bool:
    """True when the raw field ends in a clerk's status note (王秀英(已故))."""
    if not raw:
        return False
    return TRAILING_NOTES_RE.search(raw.strip()) is not None
