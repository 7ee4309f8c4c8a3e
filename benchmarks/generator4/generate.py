"""Fourth population generator: resident health archives of 四川省南充市 with known truth.

    python benchmarks/generator4/generate.py --persons 20000 --seed 1 --out DIR [--severity 1]

Written without reading the engine (see README.md).  Standard library only; the same seed gives
byte-identical files whatever PYTHONHASHSEED.  Writes archives.csv, truth.csv, hardneg.csv,
movers.csv and manifest.json in the format benchmarks/independent/evaluate.py reads.
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import importlib.util
import io
import json
import os
import random
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent


def _load(name: str) -> ModuleType:
    """This folder's tables, imported by path so the script runs from anywhere."""
    key = f"_generator4_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, HERE / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


P = _load("places")
N = _load("names")

EXPORT_DAY = dt.date(2026, 6, 30)  # the day the export is taken
PROGRAMME_START = dt.date(2010, 1, 1)  # archives were opened from the 2010 campaign on
MERGER_DAY = dt.date(2019, 12, 1)  # 四川 乡镇行政区划调整: the merged 乡 are gone after this

# ---- rates, fixed before the engine was ever run on this population -----------------------
# extra archives (not scaled by --severity)
DUP_RATE = {"child": 0.040, "adult": 0.050, "elder": 0.080}  # a second archive in the county
THIRD_RATE = 0.12  # of those with a second archive, a third
DUP_PLACE = [("same_village", 0.55), ("other_village", 0.20), ("other_township", 0.25)]
HOUSEHOLD_MOVE_RATE = 0.012  # households moving to another 南充 county (to a town)
HOUSEHOLD_MOVES_TOGETHER = 0.65  # else only the couple moves
MIGRANT_RATE = 0.030  # adults born 1966-2004 going to work in 成都
MIGRANT_SPOUSE = 0.50
MIGRANT_CHILD = 0.40  # each child under 14 goes along
MIGRANT_RETURN = 0.35  # come back home later and are archived there again
GROWN_CHILD_LEAVES = 0.70  # children over 25 living in their own house (village or county)
NEWBORN_PLACEHOLDER = 0.22  # of children born since 2012
TWIN_RATE = 0.025  # of births
CHILD_PARENT_ID = 0.012  # children whose archives carry a parent's ID
SPOUSE_ID = 0.006  # married people whose first archive carries the spouse's ID
NAMESAKE_RATE = 0.008  # adults given another adult's name and birth date (60% same county)
# corruptions of an extra archive (scaled by --severity)
NAME_RATES = [("name_homophone", 0.060), ("name_dialect", 0.040), ("name_lookalike", 0.030),
              ("name_drop", 0.012), ("name_add", 0.010)]
SURNAME_VERNACULAR = 0.35  # of extra archives of a person whose surname has a vernacular form
ID_BLANK = {"child": 0.30, "adult": 0.15, "elder": 0.30, "move": 0.33, "newborn": 0.70}
ID_RATES = [("id_typo", 0.030), ("id_transpose", 0.020), ("id_legacy15", 0.040),
            ("id_placeholder", 0.010), ("id_excel_quote", 0.015)]
LUNAR = {"elder": 0.18, "other": 0.02}
DOB_RATES = [("dob_shift", 0.020), ("dob_daymonth", 0.020), ("dob_year", 0.030),
             ("dob_placeholder", 0.010), ("dob_blank", 0.015)]
SEX_RATES = [("sex_swap", 0.025), ("sex_blank", 0.020)]
PHONE_RATES = [("phone_changed", 0.18), ("phone_blank", 0.10), ("phone_relative", 0.05)]
ADDR_RATES = [("addr_variant", 0.35), ("addr_blank", 0.04)]
# noise in a person's first archive (scaled by --severity)
PRIMARY_ID_BLANK = {"child": 0.25, "adult": 0.04, "elder": 0.10}
PRIMARY_RATES = {"id_typo": 0.010, "phone_blank": 0.08, "dob_placeholder": 0.005,
                 "dob_lunar": 0.06, "sex_blank": 0.010}

HUSBAND_YEARS = list(range(1950, 2002))
HUSBAND_WEIGHTS = [3 if 1963 <= y <= 1990 else 1 for y in HUSBAND_YEARS]
ELDER_YEARS = list(range(1928, 1963))
ELDER_WEIGHTS = [1 if y < 1936 else 3 if y < 1946 else 6 for y in ELDER_YEARS]
CHECK_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
MOBILE_PREFIXES = ["139", "138", "137", "136", "135", "134", "150", "151", "152", "157", "158",
                   "159", "182", "183", "187", "188", "130", "131", "132", "155", "156", "185",
                   "186", "133", "153", "180", "181", "189", "177", "199", "191", "198"]
CN_DIGITS = "零一二三四五六七八九"


