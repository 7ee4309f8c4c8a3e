"""A third synthetic population of health archives: 甘肃省庆阳市, with known truth.

    python benchmarks/generator3/generate.py --persons N --seed S --out DIR

Written from the input schema and the domain facts only, without reading the engine's
matching rules, its repo synth (linkage/synth) or the independent generator's code, so that
a benchmark on it says something about data the engine was not shaped on.  Standard library
only; the same seed always gives byte-identical files.

Writes to DIR (0700; files 0600, each written to a temporary name and renamed):

* ``archives.csv`` - the engine's input schema, rows shuffled;
* ``truth.csv``    - ``archive_id,person_id,tags,county,role``: who owns each archive, a
  space-separated tag per corruption applied to it (plus the placement tags ``dup``,
  ``same_village``, ``other_township``, ``move``), the county of its region code and how it
  arose (``primary``, ``dup``, ``move``, ``newborn``);
* ``hardneg.csv``  - ``person_a,person_b,type``: different people made confusable on purpose
  or by household (twin, child_parent_id, spouse_id, namesake, spouse, sibling, parent_child);
* ``movers.csv``   - ``person_id,new_archive_id,old_county,new_county``;
* ``manifest.json`` - seed, persons, counts per role, tag and hard-negative type.

These are the files and columns that benchmarks/independent/evaluate.py reads, so that
scorer works unchanged: ``python benchmarks/independent/evaluate.py DIR RUN_OUT``.
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import io
import itertools
import json
import os
import random
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VILLAGES_CSV = HERE / "qingyang_villages.csv"
REF = dt.date(2025, 6, 30)  # the day of the export
COLUMNS = ["archive_id", "name", "sex", "birth_date", "id_number", "region_code", "address",
           "phone", "created_date", "last_service_date"]

# ---------------------------------------------------------------- rates (this generator's own)
# probability that a person gets an extra archive of each origin
P_DUP = {"child": 0.045, "adult": 0.055, "elder": 0.085}  # second clinic / exam event
P_THIRD = 0.12            # a duplicated person gets yet another archive
P_MOVE = 0.024            # moved to another county of the city, re-archived there
P_MOVE_WITH_SPOUSE = 0.5
P_NEWBORN = 0.16          # children born since 2019: archive opened before naming
P_TWIN = 0.03             # per birth event
P_CHILD_PARENT_ID = 0.012  # a child's archive filed under a parent's ID
P_SPOUSE_ID = 0.006       # a married person's archive carrying the spouse's ID
P_NAMESAKE = 0.012        # an adult made a namesake of another in the township

# corruptions of an extra archive: tag -> probability (some depend on age, see _corrupt)
NAME_RATES = {"name_homophone": 0.075, "name_lookalike": 0.05, "name_traditional": 0.025,
              "name_space": 0.015, "name_note": 0.02}
ID_RATES = {"id_typo": 0.035, "id_transpose": 0.025, "id_excel_sci": 0.012,
            "id_excel_trunc": 0.015, "id_legacy15": 0.05, "id_placeholder": 0.015,
            "id_fullwidth": 0.01, "id_spaces": 0.01}
ID_BLANK = {"child": 0.28, "adult": 0.17, "elder": 0.33, "mover": 0.38, "newborn": 0.65}
DOB_RATES = {"dob_shift": 0.035, "dob_daymonth": 0.012, "dob_placeholder": 0.012,
             "dob_jan1": 0.012, "dob_year": 0.01}
P_LUNAR = {"child": 0.0, "adult": 0.025, "elder": 0.17}
SEX_RATES = {"sex_swap": 0.03, "sex_blank": 0.015}
PHONE_RATES = {"phone_changed": 0.16, "phone_blank": 0.12, "phone_relative": 0.05}
P_PHONE_CHANGED_MOVER = 0.7
ADDR_RATES = {"addr_variant": 0.3, "addr_blank": 0.05}
# noise already in the first archive
ORIG_ID_BLANK = {"child": 0.2, "adult": 0.035, "elder": 0.09}
ORIG_RATES = {"id_typo": 0.008, "phone_blank": 0.06, "dob_placeholder": 0.004, "sex_blank": 0.008}

# ---------------------------------------------------------------- geography
# ID address codes: 庆阳 was 庆阳地区 (6227xx) until 2002; older residents keep those codes
OLD_COUNTY = {"621002": "622701", "621021": "622721", "621022": "622722", "621023": "622723",
              "621024": "622724", "621025": "622725", "621026": "622726", "621027": "622727"}
# where spouses married in from: 天水 秦州/麦积, 平凉 崆峒/泾川/灵台, 固原 原州, 西安 新城/雁塔
ELSEWHERE = ["620502", "620503", "620802", "620821", "620822", "640402", "610102", "610113"]
TWENTY_DIGIT_COUNTIES = {"621002", "621021", "621026"}  # vendors using region(12)+serial(8)

# ---------------------------------------------------------------- names
SURNAMES = ("王 420 李 330 张 300 刘 260 陈 170 杨 190 赵 150 马 160 何 60 魏 70 郭 60 周 55 "
            "吴 50 孙 55 朱 45 胡 50 高 60 徐 40 苏 45 韩 45 罗 35 冯 40 贾 45 路 30 闫 35 "
            "段 35 任 40 曹 35 袁 30 田 40 景 20 米 15 巩 15 席 18 豆 12 付 25 雷 25 蒲 15 "
            "冉 10 牛 25 安 25 党 20 梁 35 秦 20 蔺 10 师 12 宋 30 许 30 侯 30 白 35 姚 25 "
            "石 30 董 30 毛 20 慕 15 令狐 4 欧阳 3 司马 2 仇 6 单 5 翟 10 解 4 樊 20 薛 25 "
            "齐 15 惠 10 岳 15 武 25 常 20 芦 10 鲁 15 祁 10 左 8 乔 12 贺 15 吕 20 邓 15")
GIVEN = {  # (sex, cohort) -> (phrases "name weight ...", first chars, second chars, p_single)
    ("M", 0): ("建国 30 建军 20 国强 14 志刚 10 振华 8 德胜 8 福林 8 治国 8 双喜 6 进财 6 有才 6 "
               "长生 8 文华 6 明德 5 忠 8 义 6 军 8 林 6 海 6 山 6 武 5 全 5 成 6 贵 6 发 5",
               "德福永玉忠世文长万明有生", "才林山成全福贵荣喜祥海生华堂仁义", 0.15),
    ("F", 0): ("秀英 40 桂英 30 秀兰 25 桂兰 20 玉兰 20 兰英 12 凤英 12 玉梅 10 桂芳 10 秀珍 10 "
               "淑珍 8 玉珍 8 秀梅 8 彩霞 6 菊花 6 桂花 8 翠花 6 改花 6 改霞 6 粉霞 4 存霞 4 "
               "兰 6 英 6 梅 5 花 4 珍 4",
               "秀桂玉凤淑翠彩改兰金银粉", "英兰梅珍芳花霞琴莲枝娥香", 0.12),
    ("M", 1): ("军 20 伟 15 强 14 勇 12 刚 12 斌 10 平 10 涛 8 辉 8 明 8 建军 10 建平 8 永红 6 "
               "卫东 6 红军 5 海军 6 志强 10 国平 6 小军 6 小平 6 军军 3",
               "建永志国海卫小文红晓俊", "军平强明华东刚林伟宏峰", 0.35),
    ("F", 1): ("丽 12 红 12 霞 12 燕 12 芳 12 娟 12 萍 10 琴 8 静 6 梅 8 丽娟 8 红梅 8 春燕 6 "
               "晓燕 6 海燕 6 小红 6 小燕 5 彩霞 5 改琴 4 亚琴 4",
               "丽红春海晓小彩雪玉艳亚", "娟梅燕霞琴萍芳红丽莉", 0.4),
    ("M", 2): ("磊 10 鹏 10 超 8 杰 8 浩 6 斌 6 亮 8 龙 6 飞 6 强 6 伟 8 军 5 文杰 6 志鹏 6 "
               "俊杰 5 晓东 5 鹏飞 6 建龙 4",
               "文志俊建晓鹏子宏家佳永", "杰鹏龙飞强斌涛博亮辉刚", 0.28),
    ("F", 2): ("婷 10 娜 10 静 8 丽 6 敏 6 倩 6 丹 6 瑞 4 雪 5 佳 4 晓丽 5 婷婷 6 丽娜 5 "
               "娟娟 4 雅琴 4 小娟 4 文静 5",
               "晓丽雅佳娟婷雪慧小文亚", "婷娜敏丽静倩丹雪琴霞娟", 0.3),
    ("M", 3): ("浩宇 12 子轩 12 宇轩 10 子豪 8 浩然 8 一鸣 6 俊熙 5 博文 6 宇航 6 家豪 6 皓轩 6 "
               "梓涵 4 浩 4 博 3 鑫 3 子墨 6 沐阳 4",
               "子梓浩宇俊家博皓一嘉文", "轩涵宇豪然熙航阳鑫博泽", 0.08),
    ("F", 3): ("子涵 12 梓涵 12 欣怡 10 雨涵 10 一诺 8 紫涵 6 诗涵 6 可欣 6 思涵 5 梓萱 6 "
               "雨萱 5 佳怡 5 若汐 4 语桐 4 欣 3 悦 3",
               "子梓欣雨诗思可佳语若一", "涵怡萱琪彤冉妍悦瑶诺桐", 0.08),
}
HOMOPHONES = ["丽莉俐", "华桦骅", "红宏虹鸿", "芳方", "娟鹃涓", "静靖婧", "婷亭庭", "军君均",
              "伟玮", "涛韬滔", "勇永", "杰洁捷", "辉晖", "霞侠", "梅玫", "兰岚澜", "英瑛",
              "秀绣", "珍贞", "凤峰锋枫", "燕艳雁", "琴芹勤", "玲琳林霖", "宇雨语羽",
              "涵寒晗", "轩萱宣", "浩皓昊", "子梓紫", "欣馨心鑫", "怡宜仪", "明鸣铭", "平萍苹",
              "刚钢", "斌彬滨", "鹏朋", "飞菲", "博波柏", "佳嘉家", "晓小筱", "建健剑",
              "文雯", "慧惠", "强蔷", "敏闵", "花华", "贵桂", "成诚", "生升", "龙隆", "瑞睿"]
LOOKALIKES = ["己已", "未末", "王玉", "淮准", "候侯", "晴睛", "崇祟", "娟绢", "玲铃",
              "瑞端", "祥样", "风凤", "丹舟", "桂挂", "萍苹", "杨扬", "汩汨", "戌戍",
              "壁璧", "辩辨", "茶荼", "春舂", "刁刀", "干千", "太犬", "免兔", "贝见",
              "亨享", "旦且", "兵乒", "沛市", "治冶", "梁粱", "银锒", "彩采",
              # shape-alikes a Wubi or stroke IME offers for common name characters
              "宇字", "怡恰", "悦锐", "博搏", "晓烧", "娜哪", "雪雷", "平乎", "全金", "贵责",
              "发友", "生牛", "福幅", "堂常", "珍玲", "枝技", "娥蛾", "才寸", "祥详", "存在",
              "粉纷", "改攻", "明朋", "华毕", "军车", "涵函", "倩情", "浩洁", "婷停", "林材"]
TRADITIONAL = dict(zip(
    "华国丽红兰凤龙云东军刚杰伟涛强马刘张陈杨赵黄吴郑孙冯邓许韩苏卢贾艳庆宝贵兴录银钱"
    "叶万乔齐严汉学礼义顺娇莲亚卫进宁发财绪鹏飞轩晓静梦忆乐爱丰阳胜广",
    "華國麗紅蘭鳳龍雲東軍剛傑偉濤強馬劉張陳楊趙黃吳鄭孫馮鄧許韓蘇盧賈艷慶寶貴興錄銀錢"
    "葉萬喬齊嚴漢學禮義順嬌蓮亞衛進寧發財緒鵬飛軒曉靜夢憶樂愛豐陽勝廣"))
FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789X"}
CN_NUM = "零一二三四五六七八九十"


def _weighted(spec: str) -> tuple[list[str], list[float]]:
    """'王 420 李 330' -> (['王', '李'], cumulative weights)."""
    parts = spec.split()
    items = parts[0::2]
    cum = list(itertools.accumulate(float(w) for w in parts[1::2]))
    return items, cum


SURNAME_TABLE = _weighted(SURNAMES)
GIVEN_TABLE = {k: (_weighted(v[0]), v[1], v[2], v[3]) for k, v in GIVEN.items()}
HOMO_OF = {c: g.replace(c, "") for g in HOMOPHONES for c in g}
LOOK_OF: dict[str, str] = {}
for _pair in LOOKALIKES:
    LOOK_OF.setdefault(_pair[0], _pair[1])
    LOOK_OF.setdefault(_pair[1], _pair[0])


# ---------------------------------------------------------------- ID numbers (GB 11643-1999)
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_check(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the 17 body digits."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(body17, WEIGHTS)) % 11]


def make_id(county: str, dob: dt.date, seq: int) -> str:
    body = f"{county}{dob:%Y%m%d}{seq:03d}"
    return body + id_check(body)


# ---------------------------------------------------------------- model objects
@dataclass
class Village:
    code: str
    county: str
    township: str
    village: str

    @property
    def short(self) -> str:
        """村委会/居委会 names as residents write them (张湾村委会 -> 张湾村)."""
        v = self.village
        for suffix, repl in (("村民委员会", "村"), ("村委会", "村"), ("居民委员会", ""),
                             ("社区居委会", "社区"), ("居委会", "社区")):
            if v.endswith(suffix):
                return v[: -len(suffix)] + repl
        return v


@dataclass
class Household:
    hid: int
    village: Village
    address: str
    phone: str
    members: list[int] = field(default_factory=list)


@dataclass
class Person:
    pid: int
    surname: str
    given: str
    sex: str  # "M" / "F"
    dob: dt.date
    hh: int
    id18: str = ""
    phone: str = ""
    mother: int | None = None
    father: int | None = None
    spouse: int | None = None
    is_head: bool = False

    @property
    def name(self) -> str:
        return self.surname + self.given

    @property
    def age(self) -> int:
        return REF.year - self.dob.year - ((REF.month, REF.day) < (self.dob.month, self.dob.day))

    @property
    def band(self) -> str:
        return "child" if self.age < 16 else "elder" if self.age >= 60 else "adult"


@dataclass
class Archive:
    pid: int
    role: str
    village: Village
    name: str
    sex: str  # "M" / "F" / ""
    dob: dt.date | None
    id_number: str
    address: str
    phone: str
    created: dt.date
    tags: list[str] = field(default_factory=list)
    archive_id: str = ""
    service_until: dt.date = REF  # last service falls before this (a move, a re-archiving)


# ---------------------------------------------------------------- the generator
class Population:
    """One population; every random draw goes through ``self.r`` in a fixed order."""

    def __init__(self, persons: int, seed: int, severity: float = 1.0) -> None:
        self.n = persons
        self.sev = severity
        self.r = random.Random(f"generator3:{seed}")
        self.villages = _load_villages()
        self.by_county: dict[str, list[Village]] = collections.defaultdict(list)
        self.by_township: dict[str, list[Village]] = collections.defaultdict(list)
        for v in self.villages:
            self.by_county[v.code[:6]].append(v)
            self.by_township[v.code[:9]].append(v)
        # urban streets and county seats hold more residents
        self.village_cum = list(itertools.accumulate(
            3.0 if int(v.code[6:9]) < 100 else 1.6 if v.code[6:9] == "100" else 1.0
            for v in self.villages))
        self.people: list[Person] = []
        self.households: list[Household] = []
        self.archives: list[Archive] = []
        self.archives_of: dict[int, list[Archive]] = collections.defaultdict(list)
        self.hardneg: set[tuple[int, int, str]] = set()
        self.movers: list[tuple[int, int, str, str]] = []  # pid, archive index, old, new county
        self.used_ids: set[str] = set()
        self.used_phones: set[str] = set()
        self.serial: collections.Counter[str] = collections.Counter()

    # ------------------------------------------------------------ small draws
    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def corrupts(self, p: float) -> bool:
        """A corruption with rate ``p``, scaled by the severity."""
        return self.r.random() < p * self.sev

    def roll(self) -> float:
        """A draw to compare with cumulative corruption rates (scaled by the severity)."""
        return self.r.random() / self.sev if self.sev > 0 else 2.0

    def surname(self) -> str:
        items, cum = SURNAME_TABLE
        return self.r.choices(items, cum_weights=cum)[0]

    def given(self, sex: str, year: int) -> str:
        cohort = 0 if year < 1960 else 1 if year < 1980 else 2 if year < 2000 else 3
        (items, cum), first, second, p_single = GIVEN_TABLE[(sex, cohort)]
        if self.chance(0.55):
            return self.r.choices(items, cum_weights=cum)[0]
        if self.chance(p_single):
            return self.r.choice(second)
        return self.r.choice(first) + self.r.choice(second)

    def date_in(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.r.randrange(max(1, (end - start).days + 1)))

    def born(self, age: int) -> dt.date:
        """A birth date giving ``age`` on the export day."""
        end = dt.date(REF.year - age, REF.month, REF.day)
        return self.date_in(end - dt.timedelta(days=364), end)

    def mobile(self) -> str:
        while True:
            p = "1" + self.r.choice("3589") + "".join(self.r.choices("0123456789", k=9))
            if p not in self.used_phones:
                self.used_phones.add(p)
                return p

    def landline(self) -> str:
        while True:
            p = "0934-" + self.r.choice("2345678") + "".join(self.r.choices("0123456789", k=6))
            if p not in self.used_phones:
                self.used_phones.add(p)
                return p

    def pick_village(self) -> Village:
        return self.r.choices(self.villages, cum_weights=self.village_cum)[0]

    def address(self, v: Village) -> str:
        """A household address as the clerk of that village writes it."""
        urban = int(v.code[6:9]) < 100 or int(v.code[9:12]) < 200 and self.chance(0.5)
        if urban:  # a residents' committee: building / unit / room
            estate = self.r.choice(["家属院", "小区", "花园", "新村", "佳苑"])
            return (f"甘肃省庆阳市{v.county}{v.township}{v.short}{v.short[:2]}{estate}"
                    f"{self.r.randint(1, 24)}号楼{self.r.randint(1, 6)}单元{self.r.randint(1, 6)}"
                    f"0{self.r.randint(1, 4)}室")
        group = self.r.randint(1, 12)
        unit = self.r.choice(["社", "组", "队"]) if self.chance(0.3) else "社"  # 社 = 村民小组 in Gansu
        return f"甘肃省庆阳市{v.county}{v.township}{v.short}{group}{unit}{self.r.randint(1, 80)}号"

    # ------------------------------------------------------------ people and households
    def add_person(self, surname: str, sex: str, dob: dt.date, hh: Household, **kw: Any) -> Person:
        p = Person(len(self.people), surname, self.given(sex, dob.year), sex, dob, hh.hid, **kw)
        self.people.append(p)
        hh.members.append(p.pid)
        return p

    def new_household(self, village: Village | None = None) -> Household:
        v = village or self.pick_village()
        hh = Household(len(self.households), v, self.address(v),
                       self.landline() if self.chance(0.12) else self.mobile())
        self.households.append(hh)
        return hh

    def couple(self, hh: Household, head_age: int) -> tuple[Person, Person | None]:
        head = self.add_person(self.surname(), "M", self.born(head_age), hh, is_head=True)
        wife = None
        if self.chance(0.92 if head_age < 70 else 0.7):  # else widowed or single
            wife_age = max(19, head_age + round(self.r.gauss(-2, 2.5)))
            wife = self.add_person(self.surname(), "F", self.born(wife_age), hh, spouse=head.pid)
            head.spouse = wife.pid
            self.hardneg.add((head.pid, wife.pid, "spouse"))
        elif self.chance(0.4):  # a widow heads the household
            head.sex = "F"
            head.given = self.given("F", head.dob.year)
        return head, wife

    def children(self, hh: Household, father: Person, mother: Person) -> list[Person]:
        """Births when the mother was 20-38; twins sometimes; children over 24 have left."""
        kids: list[Person] = []
        n = self.r.choices([0, 1, 2, 3, 4], [8, 30, 40, 17, 5])[0]
        first = mother.dob.year + self.r.randint(20, 26)
        years = sorted({first + i * self.r.randint(1, 4) for i in range(n)})
        for year in years:
            if year > REF.year:
                break
            dob = self.date_in(dt.date(year, 1, 1), min(dt.date(year, 12, 31), REF - dt.timedelta(days=5)))
            if dob > REF or REF.year - year > 24:
                continue
            surname = father.surname if self.chance(0.96) else mother.surname
            twins = self.chance(P_TWIN)
            sex = self.r.choice("MF")
            kid = self.add_person(surname, sex, dob, hh, mother=mother.pid, father=father.pid)
            kids.append(kid)
            if twins:
                sex2 = sex if self.chance(0.65) else ("F" if sex == "M" else "M")
                twin = self.add_person(surname, sex2, dob, hh, mother=mother.pid, father=father.pid)
                twin.given = self.twin_name(kid, sex2)
                while twin.given == kid.given:
                    twin.given = self.given(sex2, dob.year)
                kids.append(twin)
                self.hardneg.add((kid.pid, twin.pid, "twin"))
        for a, b in itertools.combinations(kids, 2):
            if (a.pid, b.pid, "twin") not in self.hardneg:
                self.hardneg.add((a.pid, b.pid, "sibling"))
        for k in kids:
            self.hardneg.add((father.pid, k.pid, "parent_child"))
            self.hardneg.add((mother.pid, k.pid, "parent_child"))
        return kids

    def twin_name(self, first: Person, sex: str) -> str:
        """Twins' names rhyme: a homophone swap, a 大/小-style series, or a shared first char."""
        g = first.given
        roll = self.r.random()
        if roll < 0.35 and g[-1] in HOMO_OF:
            return g[:-1] + self.r.choice(HOMO_OF[g[-1]])
        if roll < 0.6:
            a, b = self.r.choice(["龙虎", "文武", "大小", "一二", "佳欣", "晨曦", "东西", "思念"])
            stem = g[0] if len(g) == 2 else self.r.choice("子浩欣雨")
            return stem + b if g.endswith(a) else stem + self.r.choice(a + b)
        other = self.given(sex, first.dob.year)
        return (g[0] + other[-1]) if len(g) == 2 and other[-1] != g[-1] else other

    def build_people(self) -> None:
        while len(self.people) < self.n:
            kind = self.r.choices(["family", "elders", "three_gen"], [0.55, 0.28, 0.17])[0]
            hh = self.new_household()
            if kind == "elders":
                self.couple(hh, self.r.randint(60, 93))
                continue
            head_age = max(22, min(62, round(self.r.triangular(22, 62, 38))))
            head, wife = self.couple(hh, head_age)
            if wife is not None:
                self.children(hh, head, wife)
            if kind == "three_gen":
                gf_age = min(98, head.age + self.r.randint(22, 34))
                gf, gm = self.couple(hh, gf_age)
                gf.is_head = False
                self.hardneg.add((gf.pid, head.pid, "parent_child"))
                if gf.sex == "M":
                    gf.surname = head.surname
                    head.father = gf.pid
                else:
                    head.mother = gf.pid
                if gm is not None:
                    self.hardneg.add((gm.pid, head.pid, "parent_child"))
                    head.mother = gm.pid
        del self.people[self.n:]  # exactly N persons; drop dangling household references
        keep = len(self.people)
        for hh in self.households:
            hh.members = [m for m in hh.members if m < keep]
        self.hardneg = {t for t in self.hardneg if t[0] < keep and t[1] < keep}
        for p in self.people:
            for attr in ("mother", "father", "spouse"):
                if (getattr(p, attr) or 0) >= keep:
                    setattr(p, attr, None)

    def make_namesakes(self) -> None:
        """An adult of the same sex in the township takes another's full name and birth year.

        Only people whose surname no child inherits (wives, or men of the same surname) and
        who are nobody's child in the household are renamed, so families stay consistent.
        """
        by_key: dict[tuple[str, str], list[Person]] = collections.defaultdict(list)
        for p in self.people:
            if p.band != "child":
                by_key[(self.households[p.hh].village.code[:9], p.sex)].append(p)
        for p in self.people:
            if p.band == "child" or not self.chance(P_NAMESAKE):
                continue
            group = by_key[(self.households[p.hh].village.code[:9], p.sex)]
            pool = [q for q in self.r.sample(group, min(30, len(group)))
                    if q.hh != p.hh and abs(q.age - p.age) <= 8 and q.mother is None
                    and (q.sex == "F" or q.surname == p.surname)]
            if self.chance(0.4):  # namesakes in one village
                pool.sort(key=lambda q: self.households[q.hh].village.code != self.households[p.hh].village.code)
            if not pool:
                continue
            q = pool[0]
            q.surname, q.given = p.surname, p.given
            try:
                q.dob = q.dob.replace(year=p.dob.year)
            except ValueError:  # 29 February
                q.dob = q.dob.replace(year=p.dob.year, day=28)

    def assign_ids(self) -> None:
        """Birth-county IDs; twins get consecutive sequence numbers."""
        for p in self.people:
            county = self.households[p.hh].village.code[:6]
            if p.mother is None and p.band != "child" and self.chance(0.12):
                code = self.r.choice(ELSEWHERE)  # married in or moved in from elsewhere
            elif p.dob.year < 1995 and self.chance(0.8) or p.dob.year < 2002 and self.chance(0.5):
                code = OLD_COUNTY[county]
            else:
                code = county
            twin_of = None
            if p.mother is not None:
                twin_of = next((self.people[q] for q in self.households[p.hh].members
                                if q < p.pid and self.people[q].dob == p.dob
                                and self.people[q].mother == p.mother and self.people[q].id18), None)
            while True:
                if twin_of is not None:
                    seq = int(twin_of.id18[14:17]) + (2 if twin_of.sex == p.sex else 1)
                    code = twin_of.id18[:6]
                    twin_of = None  # fall back to a random number if taken
                else:
                    seq = self.r.randrange(0, 999)
                if seq > 999:
                    seq = self.r.randrange(0, 999)
                if seq % 2 != (1 if p.sex == "M" else 0):
                    seq = seq + 1 if seq < 999 else seq - 1
                candidate = make_id(code, p.dob, seq)
                if candidate not in self.used_ids:
                    break
            self.used_ids.add(candidate)
            p.id18 = candidate

    def assign_phones(self) -> None:
        for p in self.people:
            hh = self.households[p.hh]
            if p.is_head:
                p.phone = hh.phone
            elif 18 <= p.age <= 72 and self.chance(0.75):
                p.phone = self.mobile()
            else:
                p.phone = hh.phone
                if p.mother is not None and self.people[p.mother].phone and self.chance(0.6):
                    p.phone = self.people[p.mother].phone

    # ------------------------------------------------------------ archives
    def archive(self, p: Person, role: str, village: Village, created: dt.date) -> Archive:
        hh = self.households[p.hh]
        a = Archive(p.pid, role, village, p.name, p.sex, p.dob, p.id18, hh.address, p.phone,
                    max(created, p.dob))
        self.archives.append(a)
        self.archives_of[p.pid].append(a)
        return a

    def created_for(self, p: Person, after: dt.date | None = None) -> dt.date:
        start = max(dt.date(2009, 7, 1), p.dob + dt.timedelta(days=20), after or dt.date.min)
        return self.date_in(start, REF) if start < REF else REF

    def build_archives(self) -> None:
        newborn_cut = dt.date(2019, 1, 1)
        spouse_id_done: set[int] = set()
        for p in self.people:
            hh = self.households[p.hh]
            first = self.archive(p, "primary", hh.village, self.created_for(p))
            self._orig_noise(first, p)
            if p.band == "child" and p.mother is not None and self.chance(P_CHILD_PARENT_ID):
                parent = self.people[p.mother if self.chance(0.6) else (p.father or p.mother)]
                first.id_number = parent.id18
                first.tags = [t for t in first.tags if not t.startswith("id_")] + ["id_parent"]
                self.hardneg.add((parent.pid, p.pid, "child_parent_id"))
            if p.dob >= newborn_cut and self.chance(P_NEWBORN):
                self._newborn(p, first)
            if p.spouse is not None and p.spouse not in spouse_id_done and self.chance(P_SPOUSE_ID):
                spouse_id_done.add(p.pid)
                first.id_number = self.people[p.spouse].id18
                first.tags = [t for t in first.tags if not t.startswith("id_")] + ["id_spouse"]
                self.hardneg.add((p.pid, p.spouse, "spouse_id"))
            if self.chance(P_DUP[p.band]):
                self._duplicate(p, first)
                if self.chance(P_THIRD):
                    self._duplicate(p, first)
        moved: set[int] = set()
        for p in self.people:
            if p.pid in moved or p.age < 1 or not self.chance(P_MOVE):
                continue
            group = [p]
            if p.spouse is not None and p.spouse not in moved and self.chance(P_MOVE_WITH_SPOUSE):
                group.append(self.people[p.spouse])
            self._move(group)
            moved.update(q.pid for q in group)

    def _orig_noise(self, a: Archive, p: Person) -> None:
        if self.corrupts(ORIG_ID_BLANK[p.band]):
            a.id_number = ""
            a.tags.append("id_blank")
        elif self.corrupts(ORIG_RATES["id_typo"]):
            a.id_number = self._id_typo(a.id_number)
            a.tags.append("id_typo")
        if self.corrupts(ORIG_RATES["phone_blank"]):
            a.phone = ""
            a.tags.append("phone_blank")
        if self.corrupts(ORIG_RATES["dob_placeholder"]):
            a.dob = dt.date(1900, 1, 1)
            a.tags.append("dob_placeholder")
        if self.corrupts(ORIG_RATES["sex_blank"]):
            a.sex = ""
            a.tags.append("sex_blank")

    def _newborn(self, p: Person, named: Archive) -> None:
        """The 新生儿访视 archive, opened under a placeholder before the child had a name."""
        visit = p.dob + dt.timedelta(days=self.r.randint(3, 28))
        a = self.archive(p, "newborn", self.households[p.hh].village, min(visit, REF))
        named.created = max(named.created, min(REF, visit + dt.timedelta(days=self.r.randint(30, 900))))
        a.service_until = named.created  # the placeholder archive is left once the child is named
        mother = self.people[p.mother] if p.mother is not None else None
        mname = mother.name if mother else ""
        son = p.sex == "M"
        forms = [(f"{mname}之子" if son else f"{mname}之女", 30), (f"{mname}之婴", 8),
                 (f"{mname}宝宝", 14), (f"{mname}的孩子", 4), (f"{p.surname}宝宝", 6),
                 ("婴儿", 8), ("新生儿", 8), ("男婴" if son else "女婴", 10), ("小孩", 3),
                 (f"{p.surname}{'男' if son else '女'}婴", 5)]
        if not mname:
            forms = [f for f in forms if not f[0].startswith(("之", "宝", "的"))]
        a.name = self.r.choices([f[0] for f in forms], [f[1] for f in forms])[0]
        a.tags.append("newborn_placeholder")
        if self.corrupts(ID_BLANK["newborn"]):
            a.id_number = ""
            a.tags.append("id_blank")
        if mother and mother.phone:
            a.phone = mother.phone
        if a.name in ("婴儿", "新生儿", "小孩", f"{mname}之婴") and self.chance(0.5):
            a.sex = ""
            a.tags.append("sex_blank")
        if self.corrupts(0.08):
            a.dob = p.dob + dt.timedelta(days=self.r.choice([-2, -1, 1, 2, 3]))
            a.tags.append("dob_shift")

    def _duplicate(self, p: Person, first: Archive) -> None:
        hh = self.households[p.hh]
        roll = self.r.random()
        if roll < 0.45:  # the village doctor archives the resident again
            village, place = hh.village, "same_village"
        elif roll < 0.65:  # the township health centre, filed under another village
            village = self.r.choice(self.by_township[hh.village.code[:9]])
            place = "same_village" if village.code == hh.village.code else "same_township"
        else:  # an exam event or a clinic in another township of the county
            others = [t for t in self.by_township if t[:6] == hh.village.code[:6]
                      and t != hh.village.code[:9]] or [hh.village.code[:9]]
            village = self.r.choice(self.by_township[self.r.choice(sorted(others))])
            place = "other_township"
        a = self.archive(p, "dup", village, self.created_for(p))
        a.tags += ["dup", place]
        if first.id_number != p.id18 and self.chance(0.5):  # the borrowed ID is copied on
            a.id_number = first.id_number
            a.tags.append(next(t for t in first.tags if t.startswith("id_")))
        self._corrupt(a, p, p.band)

    def _move(self, group: list[Person]) -> None:
        """A household part moves to another county; the new clinic opens new archives."""
        old_hh = self.households[group[0].hh]
        old_county = old_hh.village.code[:6]
        counties = sorted(c for c in self.by_county if c != old_county)
        new_county = self.r.choice(counties)
        new_village = self.r.choice(self.by_county[new_county])
        new_address = self.address(new_village)
        shared_phone = self.mobile() if self.corrupts(P_PHONE_CHANGED_MOVER) else None
        youngest = max(p.dob for p in group)
        moved_on = self.date_in(max(dt.date(2012, 1, 1), youngest + dt.timedelta(days=200)), REF)
        for p in group:
            for old in self.archives_of[p.pid]:  # no service in the old county after the move
                if old.created >= moved_on:
                    old.created = max(old.dob or p.dob, p.dob,
                                      moved_on - dt.timedelta(days=self.r.randint(20, 700)))
                old.service_until = min(old.service_until, moved_on)
            a = self.archive(p, "move", new_village, self.created_for(p, after=moved_on))
            a.address = new_address
            a.tags.append("move")
            if shared_phone is not None:
                a.phone = shared_phone
                a.tags.append("phone_changed")
            self._corrupt(a, p, "mover", phone=False, address=False)
            self.movers.append((p.pid, len(self.archives) - 1, old_county, new_county))

    # ------------------------------------------------------------ corruption of an extra archive
    def _corrupt(self, a: Archive, p: Person, band: str, phone: bool = True, address: bool = True) -> None:
        tag = a.tags.append
        r = self.r
        # name: at most one character-level change, plus sometimes a clerk's note
        roll = self.roll()
        acc = 0.0
        for kind, rate in NAME_RATES.items():
            acc += rate
            if roll < acc:
                new = self._name_change(kind, a.name, p)
                if new and new != a.name:
                    a.name = new
                    tag(kind)
                break
        # ID
        if a.id_number == p.id18:
            if self.corrupts(ID_BLANK[band]):
                a.id_number = r.choice([""] * 12 + ["无", "不详"])
                tag("id_blank")
            else:
                roll, acc = self.roll(), 0.0
                for kind, rate in ID_RATES.items():
                    acc += rate
                    if roll < acc:
                        new = self._id_change(kind, a.id_number, p)
                        if new is not None and new != a.id_number:
                            a.id_number = new
                            tag(kind)
                        break
        # birth date
        if a.dob is not None and a.dob.year > 1900:
            lunar = P_LUNAR.get(band, P_LUNAR[p.band])
            if self.corrupts(lunar):
                a.dob = a.dob - dt.timedelta(days=round(r.triangular(19, 54, 37)))
                tag("dob_lunar")
            else:
                roll, acc = self.roll(), 0.0
                for kind, rate in DOB_RATES.items():
                    acc += rate
                    if roll < acc:
                        new = self._dob_change(kind, a.dob)
                        if new is not None and new != a.dob:
                            a.dob = new
                            tag(kind)
                        break
        # sex
        if a.sex:
            roll = self.roll()
            if roll < SEX_RATES["sex_swap"]:
                a.sex = "F" if a.sex == "M" else "M"
                tag("sex_swap")
            elif roll < SEX_RATES["sex_swap"] + SEX_RATES["sex_blank"]:
                a.sex = ""
                tag("sex_blank")
        # phone
        if phone:
            roll = self.roll()
            if roll < PHONE_RATES["phone_changed"]:
                a.phone = self.mobile()
                tag("phone_changed")
            elif roll < PHONE_RATES["phone_changed"] + PHONE_RATES["phone_blank"]:
                a.phone = ""
                tag("phone_blank")
            elif roll < sum(PHONE_RATES.values()):
                mates = [self.people[m].phone for m in self.households[p.hh].members
                         if self.people[m].phone and self.people[m].phone != a.phone]
                if mates:
                    a.phone = r.choice(mates)
                    tag("phone_relative")
        # address
        roll = self.roll()
        if address and roll < ADDR_RATES["addr_blank"]:
            a.address = ""
            tag("addr_blank")
        elif roll < ADDR_RATES["addr_blank"] + ADDR_RATES["addr_variant"]:
            new = self._address_variant(a.address)
            if new != a.address:
                a.address = new
                tag("addr_variant")

    def _name_change(self, kind: str, name: str, p: Person) -> str | None:
        r = self.r
        n = len(p.surname)
        if kind in ("name_homophone", "name_lookalike"):
            table = HOMO_OF if kind == "name_homophone" else LOOK_OF
            spots = [i for i in range(len(name)) if name[i] in table]
            given_spots = [i for i in spots if i >= n]
            spots = given_spots if given_spots and self.chance(0.85) else spots
            if not spots:
                return None
            i = r.choice(spots)
            return name[:i] + r.choice(table[name[i]]) + name[i + 1:]
        if kind == "name_traditional":
            new = "".join(TRADITIONAL.get(c, c) for c in name)
            return new if new != name else None
        if kind == "name_space":
            if len(name) == 2:
                return name[0] + r.choice(["  ", " ", "\u3000"]) + name[1]
            return name[:n] + r.choice([" ", "\u3000", "", ""]) + name[n:] + r.choice(["", " "])
        if kind == "name_note":
            if p.age >= 75 and self.chance(0.6):
                return name + r.choice(["(已故)", "（已故）", "(死亡)", "【已故】"])
            if p.is_head:
                return name + r.choice(["【户主】", "(户主)"])
            return name + r.choice(["(迁出)", "（外出）", "(长期外出)"])
        return None

    def _id_typo(self, id18: str) -> str:
        i = self.r.randrange(0, 17)
        d = self.r.choice([c for c in "0123456789" if c != id18[i]])
        return id18[:i] + d + id18[i + 1:]

    def _id_change(self, kind: str, id18: str, p: Person) -> str | None:
        r = self.r
        if kind == "id_typo":
            return self._id_typo(id18)
        if kind == "id_transpose":
            spots = [i for i in range(17) if id18[i] != id18[i + 1]]
            if not spots:
                return None
            i = r.choice(spots)
            return id18[:i] + id18[i + 1] + id18[i] + id18[i + 2:]
        if kind == "id_excel_sci":
            if id18.endswith("X"):
                return None
            return f"{int(id18):.5E}"  # what Excel shows: 6.21002E+17
        if kind == "id_excel_trunc":
            if id18.endswith("X"):
                return None
            return id18[:15] + "000"
        if kind == "id_legacy15":
            if p.dob.year >= 1985 or p.dob.year < 1900:
                return None
            return id18[:6] + id18[8:17]
        if kind == "id_placeholder":
            return r.choice(["111111111111111111", "000000000000000000", "NULL", "无"])
        if kind == "id_fullwidth":
            return "".join(FULLWIDTH.get(c, c) for c in id18)
        if kind == "id_spaces":
            return r.choice([f"{id18[:6]} {id18[6:14]} {id18[14:]}", f"'{id18}", f" {id18} ",
                             f"{id18[:6]}-{id18[6:14]}-{id18[14:]}"])
        return None

    def _dob_change(self, kind: str, dob: dt.date) -> dt.date | None:
        r = self.r
        if kind == "dob_shift":
            return dob + dt.timedelta(days=r.choice([-7, -5, -3, -2, -1, 1, 1, 2, 3, 5, 7]))
        if kind == "dob_daymonth":
            if dob.day > 12 or dob.day == dob.month:
                return None
            return dob.replace(month=dob.day, day=dob.month)
        if kind == "dob_placeholder":
            return dt.date(1900, 1, 1)
        if kind == "dob_jan1":
            return dob.replace(month=1, day=1)
        if kind == "dob_year":
            try:
                return dob.replace(year=dob.year + r.choice([-1, 1]))
            except ValueError:
                return None
        return None

    def _address_variant(self, address: str) -> str:
        """How another clerk writes the same place: shorter, 社/组 swapped, numerals in 汉字."""
        s = address
        if self.chance(0.7):
            s = s.replace("甘肃省", "")
        if self.chance(0.5):
            s = s.replace("庆阳市", "")
        if self.chance(0.25):
            s = s.replace("办事处街道", "").replace("街道", "")
        if self.chance(0.3):
            s = s.replace("社", "组") if "社" in s and "社区" not in s else s.replace("组", "社")
        if self.chance(0.3):
            out = []
            for i, c in enumerate(s):
                nxt = s[i + 1] if i + 1 < len(s) else ""
                prv = s[i - 1] if i else ""
                if c.isdigit() and not nxt.isdigit() and not prv.isdigit() and nxt in "社组队号单":
                    out.append(CN_NUM[int(c)])
                else:
                    out.append(c)
            s = "".join(out)
        if self.chance(0.1) and "号楼" not in s:
            s = re.sub(r"[0-9零一二三四五六七八九十]+号$", "", s)  # house number left off
        return s

    # ------------------------------------------------------------ hard negatives found by scan
    def scan_namesakes(self) -> None:
        """Every pair with one full name and birth year in one township is a hard negative."""
        groups: dict[tuple[str, str, int], list[int]] = collections.defaultdict(list)
        for p in self.people:
            groups[(self.households[p.hh].village.code[:9], p.name, p.dob.year)].append(p.pid)
        for members in groups.values():
            for a, b in itertools.combinations(members, 2):
                self.hardneg.add((a, b, "namesake"))

    # ------------------------------------------------------------ output
    def number_archives(self) -> None:
        """Serial numbers run by creation date within the creating village."""
        order = sorted(range(len(self.archives)),
                       key=lambda i: (self.archives[i].village.code, self.archives[i].created, i))
        for a in (self.archives[i] for i in order):
            code = a.village.code
            self.serial[code] += 1
            if code[:6] in TWENTY_DIGIT_COUNTIES:
                a.archive_id = f"{code}{self.serial[code]:08d}"
            else:
                a.archive_id = f"{code}{self.serial[code]:05d}"

    def render(self, a: Archive, style: random.Random) -> dict[str, str]:
        """The archive as the export shows it: date formats, sex codes and ID case vary."""
        fmt = style.choices(["iso", "compact", "slash"], [72, 14, 14])[0]

        def date(d: dt.date | None) -> str:
            if d is None:
                return ""
            if fmt == "compact":
                return f"{d:%Y%m%d}"
            if fmt == "slash":
                return f"{d.year}/{d.month}/{d.day}"
            return d.isoformat()

        codes = style.random() < (0.6 if a.village.code[:6] in TWENTY_DIGIT_COUNTIES else 0.3)
        sex = {"M": "1" if codes else "男", "F": "2" if codes else "女", "": ""}[a.sex]
        phone = a.phone
        roll = style.random()
        if phone.startswith("1") and len(phone) == 11 and roll < 0.09:
            if roll < 0.03:
                phone = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
            elif roll < 0.05:
                phone = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
            elif roll < 0.06:
                phone = "+86" + phone
            else:  # two numbers in one field: the resident's and the household's
                other = self.households[self.people[a.pid].hh].phone
                if other != phone:
                    phone = phone + style.choice(["/", "，", " ", ";"]) + other
                    a.tags.append("phone_two")
        id_number = a.id_number
        if id_number.endswith("X") and style.random() < 0.3:
            id_number = id_number[:-1] + "x"
        last = a.created + dt.timedelta(days=style.randrange(max(1, (a.service_until - a.created).days + 1)))
        return {"archive_id": a.archive_id, "name": a.name, "sex": sex, "birth_date": date(a.dob),
                "id_number": id_number, "region_code": a.village.code, "address": a.address,
                "phone": phone, "created_date": date(a.created), "last_service_date": date(last)}

    def generate(self) -> None:
        self.build_people()
        self.make_namesakes()
        self.assign_ids()
        self.assign_phones()
        self.build_archives()
        self.scan_namesakes()
        self.number_archives()


