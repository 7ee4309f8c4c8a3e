"""What the engine knows about a record that a reviewer needs even when identifiers are masked.

Masking hides ID digits and phones, but the decisive clue is often a *fact about* a value, not
the value: the ID's embedded birth date contradicts the record, its check digit fails, it is
a 15-digit legacy number, the birth date is a placeholder the engine scored as unknown, the
name is a newborn placeholder.  These flags are computed here with the engine's own
standardisers (linkage.standardise), never re-implemented, so the screen says exactly what the
scorer saw.  Pure functions: raw values in, short display strings out.

Pair-level facts (an ID shared with an archive it does not fit, a lunar birthday) come from
the comparison levels in the pair's evidence (``id=号同但生日/性别不符``, ``dob=农历生日``), read
back as level codes (``id.shared_not_fitting``, ``dob.lunar``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from linkage.model.levels import code_of
from linkage.standardise.dates import clean_dob, dob_precision, parse_date
from linkage.standardise.id_number import clean_id_text, parse_id
from linkage.standardise.name import clean_name
from linkage.standardise.name_notes import has_status_note, newborn_placeholder
from linkage.standardise.sex import normalise_sex

SEX_SHOWN = {"M": "男", "F": "女"}
# Comparison levels (linkage.model.comparisons) that are facts a reviewer should see.
ID_NOT_FITTING = "id.shared_not_fitting"
ID_BAD_CHECK_SHARED = "id.exact_bad_checksum"
LUNAR_LEVELS = {"dob.lunar": "lunar birthday: one date read as lunar gives the other",
                "dob.lunar_shift": "15-60 days apart: a lunar birthday converted loosely"}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def evidence_labels(evidence: str | None) -> dict[str, str]:
    """``name=同音 +7.9; id=空 0`` (optionally ``via X: ...``) -> {'name': '同音', 'id': '空'}."""
    text = _text(evidence)
    if text.startswith("via ") and ": " in text:
        text = text.split(": ", 1)[1]
    labels: dict[str, str] = {}
    for part in text.split(";"):
        field, sep, rest = part.strip().partition("=")
        if sep and field:
            labels[field.strip()] = rest.rsplit(" ", 1)[0].strip() if " " in rest else rest.strip()
    return labels


def evidence_levels(evidence: str | None) -> dict[str, str]:
    """``name=同音 +7.9; id=空 0`` -> {'name': 'name.homophone', 'id': 'id.null'}: the level
    codes behind the evidence's display labels (a label no level has is left out)."""
    out = {}
    for field, label in evidence_labels(evidence).items():
        code = code_of(field, label)
        if code is not None:
            out[field] = code
    return out


def shown_sex(raw: Any) -> str:
    """The sex as typed, with 男/女 beside it where the typed form differs (``2 → 女``)."""
    text = _text(raw)
    if not text:
        return ""
    norm = normalise_sex(text)
    if norm is None:
        return f"{text} [unknown]"
    shown = SEX_SHOWN[norm]
    return shown if text == shown else f"{text} → {shown}"


def shown_date(raw: Any) -> str:
    """The date as typed, with YYYY-MM-DD beside it where the typed form differs."""
    text = _text(raw)
    if not text:
        return ""
    parsed = parse_date(text)
    if parsed is None:
        return f"{text} [not a date]"
    iso = parsed.isoformat()
    return iso if text == iso else f"{text} → {iso}"


def _gap(a: date, b: date) -> str:
    """How far apart two dates are, in words a reviewer reads at a glance."""
    if (a.year, a.month, a.day) == (b.year, b.day, b.month):
        return "day and month swapped"
    days = abs((a - b).days)
    if days < 62:
        return f"{days} days apart"
    years, rest = divmod(days, 365)
    return f"{years} y {rest} d apart" if years else f"{days} days apart"


def birth_flags(side: dict[str, Any]) -> list[str]:
    """Facts about the record's birth date: a placeholder scored as unknown, 1 January."""
    raw = _text(side.get("birth_date"))
    if not raw:
        return []
    created = parse_date(_text(side.get("created_date")))
    dob, placeholder = clean_dob(raw, created)
    if placeholder:
        return ["placeholder birth date: scored as unknown"]
    if dob is not None and dob_precision(dob) == "year":
        return ["1 January: often a year-only date"]
    return []


def id_flags(side: dict[str, Any]) -> list[str]:
    """Facts about the ID number that masking would hide: status, legacy form, and whether
    the birth date and sex it encodes fit this record (and by how much they miss)."""
    raw = _text(side.get("id_number"))
    if not raw:
        return []
    info = parse_id(raw)
    flags: list[str] = []
    if info.status == "placeholder":
        return ["placeholder, not an ID"]
    if info.status == "malformed":
        flags.append("malformed: not a usable ID" if info.norm is None else "impossible embedded date")
    if info.status == "bad_check":
        flags.append("check digit fails")
    if info.norm is not None and len(clean_id_text(raw)) == 15:
        flags.append("15-digit legacy ID (upgraded to 18)")
    record_dob, _ = clean_dob(_text(side.get("birth_date")), parse_date(_text(side.get("created_date"))))
    if info.dob is not None and record_dob is not None and info.dob != record_dob:
        flags.append(f"ID encodes {info.dob.isoformat()} ≠ record ({_gap(info.dob, record_dob)})")
    record_sex = normalise_sex(_text(side.get("sex")) or None)
    if info.norm is not None and info.sex is not None and record_sex is not None and info.sex != record_sex:
        flags.append(f"ID encodes {SEX_SHOWN[info.sex]} ≠ record {SEX_SHOWN[record_sex]}")
    return flags


def name_flags(side: dict[str, Any]) -> list[str]:
    """A newborn placeholder (王芳之子: name unknown, parent's name known) or a status note."""
    raw = _text(side.get("name"))
    if not raw:
        return []
    flags: list[str] = []
    placeholder = newborn_placeholder(clean_name(raw))
    if placeholder is not None:
        flags.append("newborn placeholder" + (f" (parent {placeholder.parent})" if placeholder.parent else ""))
    if has_status_note(raw):
        flags.append("status note in the name field")
    return flags


def pair_flags(evidence: str | None, left: dict[str, Any], right: dict[str, Any]) -> dict[str, list[str]]:
    """Facts the pair's comparison levels carry, attached to the side they concern
    ('l', 'r' or 'pair')."""
    labels = evidence_levels(evidence)
    out: dict[str, list[str]] = {"l": [], "r": [], "pair": []}
    if labels.get("id") == ID_NOT_FITTING:
        misfits = [s for s, side in (("l", left), ("r", right)) if any(
            f.startswith("ID encodes") for f in id_flags(side))]
        for s in misfits or ["pair"]:
            out[s].append("ID shared with an archive it does not fit")
    if labels.get("id") == ID_BAD_CHECK_SHARED:
        out["pair"].append("same ID on both, but it fails its check digit")
    lunar = LUNAR_LEVELS.get(labels.get("dob", ""))
    if lunar:
        out["pair"].append(lunar)
    return out


def side_flags(side: dict[str, Any]) -> dict[str, list[str]]:
    """All per-record flags, by the row of the screen they belong to."""
    return {"name": name_flags(side), "birth": birth_flags(side), "id": id_flags(side)}
