"""One function per corruption kind: what the clerk's mistake turns a value into.

Each ``propose`` function looks at some archive rows and returns ``(ok, new)``: ``ok`` is
False where the mistake cannot happen to that value (the kind is not *eligible* there) or
would change nothing, ``new`` the corrupted values.  Nothing is written here; corrupt.py
decides which proposals to keep, so a tag in the truth always means a real change.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.dtypes import StringDType

from linkage.synth import chars, dates
from linkage.synth.addresses import flip_numerals
from linkage.synth.archives import ArchiveTable
from linkage.synth.idcard import to_15
from linkage.synth.kinds import REFERENCE_DATE
from linkage.synth.people import draw_phones

Proposal = tuple[np.ndarray, np.ndarray]
Propose = Callable[[ArchiveTable, np.ndarray, np.random.Generator], Proposal]

_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
LEGACY_15_LAST_BIRTH_YEAR = 1998  # 15-digit numbers were issued until 1999
LUNAR_BIRTHDAY_BEFORE = 1970  # the generation that still gives its lunar birthday


def _per_value(values: np.ndarray, extra: list, rng: np.random.Generator, fn) -> Proposal:
    """Run ``fn(value, extra_item, u0, u1)`` per row; None means not eligible."""
    u = rng.random((len(values), 2))
    ok = np.zeros(len(values), dtype=bool)
    new = values.copy()
    for i, (v, e) in enumerate(zip(values.tolist(), extra)):
        out = fn(v, e, u[i, 0], u[i, 1])
        if out is not None and out != v:
            ok[i] = True
            new[i] = out
    return ok, new


# --- names -------------------------------------------------------------------------

def _replace_char(table: dict[str, tuple[str, ...]]):
    def fn(name: str, _e, u0: float, u1: float) -> str | None:
        spots = [i for i, c in enumerate(name) if c in table]
        if not spots:
            return None
        i = spots[int(u0 * len(spots))]
        options = table[name[i]]
        return name[:i] + options[int(u1 * len(options))] + name[i + 1 :]

    return fn


def name_homophone(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """A character swapped for one the input method offers for the same sound (丽→莉)."""
    return _per_value(t.name[rows], [None] * len(rows), rng, _replace_char(chars.homophones()))


def name_similar_char(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """A character misread as a similar-looking one (王→玉, 未→末)."""
    return _per_value(t.name[rows], [None] * len(rows), rng, _replace_char(chars.similar()))


def name_traditional(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """Written in traditional characters (張偉); eligible when the name has any."""
    return _per_value(t.name[rows], [None] * len(rows), rng, lambda v, _e, _u0, _u1: chars.traditional(v))


def _drop(name: str, surname_len: int, u0: float, _u1: float) -> str | None:
    spots = [i for i in range(surname_len, len(name)) if name[i] not in "· "]
    if len(spots) < 2:
        return None  # a given name of one character cannot lose one
    i = spots[int(u0 * len(spots))]
    return name[:i] + name[i + 1 :]


def name_dropped_char(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """One character of a given name of two or more characters left out."""
    return _per_value(t.name[rows], t.surname_len[rows].tolist(), rng, _drop)


def _space(name: str, surname_len: int, u0: float, u1: float) -> str | None:
    if len(name) < 2:
        return None
    i = surname_len if 0 < surname_len < len(name) and u0 < 0.7 else 1 + int(u1 * (len(name) - 1))
    return name[:i] + " " + name[i:]


def name_space(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """A space typed inside the name, mostly after the surname to align 王 芳 with 张秀英."""
    return _per_value(t.name[rows], t.surname_len[rows].tolist(), rng, _space)


# --- ID numbers --------------------------------------------------------------------

def _constant(t: ArchiveTable, rows: np.ndarray, column: str, value) -> Proposal:
    old = getattr(t, column)[rows]
    new = np.full(len(rows), value, dtype=old.dtype)
    return old != new, new


def id_blank(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """No ID recorded."""
    return _constant(t, rows, "id_number", "")


def id_wu(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """"无" typed in the ID field."""
    return _constant(t, rows, "id_number", "无")


def _one_digit(v: str, _e, u0: float, u1: float) -> str | None:
    if len(v) != 18:
        return None
    i = int(u0 * 18)
    alphabet = "0123456789X" if i == 17 else "0123456789"
    options = [c for c in alphabet if c != v[i]]
    return v[:i] + options[int(u1 * len(options))] + v[i + 1 :]


def id_one_digit(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """One character of the ID mistyped."""
    return _per_value(t.id_number[rows], [None] * len(rows), rng, _one_digit)


def _swap(v: str, _e, u0: float, _u1: float) -> str | None:
    spots = [i for i in range(len(v) - 1) if v[i] != v[i + 1]]
    if len(v) != 18 or not spots:
        return None
    i = spots[int(u0 * len(spots))]
    return v[:i] + v[i + 1] + v[i] + v[i + 2 :]


def id_swap(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """Two adjacent characters of the ID transposed."""
    return _per_value(t.id_number[rows], [None] * len(rows), rng, _swap)


def id_15(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """The legacy 15-digit number, for people old enough to have held one."""
    years = t.true_birth_year[rows].tolist()
    return _per_value(t.id_number[rows], years, rng, _legacy)


def _legacy(v: str, birth_year: int, _u0: float, _u1: float) -> str | None:
    if birth_year > LEGACY_15_LAST_BIRTH_YEAR or len(v) != 18 or v[6:8] != "19":
        return None
    return to_15(v)


def id_lowercase_x(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """x for X: only IDs whose check character is X are eligible."""
    old = t.id_number[rows]
    can = np.strings.endswith(old, "X") & (np.strings.str_len(old) == 18)
    return can, np.where(can, np.strings.replace(old, "X", "x"), old).astype(StringDType())


def id_fullwidth(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """Typed with a full-width input method: ６２０８…Ｘ."""
    return _per_value(t.id_number[rows], [None] * len(rows), rng, lambda v, _e, _u0, _u1: v.translate(_FULLWIDTH) if v else None)


def id_household(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """A household member's (valid!) ID filed on this archive."""
    old, other = t.id_number[rows], t.partner_id[rows]
    can = (other != "") & (other != old)
    return can, np.where(can, other, old).astype(StringDType())


