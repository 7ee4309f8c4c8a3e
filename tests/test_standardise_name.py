"""Names: clean-up, surname readings, compound surnames, fuzzy keys. Synthetic names only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.standardise.name import (
    NamePinyin,
    clean_name,
    clean_names,
    fuzzy_syllable,
    name_pinyin,
    name_table,
    pinyin_table,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("陳小明", "陈小明"),
        ("鍾麗華", "钟丽华"),
        ("  王  芳 ", "王芳"),
        ("王\u3000芳", "王芳"),
        ("王\u200b芳", "王芳"),
        ("Ａ·Ｂ", "A·B"),
        ("阿卜杜•热合曼", "阿卜杜·热合曼"),
        ("阿卜杜・热合曼", "阿卜杜·热合曼"),
        ("阿卜杜･热合曼", "阿卜杜·热合曼"),
        ("阿卜杜.热合曼", "阿卜杜·热合曼"),
        ("阿卜杜 ‧ 热合曼", "阿卜杜·热合曼"),
        ("阿卜杜∙∙热合曼", "阿卜杜·热合曼"),
        ("·阿依古丽·", "阿依古丽"),
        ("阿依古丽▪买买提", "阿依古丽·买买提"),
        ("王秀英(已故)", "王秀英"),        # a clerk's note, not part of the name
        ("王秀英（已故）", "王秀英"),
        ("李强【户主】(重复)", "李强"),
        ("王(小)明", "王(小)明"),          # brackets inside a name are kept
        ("张伟(大)", "张伟(大)"),          # notes that tell household namesakes apart stay
        ("王芳(2)", "王芳(2)"),
        ("(已故)", None),
        ("", None),
        ("   ", None),
        ("·", None),
        (None, None),
    ],
)
def test_clean_name(raw: str | None, expected: str | None) -> None:
    assert clean_name(raw) == expected


@pytest.mark.parametrize(
    ("clean", "surname", "given", "name_py"),
    [
        ("殷红梅", "yin", "hongmei", "yinhongmei"),  # per character, not the word 殷红
        ("曾小明", "zeng", "xiaoming", "zengxiaoming"),
        ("单雄信", "shan", "xiongxin", "shanxiongxin"),
        ("区志强", "ou", "zhiqiang", "ouzhiqiang"),
        ("仇伟", "qiu", "wei", "qiuwei"),
        ("解放", "xie", "fang", "xiefang"),
        ("查良镛", "zha", "liangyong", "zhaliangyong"),
        ("朴正", "piao", "zheng", "piaozheng"),
        ("盖聂", "ge", "nie", "genie"),
        ("乐乐", "yue", "le", "yuele"),
        ("翟敏", "zhai", "min", "zhaimin"),
        ("缪斯", "miao", "si", "miaosi"),
        ("覃海", "qin", "hai", "qinhai"),
        ("阚泽", "kan", "ze", "kanze"),
        ("尉迟恭", "yuchi", "gong", "yuchigong"),
        ("万俟卨", "moqi", "xie", "moqixie"),
        ("单于强", "chanyu", "qiang", "chanyuqiang"),
        ("长孙无忌", "zhangsun", "wuji", "zhangsunwuji"),
        ("澹台明", "tantai", "ming", "tantaiming"),
        ("欧阳娜娜", "ouyang", "nana", "ouyangnana"),
        ("欧阳", "ou", "yang", "ouyang"),  # two characters: a surname plus a given name
        ("吕女", "lv", "nv", "lvnv"),
        ("阿卜杜·热合曼", "abodu", "reheman", "abodureheman"),
        ("A·B", "a", "b", "ab"),
        ("JOHN史密斯", "john", "shimisi", "johnshimisi"),
        ("王2", "wang", "2", "wang2"),
    ],
)
def test_name_pinyin(clean: str, surname: str, given: str, name_py: str) -> None:
    keys = name_pinyin(clean)
    assert (keys.surname_py, keys.given_py, keys.name_py) == (surname, given, name_py)


def test_fuzzy_and_sorted_keys() -> None:
    assert name_pinyin("张三丰").name_py_fuzzy == name_pinyin("詹三分").name_py_fuzzy
    assert name_pinyin("刘宁").name_py_fuzzy == name_pinyin("牛林").name_py_fuzzy
    assert name_pinyin("王芳").name_py_sorted == name_pinyin("方王").name_py_sorted
    assert name_pinyin("黄").name_py_fuzzy == name_pinyin("黄").name_py_fuzzy == "huan"
    assert name_pinyin("黄宇轩").name_py_fuzzy == name_pinyin("芳宇轩").name_py_fuzzy
    assert name_pinyin("方敏").name_py_fuzzy != name_pinyin("韩敏").name_py_fuzzy


@pytest.mark.parametrize(
    ("syllable", "folded"),
    [("zhang", "zan"), ("chen", "cen"), ("shi", "si"), ("niu", "liu"), ("ren", "len"),
     ("ying", "yin"), ("jiang", "jian"), ("long", "lon"),
     # f/hu: 芳/黄, 飞/辉, 分/风/婚, 发/华, 付/胡 - and 韩 han is not 方 fang
     ("fang", "huan"), ("huang", "huan"), ("fei", "hui"), ("hui", "hui"), ("fen", "hun"),
     ("feng", "hun"), ("hun", "hun"), ("fa", "hua"), ("fu", "hu"), ("hu", "hu"), ("han", "han"),
     ("n", "n"), ("ng", "ng"), ("a", "a")],
)
def test_fuzzy_syllable(syllable: str, folded: str) -> None:
    assert fuzzy_syllable(syllable) == folded


def test_tables_convert_each_distinct_value_once() -> None:
    table = name_table(["陳小明", "陳小明", "陈小明", None, "  "])
    assert table.column_names == [
        "name_raw", "name_clean", "name_len", "surname_py", "given_py", "name_py",
        "name_py_fuzzy", "name_py_sorted",
    ]
    rows = table.to_pylist()
    assert [r["name_raw"] for r in rows] == ["陳小明", "陈小明", "  "]
    assert rows[0]["name_clean"] == rows[1]["name_clean"] == "陈小明"
    assert rows[0]["name_len"] == 3 and rows[0]["name_py"] == "chenxiaoming"
    assert rows[2]["name_clean"] is None and rows[2]["name_py"] is None
    assert pinyin_table(["曾敏", "曾敏"]).to_pylist() == [
        {"name_clean": "曾敏", "surname_py": "zeng", "given_py": "min", "name_py": "zengmin",
         "name_py_fuzzy": "zenmin", "name_py_sorted": "minzeng"}
    ]
    assert name_table([]).num_rows == 0


names = st.one_of(
    st.text(max_size=12),
    st.text("王李张陳鍾殷红梅曾单尉迟欧阳·•. 　ＡaB1", max_size=10),
)


@settings(max_examples=300)
@given(names)
def test_clean_name_is_idempotent_and_never_raises(raw: str) -> None:
    clean = clean_name(raw)
    if clean is not None:
        assert clean_name(clean) == clean
        keys = name_pinyin(clean)
        assert isinstance(keys, NamePinyin)
        assert keys.name_py == keys.surname_py + keys.given_py
        assert sorted(keys.name_py_sorted) == sorted(keys.name_py)


@given(st.lists(st.one_of(st.none(), names), max_size=20))
def test_batch_clean_equals_one_by_one(raws: list[str | None]) -> None:
    assert clean_names(raws) == [clean_name(r) for r in raws]


@pytest.mark.parametrize("name,placeholder", [
    ("幺妹", True), ("幺儿", True), ("王幺妹", True), ("张女娃", True), ("囡囡", True),
    ("毛毛", True), ("王芳之子", True), ("婴儿", True),
    # real names that contain such characters stay names
    ("王幺", False), ("李毛毛", False), ("陈娃", False), ("赵幺妹妹", False),
])
def test_dialect_baby_words_are_newborn_placeholders(name: str, placeholder: bool) -> None:
    """Twins' archives both called 幺妹 at one address were joined as one child
    (generator4, 1M persons): a dialect word for the baby is no name."""
    from linkage.standardise.name_notes import newborn_placeholder

    assert (newborn_placeholder(name) is not None) is placeholder
