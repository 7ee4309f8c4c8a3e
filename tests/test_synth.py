"""The synthetic population: file contracts, truth consistency, determinism and rates."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import stat
from pathlib import Path

import numpy as np
import pytest

from linkage.schema import INPUT_COLUMNS
from linkage.synth import (
    CORRUPTION_KINDS,
    CORRUPTION_RATES,
    HARD_NEGATIVE_TAGS,
    ORIGINS,
    SynthSummary,
    generate_population,
)
from linkage.synth.resources import read_table

FILES = ("archives.csv", "truth.csv", "hard_negatives.csv")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def parse_date(text: str) -> dt.date | None:
    """The three formats the generator writes."""
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    if re.fullmatch(r"\d{8}", text):
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    m = re.fullmatch(r"(\d{4})/(\d{1,2})/(\d{1,2})", text)
    assert m, f"unexpected date format {text!r}"
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def check_char(body: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]


def tags_of(kind: str) -> list[str]:
    return kind.split(":", 1)[1].split("+") if ":" in kind else []


class Population:
    def __init__(self, out: Path, summary: SynthSummary) -> None:
        self.out = out
        self.summary = summary
        self.archives = read(out / "archives.csv")
        self.truth = read(out / "truth.csv")
        self.negatives = read(out / "hard_negatives.csv")
        self.by_id = {a["archive_id"]: a for a in self.archives}
        self.kind = {t["archive_id"]: t["kind"] for t in self.truth}
        self.person = {t["archive_id"]: t["person_id"] for t in self.truth}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Population:
    out = tmp_path_factory.mktemp("synth_small")
    return Population(out, generate_population(2000, 1, out))


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Population:
    out = tmp_path_factory.mktemp("synth_large")
    return Population(out, generate_population(20_000, 11, out))


def test_headers_are_exact(small: Population) -> None:
    first_lines = {name: (small.out / name).read_text(encoding="utf-8").split("\n", 1)[0] for name in FILES}
    assert first_lines["archives.csv"] == ",".join(INPUT_COLUMNS)
    assert first_lines["archives.csv"] == "archive_id,name,sex,birth_date,id_number,region_code,address,phone,created_date,last_service_date"
    assert first_lines["truth.csv"] == "archive_id,person_id,kind"
    assert first_lines["hard_negatives.csv"] == "archive_id_l,archive_id_r,tag"


def test_summary_counts_match_files(small: Population) -> None:
    s = small.summary
    assert s.persons == 2000 == len({t["person_id"] for t in small.truth})
    assert s.archives == len(small.archives)
    assert s.duplicates == sum(k.startswith("duplicate") for k in small.kind.values())
    assert s.moves == sum(k.split(":")[0] == "moved" for k in small.kind.values())
    assert s.moves_within == sum(k.startswith("moved_within") for k in small.kind.values())
    assert sum(s.hard_negatives.values()) == len(small.negatives)


def test_archive_ids_unique_17_digits_with_real_village_prefix(small: Population) -> None:
    villages = {r["code"] for r in read_table("synth_villages.csv")}
    ids = [a["archive_id"] for a in small.archives]
    assert len(ids) == len(set(ids))
    for a in small.archives:
        assert re.fullmatch(r"\d{17}", a["archive_id"])
        assert a["archive_id"][:12] in villages
        assert a["region_code"] in villages
        # created by the managing village's clinic or a neighbour in the same township
        assert a["archive_id"][:9] == a["region_code"][:9]


def test_field_formats(small: Population) -> None:
    for a in small.archives:
        assert a["sex"] in {"男", "女", "1", "2", ""}
        parse_date(a["birth_date"])
        assert dt.date.fromisoformat(a["created_date"]) <= dt.date(2024, 6, 30)
        if a["last_service_date"]:
            assert dt.date.fromisoformat(a["last_service_date"]) >= dt.date.fromisoformat(a["created_date"])
        assert a["phone"] == "" or re.fullmatch(r"1[3-9]\d{9}", a["phone"])
        assert a["name"]
    formats = {len(a["birth_date"]) for a in small.archives}
    assert {10, 8} <= formats  # ISO and YYYYMMDD both present; YYYY/M/D lengths vary
    assert any("/" in a["birth_date"] for a in small.archives)
    assert any(a["sex"] in {"1", "2"} for a in small.archives)


def test_clean_archives_have_valid_consistent_ids(small: Population) -> None:
    clean = [a for a in small.archives if ":" not in small.kind[a["archive_id"]]]
    assert len(clean) > 0.6 * len(small.archives)
    for a in clean:
        number = a["id_number"]
        assert re.fullmatch(r"\d{17}[\dX]", number), number
        assert number[17] == check_char(number[:17])
        born = parse_date(a["birth_date"])
        assert born == dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        male = int(number[16]) % 2 == 1
        assert a["sex"] in ({"男", "1"} if male else {"女", "2"})


def test_truth_covers_every_archive_once(small: Population) -> None:
    truth_ids = [t["archive_id"] for t in small.truth]
    assert len(truth_ids) == len(set(truth_ids))
    assert set(truth_ids) == set(small.by_id)
    originals: dict[str, int] = {}
    for t in small.truth:
        origin = t["kind"].split(":")[0]
        assert origin in ORIGINS
        tags = tags_of(t["kind"])
        assert all(tag in CORRUPTION_KINDS for tag in tags)
        assert tags == sorted(set(tags), key=CORRUPTION_KINDS.index)
        assert re.fullmatch(r"P\d{8}", t["person_id"])
        originals[t["person_id"]] = originals.get(t["person_id"], 0) + (origin == "original")
    assert set(originals.values()) == {1}


def test_extra_archives_follow_their_person(small: Population) -> None:
    first: dict[str, dict[str, str]] = {}
    for a in small.archives:
        if small.kind[a["archive_id"]].startswith("original"):
            first[small.person[a["archive_id"]]] = a
    for a in small.archives:
        kind = small.kind[a["archive_id"]]
        origin = kind.split(":")[0]
        if origin == "original":
            continue
        orig = first[small.person[a["archive_id"]]]
        assert a["created_date"] > orig["created_date"]
        same_county = a["region_code"][:6] == orig["region_code"][:6]
        if origin == "moved":
            assert not same_county
            # the old archive was not serviced after the move
            assert orig["last_service_date"] == "" or orig["last_service_date"] < a["created_date"]
        elif origin == "moved_within":
            assert same_county and a["region_code"][:9] != orig["region_code"][:9]
        else:
            assert same_county


def test_hard_negatives_are_different_people_made_confusable(small: Population) -> None:
    assert {n["tag"] for n in small.negatives} == set(HARD_NEGATIVE_TAGS)
    for n in small.negatives:
        left, right = small.by_id[n["archive_id_l"]], small.by_id[n["archive_id_r"]]
        assert small.person[left["archive_id"]] != small.person[right["archive_id"]]
        tag = n["tag"]
        touched = small.kind[left["archive_id"]] + small.kind[right["archive_id"]]
        # noise on an original can hide what the pair shares: check only untouched fields
        same_name = "name_" in touched or left["name"] == right["name"]
        same_dob = "dob_" in touched or parse_date(left["birth_date"]) == parse_date(right["birth_date"])
        same_address = "address_" in touched or left["address"] == right["address"]
        same_county = left["region_code"][:6] == right["region_code"][:6]
        if tag == "twins":
            assert same_dob and same_address and same_county
            assert "name_" in touched or (
                len(left["name"]) == len(right["name"]) and sum(x != y for x, y in zip(left["name"], right["name"])) == 1
            )
            assert "id_" in touched or left["id_number"] != right["id_number"]
        elif tag == "same_name_dob_county":
            assert same_name and same_dob and same_county
            assert left["region_code"][:9] != right["region_code"][:9]
        elif tag == "namesake_cross_county":
            assert same_name and not same_county
        elif tag == "child_parent_id":
            assert left["id_number"] == right["id_number"] != ""
            assert "id_household" in tags_of(small.kind[left["archive_id"]])
        elif tag == "spouses":
            assert same_address and ("phone_" in touched or left["phone"] == right["phone"])


def test_hard_negatives_scale_with_population(large: Population) -> None:
    counts = large.summary.hard_negatives
    assert 40 <= sum(counts.values()) <= 120  # a few hundred per 100k
    assert all(counts[t] >= 1 for t in HARD_NEGATIVE_TAGS)


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_population(1500, 5, a)
    generate_population(1500, 5, b)
    generate_population(1500, 6, c)
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "archives.csv").read_bytes() != (c / "archives.csv").read_bytes()


def test_streamed_files_equal_one_piece_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CSV streams out in slices of rows; the bytes do not depend on the slice size (a
    quoted address or a row at a slice edge included), so same seed, same files, at any size."""
    from linkage.synth import writer

    whole, sliced = tmp_path / "whole", tmp_path / "sliced"
    monkeypatch.setattr(writer, "CHUNK_ROWS", 10**9)
    generate_population(1500, 5, whole)
    monkeypatch.setattr(writer, "CHUNK_ROWS", 7)
    generate_population(1500, 5, sliced)
    for name in FILES:
        assert (whole / name).read_bytes() == (sliced / name).read_bytes(), name
    header = np.array(['a,b', 'say "hi"', "plain"], dtype=object)
    assert writer.csv_text(["x"], [header]) == 'x\n"a,b"\n"say ""hi"""\nplain\n'
    assert writer.csv_text(["x"], [np.array([], dtype=object)]) == "x\n"


