"""Masked identifiers and what a reviewer may learn about them without seeing them.

Reviewers see ID numbers as first 6 + last 4 (110105********1234) and phones as first 3 +
last 4 (139****5678) unless they ask to reveal (which is audited).  How two hidden values
relate ("one character differs, position 13") is computed from the real values and shown
instead, so masking costs the reviewer little.
"""

from __future__ import annotations

import re
import unicodedata

from linkage.standardise.phone import normalise_phone

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
_NON_DIGIT = re.compile(r"\D")


def _compact(value: str | None) -> str:
    text = unicodedata.normalize("NFKC", value or "")
    return _NON_ALNUM.sub("", text).upper()


def mask_id(value: str | None) -> str:
    """``11010519491231002X`` -> ``110105********002X``; values without digits are shown as is
    (placeholders such as 无 or 不详 are not identifiers)."""
    if value is None:
        return ""
    raw = str(value).strip()
    if not any(ch.isdigit() for ch in raw):
        return raw
    text = _compact(raw)
    if len(text) >= 10:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    return "*" * len(text)


def mask_phone(value: str | None) -> str:
    """``13912345678`` -> ``139****5678``; a landline keeps only its last 4 digits."""
    if value is None:
        return ""
    raw = str(value).strip()
    digits = _NON_DIGIT.sub("", unicodedata.normalize("NFKC", raw))
    if not digits:
        return raw
    digits = normalise_phone(raw) or digits  # +86 / 0086 dropped, as the engine reads it
    if len(digits) == 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) >= 7:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def mask_name(value: str | None) -> str:
    """``王小芳`` -> ``王**`` (for listings that may leave the reviewer's screen)."""
    text = (value or "").strip()
    return text[:1] + "*" * (len(text) - 1) if text else ""


def id_relation(left: str | None, right: str | None) -> str:
    """How two identifiers relate, without their digits: same / one differs / swap / different."""
    a, b = _compact(left), _compact(right)
    if not a or not b:
        return "one missing" if (a or b) else "both missing"
    if a == b:
        return "same"
    if len(a) != len(b):
        return f"different lengths ({len(a)} and {len(b)})"
    diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    if len(diff) == 1:
        return f"one character differs (position {diff[0] + 1})"
    if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
        return f"adjacent characters swapped (positions {diff[0] + 1}-{diff[1] + 1})"
    return f"different ({len(diff)} of {len(a)} characters)"


def phone_relation(left: str | None, right: str | None) -> str:
    """As :func:`id_relation`, on the numbers as the engine reads them (linkage.standardise.
    phone: +86 and 0086 dropped), so ``+86 139 1234 5678`` and ``139-1234-5678`` are the same."""
    return id_relation(phone_key(left), phone_key(right))


def phone_key(value: str | None) -> str:
    """The number as the engine compares it; the bare digits of a value it does not read as a
    phone (too short, a filler)."""
    return normalise_phone(value) or _NON_DIGIT.sub("", unicodedata.normalize("NFKC", value or ""))
