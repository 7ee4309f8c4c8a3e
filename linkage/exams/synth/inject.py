"""What fabrication looks like, injected at known rates into honest exams (the truth).

* ``template``: a doctor copies one exam's values into several residents' exams of the same
  village and year (all six indicators, or five or four of them, the rest measured);
* ``copied_last_year``: a resident's exam is last year's exam typed again;
* ``lr_gap``: the right-arm systolic pressure is off by 12-36 mmHg;
* bad values as exports carry them: metres for centimetres, mg/dL glucose, a letter O.
"""

from __future__ import annotations

import numpy as np

SIX = ("height", "weight", "waist", "sbp_left", "dbp_left", "pulse")
TEMPLATE_EVENT_RATE = 0.02  # per village-year with at least TEMPLATE_MIN_EXAMS exams
TEMPLATE_MIN_EXAMS = 6
TEMPLATE_MIN_SIZE, TEMPLATE_MAX_SIZE = 3, 25
TEMPLATE_COPIED = {6: 0.5, 5: 0.3, 4: 0.2}  # how many of the six the doctor copies
COPIED_LAST_YEAR_RATE = 0.01
LR_GAP_RATE = 0.015
BAD_VALUE_RATE = 0.002  # per kind below
BAD_KINDS = ("height_metres", "weight_letter_o", "glucose_mg_dl")


def templates(rng: np.random.Generator, village: np.ndarray, eligible: np.ndarray,
              values: dict[str, np.ndarray], rate: float = TEMPLATE_EVENT_RATE) -> list[np.ndarray]:
    """Copy templates within villages, in place; returns each event's exam rows (template first)."""
    events = []
    rows = np.flatnonzero(eligible)
    order = rows[np.argsort(village[rows], kind="stable")]
    starts = np.flatnonzero(np.r_[True, village[order][1:] != village[order][:-1]])
    ends = np.r_[starts[1:], len(order)]
    for start, end in zip(starts, ends):
        n = end - start
        if n < TEMPLATE_MIN_EXAMS or rng.random() >= rate:
            continue
        k = int(min(TEMPLATE_MIN_SIZE + rng.geometric(0.18) - 1, n, TEMPLATE_MAX_SIZE))
        members = rng.choice(order[start:end], size=k, replace=False)
        copied = rng.choice(list(TEMPLATE_COPIED), p=list(TEMPLATE_COPIED.values()))
        indicators = [SIX[i] for i in np.sort(rng.choice(len(SIX), size=copied, replace=False))]
        for name in indicators:
            values[name][members[1:]] = values[name][members[0]]
            side = {"sbp_left": "sbp_right", "dbp_left": "dbp_right"}.get(name)
            if side:
                values[side][members[1:]] = values[side][members[0]]
        events.append(members)
    return events


def lr_gaps(rng: np.random.Generator, values: dict[str, np.ndarray]) -> np.ndarray:
    """Shift the right systolic pressure of a share of exams; returns the mask."""
    n = len(values["sbp_left"])
    hit = (rng.random(n) < LR_GAP_RATE) & ~np.isnan(values["sbp_left"])
    gap = np.round(rng.uniform(12, 36, n) / 2) * 2 * np.where(rng.random(n) < 0.5, -1, 1)
    values["sbp_right"] = np.where(hit, values["sbp_left"] + gap, values["sbp_right"])
    return hit


def bad_values(rng: np.random.Generator, n: int) -> np.ndarray:
    """Index into BAD_KINDS per exam, -1 for none (at most one bad value per exam)."""
    u = rng.random(n)
    kind = np.full(n, -1)
    for i in range(len(BAD_KINDS)):
        kind[(u >= i * BAD_VALUE_RATE) & (u < (i + 1) * BAD_VALUE_RATE)] = i
    return kind
