"""Households and the people in them, as parallel numpy arrays.

Households are drawn first (young families, middle-aged couples, elderly couples with
left-behind grandchildren, singles), so spouses share an address and often a phone,
children share surname and address, and the age pyramid has the many elderly and young
children that health archives are full of.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.dtypes import StringDType

from linkage.synth import dates, idcard, names
from linkage.synth.addresses import draw_rests
from linkage.synth.geography import Geography
from linkage.synth.kinds import REFERENCE_DATE

HEAD, SPOUSE, CHILD, GRANDPARENT, GRANDCHILD = range(5)
_REF = dates.day(REFERENCE_DATE)

# Household types: young family, middle-aged, elderly, single.
HOUSEHOLD_TYPES = np.array([0.40, 0.22, 0.30, 0.08])
MEAN_HOUSEHOLD_SIZE = 2.6  # slightly under the realised mean, so enough persons are drawn
_MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159,
     166, 173, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 198, 199],
    dtype=np.int64,
)


@dataclass(frozen=True)
class Population:
    """One row per person; households are contiguous and start with their head."""

    household: np.ndarray  # int64
    role: np.ndarray  # int64: HEAD, SPOUSE, CHILD, GRANDPARENT, GRANDCHILD
    female: np.ndarray  # int64 0/1
    birth: np.ndarray  # datetime64[D]
    surname: np.ndarray  # StringDType ("" for transliterated minority names)
    given: np.ndarray  # StringDType
    village: np.ndarray  # int64 index into Geography
    rest: np.ndarray  # StringDType address below the village
    phone: np.ndarray  # StringDType
    id_code: np.ndarray  # int64 issuing county code
    id_seq: np.ndarray  # int64 sequence number

    def __len__(self) -> int:
        return len(self.household)

    def take(self, idx: np.ndarray) -> Population:
        """The rows ``idx``, in that order."""
        return Population(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def concat(self, other: Population) -> Population:
        """Rows of self followed by rows of other."""
        return Population(**{f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)]) for f in fields(self)})

    def with_(self, **changes: np.ndarray) -> Population:
        """A copy with some columns replaced."""
        return replace(self, **changes)

    @property
    def birth_year(self) -> np.ndarray:
        return dates.split(self.birth)[0]

    def id_numbers(self) -> np.ndarray:
        """18-character ID numbers from code, birth date and sequence."""
        return idcard.build_ids(idcard.id_bodies(self.id_code, dates.ymd_int(self.birth), self.id_seq))

    def household_partner(self) -> np.ndarray:
        """Another member of each person's household (next, else previous), -1 if alone."""
        n = len(self)
        idx = np.arange(n)
        nxt = np.where(idx + 1 < n, idx + 1, idx)
        prv = np.where(idx > 0, idx - 1, idx)
        out = np.where(self.household[nxt] == self.household, nxt, np.where(self.household[prv] == self.household, prv, -1))
        out[out == idx] = -1
        return out


def draw_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """11-digit mobile numbers."""
    number = _MOBILE_PREFIXES[rng.integers(0, len(_MOBILE_PREFIXES), n)] * 10**8 + rng.integers(0, 10**8, n)
    return number.astype(str).astype(StringDType())


