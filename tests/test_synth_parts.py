"""The generator's building blocks: ID numbers, lunar dates, addresses, mistakes, CSV writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.dtypes import StringDType

from linkage.synth import CORRUPTION_KINDS, CORRUPTION_RATES, HARD_NEGATIVE_TAGS, ORIGINAL_NOISE_RATES, ORIGINS
from linkage.synth import chars, dates, idcard, kinds, mutations
from linkage.synth.addresses import flip_numerals
from linkage.synth.geography import COUNTY_WEIGHTS, load_geography, short_village
from linkage.synth.writer import csv_text, write_csv


def test_public_vocabulary() -> None:
    assert ORIGINS == ("original", "duplicate", "moved", "moved_within")
    assert len(CORRUPTION_KINDS) == 24 == len(set(CORRUPTION_KINDS))
    assert set(CORRUPTION_RATES) == set(CORRUPTION_KINDS)
    assert set(ORIGINAL_NOISE_RATES) <= set(CORRUPTION_KINDS)
    assert set(mutations.PROPOSERS) == set(CORRUPTION_KINDS)
    assert HARD_NEGATIVE_TAGS == ("twins", "same_name_dob_county", "child_parent_id", "spouses", "namesake_cross_county")
    assert sorted(k for ks in kinds.FIELD_KINDS.values() for k in ks) == sorted(CORRUPTION_KINDS)
    for field in kinds.EXCLUSIVE_FIELDS:  # a categorical draw needs rates that fit in 1
        assert sum(CORRUPTION_RATES[k] for k in kinds.FIELD_KINDS[field]) < 1
        assert sum(ORIGINAL_NOISE_RATES.get(k, 0) for k in kinds.FIELD_KINDS[field]) < 1
    assert CORRUPTION_RATES["id_blank"] == pytest.approx(0.2)


def test_id_check_character_matches_the_standard_examples() -> None:
    body = np.array([11010519491231002, 44052418800101001], dtype=np.int64)
    assert idcard.build_ids(body).tolist() == ["11010519491231002X", "440524188001010014"]
    assert idcard.check_char("11010519491231002") == "X"
    assert idcard.to_15("11010519491231002X") == "110105491231002"


def test_issuing_code_follows_renamed_counties() -> None:
    county = np.array([620802, 620802, 620881, 620881, 620881, 620102], dtype=np.int64)
    born = np.array([1950, 2005, 1990, 2010, 2020, 1950])
    assert idcard.issuing_code(county, born).tolist() == [622701, 620802, 622725, 620824, 620881, 620102]


def test_make_unique_keeps_sex_parity() -> None:
    rng = np.random.default_rng(0)
    n = 600  # 1,000 sequence numbers per county and day: a crowded day
    code = np.full(n, 620802, dtype=np.int64)
    ymd = np.full(n, 19800101, dtype=np.int64)
    male = rng.integers(0, 2, n)
    seq = idcard.make_unique(rng, code, ymd, idcard.draw_sequences(rng, male), male)
    assert len(np.unique(idcard.id_bodies(code, ymd, seq))) == n
    assert np.all(seq % 2 == male)


def test_lunar_birthday_is_19_to_54_days_early() -> None:
    solar = np.array(["1950-03-10", "1936-07-01", "1968-12-24", "1880-01-01"], dtype="datetime64[D]")
    written = dates.lunar_as_solar(solar)
    assert written[0] == np.datetime64("1950-01-22")
    gaps = (solar[:3] - written[:3]).astype(int)
    assert np.all((gaps >= 19) & (gaps <= 54))
    assert np.isnat(written[3])  # outside what borax converts


def test_date_formats() -> None:
    d = np.array(["1949-12-01", "NaT"], dtype="datetime64[D]")
    assert dates.iso(d).tolist() == ["1949-12-01", ""]
    assert dates.compact(d).tolist() == ["19491201", ""]
    assert dates.slashed(d).tolist() == ["1949/12/1", ""]


def test_flip_numerals_only_touches_numbers_before_units() -> None:
    assert flip_numerals("甘肃省平凉市崆峒区四十里铺镇五里村三组12号", 0.0) == "甘肃省平凉市崆峒区四十里铺镇五里村3组12号"
    assert flip_numerals("解放路8号3栋2单元502室", 0.0) == "解放路8号三栋2单元502室"
    assert flip_numerals("解放路8号", 0.5) is None


def test_village_names_shortened_for_addresses() -> None:
    assert short_village("阳坡村民委员会") == "阳坡村"
    assert short_village("东街社区居委会") == "东街社区"
    assert short_village("官村村民委员会") == "官村"


def test_geography_is_real_and_weighted() -> None:
    geo = load_geography(np.random.default_rng(0))
    assert set(geo.counties.tolist()) == set(COUNTY_WEIGHTS)
    assert len(geo.code) > 1500
    assert np.all(geo.code // 1_000_000 == geo.county)
    assert geo.weight.sum() == pytest.approx(1.0)
    assert str(geo.prefix[0]).startswith("甘肃省兰州市城关区")
    rng = np.random.default_rng(1)
    v = geo.sample(rng, 2000)
    other = geo.sample_other_county(rng, v)
    assert np.all(geo.county[other] != geo.county[v])
    within = geo.sample_other_township(rng, v)
    assert np.all(geo.county[within] == geo.county[v]) and np.all(geo.township[within] != geo.township[v])


def test_character_tables() -> None:
    h = chars.homophones()
    assert "莉" in h["丽"] and "玮" in h["伟"]
    assert "明" in h["敏"]  # -n/-ng folded when no exact homophone
    s = chars.similar()
    assert "已" in s["己"] and "己" in s["已"] and "玉" in s["王"]
    assert chars.traditional("张伟") == "張偉"


class _Table:
    """The columns a proposer reads, for single values."""

    def __init__(self, **columns: object) -> None:
        for k, v in columns.items():
            setattr(self, k, v)


def _strings(*values: str) -> np.ndarray:
    return np.array(values, dtype=StringDType())


@pytest.mark.parametrize(
    ("kind", "value", "check"),
    [
        ("id_swap", "11010519491231002X", lambda old, new: sorted(old) == sorted(new) and sum(a != b for a, b in zip(old, new)) == 2),
        ("id_one_digit", "11010519491231002X", lambda old, new: sum(a != b for a, b in zip(old, new)) == 1),
        ("id_lowercase_x", "11010519491231002X", lambda old, new: new == "11010519491231002x"),
        ("id_fullwidth", "11010519491231002X", lambda old, new: new == "１１０１０５１９４９１２３１００２Ｘ"),
        ("id_15", "11010519491231002X", lambda old, new: new == "110105491231002"),
    ],
)
def test_id_mutations(kind: str, value: str, check) -> None:
    t = _Table(id_number=_strings(value), true_birth_year=np.array([1949]), partner_id=_strings(""))
    ok, new = mutations.PROPOSERS[kind](t, np.array([0]), np.random.default_rng(3))
    assert ok[0] and check(value, str(new[0]))


def test_ineligible_values_are_left_alone() -> None:
    t = _Table(
        id_number=_strings("440524188001010014"),
        true_birth_year=np.array([2001]),
        partner_id=_strings(""),
        birth=np.array(["2001-12-25"], dtype="datetime64[D]"),
        name=_strings("王芳"),
        surname_len=np.array([1]),
        address=_strings("甘肃省平凉市崆峒区东关街道东街社区解放路8号3栋2单元502室"),
        old_address=_strings(""),
    )
    rows, rng = np.array([0]), np.random.default_rng(0)
    for kind in ("id_lowercase_x", "id_15", "id_household", "dob_swap", "dob_lunar", "name_dropped_char", "address_old"):
        ok, _ = mutations.PROPOSERS[kind](t, rows, rng)
        assert not ok[0], kind


def test_name_mutations() -> None:
    t = _Table(name=_strings("张秀英"), surname_len=np.array([1]))
    rows, rng = np.array([0]), np.random.default_rng(0)
    ok, new = mutations.name_dropped_char(t, rows, rng)
    assert ok[0] and str(new[0]) in {"张秀", "张英"}
    ok, new = mutations.name_space(t, rows, rng)
    assert ok[0] and str(new[0]).replace(" ", "") == "张秀英"
    ok, new = mutations.name_traditional(t, rows, rng)
    assert ok[0] and str(new[0]) == "張秀英"


def test_dob_mutations() -> None:
    t = _Table(birth=np.array(["1950-03-10"], dtype="datetime64[D]"), true_birth_year=np.array([1950]))
    rows, rng = np.array([0]), np.random.default_rng(0)
    ok, new = mutations.dob_swap(t, rows, rng)
    assert ok[0] and new[0] == np.datetime64("1950-10-03")
    ok, new = mutations.dob_year_off(t, rows, rng)
    assert ok[0] and abs(int(str(new[0])[:4]) - 1950) == 1 and str(new[0])[4:] == "-03-10"
    ok, new = mutations.dob_placeholder(t, rows, rng)
    assert ok[0] and str(new[0]) in {"1900-01-01", "1950-01-01"}
    ok, new = mutations.dob_lunar(t, rows, rng)
    assert ok[0] and new[0] == np.datetime64("1950-01-22")


def test_csv_quotes_only_when_needed(tmp_path: Path) -> None:
    text = csv_text(["a", "b"], [_strings("x,y", 'say "hi"'), _strings("plain", "")])
    assert text == 'a,b\n"x,y",plain\n"say ""hi""",\n'
    path = tmp_path / "out.csv"
    write_csv(path, ["a"], [_strings("1")])
    assert path.read_text(encoding="utf-8") == "a\n1\n"
    assert (path.stat().st_mode & 0o777) == 0o600
