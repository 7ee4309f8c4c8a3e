"""generate_exams: yearly elderly exams of a synthetic population, with fabrication and truth.

The population is the one ``linkage synth --persons N --seed S`` writes (same stages, same
seeds, so archive_ids and person_ids match its archives.csv and truth.csv).  Residents aged
65 and over get an exam in most years 2019-2023 at their village clinic, filed under their
archive of the time (the new one after a move, sometimes a duplicate).  Honest values come
from measure.py; inject.py adds templates, copies, L/R gaps and bad values; a resident with
two archives sometimes has one exam entered under both (``double_entry``: a clone by
archive_id, not by person).

This lives outside linkage/synth/ on purpose: benchmark populations are keyed by a hash of
that folder, and exams do not change the archives.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.dtypes import StringDType

from linkage.errors import InputError
from linkage.exams.settings import EXAM_COLUMNS, INDICATORS
from linkage.exams.synth import inject, measure
from linkage.synth import generate as population
from linkage.synth.archives import DUPLICATE, MOVED, MOVED_WITHIN, ORIGINAL, ArchiveTable, build_archives
from linkage.synth.geography import Geography, load_geography
from linkage.synth.people import Population
from linkage.synth.resources import read_table
from linkage.synth.writer import write_csv

EXAM_YEARS = (2019, 2020, 2021, 2022, 2023)
COVERAGE = 0.7  # share of residents aged 65+ examined in a year
DUPLICATE_ARCHIVE_USED = 0.3
DOUBLE_ENTRY_RATE = 0.3  # of residents with a duplicate archive: one exam entered under both
TRUTH_COLUMNS = ("exam_id", "person_id", "archive_id", "clone_group", "kinds")
_STAGES = ("schedule", "traits", "measure", "inject", "double", "render")


@dataclass(frozen=True)
class ExamSynthSummary:
    persons: int
    residents_65: int
    exams: int
    template_groups: int
    template_exams: int
    copied_last_year: int
    lr_gaps: int
    double_entries: int
    bad_values: int
    seconds: float


def _population(persons: int, seed: int) -> tuple[Population, ArchiveTable, Geography]:
    """The population and clean archives of ``linkage synth`` for (persons, seed)."""
    spawned = np.random.SeedSequence(seed).spawn(len(population._STAGES))
    rngs = dict(zip(population._STAGES, (np.random.default_rng(s) for s in spawned)))
    geo = load_geography(rngs["geography"])
    pop, _ = population._people(rngs, persons, geo)
    table = build_archives(rngs["archives"], pop, pop.id_numbers(), geo)
    return pop, table, geo


def _institutions(geo: Geography) -> np.ndarray:
    """Exam institution of each village: its township's health centre."""
    town = {int(r["code"]) // 1000: r["township"] for r in read_table("synth_villages.csv")}
    names = []
    for t in geo.township:
        name = town[int(t)]
        names.append(name + ("社区卫生服务中心" if int(t) % 1000 < 100 else "卫生院"))
    return np.array(names, dtype=StringDType())


def _archive_rows(table: ArchiveTable, persons: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per person: row of the original, duplicate and moved archive (-1 if none)."""
    rows = {o: np.full(persons, -1) for o in (ORIGINAL, DUPLICATE, MOVED)}
    for origin, key in ((ORIGINAL, ORIGINAL), (DUPLICATE, DUPLICATE), (MOVED, MOVED), (MOVED_WITHIN, MOVED)):
        idx = np.flatnonzero(table.origin == origin)
        rows[key][table.person[idx]] = idx
    return rows[ORIGINAL], rows[DUPLICATE], rows[MOVED]


def _fmt(values: np.ndarray) -> np.ndarray:
    """Numbers as a clinic system prints them: 165, 165.5; blank for missing."""
    out = np.full(len(values), "", dtype=object)
    ok = ~np.isnan(values)
    whole = ok & (values == np.round(values))
    out[whole] = values[whole].astype(np.int64).astype(str)
    frac = ok & ~whole
    out[frac] = np.char.mod("%.1f", values[frac])
    return out.astype(StringDType())


def generate_exams(persons: int, seed: int, out_dir: Path | str,
                   template_rate: float = inject.TEMPLATE_EVENT_RATE,
                   villages: int | None = None) -> ExamSynthSummary:
    """Write exams.csv and exams_truth.csv for the population of (persons, seed).

    ``template_rate``: chance that a village-year gets a copied template.  ``villages``: hold
    every exam in that many villages of one township (a small test village, where a small
    population has village-years big enough for templates)."""
    start = time.perf_counter()
    if persons < 1:
        raise InputError("persons must be at least 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    rngs = dict(zip(_STAGES, (np.random.default_rng(s) for s in
                              np.random.SeedSequence([seed, 15]).spawn(len(_STAGES)))))
    pop, table, geo = _population(persons, seed)
    region = table.region.copy()
    if villages:
        home = geo.township[region[0]]
        region = np.flatnonzero(geo.township == home)[:villages][region % min(villages, int((geo.township == home).sum()))]
    original, duplicate, moved = _archive_rows(table, len(pop))
    birth_year = pop.birth_year
    t = measure.traits(rngs["traits"], pop.female)
    mercury_doctor = rngs["traits"].random(len(geo.code) * 2) < measure.MERCURY_SHARE

    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("person", "archive", "date", "doctor", "group", "copied")}
    vals: dict[str, list[np.ndarray]] = {i: [] for i in INDICATORS}
    last = {i: np.full(len(pop), np.nan) for i in INDICATORS}
    last_year = np.full(len(pop), -1)
    groups = 0
    for year in EXAM_YEARS:
        rng = rngs["schedule"]
        who = np.flatnonzero((birth_year <= year - 65) & (rng.random(len(pop)) < COVERAGE))
        date = (np.datetime64(f"{year}-03-01") + rng.integers(0, 275, len(who))).astype("datetime64[D]")
        arch = original[who].copy()
        use_moved = (moved[who] >= 0) & (table.created[np.maximum(moved[who], 0)] <= date)
        use_dup = ((duplicate[who] >= 0) & (table.created[np.maximum(duplicate[who], 0)] <= date)
                   & (rng.random(len(who)) < DUPLICATE_ARCHIVE_USED))
        arch = np.where(use_moved, moved[who], np.where(use_dup, duplicate[who], arch))
        village = region[arch]
        doctor = village * 2 + (rng.random(len(who)) < 0.5)
        v = measure.measure(rngs["measure"], t, who, np.full(len(who), year - EXAM_YEARS[0]),
                            mercury_doctor[doctor], last["height"][who])
        ir = rngs["inject"]
        copied = (last_year[who] == year - 1) & (ir.random(len(who)) < inject.COPIED_LAST_YEAR_RATE)
        for i in INDICATORS:
            v[i] = np.where(copied, last[i][who], v[i])
        group = np.full(len(who), -1)
        for members in inject.templates(ir, village, ~copied, v, template_rate):
            group[members] = groups
            groups += 1
        for i in INDICATORS:
            last[i][who] = v[i]
            vals[i].append(v[i])
        last_year[who] = year
        for name, arr in (("person", who), ("archive", arch), ("date", date), ("doctor", doctor),
                          ("group", group), ("copied", copied)):
            cols[name].append(arr)
    c = {k: np.concatenate(a) for k, a in cols.items()}
    v = {i: np.concatenate(a) for i, a in vals.items()}
    gap = inject.lr_gaps(rngs["inject"], v)

    # One exam entered under both archives of a resident who has two.
    rd = rngs["double"]
    has_dup = np.flatnonzero(duplicate[c["person"]] >= 0)
    first_of = has_dup[np.unique(c["person"][has_dup], return_index=True)[1]]
    doubled = first_of[rd.random(len(first_of)) < DOUBLE_ENTRY_RATE]
    other = np.where(c["archive"][doubled] == duplicate[c["person"][doubled]],
                     original[c["person"][doubled]], duplicate[c["person"][doubled]])
    n0 = len(c["person"])
    for k in c:
        c[k] = np.concatenate([c[k], other if k == "archive" else c[k][doubled]])
    for i in INDICATORS:
        v[i] = np.concatenate([v[i], v[i][doubled]])
    gap = np.concatenate([gap, gap[doubled]])
    double = np.zeros(len(c["person"]), dtype=bool)
    double[doubled] = True
    double[n0:] = True

    return _write(rngs["render"], out_dir, pop, table, geo, region, c, v, gap, double, groups, start)


def _write(rng: np.random.Generator, out_dir: Path, pop: Population, table: ArchiveTable, geo: Geography,
           region: np.ndarray, c: dict[str, np.ndarray], v: dict[str, np.ndarray], gap: np.ndarray,
           double: np.ndarray, groups: int, start: float) -> ExamSynthSummary:
    """Number the exams, render values as text (with bad values), write exams.csv and the truth."""
    n = len(c["person"])
    village = region[c["archive"]]
    year = c["date"].astype("datetime64[Y]").astype(np.int64) + 1970
    order0 = np.lexsort((rng.random(n), village, year))
    serial = np.empty(n, dtype=np.int64)
    key = year[order0] * 10**13 + geo.code[village[order0]]
    first = np.r_[True, key[1:] != key[:-1]]
    serial[order0] = np.arange(n) - np.maximum.accumulate(np.where(first, np.arange(n), 0)) + 1
    exam_id = np.strings.add(np.strings.add(year.astype(str).astype(StringDType()), geo.code_str[village]),
                             np.strings.zfill(serial.astype(str).astype(StringDType()), 4))
    text = {i: _fmt(v[i]) for i in INDICATORS}
    bad = inject.bad_values(rng, n)
    m = (bad == 0) & ~np.isnan(v["height"])
    text["height"][m] = np.char.mod("%.2f", v["height"][m] / 100)
    m = (bad == 1) & ~np.isnan(v["weight"])
    text["weight"][m] = np.strings.add(_fmt(np.floor(v["weight"][m] / 10)), "O")
    m = (bad == 2) & ~np.isnan(v["glucose"])
    text["glucose"][m] = _fmt(np.round(v["glucose"][m] * 18))
    text["glucose"][np.isnan(v["glucose"]) & (rng.random(n) < 0.3)] = "未测"
    institutions = _institutions(geo)
    doctor = np.strings.add(np.strings.add(geo.code_str[c["doctor"] // 2], "-"),
                            (c["doctor"] % 2 + 1).astype(str).astype(StringDType()))
    columns = {
        "exam_id": exam_id, "archive_id": table.archive_id[c["archive"]],
        "exam_date": c["date"].astype(str).astype(StringDType()), "region_code": geo.code_str[village],
        "institution": institutions[village], "doctor": doctor, **text,
    }
    order = np.argsort(exam_id, kind="stable")
    write_csv(out_dir / "exams.csv", EXAM_COLUMNS, [columns[k][order] for k in EXAM_COLUMNS])
    person_id = np.strings.add("P", np.strings.zfill((c["person"] + 1).astype(str).astype(StringDType()), 8))
    group = np.where(c["group"] >= 0, np.strings.add("T", np.strings.zfill(
        np.maximum(c["group"] + 1, 0).astype(str).astype(StringDType()), 5)), "").astype(StringDType())
    kinds = [np.where(c["group"] >= 0, "template", ""), np.where(c["copied"], "copied_last_year", ""),
             np.where(gap, "lr_gap", ""), np.where(double, "double_entry", ""),
             np.where(bad >= 0, np.array(["bad_" + b for b in inject.BAD_KINDS] + [""])[bad], "")]
    kind = np.array([";".join(k for k in row if k) or "honest" for row in zip(*kinds)], dtype=StringDType())
    write_csv(out_dir / "exams_truth.csv", TRUTH_COLUMNS,
              [x[order] for x in (exam_id, person_id, table.archive_id[c["archive"]], group, kind)])
    return ExamSynthSummary(
        persons=len(pop), residents_65=int(len(np.unique(c["person"]))), exams=n,
        template_groups=groups, template_exams=int((c["group"] >= 0).sum()),
        copied_last_year=int(c["copied"].sum()), lr_gaps=int(gap.sum()),
        double_entries=int(double.sum()), bad_values=int((bad >= 0).sum()),
        seconds=round(time.perf_counter() - start, 3),
    )
