"""Apply data-entry mistakes to the archive table at the stated rates and record them.

Per field, exclusive kinds are one categorical draw per archive (an ID is blank *or*
mistyped, not both); name kinds are independent draws applied in order.  A drawn kind that
is not eligible for the value leaves it clean, so the observed rate among eligible
archives is the stated one.  Every applied kind is recorded as a tag for the truth file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.dtypes import StringDType

from linkage.synth.archives import ORIGINAL, ArchiveTable
from linkage.synth.kinds import CORRUPTION_KINDS, CORRUPTION_RATES, EXCLUSIVE_FIELDS, FIELD_KINDS, ORIGINAL_NOISE_RATES
from linkage.synth.mutations import FIELD_COLUMN, PROPOSERS

KIND_INDEX = {k: i for i, k in enumerate(CORRUPTION_KINDS)}


@dataclass(frozen=True)
class CorruptionResult:
    """Which archive carries which tag, and how many extra archives each kind could hit."""

    tags: np.ndarray  # bool (archives, len(CORRUPTION_KINDS))
    extra_eligible: dict[str, int]


def corrupt(rng: np.random.Generator, table: ArchiveTable, forced_id_rows: np.ndarray, forced_ids: np.ndarray) -> CorruptionResult:
    """Corrupt ``table`` in place.  ``forced_id_rows`` get ``forced_ids`` (child_parent_id)."""
    n = len(table)
    tags = np.zeros((n, len(CORRUPTION_KINDS)), dtype=bool)
    extra = table.origin != ORIGINAL
    eligible: dict[str, int] = {}

    table.id_number[forced_id_rows] = forced_ids
    tags[forced_id_rows, KIND_INDEX["id_household"]] = True
    spared = np.zeros(n, dtype=bool)
    spared[forced_id_rows] = True

    for field, kinds in FIELD_KINDS.items():
        column = getattr(table, FIELD_COLUMN[field])
        rate = {k: np.where(extra, CORRUPTION_RATES.get(k, 0.0), ORIGINAL_NOISE_RATES.get(k, 0.0)) for k in kinds}
        drawn = _draw_exclusive(rng, rate, kinds) if field in EXCLUSIVE_FIELDS else _draw_independent(rng, rate, kinds)
        if field == "id":
            drawn &= ~spared[:, None]
        proposals = []
        for j, kind in enumerate(kinds):
            rows = np.flatnonzero(extra | drawn[:, j])
            ok, new = PROPOSERS[kind](table, rows, rng)
            eligible[kind] = int(ok[extra[rows]].sum())
            apply = ok & drawn[rows, j]
            if field in EXCLUSIVE_FIELDS:
                proposals.append((rows[apply], new[apply]))  # all kinds see the clean value
            else:
                column[rows[apply]] = new[apply]  # independent kinds stack in order
            tags[rows[apply], KIND_INDEX[kind]] = True
        for rows, values in proposals:
            column[rows] = values
    return CorruptionResult(tags=tags, extra_eligible=eligible)


def _draw_exclusive(rng: np.random.Generator, rate: dict[str, np.ndarray], kinds: tuple[str, ...]) -> np.ndarray:
    """At most one kind per archive: one uniform against cumulative rates."""
    cum = np.cumsum(np.stack([rate[k] for k in kinds], axis=1), axis=1)
    u = rng.random(len(cum))[:, None]
    below = u < cum
    first = below & ~np.concatenate([np.zeros((len(cum), 1), dtype=bool), below[:, :-1]], axis=1)
    return first


def _draw_independent(rng: np.random.Generator, rate: dict[str, np.ndarray], kinds: tuple[str, ...]) -> np.ndarray:
    return np.stack([rng.random(len(rate[k])) < rate[k] for k in kinds], axis=1)


def kind_strings(origin_names: np.ndarray, tags: np.ndarray) -> np.ndarray:
    """truth.csv ``kind``: ``origin`` or ``origin:tag+tag`` in CORRUPTION_KINDS order."""
    suffix = np.full(len(origin_names), "", dtype=StringDType())
    for j, kind in enumerate(CORRUPTION_KINDS):
        rows = np.flatnonzero(tags[:, j])
        suffix[rows] = np.strings.add(suffix[rows], "+" + kind)
    tagged = suffix != ""
    out = np.asarray(origin_names).astype(StringDType())
    out[tagged] = np.strings.add(np.strings.add(out[tagged], ":"), np.strings.lstrip(suffix[tagged], "+"))
    return out
