"""generate_population: people → archives → mistakes → three CSV files with the truth.

Every stage draws from its own child of one SeedSequence, so the same seed gives
byte-identical files and a change to one stage does not reshuffle the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.dtypes import StringDType

from linkage.errors import InputError
from linkage.schema import INPUT_COLUMNS
from linkage.synth import dates
from linkage.synth import hard_negatives as hn
from linkage.synth.archives import DUPLICATE, MOVED, MOVED_WITHIN, ORIGINAL, ArchiveTable, build_archives
from linkage.synth.corrupt import corrupt as apply_corruptions
from linkage.synth.corrupt import kind_strings
from linkage.synth.geography import Geography, load_geography
from linkage.synth.idcard import make_unique
from linkage.synth.kinds import CORRUPTION_KINDS, HARD_NEGATIVE_TAGS, ORIGINS
from linkage.synth.people import Population, build_population
from linkage.synth.render import render
from linkage.synth.writer import write_csv

TRUTH_COLUMNS = ("archive_id", "person_id", "kind")
HARD_NEGATIVE_COLUMNS = ("archive_id_l", "archive_id_r", "tag")
_STAGES = ("geography", "people", "hard_negatives", "ids", "archives", "corrupt", "render", "top_up")


@dataclass(frozen=True)
class SynthSummary:
    """What was generated; ``extra_eligible`` is the denominator for CORRUPTION_RATES."""

    persons: int
    archives: int
    duplicates: int
    moves: int
    moves_within: int
    hard_negatives: dict[str, int]
    corruptions: dict[str, int]  # archives (of any origin) carrying each tag
    extra_eligible: dict[str, int]  # extra archives each kind could have hit
    seconds: float
    files: tuple[str, ...] = field(default=("archives.csv", "truth.csv", "hard_negatives.csv"))


def generate_population(persons: int, seed: int, out_dir: Path) -> SynthSummary:
    """Write archives.csv, truth.csv and hard_negatives.csv for ``persons`` people into ``out_dir``."""
    start = time.perf_counter()
    if persons < 1:
        raise InputError("persons must be at least 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    rngs = dict(zip(_STAGES, (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(_STAGES)))))

    geo = load_geography(rngs["geography"])
    pop, negatives = _people(rngs, persons, geo)
    ids = pop.id_numbers()
    table = build_archives(rngs["archives"], pop, ids, geo)
    original_row = np.empty(len(pop), dtype=np.int64)
    originals = np.flatnonzero(table.origin == ORIGINAL)
    original_row[table.person[originals]] = originals
    result = apply_corruptions(rngs["corrupt"], table, original_row[negatives.child], ids[negatives.parent])
    columns = render(rngs["render"], table, geo)

    write_csv(out_dir / "archives.csv", INPUT_COLUMNS, [columns[c] for c in INPUT_COLUMNS])
    _write_truth(out_dir, len(pop), table, result.tags)
    _write_hard_negatives(out_dir, table.archive_id[original_row[negatives.left]],
                          table.archive_id[original_row[negatives.right]], negatives.tag)
    return SynthSummary(
        persons=len(pop),
        archives=len(table),
        duplicates=int((table.origin == DUPLICATE).sum()),
        moves=int((table.origin == MOVED).sum()),
        moves_within=int((table.origin == MOVED_WITHIN).sum()),
        hard_negatives={t: int((negatives.tag == i).sum()) for i, t in enumerate(HARD_NEGATIVE_TAGS)},
        corruptions={k: int(result.tags[:, i].sum()) for i, k in enumerate(CORRUPTION_KINDS)},
        extra_eligible=result.extra_eligible,
        seconds=round(time.perf_counter() - start, 3),
    )


def _people(rngs: dict[str, np.random.Generator], persons: int, geo: Geography) -> tuple[Population, hn.HardNegatives]:
    """Exactly ``persons`` people, the confusable ones planted, ID numbers unique."""
    counts = hn.planned_counts(persons)
    pop = build_population(rngs["people"], persons - hn.persons_added(counts), geo)
    pop, negatives = hn.plant(rngs["hard_negatives"], pop, counts, geo)
    shortfall = persons - len(pop)
    if shortfall > 0:  # tiny populations had too few candidates for some pairs
        more = build_population(rngs["top_up"], shortfall, geo)
        pop = pop.concat(more.with_(household=more.household + int(pop.household.max()) + 1))
    seq = make_unique(rngs["ids"], pop.id_code, dates.ymd_int(pop.birth), pop.id_seq, 1 - pop.female)
    return pop.with_(id_seq=seq), negatives


def _write_truth(out_dir: Path, persons: int, table: ArchiveTable, tags: np.ndarray) -> None:
    person_ids = np.strings.add("P", np.strings.zfill(np.arange(1, persons + 1).astype(str).astype(StringDType()), 8))
    kinds = kind_strings(np.array(ORIGINS, dtype=StringDType())[table.origin], tags)
    write_csv(out_dir / "truth.csv", TRUTH_COLUMNS, [table.archive_id, person_ids[table.person], kinds])


def _write_hard_negatives(out_dir: Path, left: np.ndarray, right: np.ndarray, tag: np.ndarray) -> None:
    order = np.lexsort((left, tag))
    tags = np.array(HARD_NEGATIVE_TAGS, dtype=StringDType())[tag]
    write_csv(out_dir / "hard_negatives.csv", HARD_NEGATIVE_COLUMNS, [left[order], right[order], tags[order]])
