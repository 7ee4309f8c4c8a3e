"""How often reviewers agreed with the engine, by the engine's score at decision time.

"Agreed" means the reviewer said *same* where the engine gave p >= 0.5, or *different*
where it gave p < 0.5.  Only standing decisions count (a changed mind or an undo replaces
the earlier row).  Decisions on pairs the engine never scored are counted apart.

Blind decisions (``review --blind``: the score was hidden) are compared with sighted ones: a
much higher agreement when the score is shown means reviewers follow the engine rather than
check it.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkage.review.store import Decision

# (lower bound inclusive, upper bound exclusive, label)
BANDS: tuple[tuple[float, float, str], ...] = (
    (0.0, 0.5, "<0.5"),
    (0.5, 0.7, "0.5–0.7"),
    (0.7, 0.9, "0.7–0.9"),
    (0.9, 0.99, "0.9–0.99"),
    (0.99, 0.999, "0.99–0.999"),
    (0.999, float("inf"), "≥0.999"),
)
NO_SCORE = "no score"
ENGINE_SAYS_SAME = 0.5


@dataclass(frozen=True)
class BandStats:
    band: str
    decisions: int
    same: int
    different: int
    agreed: int

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.decisions if self.decisions else None


def band_of(probability: float | None) -> str:
    if probability is None:
        return NO_SCORE
    for low, high, label in BANDS:
        if low <= probability < high:
            return label
    return BANDS[0][2]


def agreement_by_band(standing: dict[tuple[str, str], Decision]) -> list[BandStats]:
    """One row per band (empty bands included, in order) plus 'no score' if any."""
    tally: dict[str, list[int]] = {label: [0, 0, 0, 0] for *_, label in BANDS}
    for decision in standing.values():
        label = band_of(decision.match_probability)
        row = tally.setdefault(label, [0, 0, 0, 0])
        row[0] += 1
        same = decision.verdict == "same"
        row[1 if same else 2] += 1
        if decision.match_probability is not None:
            engine_same = decision.match_probability >= ENGINE_SAYS_SAME
            row[3] += int(engine_same == same)
    return [BandStats(label, *counts) for label, counts in tally.items()
            if label != NO_SCORE or counts[0]]


@dataclass(frozen=True)
class SightStats:
    sight: str  # 'blind' or 'sighted'
    decisions: int
    agreed: int

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.decisions if self.decisions else None


def agreement_by_sight(standing: dict[tuple[str, str], Decision]) -> list[SightStats]:
    """Agreement with the engine of blind and of sighted standing decisions (scored pairs)."""
    tally = {"blind": [0, 0], "sighted": [0, 0]}
    for decision in standing.values():
        if decision.match_probability is None:
            continue
        row = tally["blind" if decision.blind else "sighted"]
        row[0] += 1
        engine_same = decision.match_probability >= ENGINE_SAYS_SAME
        row[1] += int(engine_same == (decision.verdict == "same"))
    return [SightStats(sight, *counts) for sight, counts in tally.items()]
