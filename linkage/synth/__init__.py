"""Synthetic resident health archives with known truth, for tests and benchmarks.

``generate_population(persons, seed, out_dir)`` writes ``archives.csv`` (the input
schema), ``truth.csv`` (who each archive belongs to and what was done to it) and
``hard_negatives.csv`` (pairs of different people made confusable on purpose).  The same
seed gives byte-identical files.
"""

from linkage.synth.generate import SynthSummary, generate_population
from linkage.synth.kinds import (
    CORRUPTION_KINDS,
    CORRUPTION_RATES,
    HARD_NEGATIVE_TAGS,
    ORIGINAL_NOISE_RATES,
    ORIGINS,
)

__all__ = [
    "CORRUPTION_KINDS",
    "CORRUPTION_RATES",
    "HARD_NEGATIVE_TAGS",
    "ORIGINAL_NOISE_RATES",
    "ORIGINS",
    "SynthSummary",
    "generate_population",
]
