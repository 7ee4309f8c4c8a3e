"""Independent synthetic population of resident health archives, 河南省周口市.

Written from scratch, apart from ``linkage/synth``, so that the engine can be checked against
data it was never tuned on: another province, harsher and stacked corruptions, and dense hard
negatives (spouses, parents and children, siblings, twins with near-identical names and
consecutive IDs, namesakes with the same birth date, children filed under a parent's ID).

    python benchmarks/independent/generate.py --persons 60000 --seed 7 [--sev 1.0] --out DIR

Writes to ``DIR``:

* ``archives.csv``     UTF-8, English headers (the engine's input schema), mixed formats
* ``archives_gb.csv``  the same rows, GB18030, Chinese headers, CRLF line ends
* ``truth.csv``        archive_id, person_id, kind (base/dup/move), county, corruption tags
* ``hardneg.csv``      person_a, person_b, type: related or look-alike persons that are not one
* ``movers.csv``       person_id, old_county, new_county, new_archive_id
* ``stats.json``       counts

The output is a function of the arguments alone (``random.Random`` and numpy's
``default_rng`` seeded with ``--seed``; no hash-ordered iteration).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from borax.calendars.lunardate import LunarDate

TODAY = dt.date(2025, 3, 1)

# ---------------------------------------------------------------- geography
PROV, CITY = "河南省", "周口市"
# county code -> (name, "streets|towns|townships"); streets are urban, the rest rural
COUNTIES = {
    "411602": ("川汇区", "陈州回族街道 七一路街道 荷花路街道 人和街道 小桥街道 城北街道 文昌街道 搬口街道||李埠口乡 许湾乡"),
    "411621": ("扶沟县", "桐丘街道|崔桥镇 江村镇 白潭镇 韭园镇 练寺镇 大新镇 包屯镇 汴岗镇|曹里乡 柴岗乡 固城乡 吕潭乡"),
    "411622": ("西华县", "娲城街道|西夏镇 东夏亭镇 逍遥镇 奉母镇 红花集镇 聂堆镇|东王营乡 大王庄乡 李大庄乡 叶埠口乡 皮营乡"),
    "411623": ("商水县", "老城街道 东城街道|练集镇 魏集镇 固墙镇 白寺镇 巴村镇 谭庄镇 邓城镇 胡吉镇|平店乡 袁老乡 化河乡 姚集乡 舒庄乡 大武乡 张明乡"),
    "411624": ("沈丘县", "东城街道|槐店回族镇 刘庄店镇 留福镇 老城镇 赵德营镇 付井镇 纸店镇 新安集镇 白集镇 刘湾镇 莲池镇|北杨集乡 冯营乡 李老庄乡"),
    "411625": ("郸城县", "洺南街道|吴台镇 南丰镇 白马镇 宁平镇 宜路镇 钱店镇 汲冢镇 石槽镇|城郊乡 虎岗乡 汲水乡 张完乡 丁村乡 双楼乡 秋渠乡"),
    "411627": ("太康县", "城关回族镇|常营镇 逊母口镇 老冢镇 朱口镇 马头镇 龙曲镇 板桥镇 符草楼镇 马厂镇 毛庄镇 转楼镇|独塘乡 高朗乡 杨庙乡"),
    "411628": ("鹿邑县", "真源街道 卫真街道|玄武镇 宋河镇 太清宫镇 生铁冢镇 辛集镇 马铺镇 贾滩镇 杨湖口镇 试量镇 王皮溜镇|唐集乡 张店乡 穆店乡"),
    "411681": ("项城市", "花园街道 水寨街道 东方街道 莲花街道 千佛阁街道 光武街道|丁集镇 秣陵镇 王明口镇 南顿镇 孙店镇 李寨镇 贾岭镇 高寺镇|范集镇 永丰镇 三店镇"),
}
# 1983-2000 the area was 周口地区 with codes 4127xx; IDs issued then still carry them
OLD_CODE = {"411602": "412701", "411621": "412721", "411622": "412722", "411623": "412723",
            "411627": "412724", "411628": "412725", "411625": "412726", "411624": "412728",
            "411681": "412702"}
OTHER_HENAN = ["410102", "410105", "410122", "410184", "410202", "410221", "410302", "410323",
               "411102", "411321", "411481", "411526", "411702", "412822"]
XINJIANG = ["650102", "650104", "652901", "653101", "653121", "654002"]
# rural counties hold most people
COUNTY_W = {"411602": 0.9, "411621": 0.8, "411622": 0.9, "411623": 1.2, "411624": 1.1,
            "411625": 1.3, "411627": 1.4, "411628": 1.1, "411681": 1.2}

VILLAGE_HEAD = "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 胡 朱 高 郭 马 宋 郑 韩 冯 程 曹 许 贾 丁 魏 杜 田 范 石 郝 孔 白 崔 常 武 乔 付 牛 闫 耿 翟 岳 申 庞 聂 邵".split()
VILLAGE_SUF = "庄 楼 营 集 寨 岗 湾 屯 桥 店 口 坡 园 洼 寨 庄 庄 楼 营 集 台 堂 阁 寺 埠".split()  # repeats weight
VILLAGE_PRE = ["", "", "", "", "大", "小", "东", "西", "南", "北", "前", "后", "新", "老"]
COMMUNITY = "人和 建设路 文明路 交通路 七一路 八一路 中州 太昊路 工农路 团结 和平 光明 新华 育新 东新 西关 南关 北关 迎宾 滨河 五一路 大庆路 富民 莲花 花园".split()
ROADS = "七一路 八一大道 交通大道 中州大道 工农路 文明路 太昊路 建设大道 人民路 新街 莲花路 项城大道 光武大道 团结路 富民路 育新街".split()
CN_DIGITS = "零一二三四五六七八九十"

# ---------------------------------------------------------------- names
SUR = """王 7.5 李 7.0 张 7.5 刘 5.5 陈 4.0 杨 3.0 赵 2.5 黄 1.5 周 1.8 吴 1.2 徐 1.2 孙 1.8 胡 1.5 朱 1.5 高 1.7
林 0.5 何 0.8 郭 2.2 马 1.8 罗 0.6 梁 1.0 宋 1.3 郑 1.2 谢 0.6 韩 1.0 唐 0.5 冯 1.0 于 0.6 董 0.7 萧 0.1 程 0.8
曹 0.9 袁 0.6 邓 0.5 许 0.9 傅 0.3 沈 0.5 曾 0.3 彭 0.5 吕 0.6 苏 0.5 卢 0.5 蒋 0.4 蔡 0.4 贾 0.6 丁 0.5 魏 0.7
薛 0.4 叶 0.3 阎 0.3 余 0.3 潘 0.4 杜 0.6 戴 0.3 夏 0.3 钟 0.2 汪 0.2 田 0.6 任 0.5 姜 0.4 范 0.5 方 0.3 石 0.5
姚 0.4 谭 0.2 廖 0.1 邹 0.2 熊 0.2 金 0.2 陆 0.2 郝 0.4 孔 0.3 白 0.4 崔 0.4 康 0.3 毛 0.3 邱 0.2 秦 0.3 江 0.2
史 0.3 顾 0.1 侯 0.4 邵 0.2 孟 0.4 龙 0.1 万 0.2 段 0.3 雷 0.2 钱 0.1 汤 0.2 尹 0.3 黎 0.1 易 0.1 常 0.4 武 0.4
乔 0.3 贺 0.2 龚 0.1 文 0.1 付 0.4 牛 0.3 聂 0.2 耿 0.2 申 0.2 庞 0.2 翟 0.2 闫 0.4 岳 0.2 轩 0.1 鲁 0.1
单 0.12 区 0.04 解 0.10 查 0.06 仇 0.07 朴 0.03 乐 0.04 缪 0.03 盖 0.03 覃 0.02 尉 0.02 员 0.02
欧阳 0.06 司马 0.04 诸葛 0.03 上官 0.03 东方 0.01 皇甫 0.02 令狐 0.01 尉迟 0.01 慕容 0.01 宇文 0.005 夏侯 0.01"""
SURNAMES = SUR.split()[0::2]
SUR_W = np.array([float(x) for x in SUR.split()[1::2]])
SUR_W /= SUR_W.sum()
POLY = set("单区解查仇朴乐缪盖覃尉员曾翟")  # surnames read differently from their common reading

# (sex, era) -> (common given names with weights, first-character pool, second-character pool)
GN = {
    ("F", 0): ("秀英 9 桂英 7 秀兰 6 玉兰 6 桂兰 5 凤英 4 秀珍 4 玉梅 3 桂花 3 秀云 3 玉珍 3 凤兰 2 素珍 2 翠花 2 玉英 2 淑珍 2 兰英 2 秀芳 2 金花 2 小妮 2 大妮 1 二妮 1 春花 2 秀荣 2 爱英 2 瑞兰 1 素云 1",
               "秀桂玉凤素翠淑兰金春爱瑞巧月", "英兰珍梅花云芝荣香莲芳华琴"),
    ("M", 0): ("建国 5 国强 3 德华 2 保国 3 长海 2 学军 2 金山 2 国庆 3 建华 3 振华 2 文华 2 志刚 2 长林 2 玉林 2 春生 2 书成 1 广华 1 运来 1 新民 2 保安 2 双喜 1 德胜 2 明亮 1 富贵 2 全福 1",
               "建国保长学金振文志玉春书广新德富全永树", "国强华海军山庆刚林生成来民安喜胜贵福才田"),
    ("F", 1): ("丽 6 娟 5 艳 6 红 5 霞 5 敏 5 芳 6 静 4 燕 4 玲 3 秀云 2 红霞 3 丽娟 2 艳红 2 小红 2 海燕 2 春梅 2 丽华 2 晓燕 2 秀梅 2 桂芳 2 美玲 1 萍 3 梅 3 英 2",
               "丽艳红小海春晓秀桂美彩雪素慧", "娟红霞燕梅华玲芳英萍琴丽平云"),
    ("M", 1): ("伟 6 强 5 军 5 勇 5 磊 4 刚 4 涛 3 斌 3 明 3 建军 4 建伟 2 红军 2 卫东 2 志强 3 海涛 2 新华 2 建设 1 国栋 1 永刚 2 建华 2 俊峰 2 海军 2 卫国 2 平 2 辉 2",
               "建红卫志海新国永俊学振晓宏", "军伟东强涛华设栋刚峰国明辉平鹏"),
    ("F", 2): ("娜 6 静 6 丽 4 敏 4 婷 4 倩 4 晶 3 莉 3 婷婷 3 丹丹 3 雪 3 佳 2 慧 3 颖 3 玉洁 2 欢欢 2 亚楠 2 晓丽 2 梦 2 蕾 2 琳 2 苗苗 2 蒙蒙 2 芳 3",
               "晓亚雪佳玉欢丹婷梦春文瑞思", "丽娜楠洁婷燕静倩慧颖琳蕾敏茹"),
    ("M", 2): ("伟 6 磊 5 超 4 鹏 4 杰 4 浩 3 强 3 帅 3 阳 3 龙 3 飞 3 斌 2 亮 3 鑫 3 凯 3 旭 2 晨 2 辉 2 伟伟 2 亚东 2 俊杰 2 明明 2 振宇 2 涛 2",
               "亚俊振晓志明文家一永宏", "东杰宇鹏飞龙阳亮鑫凯辉超伟涛"),
    ("F", 3): ("欣怡 6 子涵 6 梓涵 5 雨涵 4 一诺 4 梓萱 4 诗涵 3 可馨 3 思雨 3 雨萱 3 佳怡 3 紫涵 2 欣妍 2 语桐 2 若曦 2 梦瑶 2 雅琪 2 佳琪 2 雨欣 2 梓琪 2",
               "欣子梓雨诗可思佳紫语若梦雅一沐", "怡涵萱诺馨雨琪妍桐曦瑶彤悦然"),
    ("M", 3): ("浩然 5 宇轩 5 子豪 4 俊杰 3 梓豪 3 浩宇 4 子轩 4 博文 3 一鸣 3 皓轩 3 睿 2 宇航 3 天佑 2 子墨 3 铭轩 2 嘉豪 2 浩辰 2 沐辰 2 梓轩 3 家乐 2",
               "浩宇子梓俊博一皓天铭嘉沐家明", "然轩豪杰宇文鸣辰航佑墨乐睿泽"),
}


def _parse_given(fixed: str, p1: str, p2: str) -> tuple[list[str], np.ndarray, str, str]:
    tokens = fixed.split()
    weights = np.array([float(x) for x in tokens[1::2]])
    weights /= weights.sum()
    return tokens[0::2], weights, p1, p2


GN_PARSED = {key: _parse_given(*value) for key, value in GN.items()}
RARE = "堃喆淼犇鑫焱垚昶玥珺琇璟䶮㛃"  # includes CJK extension-A characters
UY_M = "买买提 艾力 阿不都拉 吐尔逊 热合曼 艾合买提 麦麦提敏 吐尔洪 阿布都热依木 艾尼瓦尔 努尔买买提 伊力哈木".split()
UY_F = "古丽 热依拉 阿依古丽 努尔古丽 帕提古丽 迪丽努尔 阿依努尔 祖丽胡玛尔 米日古丽 布合力其".split()

# ---------------------------------------------------------------- corruption tables
HOMO = ["丽莉利力", "娟鹃", "明铭鸣", "华花", "英瑛", "兰岚", "红虹鸿", "芳方", "静婧", "军君", "伟玮炜",
        "杰洁", "凤峰锋", "玲灵凌", "霞侠", "艳燕", "梅玫", "敏民", "志智", "建健", "刚钢", "平萍", "云芸",
        "斌彬", "涛韬", "鹏朋", "辉晖", "婷亭", "琳林", "慧惠", "浩昊", "轩萱宣", "涵晗寒", "宇雨语玉",
        "怡宜", "欣新鑫", "佳嘉家", "子梓紫", "秀绣", "桂贵", "珍真", "勇涌", "磊蕾", "娜纳", "倩茜", "飞菲",
        "晨辰", "龙隆", "阳洋", "东冬", "荣蓉容", "生升", "国帼", "强蔷", "超潮", "凯楷", "文雯", "彤桐"]
HOMO_MAP: dict[str, list[str]] = {}
for _group in HOMO:
    for _c in _group:
        HOMO_MAP.setdefault(_c, [x for x in _group if x != _c])  # first group of a character wins
SUR_HOMO = {"张": "章", "王": "汪", "徐": "许", "许": "徐", "刘": "柳", "杨": "阳", "李": "黎", "周": "邹",
            "付": "傅", "傅": "付", "闫": "阎", "阎": "闫", "肖": "萧", "萧": "肖", "江": "姜", "姜": "江"}
POLY_HOMO = {"单": "善", "区": "欧", "解": "谢", "查": "扎", "仇": "求", "朴": "嫖", "曾": "增", "乐": "岳",
             "缪": "苗", "盖": "葛", "覃": "秦", "尉": "魏", "员": "云", "翟": "宅"}
FUZZY = {"陈": "程", "金": "京", "斌": "兵", "兰": "南", "琴": "晴", "新": "星", "林": "宁", "福": "胡",
         "珍": "真", "娟": "涓", "芬": "纷", "红": "洪", "平": "苹", "云": "运", "森": "生", "丹": "当",
         "彬": "宾", "敏": "明", "凤": "洪"}  # Henan dialect: n/l, in/ing, f/h, an/ang
LOOK = {"玉": "王", "王": "玉", "士": "土", "未": "末", "己": "已", "天": "夫", "人": "入", "贝": "见",
        "日": "曰", "杨": "扬", "汪": "江", "祝": "视", "秀": "季", "兰": "三", "春": "舂", "梅": "海"}
TRAD = dict(zip("陈张刘华黄赵杨吴孙马罗郑许谢韩冯叶苏卢蒋贾阎邓龙万钱汤龚聂庞国军红兰凤贵长东伟静强涛杰艳丽鹏辉庆兴宝广爱权锋颖云莲鸣铭娅莹韵晓满发书学胜义阳剑欢梦语诗轩瑶单区欧阳诸葛乐员缪盖",
                "陳張劉華黃趙楊吳孫馬羅鄭許謝韓馮葉蘇盧蔣賈閻鄧龍萬錢湯龔聶龐國軍紅蘭鳳貴長東偉靜強濤傑艷麗鵬輝慶興寶廣愛權鋒穎雲蓮鳴銘婭瑩韻曉滿發書學勝義陽劍歡夢語詩軒瑤單區歐陽諸葛樂員繆蓋"))
DOTS = ["·", "•", "・", "．", ".", "-", "", " ", "▪", "。"]  # what clerks type for the minority-name dot

W17 = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]  # GB 11643 check-digit weights

COLS_EN = ["archive_id", "name", "sex", "birth_date", "id_number", "region_code", "address", "phone",
           "created_date", "last_service_date"]
COLS_CN = ["档案编号", "姓名", "性别", "出生日期", "身份证号", "行政区划代码", "现住址", "联系电话", "建档日期", "最近服务日期"]


def cn_num(n: int) -> str:
    """1..99 in Chinese numerals, as village group numbers are often written (三组, 十二组)."""
    if n <= 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")


def check_digit(id17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(id17, W17)) % 11]


def era(year: int) -> int:
    """Naming fashion period: <1960, 1960s-70s, 1980s-90s, 2000s on."""
    return 0 if year < 1960 else 1 if year < 1980 else 2 if year < 2000 else 3


# ---------------------------------------------------------------- entities
@dataclass(eq=False, repr=False)
class Village:
    code: str            # 12-digit region code: county + township + village
    county: str
    town: tuple[str, str]  # (name, 3-digit code)
    name: str
    urban: bool


@dataclass(eq=False, repr=False)
class Address:
    """Structured address; the same place is rendered in several written forms."""
    village: Village
    no: int
    road: str = ""
    bld: int = 0
    unit: int = 0
    room: int = 0
    grp: int = 0


@dataclass
class AddressStyle:
    abbr: int = 0          # 0 full, 1 without province, 2 without province/city, 3 from township
    grp_cn: bool = True    # village group in Chinese numerals
    num: bool = False      # alternative numbering (栋 for 号楼, digits vs numerals flipped)
    dui: bool = False      # 队 (old production team) for 组
    blank: bool = False    # no address at all


@dataclass(eq=False, repr=False)
class Household:
    hid: int
    village: Village
    addr: Address
    phone: str = ""
    members: list[Person] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class Person:
    pid: str
    sur: str
    given: str
    sex: str               # "M" / "F"
    dob: dt.date
    hh: Household
    county: str
    eth: str = "han"       # "han" or "uy" (Uyghur: full name in ``given``, dot-separated)
    role: str = ""
    idn: str = ""
    spouse: Person | None = None
    parents: list[Person] = field(default_factory=list)
    kids: list[Person] = field(default_factory=list)
    twin: Person | None = None
    phone: str = ""
    base_id_blank: bool = False
    base_id_override: str | None = None

    @property
    def name(self) -> str:
        return self.sur + self.given if self.eth == "han" else self.given


@dataclass(eq=False, repr=False)
class Archive:
    pid: str
    kind: str              # base / dup / move
    tags: list[str]
    region: str
    name: str
    sex: str
    dob: str
    idn: str
    addr: str
    phone: str
    created: dt.date
    last: dt.date | None
    aid: str = ""


# ---------------------------------------------------------------- generator
class Population:
    """All state of one generated population; every draw comes from ``self.r`` or ``self.np``."""

    def __init__(self, persons: int, seed: int, sev: float = 1.0,
                 dup_rate: float = 0.05, move_rate: float = 0.03) -> None:
        self.n_persons, self.sev, self.dup_rate, self.move_rate = persons, sev, dup_rate, move_rate
        self.r = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.persons: list[Person] = []
        self.households: list[Household] = []
        self.hard: list[tuple[str, str, str]] = []
        self.archives: list[Archive] = []
        self.movers: list[tuple[str, str, str, Archive]] = []
        self.used_ids: set[str] = set()
        self.n_dups = 0
        self.by_county: dict[str, list[Village]] = {}
        self._build_villages()

    # -------------------------------------------------------- geography
    def _build_villages(self) -> None:
        r = self.r
        for cc, (_cname, towns) in COUNTIES.items():
            streets, rest = towns.split("|", 1)
            zhen, xiang = rest.split("|")
            tlist = [(t, "%03d" % (i + 1), True) for i, t in enumerate(streets.split())]
            tlist += [(t, "%03d" % (100 + i + 1), False) for i, t in enumerate(zhen.split())]
            tlist += [(t, "%03d" % (200 + i + 1), False) for i, t in enumerate(xiang.split())]
            villages: list[Village] = []
            for tname, tcode, urban in tlist:
                if urban:
                    for j, nm in enumerate(r.sample(COMMUNITY, r.randint(4, 9))):
                        villages.append(Village(cc + tcode + "%03d" % (j + 1), cc, (tname, tcode), nm + "社区", True))
                    continue
                n, seen = r.randint(10, 26), set()
                while len(seen) < n:
                    nm = r.choice(VILLAGE_PRE) + r.choice(VILLAGE_HEAD) + r.choice(VILLAGE_SUF)
                    if nm not in seen:
                        seen.add(nm)
                        villages.append(Village(cc + tcode + "%03d" % (200 + len(seen)), cc, (tname, tcode),
                                                nm + "村", False))
            self.by_county[cc] = villages

    def pick_village(self, not_county: str | None = None) -> Village:
        counties = [c for c in COUNTIES if c != not_county]
        w = np.array([COUNTY_W[c] for c in counties])
        w /= w.sum()
        return self.r.choice(self.by_county[counties[self.np.choice(len(counties), p=w)]])

    def make_address(self, v: Village) -> Address:
        r = self.r
        if v.urban:
            road, no, bld, unit = r.choice(ROADS), r.randint(1, 300), r.randint(1, 30), r.randint(1, 6)
            return Address(v, no, road=road, bld=bld, unit=unit, room=r.randint(1, 18) * 100 + r.randint(1, 4))
        grp = r.randint(1, 12)
        return Address(v, r.randint(1, 160), grp=grp)

    def render_address(self, a: Address, style: AddressStyle) -> str:
        v = a.village
        head = "".join([PROV, CITY, COUNTIES[v.county][0], v.town[0]][style.abbr:])
        if v.urban:
            if style.num:
                return head + "%s%s%d号%d栋%d单元%d" % (v.name, a.road, a.no, a.bld, a.unit, a.room)
            return head + "%s%s%d号院%d号楼%d单元%d室" % (v.name, a.road, a.no, a.bld, a.unit, a.room)
        vn = v.name
        grp_cn = style.grp_cn
        if style.num:
            vn = vn + "委会" if self.r.random() < 0.3 else vn
            grp_cn = not grp_cn
        g = cn_num(a.grp) if grp_cn else str(a.grp)
        return head + "%s%s%s%d号" % (vn, g, "队" if style.dui else "组", a.no)

    # -------------------------------------------------------- persons
    def surname(self) -> str:
        return SURNAMES[self.np.choice(len(SURNAMES), p=SUR_W)]

    def given_name(self, sex: str, year: int, first: str | None = None) -> str:
        names, w, p1, p2 = GN_PARSED[(sex, era(year))]
        r = self.r
        if first:
            return first + r.choice(p2)
        x = r.random()
        if x < 0.55:
            return names[self.np.choice(len(names), p=w)]
        if x < 0.995:
            return r.choice(p1) + r.choice(p2)
        return r.choice(p1) + r.choice(RARE)

    def new_id(self, region: str, dob: dt.date, sex: str, seq_hint: int | None = None) -> str:
        """A valid, unused 18-digit ID; ``seq_hint`` gives twins consecutive sequence numbers."""
        r = self.r
        for _ in range(2000):
            seq = seq_hint if seq_hint is not None else r.randint(0, 99)
            s3 = seq * 10 + (r.choice([1, 3, 5, 7, 9]) if sex == "M" else r.choice([0, 2, 4, 6, 8]))
            id17 = region + dob.strftime("%Y%m%d") + "%03d" % s3
            idn = id17 + check_digit(id17)
            if idn not in self.used_ids:
                self.used_ids.add(idn)
                return idn
            seq_hint = None
        raise RuntimeError("ID space exhausted")

    def id_region(self, county: str, year: int, eth: str) -> str:
        """Where the ID was issued: Xinjiang for Uyghurs, elsewhere in Henan, or the pre-2000 code."""
        r = self.r
        if eth == "uy":
            return r.choice(XINJIANG)
        x = r.random()
        if x < 0.10:
            return r.choice(OTHER_HENAN)
        if year < 1999 and x < 0.75:
            return OLD_CODE[county]
        return county

    def rand_date(self, year: int) -> dt.date:
        return dt.date(year, 1, 1) + dt.timedelta(days=self.r.randint(0, 364))

    def rand_between(self, a: dt.date, b: dt.date) -> dt.date:
        return a if b <= a else a + dt.timedelta(days=self.r.randint(0, (b - a).days))

    def mk(self, hh: Household, sex: str, year: int, sur: str, given: str | None = None,
           eth: str = "han", dob: dt.date | None = None, role: str = "") -> Person:
        dob = dob or self.rand_date(year)
        if dob > TODAY - dt.timedelta(days=20):
            dob = TODAY - dt.timedelta(days=self.r.randint(20, 300))
        g = given if given is not None else self.given_name(sex, dob.year)
        p = Person(pid="P%06d" % len(self.persons), sur=sur, given=g, sex=sex, dob=dob, hh=hh,
                   county=hh.village.county, eth=eth, role=role)
        p.idn = self.new_id(self.id_region(p.county, dob.year, eth), dob, sex)
        self.persons.append(p)
        hh.members.append(p)
        return p

    def mobile(self) -> str:
        r = self.r
        return r.choice(["13", "15", "18", "17", "19", "13", "15"]) + "%d" % r.randint(0, 9) + "%08d" % r.randint(0, 10 ** 8 - 1)

    def landline(self) -> str:
        return "0394-%d%06d" % (self.r.randint(2, 8), self.r.randint(0, 999999))

    def adult_year(self, lo: int, hi: int) -> int:
        """Birth year by rejection: bulge 1962-1975, dip 1959-61, fewer 1993-2002 (migrant workers away)."""
        while True:
            y = self.r.randint(lo, hi)
            w = 1.0
            if 1962 <= y <= 1975:
                w = 1.6
            if 1959 <= y <= 1961:
                w = 0.5
            if 1985 <= y <= 1992:
                w = 1.2
            if 1993 <= y <= 2002:
                w = 0.7
            if self.r.random() < w / 1.6:
                return y

    def add_kids(self, hh: Household, father: Person, mother: Person, n: int, fam_sur: str) -> list[Person]:
        """Children, often sharing a generation character; sometimes twins with near-identical names."""
        r = self.r
        myear = mother.dob.year if mother else father.dob.year - 2
        shared_first = r.random() < 0.4
        kids: list[Person] = []
        used: set[str] = set()
        for _ in range(n):
            y = myear + r.randint(20, 37)
            if y > 2024 or (TODAY.year - y > 24 and r.random() < 0.7):  # grown children mostly left
                continue
            sex = "M" if r.random() < 0.52 else "F"
            first = None
            if shared_first and kids and len(kids[0].given) == 2:
                first = kids[0].given[0]
            for _t in range(20):
                g = self.given_name(sex, y, first)
                if g not in used:
                    break
            used.add(g)
            sur = fam_sur if r.random() < 0.97 or not mother else mother.sur
            kids.append(self.mk(hh, sex, y, sur, g, role="kid"))
        if kids and r.random() < 0.045:
            a = r.choice(kids)
            sex = a.sex if r.random() < 0.6 else ("F" if a.sex == "M" else "M")
            g = a.given if len(a.given) == 2 else a.given + r.choice(GN_PARSED[(a.sex, era(a.dob.year))][3])
            a.given = g
            # the twin's name differs in one character; a quarter of the time by a homophone
            pos = r.choice([0, 1])
            if r.random() < 0.25 and g[pos] in HOMO_MAP:
                nc = r.choice(HOMO_MAP[g[pos]])
            else:
                pool = GN_PARSED[(sex, era(a.dob.year))][3 if pos == 1 else 2]
                nc = r.choice([c for c in pool if c != g[pos]])
            b = self.mk(hh, sex, 0, a.sur, g[:pos] + nc + g[pos + 1:], dob=a.dob, role="kid")
            # consecutive sequence number, same issuing region
            self.used_ids.discard(b.idn)
            b.idn = self.new_id(a.idn[:6], a.dob, sex, seq_hint=int(a.idn[14:16]) % 100)
            a.twin, b.twin = b, a
            kids.append(b)
        for k in kids:
            k.parents = [x for x in (father, mother) if x]
            for p in k.parents:
                p.kids.append(k)
        return kids

    def couple(self, hh: Household, hy: int) -> tuple[Person, Person]:
        h = self.mk(hh, "M", hy, self.surname(), role="head")
        w = self.mk(hh, "F", int(round(hy + self.r.gauss(2, 2.5))), self.surname(), role="wife")
        h.spouse, w.spouse = w, h
        return h, w

    def household(self, v: Village) -> Household:
        r = self.r
        hh = Household(len(self.households), v, self.make_address(v))
        self.households.append(hh)
        x = r.random()
        if v.urban and r.random() < 0.03:     # Uyghur family (urban only)
            hy = r.randint(1965, 1995)
            f = self.mk(hh, "M", hy, "", r.choice(UY_M) + "·" + r.choice(UY_M), eth="uy", role="head")
            m = self.mk(hh, "F", hy + r.randint(-2, 5), "", r.choice(UY_F) + "·" + r.choice(UY_M), eth="uy", role="wife")
            f.spouse, m.spouse = m, f
            used_uy: set[str] = set()
            for _ in range(r.randint(0, 3)):
                y = m.dob.year + r.randint(20, 35)
                if y > 2024:
                    continue
                sx = "M" if r.random() < 0.5 else "F"
                own = r.choice([n for n in (UY_M if sx == "M" else UY_F) if n not in used_uy])
                used_uy.add(own)
                k = self.mk(hh, sx, y, "", own + "·" + f.given.split("·")[0], eth="uy", role="kid")
                k.parents = [f, m]
                f.kids.append(k)
                m.kids.append(k)
        elif x < 0.10:                          # elderly alone
            sex = "F" if r.random() < 0.65 else "M"
            self.mk(hh, sex, r.randint(1928, 1960), self.surname(), role="head")
        elif x < 0.30:                          # elderly couple
            self.couple(hh, self.adult_year(1930, 1965))
        elif x < 0.68:                          # couple + kids
            h, w = self.couple(hh, self.adult_year(1955, 2000))
            n = self.np.choice([0, 1, 2, 2, 3, 3, 4]) if h.dob.year < 1985 else self.np.choice([0, 1, 1, 2, 2, 3])
            self.add_kids(hh, h, w, int(n), h.sur)
        elif x < 0.92:                          # three generations
            gy = self.adult_year(1935, 1962)
            gh: Person | None
            if r.random() < 0.6:
                gh, gw = self.couple(hh, gy)
                fam_sur = gh.sur
            else:                               # widowed grandmother; the son has his late father's name
                gh, gw = None, self.mk(hh, "F", gy, self.surname(), role="head")
                self.surname()                  # unused draw: keeps each seed's population as first published
                fam_sur = self.surname()
            son = self.mk(hh, "M", min(gw.dob.year + r.randint(21, 34), 1999), fam_sur, role="son")
            son.parents = [x for x in (gh, gw) if x]
            for p in son.parents:
                p.kids.append(son)
            dil = self.mk(hh, "F", son.dob.year + r.randint(-1, 4), self.surname(), role="wife")
            son.spouse, dil.spouse = dil, son
            self.add_kids(hh, son, dil, r.choice([1, 1, 2, 2, 3]), son.sur)
        else:                                   # single adult
            sex = "M" if r.random() < 0.6 else "F"
            self.mk(hh, sex, self.adult_year(1965, 2003), self.surname(), role="head")
        # one household phone; working-age members often have their own mobile
        hh.phone = (self.landline() if r.random() < 0.12 else self.mobile()) if r.random() < 0.92 else ""
        for p in hh.members:
            age = TODAY.year - p.dob.year
            p.phone = self.mobile() if 18 <= age <= 65 and r.random() < 0.45 else hh.phone
        return hh

    def make_persons(self) -> None:
        while len(self.persons) < self.n_persons:
            self.household(self.pick_village())

    # -------------------------------------------------------- hard negatives
    def make_hard_negatives(self) -> None:
        """Family pairs, plus namesakes (same name and birth date) and children filed under a parent's ID."""
        r, hard = self.r, self.hard
        for p in self.persons:
            if p.spouse and p.pid < p.spouse.pid:
                hard.append((p.pid, p.spouse.pid, "spouse"))
            for k in p.kids:
                hard.append((p.pid, k.pid, "parent_child"))
            if p.twin and p.pid < p.twin.pid:
                hard.append((p.pid, p.twin.pid, "twin"))
        for hh in self.households:
            ks = [m for m in hh.members if m.role == "kid"]
            for i in range(len(ks)):
                for j in range(i + 1, len(ks)):
                    if ks[i].twin is not ks[j]:
                        hard.append((ks[i].pid, ks[j].pid, "sibling"))

        # namesakes: q takes p's given name and birth date (and a fresh ID to match)
        by_cs: dict[tuple[str, str, str], list[Person]] = {}
        for p in self.persons:
            if p.eth == "han" and 18 <= TODAY.year - p.dob.year <= 85:
                by_cs.setdefault((p.county, p.sex, p.sur), []).append(p)
        touched: set[str] = set()

        def make_namesake(p: Person, q: Person, typ: str) -> None:
            q.given, q.dob = p.given, p.dob
            self.used_ids.discard(q.idn)
            q.idn = self.new_id(self.id_region(q.county, q.dob.year, "han"), q.dob, q.sex)
            x = r.random()
            if x < 0.35:
                q.base_id_blank = True
            elif x < 0.6:
                q.base_id_blank = p.base_id_blank = True
            touched.update([p.pid, q.pid])
            hard.append((p.pid, q.pid, typ))

        cands = [p for p in self.persons if p.eth == "han" and 20 <= TODAY.year - p.dob.year <= 80 and p.twin is None]
        r.shuffle(cands)
        want_same, want_cross = int(self.n_persons * 0.006), int(self.n_persons * 0.003)
        n_same = n_cross = 0
        for p in cands:
            if p.pid in touched:
                continue
            if n_same < want_same:
                pool = [q for q in by_cs.get((p.county, p.sex, p.sur), []) if q.hh is not p.hh
                        and q.pid not in touched and abs(q.dob.year - p.dob.year) <= 10 and q.twin is None]
                if pool:
                    make_namesake(p, r.choice(pool[:50]), "namesake_same_county")
                    n_same += 1
                    continue
            if n_cross < want_cross:
                oc = r.choice([c for c in COUNTIES if c != p.county])
                pool = [q for q in by_cs.get((oc, p.sex, p.sur), []) if q.pid not in touched
                        and abs(q.dob.year - p.dob.year) <= 10 and q.twin is None]
                if pool:
                    make_namesake(p, r.choice(pool[:50]), "namesake_cross_county")
                    n_cross += 1
            if n_same >= want_same and n_cross >= want_cross:
                break

        # children whose base archive carries a parent's ID
        kids = [p for p in self.persons if p.parents and TODAY.year - p.dob.year < 16 and p.pid not in touched]
        for k in r.sample(kids, min(len(kids), int(self.n_persons * 0.003))):
            par = r.choice(k.parents)
            k.base_id_override = par.idn
            hard.append((k.pid, par.pid, "child_parent_id"))
        # babies and some elderly have no ID on record
        for p in self.persons:
            age = TODAY.year - p.dob.year
            if (age < 1 and r.random() < 0.6) or (age > 80 and r.random() < 0.15) or r.random() < 0.04:
                p.base_id_blank = True

    # -------------------------------------------------------- archives
    def fmt_date(self, d: dt.date | None) -> str:
        """ISO, compact or slashed without zero padding, as found in real exports."""
        if d is None:
            return ""
        s = self.r.choices(["iso", "compact", "slash"], [0.7, 0.15, 0.15])[0]
        if s == "iso":
            return d.strftime("%Y-%m-%d")
        if s == "compact":
            return d.strftime("%Y%m%d")
        return "%d/%d/%d" % (d.year, d.month, d.day)

    def fmt_sex(self, sex: str) -> str:
        x = self.r.random()
        if x < 0.6:
            return "男" if sex == "M" else "女"
        if x < 0.97:
            return "1" if sex == "M" else "2"
        return ""

    def base_record(self, p: Person) -> Archive:
        """The person's archive in their home village; also the template of their later archives."""
        r = self.r
        created = self.rand_between(max(dt.date(2009, 6, 1), p.dob + dt.timedelta(days=3)), dt.date(2024, 10, 1))
        last = self.rand_between(created, dt.date(2025, 2, 20)) if r.random() < 0.75 else None
        idv = p.base_id_override or ("" if p.base_id_blank else p.idn)
        if idv.endswith("X") and r.random() < 0.3:
            idv = idv[:-1] + "x"
        sex = self.fmt_sex(p.sex)
        dob = self.fmt_date(p.dob) if r.random() > 0.01 else ""
        style = AddressStyle(abbr=r.choices([0, 1, 2], [0.6, 0.3, 0.1])[0], grp_cn=r.random() < 0.7)
        addr = self.render_address(p.hh.addr, style)
        phone = p.phone if r.random() > 0.05 else ""
        return Archive(pid=p.pid, kind="base", tags=[] if dob else ["base_dob_blank"], region=p.hh.village.code,
                       name=p.name, sex=sex, dob=dob, idn=idv, addr=addr, phone=phone, created=created, last=last)

    def corrupt(self, p: Person, rec: Archive) -> None:
        """Stack independent errors on a later archive of ``p``; each one is recorded in ``rec.tags``."""
        r, sev, tags = self.r, self.sev, rec.tags
        # ---- name
        name = p.name
        if p.eth == "uy":
            if r.random() < 0.7:
                name = name.replace("·", r.choice(DOTS))
                tags.append("uy_dot")
        else:
            sur, giv = p.sur, p.given
            x = r.random() / sev
            if x < 0.08:
                i = r.randrange(len(giv))
                if giv[i] in HOMO_MAP:
                    giv = giv[:i] + r.choice(HOMO_MAP[giv[i]]) + giv[i + 1:]
                    tags.append("homophone")
                elif sur in SUR_HOMO:
                    sur = SUR_HOMO[sur]
                    tags.append("homophone")
            elif x < 0.10:
                if sur in SUR_HOMO:
                    sur = SUR_HOMO[sur]
                    tags.append("homophone_surname")
            elif x < 0.12:
                cs = [i for i, c in enumerate(giv) if c in FUZZY]
                if cs:
                    i = r.choice(cs)
                    giv = giv[:i] + FUZZY[giv[i]] + giv[i + 1:]
                    tags.append("fuzzy_pinyin")
                elif sur in FUZZY:
                    sur = FUZZY[sur]
                    tags.append("fuzzy_pinyin")
            elif x < 0.135:
                cs = [i for i, c in enumerate(giv) if c in LOOK]
                if cs:
                    i = r.choice(cs)
                    giv = giv[:i] + LOOK[giv[i]] + giv[i + 1:]
                    tags.append("lookalike")
            elif x < 0.145 and len(giv) == 2:
                giv = giv[r.randrange(2)]
                tags.append("dropped_char")
            elif x < 0.15 and len(giv) == 2:
                giv = giv[::-1]
                tags.append("swapped_chars")
            if sur in POLY and r.random() < 0.35:
                sur = POLY_HOMO.get(sur, sur)
                tags.append("poly_surname_homophone")
            name = sur + giv
            if r.random() < 0.06:
                name = "".join(TRAD.get(c, c) for c in name)
                if name != sur + giv:
                    tags.append("traditional")
            if r.random() < 0.05:
                i = len(sur)
                name = name[:i] + r.choice([" ", "　", "  "]) + name[i:]
                tags.append("name_space")
            if r.random() < 0.005:
                name = name + r.choice(["(已故)", "（外出）", "2", "*"])
                tags.append("name_note")
            if r.random() < 0.02:
                name = " " + name + " "
        rec.name = name
        # ---- ID (not scaled by --sev: these are the errors that decide precision)
        idn = p.idn
        x = r.random()
        if x < 0.34:
            idn = ""
            tags.append("id_blank")
        elif x < 0.40:
            idn = r.choice(["无", "无", "不详", "/", "000000000000000000"])
            tags.append("id_wu")
        elif x < 0.45:
            i = r.randrange(18)
            ch = idn[i] if idn[i] != "X" else "0"
            idn = idn[:i] + r.choice([c for c in "0123456789" if c != ch]) + idn[i + 1:]
            tags.append("id_wrong_digit")
        elif x < 0.49:
            i = r.choice([i for i in range(16) if idn[i] != idn[i + 1]])
            idn = idn[:i] + idn[i + 1] + idn[i] + idn[i + 2:]
            tags.append("id_transposed")
        elif x < 0.53:
            if p.dob.year < 2000:
                idn = idn[:6] + idn[8:17]
                tags.append("id_15")
        elif x < 0.57:
            idn = idn.translate(str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ"))
            tags.append("id_fullwidth")
        elif x < 0.58:
            idn = r.choice(["'" + idn, idn[:6] + " " + idn[6:14] + " " + idn[14:], idn + " "])
            tags.append("id_format_junk")
        elif x < 0.62 and p.parents and TODAY.year - p.dob.year < 18:
            idn = r.choice(p.parents).idn
            tags.append("id_parent")
        elif x < 0.64 and p.spouse:
            idn = p.spouse.idn
            tags.append("id_spouse")
        if idn.endswith("X") and r.random() < 0.6:
            idn = idn[:-1] + "x"
            tags.append("id_lower_x")
        rec.idn = idn
        # ---- birth date
        d = p.dob
        x = r.random() / sev
        dob = self.fmt_date(d)
        if x < 0.06:
            dob = ""
            tags.append("dob_blank")
        elif x < 0.09:
            if d.day <= 12 and d.day != d.month:
                dob = self.fmt_date(dt.date(d.year, d.day, d.month))
                tags.append("dob_md_swap")
        elif x < 0.13:   # the lunar birthday written as if solar (leap-month flag lost)
            ld = LunarDate.from_solar_date(d.year, d.month, d.day)
            try:
                dob = self.fmt_date(dt.date(ld.year, ld.month, ld.day))
                tags.append("dob_lunar")
            except ValueError:
                dob = "%d-%02d-%02d" % (ld.year, ld.month, ld.day)
                tags.append("dob_lunar_invalid")
        elif x < 0.15:
            dob = self.fmt_date(d - dt.timedelta(days=r.randint(20, 50)))
            tags.append("dob_shift20_50")
        elif x < 0.18:
            try:
                dob = self.fmt_date(d.replace(year=d.year + r.choice([-1, 1])))
                tags.append("dob_year_pm1")
            except ValueError:   # 29 February
                pass
        elif x < 0.195:
            dob = r.choice(["1900-01-01", "19000101", "1900/1/1"])
            tags.append("dob_1900")
        elif x < 0.21:
            dob = self.fmt_date(dt.date(d.year, 1, 1))
            tags.append("dob_jan1")
        rec.dob = dob
        # ---- sex
        x = r.random() / sev
        if x < 0.05:
            rec.sex = r.choice(["", "0", "9", "未知"])
            tags.append("sex_blank")
        elif x < 0.06:
            rec.sex = self.fmt_sex("F" if p.sex == "M" else "M")
            tags.append("sex_wrong")
        # ---- phone
        x = r.random() / sev
        if x < 0.15:
            rec.phone = self.mobile()
            tags.append("phone_changed")
        elif x < 0.33:
            rec.phone = ""
            tags.append("phone_blank")
        elif r.random() < 0.03 and rec.phone:
            rec.phone = r.choice(["+86 ", "86-", ""]) + rec.phone[:3] + " " + rec.phone[3:7] + " " + rec.phone[7:]
            tags.append("phone_format")
        if r.random() < 0.04 * sev:
            rec.addr = rec.phone = rec.sex = ""
            tags.append("sparse")

    def addr_variation(self, tags: list[str]) -> AddressStyle:
        r = self.r
        st = AddressStyle(grp_cn=r.random() < 0.7)
        if r.random() < 0.30:
            st.num = True
            tags.append("addr_numerals")
        if r.random() < 0.25:
            st.abbr = r.choice([1, 2, 3])
            tags.append("addr_abbrev")
        if r.random() < 0.05:
            st.dui = True
            tags.append("addr_dui")
        if r.random() < 0.08:
            st.blank = True
            tags.append("addr_blank")
        return st

    def dup_record(self, p: Person, village: Village, addr: Address, created: dt.date, last: dt.date | None,
                   kind: str, tags: list[str], style: AddressStyle) -> Archive:
        """A later archive of ``p`` filed in ``village``, starting from a fresh base record."""
        rec = self.base_record(p)
        rec.kind, rec.region, rec.created, rec.last, rec.tags = kind, village.code, created, last, list(tags)
        rec.addr = self.render_address(addr, style)
        rec.phone = p.phone
        rec.sex = self.fmt_sex(p.sex)
        self.corrupt(p, rec)
        if style.blank:
            rec.addr = ""
        return rec

    def move(self, group: list[Person], newv: Village, newaddr: Address, newphone_hh: str | None,
             base: dict[str, Archive], move_date: dict[str, dt.date]) -> None:
        """Persons who moved to another county get a new archive there; the old one goes quiet."""
        r = self.r
        for p in group:
            b = base[p.pid]
            moved_on = self.rand_between(max(b.created + dt.timedelta(days=200), dt.date(2012, 1, 1)),
                                         dt.date(2024, 6, 1))
            if moved_on <= b.created:
                moved_on = b.created + dt.timedelta(days=1)
            if b.last and b.last >= moved_on:
                b.last = self.rand_between(b.created, moved_on - dt.timedelta(days=1)) if r.random() < 0.8 else None
            created = min(moved_on + dt.timedelta(days=r.randint(0, 300)), dt.date(2025, 2, 20))
            last = self.rand_between(created, dt.date(2025, 2, 25)) if r.random() < 0.7 else None
            tags = ["move"]
            st = self.addr_variation(tags)
            if r.random() < 0.15:
                a = p.hh.addr
                tags.append("old_address")
            else:
                a = newaddr
            rec = self.dup_record(p, newv, a, created, last, "move", tags, st)
            # half of a moved household's archives give its new phone, unless the phone was already corrupted
            if newphone_hh and r.random() < 0.5 and not {"phone_changed", "phone_blank", "sparse"} & set(rec.tags):
                rec.phone = newphone_hh
                rec.tags.append("phone_changed")
            self.archives.append(rec)
            move_date[p.pid] = moved_on
            self.movers.append((p.pid, p.county, newv.county, rec))

    def make_archives(self) -> None:
        r = self.r
        base = {p.pid: self.base_record(p) for p in self.persons}
        self.archives.extend(base.values())
        move_date: dict[str, dt.date] = {}
        hh_order = list(self.households)
        r.shuffle(hh_order)
        pp_order = list(self.persons)
        r.shuffle(pp_order)
        # movers: about 30% as whole households, the rest alone (adults)
        target_movers = int(len(self.persons) * self.move_rate)
        for hh in hh_order:
            if len(move_date) >= target_movers * 0.3:
                break
            newv = self.pick_village(not_county=hh.village.county)
            newaddr = self.make_address(newv)
            self.move(hh.members, newv, newaddr, self.mobile() if r.random() < 0.5 else None, base, move_date)
        for p in pp_order:
            if len(move_date) >= target_movers:
                break
            if p.pid in move_date or TODAY.year - p.dob.year < 16:
                continue
            newv = self.pick_village(not_county=p.county)
            self.move([p], newv, self.make_address(newv), None, base, move_date)
        # duplicates within the home county, filed before any move
        target_dups = int(len(self.persons) * self.dup_rate)
        for p in pp_order:
            if self.n_dups >= target_dups:
                break
            if r.random() < 0.5:
                continue
            for _k in range(1 if r.random() < 0.9 else 2):
                tags = ["dup"]
                if r.random() < 0.6:
                    v = p.hh.village
                    tags.append("same_village")
                else:
                    v = r.choice([x for x in self.by_county[p.county] if x.town != p.hh.village.town])
                    tags.append("other_township")
                hi = move_date[p.pid] - dt.timedelta(days=1) if p.pid in move_date else dt.date(2024, 12, 1)
                lo = max(dt.date(2009, 6, 1), p.dob + dt.timedelta(days=3))
                if hi <= lo:
                    break
                created = self.rand_between(lo, hi)
                last = self.rand_between(created, hi) if r.random() < 0.6 else None
                st = self.addr_variation(tags)
                a = p.hh.addr
                if "other_township" in tags and r.random() < 0.4:
                    a = self.make_address(v)
                    tags.append("addr_different")
                self.archives.append(self.dup_record(p, v, a, created, last, "dup", tags, st))
                self.n_dups += 1
        # archive IDs: region code + serial, in shuffled order so IDs say nothing about kind
        r.shuffle(self.archives)
        serial: dict[str, int] = {}
        for rec in self.archives:
            serial[rec.region] = serial.get(rec.region, 0) + 1
            rec.aid = rec.region + "%05d" % serial[rec.region]

    # -------------------------------------------------------- output
    def stats(self) -> dict:
        types = sorted({h[2] for h in self.hard})
        return dict(persons=len(self.persons), archives=len(self.archives), households=len(self.households),
                    movers=len(self.movers), dups=self.n_dups,
                    hard={t: sum(1 for h in self.hard if h[2] == t) for t in types})

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        rows = [[rec.aid, rec.name, rec.sex, rec.dob, rec.idn, rec.region, rec.addr, rec.phone,
                 self.fmt_date(rec.created), self.fmt_date(rec.last)] for rec in self.archives]
        with (out / "archives.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(COLS_EN)
            w.writerows(rows)
        with (out / "archives_gb.csv").open("w", encoding="gb18030", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(COLS_CN)
            w.writerows(rows)
        with (out / "truth.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["archive_id", "person_id", "kind", "county", "tags"])
            w.writerows([rec.aid, rec.pid, rec.kind, rec.region[:6], " ".join(rec.tags)] for rec in self.archives)
        with (out / "hardneg.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["person_a", "person_b", "type"])
            w.writerows(self.hard)
        with (out / "movers.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["person_id", "old_county", "new_county", "new_archive_id"])
            w.writerows([pid, old, new, rec.aid] for pid, old, new, rec in self.movers)
        (out / "stats.json").write_text(json.dumps(self.stats(), ensure_ascii=False, indent=1), encoding="utf-8")


def generate(persons: int, seed: int, out: Path, sev: float = 1.0,
             dup_rate: float = 0.05, move_rate: float = 0.03) -> dict:
    """Generate one population into ``out``; returns its counts."""
    pop = Population(persons, seed, sev, dup_rate, move_rate)
    pop.make_persons()
    pop.make_hard_negatives()
    pop.make_archives()
    pop.write(out)
    return pop.stats()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sev", type=float, default=1.0,
                        help="scale of the non-ID corruption rates (name, birth date, sex, phone, sparse)")
    parser.add_argument("--dup-rate", type=float, default=0.05, help="same-county duplicates per person")
    parser.add_argument("--move-rate", type=float, default=0.03, help="persons who moved to another county")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    stats = generate(args.persons, args.seed, args.out, args.sev, args.dup_rate, args.move_rate)
    print(json.dumps(stats, ensure_ascii=False))


if __name__ == "__main__":
    main()