def test_files_are_owner_only(small: Population) -> None:
    for name in FILES:
        mode = stat.S_IMODE((small.out / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert not [p for p in small.out.iterdir() if p.name.endswith(".tmp")]


def test_origin_rates(large: Population) -> None:
    persons = large.summary.persons
    assert large.summary.duplicates / persons == pytest.approx(0.04, abs=0.008)
    assert large.summary.moves / persons == pytest.approx(0.02, abs=0.006)
    assert large.summary.moves_within / persons == pytest.approx(0.01, abs=0.004)


def test_every_corruption_present_at_its_stated_rate(large: Population) -> None:
    extra_tags: dict[str, int] = dict.fromkeys(CORRUPTION_KINDS, 0)
    all_tags: dict[str, int] = dict.fromkeys(CORRUPTION_KINDS, 0)
    for kind in large.kind.values():
        for tag in tags_of(kind):
            all_tags[tag] += 1
            if not kind.startswith("original"):
                extra_tags[tag] += 1
    assert all_tags == large.summary.corruptions
    for kind in CORRUPTION_KINDS:
        assert all_tags[kind] > 0, kind
        eligible = large.summary.extra_eligible[kind]
        rate = CORRUPTION_RATES[kind]
        assert eligible >= 30, kind
        expected = eligible * rate
        slack = 5 * math.sqrt(eligible * rate * (1 - rate)) + 2
        assert abs(extra_tags[kind] - expected) <= slack, (kind, extra_tags[kind], expected)


def test_blank_ids_are_common_on_extra_archives(large: Population) -> None:
    extra = [a for a in large.archives if not large.kind[a["archive_id"]].startswith("original")]
    blank = sum(a["id_number"] == "" for a in extra) / len(extra)
    assert 0.15 <= blank <= 0.26


def test_tiny_population_still_writes_files(tmp_path: Path) -> None:
    summary = generate_population(3, 1, tmp_path)
    assert summary.persons == 3
    assert len(read(tmp_path / "truth.csv")) == summary.archives >= 3


def test_clean_ids_belong_to_one_person_each(large: Population) -> None:
    owner: dict[str, str] = {}
    for a in large.archives:
        if ":" not in large.kind[a["archive_id"]]:
            assert owner.setdefault(a["id_number"], large.person[a["archive_id"]]) == large.person[a["archive_id"]]


def test_age_pyramid_has_many_elderly_and_young_children(large: Population) -> None:
    ages = []
    for a in large.archives:
        kind = large.kind[a["archive_id"]]
        if kind == "original":
            born = parse_date(a["birth_date"])
            ages.append((dt.date(2024, 6, 30) - born).days / 365.25)
    share = lambda lo, hi: sum(lo <= x < hi for x in ages) / len(ages)  # noqa: E731
    assert share(65, 120) >= 0.12
    assert share(0, 7) >= 0.07
    assert 0.3 <= share(18, 60) <= 0.65


def test_names_collide_and_include_rare_forms(large: Population) -> None:
    names = [a["name"] for a in large.archives if large.kind[a["archive_id"]] == "original"]
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    assert max(counts.values()) >= 15  # 张伟-style collisions
    assert any("·" in n for n in names)
    assert any(n[:2] in {"欧阳", "司马", "诸葛", "上官"} for n in names)
    assert {len(n) for n in names} >= {2, 3}