# --- birth dates -------------------------------------------------------------------

def dob_blank(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """No birth date."""
    old = t.birth[rows]
    return ~np.isnat(old), np.full(len(rows), dates.NAT)


def dob_swap(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """Day and month exchanged (possible when the day is 1-12 and differs from the month)."""
    old = t.birth[rows]
    y, m, d = dates.split(np.where(np.isnat(old), dates.day("2000-01-01"), old))
    can = ~np.isnat(old) & (d <= 12) & (d != m)
    return can, np.where(can, dates.combine(y, np.where(can, d, m), np.where(can, m, d)), old)


def dob_year_off(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """The year one off (29 February becomes the 28th)."""
    old = t.birth[rows]
    safe = np.where(np.isnat(old), dates.day("2000-01-01"), old)
    y, m, d = dates.split(safe)
    y2 = y + np.where(rng.random(len(rows)) < 0.5, -1, 1)
    d2 = np.minimum(d, dates.days_in_month(y2, m))
    new = dates.combine(y2, m, d2)
    can = ~np.isnat(old) & (new < dates.day(REFERENCE_DATE))
    return can, np.where(can, new, old)


def dob_lunar(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """The lunar birthday written as a solar date, 19-54 days early: people born before 1970."""
    old = t.birth[rows]
    new = dates.lunar_as_solar(np.where(t.true_birth_year[rows] < LUNAR_BIRTHDAY_BEFORE, old, dates.NAT))
    return ~np.isnat(new), np.where(np.isnat(new), old, new)


def dob_placeholder(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """1900-01-01, or 1 January of the known year."""
    old = t.birth[rows]
    y, _, _ = dates.split(np.where(np.isnat(old), dates.day("2000-01-01"), old))
    jan1 = dates.combine(y, np.ones_like(y), np.ones_like(y))
    new = np.where((rng.random(len(rows)) < 0.5) | (jan1 == old), dates.day("1900-01-01"), jan1)
    return ~np.isnat(old) & (new != old), new


# --- sex, address, phone -----------------------------------------------------------

def sex_blank(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """No sex recorded."""
    return _constant(t, rows, "female", -1)


def address_abbrev(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """Province and city left out (and sometimes the county too)."""
    cut = np.where(rng.random(len(rows)) < 0.7, t.cut_city[rows], t.cut_county[rows]).tolist()
    return _per_value(t.address[rows], cut, rng, lambda v, c, _u0, _u1: v[c:] if len(v) > c else None)


def address_numerals(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """三组 written 3组, or 3栋 written 三栋."""
    return _per_value(t.address[rows], [None] * len(rows), rng, lambda v, _e, u0, _u1: flip_numerals(v, u0))


def address_old(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """After a move, the old address copied from the ID card."""
    old, before = t.address[rows], t.old_address[rows]
    can = (before != "") & (before != old)
    return can, np.where(can, before, old).astype(StringDType())


def phone_changed(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """A new mobile number."""
    old = t.phone[rows]
    new = draw_phones(rng, len(rows))
    return (old != "") & (new != old), new


def phone_blank(t: ArchiveTable, rows: np.ndarray, rng: np.random.Generator) -> Proposal:
    """No phone."""
    return _constant(t, rows, "phone", "")


PROPOSERS: dict[str, Propose] = {
    name: globals()[name]
    for name in (
        "name_homophone", "name_similar_char", "name_traditional", "name_dropped_char", "name_space",
        "id_blank", "id_wu", "id_one_digit", "id_swap", "id_15", "id_lowercase_x", "id_fullwidth", "id_household",
        "dob_blank", "dob_swap", "dob_year_off", "dob_lunar", "dob_placeholder",
        "sex_blank", "address_abbrev", "address_numerals", "address_old", "phone_changed", "phone_blank",
    )
}
# The ArchiveTable column each field's kinds write.
FIELD_COLUMN: dict[str, str] = {"name": "name", "id": "id_number", "dob": "birth", "sex": "female", "address": "address", "phone": "phone"}
