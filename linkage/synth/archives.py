"""Health archives of the population, clean: who has which archives, where and when.

Everyone has an original archive.  A few percent get a second one in the same county (a
second clinic, an exam event); whole households move to another county or township and
are archived again there, their old archive no longer serviced after the move.
Corruption (corrupt.py) and formatting (render.py) come later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.dtypes import StringDType

from linkage.synth import dates
from linkage.synth.geography import Geography
from linkage.synth.kinds import ORIGIN_RATES, ORIGINS, PROGRAMME_START, REFERENCE_DATE
from linkage.synth.people import Population
from linkage.synth.addresses import draw_rests

ORIGINAL, DUPLICATE, MOVED, MOVED_WITHIN = (ORIGINS.index(o) for o in ORIGINS)
_REF = dates.day(REFERENCE_DATE)
_START = dates.day(PROGRAMME_START)
SERIAL_LIMIT = 99_999
CREATED_ELSEWHERE = 0.05  # archive filed by a neighbouring village's clinic
DUPLICATE_SAME_VILLAGE = 0.75


@dataclass(frozen=True)
class ArchiveTable:
    """One row per archive, sorted by archive_id.  Field columns are corrupted in place."""

    archive_id: np.ndarray  # StringDType, 17 digits
    person: np.ndarray  # int64 index into the population
    origin: np.ndarray  # int64 index into ORIGINS
    region: np.ndarray  # int64 village index: managing village
    created: np.ndarray  # datetime64[D]
    last_service: np.ndarray  # datetime64[D], NaT = blank
    name: np.ndarray  # StringDType
    surname_len: np.ndarray  # int64
    female: np.ndarray  # int64 1/0, -1 = blank
    birth: np.ndarray  # datetime64[D], NaT = blank
    id_number: np.ndarray  # StringDType
    address: np.ndarray  # StringDType
    old_address: np.ndarray  # StringDType: the address before a move ("" if none)
    cut_city: np.ndarray  # int64: characters of province + city in the clean address
    cut_county: np.ndarray  # int64: ... + county
    phone: np.ndarray  # StringDType
    partner_id: np.ndarray  # StringDType: ID number of a household member ("" if alone)
    true_birth_year: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.person)


@dataclass(frozen=True)
class _Plan:
    """Archives before numbering: parallel arrays."""

    person: np.ndarray
    origin: np.ndarray
    region: np.ndarray
    address_village: np.ndarray
    rest: np.ndarray
    old_village: np.ndarray
    old_rest: np.ndarray
    created: np.ndarray
    last_service: np.ndarray


def build_archives(rng: np.random.Generator, pop: Population, ids: np.ndarray, geo: Geography) -> ArchiveTable:
    """Every archive of every person, clean, numbered and sorted by archive_id."""
    plan = _plan(rng, pop, geo)
    creator = plan.region.copy()
    elsewhere = rng.random(len(creator)) < CREATED_ELSEWHERE
    creator[elsewhere] = geo.sample_same_township(rng, creator[elsewhere])
    serial = _serials(rng, creator, plan.created)
    order = np.lexsort((serial, geo.code[creator]))
    archive_id = np.strings.add(geo.code_str[creator], np.strings.zfill(serial.astype(str).astype(StringDType()), 5))[order]

    person = plan.person[order]
    village = plan.address_village[order]
    address = np.strings.add(geo.prefix[village], plan.rest[order])
    old_village = plan.old_village[order]
    moved = old_village >= 0
    old_address = np.where(moved, np.strings.add(geo.prefix[np.maximum(old_village, 0)], plan.old_rest[order]), "").astype(StringDType())
    partner = pop.household_partner()[person]
    return ArchiveTable(
        archive_id=archive_id,
        person=person,
        origin=plan.origin[order],
        region=plan.region[order],
        created=plan.created[order],
        last_service=plan.last_service[order],
        name=np.strings.add(pop.surname, pop.given)[person],
        surname_len=np.strings.str_len(pop.surname)[person].astype(np.int64),
        female=pop.female[person].copy(),
        birth=pop.birth[person].copy(),
        id_number=ids[person],
        address=address,
        old_address=old_address,
        cut_city=geo.cut_city[village],
        cut_county=geo.cut_county[village],
        phone=pop.phone[person].copy(),
        partner_id=np.where(partner >= 0, ids[np.maximum(partner, 0)], "").astype(StringDType()),
        true_birth_year=pop.birth_year[person],
    )


def _plan(rng: np.random.Generator, pop: Population, geo: Geography) -> _Plan:
    n = len(pop)
    age = (_REF - pop.birth).astype(np.int64) / 365.2425

    # Originals: the 2009-2012 filing campaign, then a steady trickle; never before birth.
    campaign = dates.uniform_between(rng, np.full(n, _START), np.full(n, dates.day("2012-12-31")))
    trickle = dates.uniform_between(rng, np.full(n, dates.day("2013-01-01")), np.full(n, dates.day("2023-12-31")))
    created = np.where(rng.random(n) < 0.6, campaign, trickle)
    created = np.minimum(np.maximum(created, pop.birth + rng.integers(0, 91, n)), _REF - 1)

    # Moves, by whole household, when every member's archive is old enough.
    starts = np.flatnonzero(np.r_[True, pop.household[1:] != pop.household[:-1]])
    hh_of = np.cumsum(np.r_[True, pop.household[1:] != pop.household[:-1]]) - 1
    newest = np.maximum.reduceat(created.astype(np.int64), starts).astype("datetime64[D]")
    lo, hi = newest + 180, np.full(len(starts), _REF - 60)
    can_move = lo <= hi
    persons_movable = np.bincount(hh_of, minlength=len(starts))[can_move].sum()
    q_moved = min(ORIGIN_RATES["moved"] * n / max(persons_movable, 1), 1.0)
    q_within = min(ORIGIN_RATES["moved_within"] * n / max(persons_movable, 1), 1.0 - q_moved)
    u = rng.random(len(starts))
    hh_move = np.where(can_move & (u < q_moved), MOVED, np.where(can_move & (u < q_moved + q_within), MOVED_WITHIN, -1))
    move_date_h = dates.uniform_between(rng, lo, hi)
    home_h = pop.village[starts]
    dest_h = home_h.copy()
    m = hh_move == MOVED
    dest_h[m] = geo.sample_other_county(rng, home_h[m])
    w = hh_move == MOVED_WITHIN
    dest_h[w] = geo.sample_other_township(rng, home_h[w])
    rest_h = draw_rests(rng, geo.urban[dest_h])

    person_move = hh_move[hh_of]
    movers = np.flatnonzero(person_move >= 0)
    move_date = np.where(person_move >= 0, move_date_h[hh_of], _REF)

    # Duplicates: a second archive in the same county before any move.
    dup_lo, dup_hi = created + 30, np.where(person_move >= 0, move_date - 30, _REF - 10)
    can_dup = dup_lo <= dup_hi
    q_dup = min(ORIGIN_RATES["duplicate"] * n / max(int(can_dup.sum()), 1), 1.0)
    dups = np.flatnonzero(can_dup & (rng.random(n) < q_dup))
    dup_region = pop.village[dups].copy()
    other = rng.random(len(dups)) >= DUPLICATE_SAME_VILLAGE
    dup_region[other] = geo.sample_same_township(rng, dup_region[other])

    # Last service: the elderly come every year; the old archive stops at the move.
    orig_last = _last_service(rng, created, np.where(person_move >= 0, move_date, _REF), age, person_move >= 0)
    dup_created = dates.uniform_between(rng, dup_lo[dups], dup_hi[dups])
    dup_last = np.where(rng.random(len(dups)) < 0.5, dates.NAT, dates.uniform_between(rng, dup_created, move_date[dups]))
    mv_created = np.minimum(move_date[movers] + rng.integers(0, 366, len(movers)), _REF - 1)
    mv_last = np.where(
        rng.random(len(movers)) < 0.15,
        dates.NAT,
        dates.uniform_between(rng, np.maximum(mv_created, _REF - 365), np.full(len(movers), _REF)),
    )

    empty = np.full(n, -1)
    return _Plan(
        person=np.concatenate([np.arange(n), dups, movers]),
        origin=np.concatenate([np.full(n, ORIGINAL), np.full(len(dups), DUPLICATE), person_move[movers]]),
        region=np.concatenate([pop.village, dup_region, dest_h[hh_of[movers]]]),
        address_village=np.concatenate([pop.village, pop.village[dups], dest_h[hh_of[movers]]]),
        rest=np.concatenate([pop.rest, pop.rest[dups], rest_h[hh_of[movers]]]),
        old_village=np.concatenate([empty, np.full(len(dups), -1), pop.village[movers]]),
        old_rest=np.concatenate([np.full(n, "", dtype=StringDType()), np.full(len(dups), "", dtype=StringDType()), pop.rest[movers]]),
        created=np.concatenate([created, dup_created, mv_created]),
        last_service=np.concatenate([orig_last, dup_last, mv_last]),
    )


def _last_service(rng: np.random.Generator, created: np.ndarray, end: np.ndarray, age: np.ndarray, moved: np.ndarray) -> np.ndarray:
    n = len(created)
    p_blank = np.where(moved, 0.3, np.select([age >= 65, age < 7], [0.05, 0.10], 0.35))
    recent = np.where((age >= 65) & ~moved, np.maximum(created, end - 365), created)
    when = dates.uniform_between(rng, recent, end)
    return np.where(rng.random(n) < p_blank, dates.NAT, when)


def _serials(rng: np.random.Generator, creator: np.ndarray, created: np.ndarray) -> np.ndarray:
    """1-based serial within the creating village, in order of creation."""
    order = np.lexsort((rng.random(len(creator)), created, creator))
    sorted_creator = creator[order]
    first = np.r_[True, sorted_creator[1:] != sorted_creator[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    serial = np.empty(len(order), dtype=np.int64)
    serial[order] = np.arange(len(order)) - group_start + 1
    if serial.max(initial=0) > SERIAL_LIMIT:
        raise RuntimeError("a village would need more than 99,999 archive serials")
    return serial
