"""Different people made confusable on purpose, planted as ordinary residents.

Twins, namesakes with the same birth date in one county, namesakes across counties, a
child archived under a parent's ID number and spouses sharing address and phone: the pairs
a linkage engine must keep apart.  New people (twins, namesakes) are added to the
population; the others are chosen among existing households.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.synth import dates, idcard, names
from linkage.synth.addresses import draw_rests
from linkage.synth.geography import Geography
from linkage.synth.kinds import HARD_NEGATIVE_TAGS, HARD_NEGATIVES_PER_100K, REFERENCE_DATE
from linkage.synth.people import CHILD, HEAD, SPOUSE, Population, draw_phones

ADDED_TAGS = ("twins", "same_name_dob_county", "namesake_cross_county")  # these add a person


MIN_PERSONS_FOR_EVERY_TAG = 1000


def planned_counts(persons: int) -> dict[str, int]:
    """Pairs per tag for a population size (at least one of each from 1,000 persons on)."""
    floor = 1 if persons >= MIN_PERSONS_FOR_EVERY_TAG else 0
    return {tag: max(floor, round(HARD_NEGATIVES_PER_100K[tag] * persons / 100_000)) for tag in HARD_NEGATIVE_TAGS}


@dataclass(frozen=True)
class HardNegatives:
    """Person-index pairs (into the returned population) and their tags."""

    left: np.ndarray
    right: np.ndarray
    tag: np.ndarray  # int64 index into HARD_NEGATIVE_TAGS
    # child_parent_id: the child's original archive carries the parent's ID number
    child: np.ndarray
    parent: np.ndarray


def plant(rng: np.random.Generator, pop: Population, counts: dict[str, int], geo: Geography) -> tuple[Population, HardNegatives]:
    """Add the confusable people to ``pop`` and pick the confusable pairs."""
    n = len(pop)
    used = np.zeros(n, dtype=bool)
    han = pop.surname != ""
    age = (dates.day(REFERENCE_DATE) - pop.birth).astype(np.int64) // 365
    pairs: list[tuple[np.ndarray, np.ndarray, str]] = []
    additions: list[Population] = []
    next_household = int(pop.household.max()) + 1
    added = 0

    def pick(mask: np.ndarray, k: int) -> np.ndarray:
        cand = np.flatnonzero(mask & ~used)
        chosen = np.sort(rng.choice(cand, size=min(k, len(cand)), replace=False))
        used[chosen] = True
        return chosen

    # Twins: a sibling with the same birth date, one character of given name apart.
    a = pick(han & (pop.role == CHILD) & (np.strings.str_len(pop.given) <= 2), counts["twins"])
    twin = pop.take(a)
    same_sex = rng.random(len(a)) < 0.5
    female = np.where(same_sex, twin.female, 1 - twin.female)
    step = np.where(same_sex, 2, 1)
    seq = np.where(twin.id_seq + step < 1000, twin.id_seq + step, twin.id_seq - step)
    given = names.alternative_given(rng, twin.given, female, twin.birth_year)
    additions.append(twin.with_(female=female, given=given, id_seq=seq))
    pairs.append((a, n + added + np.arange(len(a)), "twins"))
    added += len(a)

    # Same name, birth date and sex, another township of the same county.
    a = pick(han, counts["same_name_dob_county"])
    twin = pop.take(a)
    village = geo.sample_other_township(rng, twin.village)
    additions.append(_elsewhere(rng, twin, village, next_household, geo))
    next_household += len(a)
    pairs.append((a, n + added + np.arange(len(a)), "same_name_dob_county"))
    added += len(a)

    # Same name and sex in another county; half share the birth date, half only the year.
    a = pick(han, counts["namesake_cross_county"])
    twin = pop.take(a)
    village = geo.sample_other_county(rng, twin.village)
    new = _elsewhere(rng, twin, village, next_household, geo)
    year = twin.birth_year
    shift = rng.integers(1, 360, len(a))
    jan1 = dates.combine(year, np.ones_like(year), np.ones_like(year))
    other_day = jan1 + (((twin.birth - jan1).astype(np.int64) + shift) % dates.days_in_year(year))
    other_day = np.minimum(other_day, dates.day(REFERENCE_DATE) - 1)
    birth = np.where(rng.random(len(a)) < 0.5, twin.birth, other_day)
    new = new.with_(birth=birth, id_code=idcard.issuing_code(geo.county[village], dates.split(birth)[0]))
    additions.append(new)
    next_household += len(a)
    pairs.append((a, n + added + np.arange(len(a)), "namesake_cross_county"))
    added += len(a)

    # A child under 14 archived with its parent's (the head's) ID number.
    heads = np.searchsorted(pop.household, pop.household, side="left")
    child = pick((pop.role == CHILD) & (age < 14) & (pop.role[heads] == HEAD) & ~used[heads], counts["child_parent_id"])
    parent = heads[child]
    used[parent] = True
    pairs.append((child, parent, "child_parent_id"))

    # Spouses: same address, and (made so here) the same phone.
    spouse = pick((pop.role == SPOUSE) & ~used[heads], counts["spouses"])
    head = heads[spouse]
    used[head] = True
    phone = pop.phone.copy()
    phone[spouse] = phone[head]
    pairs.append((head, spouse, "spouses"))

    grown = pop.with_(phone=phone)
    for extra in additions:
        grown = grown.concat(extra)
    order = np.argsort(grown.household, kind="stable")
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    tag_index = {t: i for i, t in enumerate(HARD_NEGATIVE_TAGS)}
    left = np.concatenate([position[p[0]] for p in pairs])
    right = np.concatenate([position[p[1]] for p in pairs])
    tag = np.concatenate([np.full(len(p[0]), tag_index[p[2]]) for p in pairs])
    return grown.take(order), HardNegatives(left, right, tag, position[child], position[parent])


def persons_added(counts: dict[str, int]) -> int:
    """How many people ``plant`` adds for these counts."""
    return sum(counts[t] for t in ADDED_TAGS)


def _elsewhere(rng: np.random.Generator, twin: Population, village: np.ndarray, first_household: int, geo: Geography) -> Population:
    """Copies of ``twin``'s name, sex and birth living alone in ``village``."""
    k = len(twin)
    return twin.with_(
        household=first_household + np.arange(k),
        role=np.full(k, HEAD),
        village=village,
        rest=draw_rests(rng, geo.urban[village]),
        phone=draw_phones(rng, k),
        id_code=idcard.issuing_code(geo.county[village], twin.birth_year),
        id_seq=idcard.draw_sequences(rng, 1 - twin.female),
    )