def _load_villages() -> list[Village]:
    with VILLAGES_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    return [Village(r["code"], r["county"], r["township"], r["village"]) for r in rows]


def _write(path: Path, text: str) -> None:
    """Atomic, owner-readable only."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv(header: list[str], rows: list[list[Any]] | list[dict[str, str]]) -> str:
    buf = io.StringIO()
    if rows and isinstance(rows[0], dict):
        w: Any = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
        w.writeheader()
    else:
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def generate(persons: int, seed: int, out: Path, severity: float = 1.0) -> dict[str, Any]:
    """Write one population to ``out``; returns the manifest.

    ``severity`` scales every corruption rate (not the duplicate, move or hard-negative
    rates): 0 gives clean extra archives, 1 the rates above.
    """
    if persons < 1:
        raise ValueError("persons must be at least 1")
    if not 0 <= severity <= 3:
        raise ValueError("severity must be between 0 and 3")
    pop = Population(persons, seed, severity)
    pop.generate()
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    style = random.Random(f"generator3-style:{seed}")
    order = list(range(len(pop.archives)))
    random.Random(f"generator3-order:{seed}").shuffle(order)
    pid = lambda p: f"P{p:07d}"  # noqa: E731
    rows = [pop.render(pop.archives[i], style) for i in order]  # may add a phone_two tag
    _write(out / "archives.csv", _csv(COLUMNS, rows))
    _write(out / "truth.csv", _csv(
        ["archive_id", "person_id", "tags", "county", "role"],
        [[a.archive_id, pid(a.pid), " ".join(a.tags), a.village.code[:6], a.role]
         for a in (pop.archives[i] for i in order)]))
    hardneg = sorted({(min(a, b), max(a, b), t) for a, b, t in pop.hardneg if a != b})
    _write(out / "hardneg.csv", _csv(["person_a", "person_b", "type"],
                                     [[pid(a), pid(b), t] for a, b, t in hardneg]))
    _write(out / "movers.csv", _csv(
        ["person_id", "new_archive_id", "old_county", "new_county"],
        [[pid(p), pop.archives[i].archive_id, old, new] for p, i, old, new in pop.movers]))
    tags: collections.Counter[str] = collections.Counter(t for a in pop.archives for t in a.tags)
    manifest = {
        "generator": "benchmarks/generator3", "seed": seed, "persons": persons, "severity": severity,
        "archives": len(pop.archives), "households": len(pop.households),
        "extra_archives_share": round(len(pop.archives) / persons - 1, 4),
        "roles": dict(sorted(collections.Counter(a.role for a in pop.archives).items())),
        "tags": dict(sorted(tags.items())),
        "hard_negative_pairs": dict(sorted(collections.Counter(t for _, _, t in hardneg).items())),
        "movers": len(pop.movers), "export_date": REF.isoformat(),
    }
    _write(out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, required=True, help="number of residents")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same files)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    parser.add_argument("--severity", type=float, default=1.0,
                        help="scale of all corruption rates, 0-3 (default 1)")
    args = parser.parse_args(argv)
    if args.persons < 1:
        parser.error("--persons must be at least 1")
    if not 0 <= args.severity <= 3:
        parser.error("--severity must be between 0 and 3")
    m = generate(args.persons, args.seed, args.out, args.severity)
    print(f"{m['persons']} persons, {m['archives']} archives "
          f"({m['extra_archives_share'] * 100:.1f}% extra), {m['movers']} movers -> {args.out}")


if __name__ == "__main__":
    main()