def birth_from_age(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """A birth date for someone ``age`` full years old on the reference date."""
    days = np.floor((age + rng.random(len(age))) * 365.2425).astype(np.int64)
    return _REF - np.maximum(days, 1)


def build_population(rng: np.random.Generator, n: int, geo: Geography) -> Population:
    """Exactly n persons in households."""
    h = int(n / MEAN_HOUSEHOLD_SIZE) + 10
    kind = rng.choice(4, size=h, p=HOUSEHOLD_TYPES)
    head_age = np.select(
        [kind == 0, kind == 1, kind == 2],
        [rng.integers(22, 46, h), rng.integers(46, 60, h), np.minimum(60 + np.floor(rng.gamma(2.0, 6.0, h)), 100)],
        rng.integers(18, 41, h),
    ).astype(np.int64)
    p_spouse = np.select([kind == 0, kind == 1, kind == 2], [0.92, 0.90, np.clip(0.85 - (head_age - 60) * 0.02, 0.2, 0.85)], 0.0)
    has_spouse = rng.random(h) < p_spouse
    p_male_head = np.where(has_spouse, 0.9, np.where(kind == 2, 0.35, 0.6))
    head_female = (rng.random(h) >= p_male_head).astype(np.int64)

    hh, role, age, female = [np.arange(h)], [np.full(h, HEAD)], [head_age], [head_female]

    def add(mask: np.ndarray, r: int, a: np.ndarray, f: np.ndarray) -> None:
        hh.append(np.flatnonzero(mask))
        role.append(np.full(int(mask.sum()), r))
        age.append(a[mask].astype(np.int64))
        f_arr = np.broadcast_to(f, (h,)) if np.ndim(f) == 0 else f
        female.append(f_arr[mask].astype(np.int64))

    spouse_age = np.clip(head_age + np.rint(rng.normal(np.where(head_female == 1, 2.0, -2.0), 3.0)), 18, 102)
    add(has_spouse, SPOUSE, spouse_age, 1 - head_female)

    n_children = np.select(
        [kind == 0, kind == 1],
        [rng.choice(4, size=h, p=[0.08, 0.42, 0.40, 0.10]), rng.choice(3, size=h, p=[0.45, 0.40, 0.15])],
        0,
    )
    for k in range(3):
        lo = np.where(kind == 0, np.maximum(head_age - 36, 0), head_age - 32)
        hi = np.where(kind == 0, head_age - 21, head_age - 22)
        child_age = lo + np.floor(rng.random(h) * (hi - lo + 1))
        add(n_children > k, CHILD, child_age, (rng.random(h) < 0.48).astype(np.int64))

    n_grandparents = np.where(kind == 0, rng.choice(3, size=h, p=[0.62, 0.23, 0.15]), 0)
    gp_female = (rng.random(h) < 0.6).astype(np.int64)
    for k in range(2):
        gp_age = head_age + rng.integers(22, 33, h)
        add((n_grandparents > k) & (gp_age <= 100), GRANDPARENT, gp_age, gp_female if k == 0 else 1 - gp_female)

    n_grandchildren = np.where(kind == 2, rng.choice(3, size=h, p=[0.75, 0.15, 0.10]), 0)
    for k in range(2):
        add(n_grandchildren > k, GRANDCHILD, rng.integers(0, 16, h), (rng.random(h) < 0.48).astype(np.int64))

    household = np.concatenate(hh)
    roles = np.concatenate(role)
    order = np.lexsort((roles, household))[:n]  # stable: heads first, then spouse, children ...
    household, roles = household[order], roles[order]
    ages = np.concatenate(age)[order]
    fem = np.concatenate(female)[order]
    if len(household) < n:
        raise RuntimeError("household draw produced too few persons")

    birth = birth_from_age(rng, ages)
    birth_year = dates.split(birth)[0]

    # Surnames: the family line follows the man of the couple.
    head_surname = names.draw_surnames(rng, h)
    spouse_surname = names.draw_surnames(rng, h)
    family = np.where((head_female == 1) & has_spouse, spouse_surname, head_surname)
    mother = np.where(head_female == 1, head_surname, np.where(has_spouse, spouse_surname, head_surname))
    own = names.draw_surnames(rng, len(household))
    u = rng.random(len(household))
    surname = np.select(
        [
            roles == HEAD,
            roles == SPOUSE,
            (roles == CHILD) & (u < 0.93),
            roles == CHILD,
            (roles == GRANDPARENT) & (fem == 0),
            (roles == GRANDCHILD) & (u < 0.7),
        ],
        [head_surname[household], spouse_surname[household], family[household], mother[household], family[household], family[household]],
        own,
    ).astype(StringDType())
    given = names.draw_given(rng, fem, birth_year)
    minority = rng.random(len(household)) < names.MINORITY_SHARE
    given = np.where(minority, names.draw_minority(rng, fem), given).astype(StringDType())
    surname = np.where(minority, "", surname).astype(StringDType())

    village_h = geo.sample(rng, h)
    rest_h = draw_rests(rng, geo.urban[village_h])
    phone_h = draw_phones(rng, h)
    own_phone = draw_phones(rng, len(household))
    adult = (ages >= 16) & (ages <= 75)
    p_own = np.select([roles == HEAD, roles == SPOUSE], [0.0, 0.5], 0.75)
    phone = np.where(adult & (rng.random(len(household)) < p_own), own_phone, phone_h[household]).astype(StringDType())

    village = village_h[household]
    county = geo.county[village]
    birth_county = _birth_counties(rng, county, roles, ages, geo)
    id_code = idcard.issuing_code(birth_county, birth_year)
    male = 1 - fem
    id_seq = idcard.draw_sequences(rng, male)

    return Population(
        household=household.astype(np.int64),
        role=roles.astype(np.int64),
        female=fem,
        birth=birth,
        surname=surname,
        given=given,
        village=village,
        rest=rest_h[household],
        phone=phone,
        id_code=id_code,
        id_seq=id_seq,
    )


def _birth_counties(rng: np.random.Generator, county: np.ndarray, roles: np.ndarray, ages: np.ndarray, geo: Geography) -> np.ndarray:
    """Current code of the county each person was registered in at birth.

    Wives often married in from another county; adults in Lanzhou mostly came from
    elsewhere (Pingliang or other provinces' counties)."""
    n = len(county)
    out = county.copy()
    lanzhou = county // 100 == 6201
    u = rng.random(n)
    migrant = ((roles == SPOUSE) & (u < 0.3)) | (lanzhou & (ages >= 18) & (u < 0.5))
    pingliang = geo.counties[geo.counties // 100 == 6208]
    other_home = pingliang[rng.integers(0, len(pingliang), n)]
    elsewhere = idcard.elsewhere_codes()
    far = elsewhere[rng.integers(0, len(elsewhere), n)]
    origin = np.where(rng.random(n) < 0.55, other_home, far)
    out[migrant] = origin[migrant]
    return out
