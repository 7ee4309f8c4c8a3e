"""Honest measurements of elderly residents, as village clinics record them.

Each resident has lasting traits (height, build, blood pressure level, pulse, glucose);
each exam measures them with noise and records them the way people do:

* height measured once and copied in later years (85 %), often to 0 or 5 (digit preference);
* weight and waist to whole units, a share rounded to 0 or 5;
* blood pressure on a mercury gauge read to even numbers, with a strong preference for
  readings ending in 0 (120/80), or an electronic device (any integer) — per doctor;
* the right arm often typed as the left, otherwise measured with a small inter-arm gap;
* pulse counted for 30 s (even) or 15 s (multiples of 4), glucose to 0.1 mmol/L.

So truly different residents agree on several values all the time: the benchmark's honest
false alarms come from here.
"""

from __future__ import annotations

import numpy as np

HEIGHT_COPIED = 0.85
MERCURY_SHARE = 0.7
RIGHT_COPIED = 0.4


def _prefer(rng: np.random.Generator, value: np.ndarray, step: float, share: float) -> np.ndarray:
    """Round a share of values to the nearest multiple of ``step`` (digit preference)."""
    rounded = np.round(value / step) * step
    return np.where(rng.random(len(value)) < share, rounded, value)


def traits(rng: np.random.Generator, female: np.ndarray) -> dict[str, np.ndarray]:
    """Lasting per-resident values (true, unrounded)."""
    n = len(female)
    f = female.astype(bool)
    sbp = np.clip(rng.normal(138, 17, n), 95, 210)
    return {
        "height": np.where(f, rng.normal(153, 6, n), rng.normal(164, 6.5, n)),
        "weight": np.clip(np.where(f, rng.normal(56, 9, n), rng.normal(63, 10, n)), 33, 120),
        "waist_offset": rng.normal(0, 6, n),
        "sbp": sbp,
        "dbp": np.clip(80 + 0.35 * (sbp - 138) + rng.normal(0, 7, n), 50, 120),
        "arm_gap": rng.normal(0, 3.5, n),
        "pulse": np.clip(rng.normal(76, 8, n), 50, 110),
        "glucose": np.clip(rng.lognormal(np.log(5.6), 0.18, n), 3.5, 20),
    }


def record_bp(rng: np.random.Generator, value: np.ndarray, mercury: np.ndarray) -> np.ndarray:
    """Mercury: even numbers, ~40 % to the nearest 10; electronic: any integer."""
    even = np.round(value / 2) * 2
    even = _prefer(rng, even, 10, 0.4)
    return np.where(mercury, even, np.round(value))


def measure(rng: np.random.Generator, t: dict[str, np.ndarray], person: np.ndarray,
            years_on: np.ndarray, mercury: np.ndarray, first_height: np.ndarray | None,
            ) -> dict[str, np.ndarray]:
    """One exam per row of ``person`` (index into the traits); values as recorded (floats).

    ``first_height``: last recorded height of the resident (NaN if none), copied most years.
    """
    n = len(person)
    h = t["height"][person] - 0.15 * years_on + rng.normal(0, 0.8, n)
    height = _prefer(rng, np.round(h), 5, 0.25)
    height = np.where(rng.random(n) < 0.08, np.round(h * 2) / 2, height)
    if first_height is not None:
        keep = ~np.isnan(first_height) & (rng.random(n) < HEIGHT_COPIED)
        height = np.where(keep, first_height, height)
    w = t["weight"][person] + rng.normal(0, 1.2, n) + 0.3 * years_on * rng.normal(0, 1, n)
    weight = _prefer(rng, np.round(w), 5, 0.15)
    weight = np.where(rng.random(n) < 0.12, np.round(w, 1), weight)
    waist = _prefer(rng, np.round(0.9 * t["weight"][person] + 30 + t["waist_offset"][person]
                                  + rng.normal(0, 2, n)), 5, 0.3)
    s = t["sbp"][person] + rng.normal(0, 8, n)
    d = np.minimum(t["dbp"][person] + rng.normal(0, 5, n), s - 25)
    sbp_left, dbp_left = record_bp(rng, s, mercury), record_bp(rng, d, mercury)
    copied = rng.random(n) < RIGHT_COPIED
    sr = s + t["arm_gap"][person] + rng.normal(0, 3, n)
    dr = d + 0.5 * t["arm_gap"][person] + rng.normal(0, 2.5, n)
    sbp_right = np.where(copied, sbp_left, record_bp(rng, sr, mercury))
    dbp_right = np.where(copied, dbp_left, record_bp(rng, dr, mercury))
    p = t["pulse"][person] + rng.normal(0, 5, n)
    how = rng.random(n)
    pulse = np.select([how < 0.5, how < 0.75], [np.round(p / 2) * 2, np.round(p / 4) * 4], np.round(p))
    glucose = np.round(t["glucose"][person] * np.exp(rng.normal(0, 0.08, n)), 1)
    glucose = np.where(rng.random(n) < 0.15, np.nan, glucose)
    waist = np.where(rng.random(n) < 0.03, np.nan, waist)
    pulse = np.where(rng.random(n) < 0.01, np.nan, pulse)
    return {"height": height, "weight": weight, "waist": waist, "sbp_left": sbp_left,
            "dbp_left": dbp_left, "sbp_right": sbp_right, "dbp_right": dbp_right,
            "pulse": pulse, "glucose": glucose}