def check_char(body: str) -> str:
    """GB 11643 ISO 7064 MOD 11-2 check character of a 17-digit body."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, CHECK_WEIGHTS)) % 11]


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (三, 十二, 二十五)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


class Person:
    """One resident: true attributes, household links and archives."""

    __slots__ = ("pid", "sex", "dob", "surname", "given", "id18", "id_county", "home", "addr",
                 "phone", "hh", "spouse", "father", "mother", "children", "twin", "county",
                 "borrowed_id", "borrowed_kind", "moved", "id_from")

    def __init__(self, pid: str, sex: str, dob: dt.date, home: dict[str, Any], hh: int) -> None:
        self.pid, self.sex, self.dob, self.home, self.hh = pid, sex, dob, home, hh
        self.surname = self.given = ""
        self.id18: str | None = None
        self.id_county = home["county"]
        self.id_from = "home"
        self.addr: dict[str, Any] = {}
        self.phone = ""
        self.spouse: Person | None = None
        self.father: Person | None = None
        self.mother: Person | None = None
        self.children: list[Person] = []
        self.twin: Person | None = None
        self.county = home["county"]
        self.borrowed_id: str | None = None
        self.borrowed_kind = ""
        self.moved = False

    @property
    def name(self) -> str:
        return self.surname + self.given

    def group(self, on: dt.date = EXPORT_DAY) -> str:
        age = (on - self.dob).days // 365
        return "child" if age < 14 else "elder" if age >= 65 else "adult"


class Generator:
    """Builds the population in memory, then renders and writes it."""

    def __init__(self, persons: int, seed: int, severity: float) -> None:
        self.n, self.seed, self.sev = persons, seed, severity
        self.rng = random.Random(seed)
        self.persons: list[Person] = []
        self.archives: list[dict[str, Any]] = []
        self.hardneg: list[tuple[str, str, str]] = []
        self.movers: list[dict[str, Any]] = []
        self.used_ids: set[str] = set()
        self.of_person: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self.homophones = N.confusion_table(N.HOMOPHONES)
        self.lookalikes = N.confusion_table(N.LOOKALIKES)
        self.dialect = N.confusion_table(N.DIALECT)
        self._places()

    # ---- places --------------------------------------------------------------------------
    def _places(self) -> None:
        rng = self.rng
        self.villages: list[dict[str, Any]] = []
        self.by_county: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self.by_township: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self.county_name: dict[str, str] = {}
        self.county_meta: dict[str, tuple[str | None, int, bool]] = {}
        stems = list(P.VILLAGE_STEMS)
        for code, cname, old, width, codes, townships in P.COUNTIES:
            self.county_name[code] = cname
            self.county_meta[code] = (old, width, codes)
            numbers = {"街道": 1, "镇": 100, "乡": 200}
            tcode: dict[str, str] = {}
            next_village: dict[str, int] = {}
            for tname, merged_into in townships:
                kind = "街道" if tname.endswith("街道") else tname[-1]
                tcode[tname] = f"{code}{numbers[kind]:03d}"
                numbers[kind] += 1
                next_village[tname] = 201
            for tname, merged_into in townships:
                kind = "街道" if tname.endswith("街道") else tname[-1]
                communities = 4 if kind == "街道" else 1 if kind == "镇" else 0
                rural = 0 if kind == "街道" else 5
                for i in range(communities):
                    stem = P.COMMUNITY_STEMS[rng.randrange(len(P.COMMUNITY_STEMS))]
                    self._village(code, cname, tname, tcode[tname] + f"{i + 1:03d}", stem + "社区",
                                  True, None, None)
                for _ in range(rural):
                    stem = stems[rng.randrange(len(stems))]
                    if merged_into:
                        new_t = merged_into
                        new_code = tcode[new_t] + f"{next_village[new_t] + 30:03d}"
                        next_village[new_t] += 1
                        old_code = tcode[tname] + f"{next_village[tname]:03d}"
                        next_village[tname] += 1
                        self._village(code, cname, new_t, new_code, stem + "村", False, tname, old_code)
                    else:
                        vcode = tcode[tname] + f"{next_village[tname]:03d}"
                        next_village[tname] += 1
                        self._village(code, cname, tname, vcode, stem + "村", False, None, None)
        self.chengdu: list[dict[str, Any]] = []
        for code, cname, streets in P.CHENGDU:
            self.county_name[code] = cname
            self.county_meta[code] = (None, 17, False)
            for s, street in enumerate(streets):
                for i in range(3):
                    stem = P.COMMUNITY_STEMS[rng.randrange(len(P.COMMUNITY_STEMS))]
                    v = {"county": code, "county_name": cname, "township": street,
                         "code": f"{code}{s + 1:03d}{i + 1:03d}", "name": stem + "社区",
                         "urban": True, "old_township": None, "old_code": None, "city": "成都市"}
                    self.chengdu.append(v)
        self.county_codes = [c[0] for c in P.COUNTIES]

    def _village(self, county: str, cname: str, township: str, code: str, name: str, urban: bool,
                 old_township: str | None, old_code: str | None) -> None:
        v = {"county": county, "county_name": cname, "township": township, "code": code,
             "name": name, "urban": urban, "old_township": old_township, "old_code": old_code,
             "city": "南充市"}
        self.villages.append(v)
        self.by_county[county].append(v)
        self.by_township[county + township].append(v)

    def pick_village(self, county: str | None = None, urban: bool | None = None) -> dict[str, Any]:
        rng = self.rng
        if county is None:
            county = rng.choices(self.county_codes, P.COUNTY_WEIGHTS)[0]
        pool = [v for v in self.by_county[county] if urban is None or v["urban"] == urban]
        weights = [3 if v["urban"] else 1 for v in pool]
        return rng.choices(pool, weights)[0]

    def address(self, village: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        if village["urban"]:
            roads = P.CHENGDU_ROADS if village["city"] == "成都市" else P.ROADS
            return {"village": village, "urban": True, "road": rng.choice(roads),
                    "no": rng.randint(1, 260), "bldg": rng.randint(1, 24), "unit": rng.randint(1, 4),
                    "room": rng.randint(1, 18) * 100 + rng.randint(1, 4)}
        return {"village": village, "urban": False, "zu": rng.randint(1, 12), "no": rng.randint(1, 140)}

    # ---- people --------------------------------------------------------------------------
    def new_person(self, sex: str, dob: dt.date, home: dict[str, Any], hh: int) -> Person:
        p = Person(f"P{len(self.persons) + 1:07d}", sex, dob, home, hh)
        self.persons.append(p)
        return p

    def rand_date(self, year: int) -> dt.date:
        start = dt.date(year, 1, 1)
        end = min(dt.date(year, 12, 31), EXPORT_DAY - dt.timedelta(days=1))
        return start + dt.timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    def given_name(self, sex: str, year: int) -> str:
        decade = 1920 if year < 1940 else min(2020, year // 10 * 10)
        male, female = N.GIVEN[decade]
        return self.rng.choice(male if sex == "M" else female)

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10 ** 8):08d}"

    def households(self) -> None:
        rng = self.rng
        surnames = [s for s, _ in N.SURNAMES]
        sweights = [w for _, w in N.SURNAMES]
        hh = 0
        while len(self.persons) < self.n:
            hh += 1
            home = self.pick_village()
            addr = self.address(home)
            members: list[Person] = []
            r = rng.random()
            if r < 0.60:  # a couple with children, sometimes the husband's parents
                hy = rng.choices(HUSBAND_YEARS, HUSBAND_WEIGHTS)[0]
                wy = min(2003, hy + rng.choice([0, 1, 1, 2, 2, 3, 4, 5, -1, -2]))
                h = self.new_person("M", self.rand_date(hy), home, hh)
                w = self.new_person("F", self.rand_date(wy), home, hh)
                h.surname = rng.choices(surnames, sweights)[0]
                w.surname = rng.choices(surnames, sweights)[0]
                h.spouse, w.spouse = w, h
                members += [h, w]
                if rng.random() < 0.10:
                    w.id_from = "outside"
                elif rng.random() < 0.15:
                    w.id_from = "other_county"
                h.given = self.given_name("M", hy)
                w.given = self.given_name("F", wy)
                kids = rng.choices([0, 1, 2, 3, 4], [1, 3, 4, 2, 1] if wy < 1965 else [1, 5, 4, 1, 0])[0]
                gen_char = rng.choice(N.GENERATION_CHARS) if rng.random() < 0.4 else ""
                year = wy + rng.randint(21, 27)
                for _ in range(kids):
                    if year > EXPORT_DAY.year:
                        break
                    members += self.births(h, w, year, gen_char)
                    year += rng.randint(2, 7)
                if hy >= 1962 and rng.random() < 0.30:
                    gy = hy - rng.randint(24, 31)
                    gf = self.new_person("M", self.rand_date(gy), home, hh)
                    gf.surname, gf.given = h.surname, self.given_name("M", gy)
                    h.father = gf
                    gf.children.append(h)
                    members.append(gf)
                    if rng.random() < 0.65:
                        gm = self.new_person("F", self.rand_date(gy + rng.randint(-1, 4)), home, hh)
                        gm.surname, gm.given = rng.choices(surnames, sweights)[0], self.given_name("F", gm.dob.year)
                        gm.spouse, gf.spouse = gf, gm
                        h.mother = gm
                        gm.children.append(h)
                        members.append(gm)
            elif r < 0.85:  # elders, as a couple or widowed
                ey = rng.choices(ELDER_YEARS, ELDER_WEIGHTS)[0]
                sexes = ["M", "F"] if rng.random() < 0.6 else [rng.choice(["M", "F", "F"])]
                prev = None
                for sex in sexes:
                    e = self.new_person(sex, self.rand_date(ey + (rng.randint(-1, 5) if prev else 0)), home, hh)
                    e.surname, e.given = rng.choices(surnames, sweights)[0], self.given_name(sex, e.dob.year)
                    if prev:
                        e.spouse, prev.spouse = prev, e
                    prev = e
                    members.append(e)
            else:  # a single adult (many rural bachelors)
                sex = "M" if rng.random() < 0.7 else "F"
                s = self.new_person(sex, self.rand_date(rng.randint(1958, 2004)), home, hh)
                s.surname, s.given = rng.choices(surnames, sweights)[0], self.given_name(sex, s.dob.year)
                members.append(s)
            for m in members:
                m.addr = addr
                if m.father is not None and m.father in members and (EXPORT_DAY - m.dob).days > 25 * 365 \
                        and rng.random() < GROWN_CHILD_LEAVES:  # a grown child's own house
                    m.home = m.home if rng.random() < 0.6 else self.pick_village(m.county)
                    m.addr = self.address(m.home)
            self.phones(members)

    def births(self, father: Person, mother: Person, year: int, gen_char: str) -> list[Person]:
        rng = self.rng
        dob = self.rand_date(year)
        twins = rng.random() < TWIN_RATE
        kids = []
        for i in range(2 if twins else 1):
            sex = rng.choice("MF") if i == 0 or rng.random() < 0.4 else kids[0].sex
            c = self.new_person(sex, dob, father.home, father.hh)
            c.surname = father.surname if rng.random() < 0.95 else mother.surname
            c.father, c.mother = father, mother
            father.children.append(c)
            mother.children.append(c)
            kids.append(c)
        for i, c in enumerate(kids):
            given = self.given_name(c.sex, year)
            if gen_char and c.sex == "M" and year < 2005:
                given = gen_char + given[-1]
            elif rng.random() < 0.03 and len(father.given) == 2:  # father's name, one character changed
                given = father.given[0] + self.given_name("M", year)[-1]
            c.given = given
        if twins:
            a, b = kids
            a.twin, b.twin = b, a
            style = rng.random()
            if style < 0.35 and any(ch in self.homophones for ch in a.given):  # 梓涵 / 梓晗
                b.given = self.swap_char(a.given, self.homophones) or b.given
            elif style < 0.45:
                b.given, a.given = ("大双", "小双") if rng.random() < 0.5 else ("大宝", "二宝")
            elif len(a.given) == 2:  # share the first character: 浩宇 / 浩然
                b.given = a.given[0] + (self.given_name(b.sex, year)[-1])
            if b.given == a.given:  # parents never give twins one name
                b.given = next(a.given[0] + c for c in "然宁安博瑞欣悦" if a.given[0] + c != a.given)
        return kids

    def phones(self, members: list[Person]) -> None:
        rng = self.rng
        adults = [m for m in members if m.group() != "child"]
        for m in members:
            age = (EXPORT_DAY - m.dob).days // 365
            if 16 <= age < 70 and rng.random() < 0.92:
                m.phone = self.mobile()
        for m in members:
            if m.phone:
                continue
            if m.mother is not None and m.mother.phone and m.group() == "child":
                m.phone = m.mother.phone
            else:
                others = [a for a in adults if a.phone and a is not m]
                if others and rng.random() < 0.7:
                    m.phone = rng.choice(others).phone
                elif rng.random() < 0.5:
                    m.phone = f"{P.AREA_CODE}-{rng.randint(2000000, 3999999)}"
        for m in members:
            if m.group() == "child" and m.mother is not None and m.mother.phone:
                m.phone = m.mother.phone

    # ---- IDs and hard negatives ----------------------------------------------------------
    def plant_namesakes(self) -> None:
        rng = self.rng
        adults = [p for p in self.persons if p.group() != "child" and p.twin is None]
        index: dict[tuple[str, int], list[Person]] = collections.defaultdict(list)
        for p in adults:
            index[(p.sex, p.dob.year)].append(p)
        for p in adults:
            if rng.random() >= NAMESAKE_RATE:
                continue
            pool = [q for y in range(p.dob.year - 2, p.dob.year + 3) for q in index.get((p.sex, y), [])
                    if q is not p and q.spouse is not p]
            same = [q for q in pool if q.county == p.county]
            other = [q for q in pool if q.county != p.county]
            pick = same if (rng.random() < 0.6 and same) or not other else other
            if not pick:
                continue
            q = rng.choice(pick)
            p.surname, p.given, p.dob = q.surname, q.given, q.dob
            self.hardneg.append((min(p.pid, q.pid), max(p.pid, q.pid),
                                 "namesake" if p.county == q.county else "namesake_other_county"))

    def issue_ids(self) -> None:
        rng = self.rng
        outside = P.OUTSIDE_ID_COUNTIES
        for p in self.persons:
            if p.id18 is not None:
                continue
            if p.group() == "child" and rng.random() < 0.12:
                continue  # never registered for an ID
            old = self.county_meta[p.county][0]
            if p.id_from == "outside":
                area = rng.choice(outside)
            elif p.id_from == "other_county":
                area = rng.choice([c for c in self.county_codes if c != p.county])
            elif old and (p.dob.year <= 1976 and rng.random() < 0.70 or 1976 < p.dob.year < 1993 and rng.random() < 0.25):
                area = old
            else:
                area = p.county
            p.id_county = area
            p.id18 = self.new_id(area, p.dob, p.sex)
            if p.twin is not None and p.twin.id18 is None:
                t = p.twin
                seq = int(p.id18[14:17])
                for step in range(1, 6):
                    cand = seq + step
                    if cand > 999 or (cand % 2 == 1) != (t.sex == "M"):
                        continue
                    body = f"{area}{t.dob:%Y%m%d}{cand:03d}"
                    if body + check_char(body) not in self.used_ids:
                        t.id18 = body + check_char(body)
                        self.used_ids.add(t.id18)
                        t.id_county = area
                        break
                if t.id18 is None:
                    t.id18 = self.new_id(area, t.dob, t.sex)

    def new_id(self, area: str, dob: dt.date, sex: str) -> str:
        while True:
            seq = self.rng.randrange(1, 995)
            if (seq % 2 == 1) != (sex == "M"):
                seq += 1
            body = f"{area}{dob:%Y%m%d}{seq:03d}"
            number = body + check_char(body)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def relations(self) -> None:
        rng = self.rng
        seen: set[tuple[str, str]] = set()

        def add(a: Person, b: Person, kind: str) -> None:
            key = (min(a.pid, b.pid), max(a.pid, b.pid), kind)
            if key not in seen and a is not b:
                seen.add(key)
                self.hardneg.append((key[0], key[1], kind))

        for p in self.persons:
            if p.spouse is not None:
                add(p, p.spouse, "spouse")
                if p.id18 and p.spouse.id18 and rng.random() < SPOUSE_ID:
                    p.borrowed_id, p.borrowed_kind = p.spouse.id18, "id_spouse"
                    add(p, p.spouse, "spouse_id")
            for c in p.children:
                add(p, c, "parent_child")
            kids = p.children if p.sex == "M" else []
            for i, a in enumerate(kids):
                for b in kids[i + 1:]:
                    add(a, b, "twin" if a.twin is b else "sibling")
            if p.group() == "child" and rng.random() < CHILD_PARENT_ID:
                parent = p.mother if rng.random() < 0.6 else p.father
                if parent is not None and parent.id18:
                    p.borrowed_id, p.borrowed_kind = parent.id18, "id_parent"
                    add(p, parent, "child_parent_id")
        # coincidences: same full name and birth date, never planted
        groups: dict[tuple[str, dt.date], list[Person]] = collections.defaultdict(list)
        for p in self.persons:
            groups[(p.name, p.dob)].append(p)
        for members in groups.values():
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    if a.twin is not b:
                        add(a, b, "namesake" if a.county == b.county else "namesake_other_county")

    # ---- archives ------------------------------------------------------------------------
    def region(self, village: dict[str, Any], created: dt.date) -> tuple[str, bool]:
        """Region code a clerk used on ``created``; a merged 乡's old code lingers (20%)."""
        if village["old_code"] is None:
            return village["code"], False
        if created < MERGER_DAY or self.rng.random() < 0.2:
            return village["old_code"], True
        return village["code"], False

    def archive(self, p: Person, village: dict[str, Any], addr: dict[str, Any], created: dt.date,
                role: str, tags: list[str], last_before: dt.date | None = None) -> dict[str, Any]:
        rng = self.rng
        code, old = self.region(village, created)
        end = min(EXPORT_DAY, last_before) if last_before else EXPORT_DAY
        last = None
        if rng.random() > 0.08 and end > created:
            last = created + dt.timedelta(days=rng.randint(0, (end - created).days))
        borrowed = p.borrowed_kind == "id_parent" or p.borrowed_kind == "id_spouse" and role == "primary"
        a = {"person": p, "region": code, "created": created, "last": last, "role": role,
             "tags": list(tags) + (["old_township_code"] if old else []), "name": p.name,
             "sex": p.sex, "dob": p.dob, "id": (p.borrowed_id if borrowed else p.id18) or "",
             "phone": p.phone, "addr": addr, "addr_text": None}
        if borrowed:
            a["tags"].append(p.borrowed_kind)
        self.archives.append(a)
        self.of_person[p.pid].append(a)
        return a

    def primary_created(self, p: Person) -> dt.date:
        rng = self.rng
        if p.dob >= PROGRAMME_START:
            return min(EXPORT_DAY, p.dob + dt.timedelta(days=rng.randint(3, 720)))
        if rng.random() < 0.6:
            return PROGRAMME_START + dt.timedelta(days=rng.randint(0, 4 * 365))
        return PROGRAMME_START + dt.timedelta(days=rng.randint(0, (dt.date(2025, 12, 31) - PROGRAMME_START).days))

    def build_archives(self) -> None:
        rng = self.rng
        first: dict[str, dict[str, Any]] = {}
        for p in self.persons:
            created = self.primary_created(p)
            placeholder = None
            if p.dob >= dt.date(2012, 1, 1) and p.dob <= EXPORT_DAY - dt.timedelta(days=60) \
                    and rng.random() < NEWBORN_PLACEHOLDER:
                visit = p.dob + dt.timedelta(days=rng.randint(3, 28))
                created = min(EXPORT_DAY, p.dob + dt.timedelta(days=rng.randint(30, 900)))
                placeholder = self.archive(p, p.home, p.addr, visit, "newborn", ["same_village"], created)
                self.newborn_name(placeholder)
            first[p.pid] = self.archive(p, p.home, p.addr, created, "primary", [])
            self.primary_noise(first[p.pid])
            group = p.group()
            if rng.random() < DUP_RATE[group]:
                for _ in range(2 if rng.random() < THIRD_RATE else 1):
                    self.duplicate(p, first[p.pid])
        self.moves(first)

    def duplicate(self, p: Person, primary: dict[str, Any]) -> None:
        rng = self.rng
        lo = primary["created"] + dt.timedelta(days=30)
        hi = EXPORT_DAY - dt.timedelta(days=10)
        if lo >= hi:
            return
        created = lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))
        place = rng.choices([k for k, _ in DUP_PLACE], [w for _, w in DUP_PLACE])[0]
        village = p.home
        if place == "other_village":
            pool = [v for v in self.by_township[p.home["county"] + p.home["township"]] if v is not p.home]
            village = rng.choice(pool) if pool else village
            place = place if pool else "same_village"
        elif place == "other_township":
            pool = [v for v in self.by_county[p.home["county"]] if v["township"] != p.home["township"]]
            village = rng.choice(pool)
        a = self.archive(p, village, p.addr, created, "dup", ["dup", place])
        self.corrupt(a, p.group(created))

    def moves(self, first: dict[str, dict[str, Any]]) -> None:
        rng = self.rng
        households: dict[int, list[Person]] = collections.defaultdict(list)
        for p in self.persons:
            households[p.hh].append(p)
        for members in households.values():
            if rng.random() < HOUSEHOLD_MOVE_RATE:
                heads = [m for m in members if m.group() != "child"][:2]
                movers = members if rng.random() < HOUSEHOLD_MOVES_TOGETHER else heads
                county = rng.choice([c for c in self.county_codes if c != members[0].county])
                village = self.pick_village(county, urban=True)
                self.move_group(movers, village, first, "move_county")
        for p in self.persons:
            if p.moved or not 1966 <= p.dob.year <= 2004 or rng.random() >= MIGRANT_RATE:
                continue
            group = [p]
            if p.spouse is not None and not p.spouse.moved and rng.random() < MIGRANT_SPOUSE:
                group.append(p.spouse)
                group += [c for c in p.children if not c.moved and c.group() == "child"
                          and rng.random() < MIGRANT_CHILD]
            self.move_group(group, rng.choice(self.chengdu), first, "migrant")

    def move_group(self, group: list[Person], village: dict[str, Any], first: dict[str, dict[str, Any]],
                   why: str) -> None:
        rng = self.rng
        latest = max(a["created"] for p in group for a in self.of_person[p.pid])
        lo = max(latest + dt.timedelta(days=120), dt.date(2012, 1, 1))
        hi = EXPORT_DAY - dt.timedelta(days=90)
        if lo >= hi:
            return
        day = lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))
        addr = self.address(village)
        new_phone = rng.random() < 0.55
        back = why == "migrant" and rng.random() < MIGRANT_RETURN
        back_day = day + dt.timedelta(days=rng.randint(365, 6 * 365))
        back = back and back_day < EXPORT_DAY - dt.timedelta(days=30)
        for p in group:
            if p.dob > day:
                continue
            p.moved = True
            for a in self.of_person[p.pid]:  # no service in the old place after the move
                if a["last"] and a["last"] > day:
                    a["last"] = day - dt.timedelta(days=rng.randint(0, 200))
                    if a["last"] < a["created"]:
                        a["last"] = a["created"]
            created = min(EXPORT_DAY, day + dt.timedelta(days=rng.randint(0, 300)))
            if new_phone and p.group(created) != "child":
                p.phone = self.mobile()
            old_county = p.county
            a = self.archive(p, village, addr, created, "move", ["move", why],
                             back_day if back else None)
            self.corrupt(a, "move")
            if not back:
                self.movers.append({"person": p, "archive": a, "old": old_county, "new": village["county"]})
                continue
            home_village = p.home if rng.random() < 0.6 else self.pick_village(p.home["county"], urban=True)
            home_addr = p.addr if home_village is p.home else self.address(home_village)
            created = back_day + dt.timedelta(days=rng.randint(0, 200))
            b = self.archive(p, home_village, home_addr, min(created, EXPORT_DAY), "move", ["move", "return"])
            self.corrupt(b, "move")
            self.movers.append({"person": p, "archive": b, "old": village["county"], "new": p.home["county"]})

    # ---- corruptions ---------------------------------------------------------------------
    def swap_char(self, text: str, table: dict[str, list[str]], start: int = 0) -> str | None:
        spots = [i for i in range(start, len(text)) if text[i] in table]
        if not spots:
            return None
        i = self.rng.choice(spots)
        return text[:i] + self.rng.choice(table[text[i]]) + text[i + 1:]

    def hit(self, rate: float) -> bool:
        return self.rng.random() < min(0.95, rate * self.sev)

    def first_of(self, rates: list[tuple[str, float]]) -> str | None:
        """At most one of the listed corruptions: draw once against their summed rates."""
        r = self.rng.random()
        acc = 0.0
        for tag, rate in rates:
            acc += min(0.95, rate * self.sev)
            if r < acc:
                return tag
        return None

    def newborn_name(self, a: dict[str, Any]) -> None:
        rng = self.rng
        p = a["person"]
        wrong = ("之女", "幺妹") if p.sex == "M" else ("之子", "幺儿")
        form = rng.choice([f for f in N.NEWBORN_FORMS if not f.endswith(wrong)])
        mother = p.mother.name if p.mother is not None else p.surname + "某"
        a["name"] = form.format(mother=mother, surname=p.surname, sexword="男" if p.sex == "M" else "女")
        a["tags"].append("newborn_placeholder")
        if "{sexword}" not in form and "之子" not in form and "之女" not in form and rng.random() < 0.5:
            a["sex"] = ""
            a["tags"].append("sex_blank")
        if "id_parent" not in a["tags"] and a["id"] and rng.random() < ID_BLANK["newborn"]:
            a["id"] = ""
            a["tags"].append("id_blank")

    def primary_noise(self, a: dict[str, Any]) -> None:
        p = a["person"]
        group = p.group(a["created"])
        if a["id"] and "id_parent" not in a["tags"] and self.hit(PRIMARY_ID_BLANK[group]):
            a["id"] = ""
            a["tags"].append("id_blank")
        elif a["id"] and self.hit(PRIMARY_RATES["id_typo"]):
            self.apply_id(a, "id_typo")
        if a["phone"] and self.hit(PRIMARY_RATES["phone_blank"]):
            a["phone"] = ""
            a["tags"].append("phone_blank")
        if p.dob.year < 1966 and self.hit(PRIMARY_RATES["dob_lunar"]):
            self.apply_dob(a, "dob_lunar")
        elif self.hit(PRIMARY_RATES["dob_placeholder"]):
            self.apply_dob(a, "dob_placeholder")
        if self.hit(PRIMARY_RATES["sex_blank"]):
            a["sex"] = ""
            a["tags"].append("sex_blank")

    def corrupt(self, a: dict[str, Any], group: str) -> None:
        rng = self.rng
        p = a["person"]
        name = a["name"]
        if p.surname in N.SURNAME_VARIANTS and self.hit(SURNAME_VERNACULAR):
            name = N.SURNAME_VARIANTS[p.surname] + name[len(p.surname):]
            a["tags"].append("name_surname_variant")
        tag = self.first_of(NAME_RATES)
        start = len(p.surname) if rng.random() < 0.85 else 0
        new = None
        if tag == "name_homophone":
            new = self.swap_char(name, self.homophones, start)
        elif tag == "name_dialect":  # the surname too: 刘/牛, 胡/符
            new = self.swap_char(name, self.dialect, 0)
        elif tag == "name_lookalike":
            new = self.swap_char(name, self.lookalikes, start)
        elif tag == "name_drop" and len(p.given) == 2:
            new = name[:-1]
        elif tag == "name_add" and len(p.given) == 1:
            new = name + p.given if rng.random() < 0.6 else name[:len(p.surname)] + "小" + p.given
        if new and new != name:
            name = new
            a["tags"].append(tag)
        a["name"] = name
        # ID
        if a["id"]:
            blank = ID_BLANK["move"] if group == "move" else ID_BLANK[p.group(a["created"])]
            if "id_parent" not in a["tags"] and self.hit(blank):
                a["id"] = ""
                a["tags"].append("id_blank")
            else:
                tag = self.first_of(ID_RATES)
                if tag:
                    self.apply_id(a, tag)
        # birth date
        elder = p.dob.year < 1966
        if self.hit(LUNAR["elder"] if elder else LUNAR["other"]):
            self.apply_dob(a, "dob_lunar")
        else:
            tag = self.first_of(DOB_RATES)
            if tag:
                self.apply_dob(a, tag)
        tag = self.first_of(SEX_RATES)
        if tag == "sex_swap" and a["sex"]:
            a["sex"] = "F" if a["sex"] == "M" else "M"
            a["tags"].append(tag)
        elif tag == "sex_blank" and a["sex"]:
            a["sex"] = ""
            a["tags"].append(tag)
        tag = self.first_of(PHONE_RATES)
        if tag == "phone_changed":
            a["phone"] = self.mobile()
            a["tags"].append(tag)
        elif tag == "phone_blank" and a["phone"]:
            a["phone"] = ""
            a["tags"].append(tag)
        elif tag == "phone_relative":
            relatives = [r.phone for r in (p.spouse, p.mother, p.father, *p.children)
                         if r is not None and r.phone and r.phone != a["phone"]]
            if relatives:
                a["phone"] = rng.choice(relatives)
                a["tags"].append(tag)
        tag = self.first_of(ADDR_RATES)
        if tag == "addr_blank":
            a["addr_text"] = ""
            a["tags"].append(tag)
        elif tag == "addr_variant":
            a["addr_text"] = self.render_address(a, variant=True)
            a["tags"].append(tag)

    def apply_id(self, a: dict[str, Any], tag: str) -> None:
        rng = self.rng
        number = a["id"]
        if tag == "id_typo":
            i = rng.randrange(17)
            number = number[:i] + rng.choice([d for d in "0123456789" if d != number[i]]) + number[i + 1:]
        elif tag == "id_transpose":
            spots = [i for i in range(16) if number[i] != number[i + 1]]
            if not spots:
                return
            i = rng.choice(spots)
            number = number[:i] + number[i + 1] + number[i] + number[i + 2:]
        elif tag == "id_legacy15":
            if not number[6:8] == "19" or int(number[6:10]) >= 1985:
                return
            number = number[:6] + number[8:17]
        elif tag == "id_placeholder":
            number = rng.choice(["无", "不详", "000000000000000000", "NULL", "暂无"])
        elif tag == "id_excel_quote":
            number = "'" + number
        a["id"] = number
        a["tags"].append(tag)

    def apply_dob(self, a: dict[str, Any], tag: str) -> None:
        rng = self.rng
        d: dt.date = a["person"].dob
        if tag == "dob_lunar":
            a["dob"] = d - dt.timedelta(days=round(rng.triangular(19, 54, 37)))
        elif tag == "dob_shift":
            a["dob"] = d + dt.timedelta(days=rng.choice([-3, -2, -1, 1, 2, 3]))
        elif tag == "dob_daymonth":
            if d.day > 12 or d.day == d.month:
                return
            a["dob"] = d.replace(month=d.day, day=d.month)
        elif tag == "dob_year":
            try:
                a["dob"] = d.replace(year=d.year + rng.choice([-1, 1]))
            except ValueError:
                return
        elif tag == "dob_placeholder":
            a["dob"] = dt.date(1900, 1, 1)
        elif tag == "dob_blank":
            a["dob"] = None
        a["tags"].append(tag)

    # ---- rendering -----------------------------------------------------------------------
    def render_address(self, a: dict[str, Any], variant: bool = False) -> str:
        rng = self.rng
        addr = a["addr"]
        v = addr["village"]
        tname = v["township"]
        if v["old_township"] and (a["created"] < MERGER_DAY or rng.random() < 0.25):
            tname = v["old_township"]  # the 乡's name, still in use after the merger
        how = rng.choice(["short", "prefix", "numerals", "style"]) if variant else ""
        if addr["urban"]:
            road = f"{addr['road']}{addr['no']}号"
            if how == "style":
                body = f"{road}{addr['bldg']}-{addr['unit']}-{addr['room']}"
            elif how == "numerals":
                body = f"{road}{cn_number(addr['bldg'])}栋{cn_number(addr['unit'])}单元{addr['room']}号"
            elif how == "short":
                body = f"{v['name']}{addr['bldg']}栋{addr['unit']}单元{addr['room']}号"
            else:
                body = f"{road}{addr['bldg']}栋{addr['unit']}单元{addr['room']}号"
            if how == "prefix" or v["city"] == "成都市" and rng.random() < 0.5:
                return f"{v['city']}{v['county_name']}{body}"
            return body
        zu = "社" if how == "style" else "组"
        num = cn_number(addr["zu"]) if how == "numerals" else str(addr["zu"])
        body = f"{v['name']}{num}{zu}{addr['no']}号"
        if how == "short":
            return f"{v['name']}{addr['zu']}组"
        if how == "prefix":
            return f"四川省南充市{v['county_name']}{tname}{body}"
        return f"{tname}{body}"

    def render(self) -> tuple[list[list[str]], list[list[str]]]:
        rng = self.rng
        # archive numbers: the creating village's code + a serial in order of creation
        by_region: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for i, a in enumerate(self.archives):
            a["order"] = i
            by_region[a["region"]].append(a)
        for code, items in by_region.items():
            width = self.county_meta[code[:6]][1]
            items.sort(key=lambda x: (x["created"], x["order"]))
            for serial, a in enumerate(items, start=1):
                a["archive_id"] = code + (f"{serial:05d}" if width == 17 else f"{serial:08d}")
        rows, truth = [], []
        for a in self.archives:
            style = rng.random()
            fmt = "%Y-%m-%d" if style < 0.72 else "%Y%m%d" if style < 0.90 else "slash"

            def date(d: dt.date | None) -> str:
                if d is None:
                    return ""
                return f"{d.year}/{d.month}/{d.day}" if fmt == "slash" else d.strftime(fmt)

            codes = self.county_meta[a["region"][:6]][2]
            sex = a["sex"]
            if sex:
                sex = ("1" if sex == "M" else "2") if (codes and rng.random() < 0.8) or rng.random() < 0.1 \
                    else ("男" if sex == "M" else "女")
            number = a["id"]
            if number.endswith("X") and len(number) >= 18 and rng.random() < 0.3:
                number = number[:-1] + "x"
            address = a["addr_text"] if a["addr_text"] is not None else self.render_address(a)
            rows.append([a["archive_id"], a["name"], sex, date(a["dob"]), number, a["region"], address,
                         a["phone"], date(a["created"]), date(a["last"])])
            truth.append([a["archive_id"], a["person"].pid, " ".join(a["tags"]), a["region"][:6], a["role"]])
        order = list(range(len(rows)))
        rng.shuffle(order)
        return [rows[i] for i in order], [truth[i] for i in order]


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _write(path: Path, data: bytes) -> None:
    """Owner-only file, written under a temporary name and renamed into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def generate(persons: int, seed: int, out: Path, severity: float = 1.0) -> Path:
    """Generate a population of ``persons`` residents into ``out`` and return it."""
    if persons < 10:
        raise ValueError("--persons must be at least 10")
    if not 0 <= severity <= 3:
        raise ValueError("--severity must be between 0 and 3")
    g = Generator(persons, seed, severity)
    g.households()
    g.persons = g.persons[:persons]
    kept = {id(p) for p in g.persons}
    for p in g.persons:  # cut links to persons beyond the count
        for attr in ("spouse", "father", "mother", "twin"):
            if getattr(p, attr) is not None and id(getattr(p, attr)) not in kept:
                setattr(p, attr, None)
        p.children = [c for c in p.children if id(c) in kept]
    g.plant_namesakes()
    g.issue_ids()
    g.relations()
    g.build_archives()
    rows, truth = g.render()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    ids = {id(a): a["archive_id"] for a in g.archives}
    hardneg = sorted(set(g.hardneg))
    movers = [[m["person"].pid, ids[id(m["archive"])], m["old"], m["new"]] for m in g.movers]
    _write(out / "archives.csv", _csv(["archive_id", "name", "sex", "birth_date", "id_number", "region_code",
                                       "address", "phone", "created_date", "last_service_date"], rows))
    _write(out / "truth.csv", _csv(["archive_id", "person_id", "tags", "county", "role"], truth))
    _write(out / "hardneg.csv", _csv(["person_a", "person_b", "type"], [list(h) for h in hardneg]))
    _write(out / "movers.csv", _csv(["person_id", "new_archive_id", "old_county", "new_county"], movers))
    tags: collections.Counter[str] = collections.Counter(t for r in truth for t in r[2].split())
    manifest = {
        "generator": "benchmarks/generator4 (四川省南充市)", "seed": seed, "persons": persons,
        "severity": severity, "archives": len(rows), "extra_archive_share": round(len(rows) / persons - 1, 4),
        "roles": dict(sorted(collections.Counter(r[4] for r in truth).items())),
        "tags": dict(sorted(tags.items())),
        "hard_negatives": dict(sorted(collections.Counter(h[2] for h in hardneg).items())),
        "movers": len(movers),
    }
    _write(out / "manifest.json", (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--severity", type=float, default=1.0, help="scales every corruption rate (0-3)")
    args = parser.parse_args()
    try:
        out = generate(args.persons, args.seed, args.out, args.severity)
    except ValueError as exc:
        parser.error(str(exc))
    print(json.loads((out / "manifest.json").read_text(encoding="utf-8"))["archives"], "archives written to", out)


if __name__ == "__main__":
    main()
