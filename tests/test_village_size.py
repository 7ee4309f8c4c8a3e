"""A shared village code weighs by the village's size in the run (term frequency).

generator4 at 1M persons: two residents with one common name and one birth date, no ID, at two
street addresses of one urban community of 8,000 archives were joined, because "same village"
gave every village the weight of a small rural one.  The same two archives in a small village
are a much stronger coincidence, and the engine must weigh the two cases apart.
"""

from __future__ import annotations

import pytest

from helpers import read_csv, write_archives

BIG, SMALL = "620802001099", "620802101299"


def _archive(archive_id: str, name: str, birth: str, region: str, address: str, phone: str) -> dict:
    return {"archive_id": archive_id, "name": name, "sex": "1", "birth_date": birth,
            "id_number": "", "region_code": region, "address": address, "phone": phone,
            "created_date": "2019-10-15", "last_service_date": "2024-05-11"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from linkage.pipeline import run
    from linkage.synth import generate_population

    tmp = tmp_path_factory.mktemp("village_size")
    generate_population(1500, 29, tmp / "pop")
    base = read_csv(tmp / "pop" / "archives.csv")
    surnames, given = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂红"
    # 600 other residents of one urban community, each at an address and phone of their own
    crowd = [_archive(f"U{i:04d}", surnames[i % len(surnames)] + given[i % len(given)] + given[(i // len(given)) % len(given)],
                      f"{1940 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}", BIG,
                      f"建设路{i}号{i % 30}栋1单元{100 + i}号", f"139{i:08d}")
             for i in range(600)]
    pairs = [
        _archive("BIG1", "刘明远", "1987-01-05", BIG, "春风街185号15栋1单元603号", "15039885369"),
        _archive("BIG2", "刘明远", "1987-01-05", BIG, "建设路85号23栋1单元403号", "15890226892"),
        _archive("SMALL1", "刘明远", "1962-07-25", SMALL, "东大街12号3栋2单元101号", "13533999116"),
        _archive("SMALL2", "刘明远", "1962-07-25", SMALL, "西关路8号1栋1单元502号", "18205729276"),
    ]
    out = tmp / "out"
    run(write_archives(tmp / "in.csv", base + crowd + pairs), out, show_progress=False)
    return out


def _village_bits(run_dir, a: str, b: str) -> float:
    from linkage.explain import explain_pair

    steps = {step["field"]: step for step in explain_pair(run_dir, a, b).steps if "field" in step}
    location = steps["location"]
    assert location["level"].startswith("同村"), location
    return float(location["bits"])


@pytest.mark.slow
def test_a_big_community_says_less_than_a_small_village(run_dir):
    big, small = _village_bits(run_dir, "BIG1", "BIG2"), _village_bits(run_dir, "SMALL1", "SMALL2")
    # 602 archives against 2: log2(301) = 8.2 bits apart
    assert small - big == pytest.approx(8.2, abs=0.3)


@pytest.mark.slow
def test_namesakes_of_a_big_community_are_not_joined(run_dir):
    person = {r["archive_id"]: r["person_id"] for r in read_csv(run_dir / "clusters.csv")}
    assert person["BIG1"] != person["BIG2"]
