"""Prefecture-level cities without counties (东莞 441900, 中山 442000, 儋州 460400, 嘉峪关
620200) are their own county: their archives are read, linked, migrated and counted like
any county's (acceptance review: they were rejected as "region_code names no county")."""

from __future__ import annotations

import json

from linkage.divisions import division_name, is_city_without_counties, is_county_level_code
from linkage.pipeline import run
from linkage.standardise.id_number import check_digit

from helpers import read_csv, write_archives


def _id(area: str, dob: str, seq: str) -> str:
    body = area + dob + seq
    return body + check_digit(body)


def test_the_division_data_names_the_cities_without_counties() -> None:
    for code in ("441900", "442000", "460400", "620200"):
        assert is_city_without_counties(code) and is_county_level_code(code), code
    for code in ("620800", "440300", "620000", "000000", "", None, "4419"):
        assert not is_city_without_counties(code), code
    assert is_county_level_code("620802") and not is_county_level_code("620800")
    assert division_name("441900") == "广东省东莞市"
    assert division_name("620200") == "甘肃省嘉峪关市"  # GB/T 2260's code; NBS has 620201
    assert division_name("441900003") == "东莞市东城街道"


def _archive(aid: str, name: str, sex: str, dob: str, id_number: str, region: str,
             address: str, phone: str = "") -> dict[str, str]:
    return {"archive_id": aid, "name": name, "sex": sex, "birth_date": dob,
            "id_number": id_number, "region_code": region, "address": address,
            "phone": phone, "created_date": "2015-01-01", "last_service_date": "2023-05-01"}


def test_archives_of_a_city_without_counties_link_migrate_and_are_counted(tmp_path) -> None:
    """Two archives of one resident in 东莞 merge there; a resident who moved from 崆峒区 to
    嘉峪关 (coded 620200, GB/T 2260) migrates; every code is in by_county, none rejected."""
    li = _id("441900", "19650412", "021")
    zhang = _id("620802", "19580925", "033")
    rows = [
        _archive("44190000300100001", "李秀兰", "女", "1965-04-12", li, "441900003001",
                 "东城街道岗贝社区东纵路12号", "13800138001"),
        _archive("44190000300100002", "李秀兰", "女", "1965-04-12", li, "441900003001",
                 "东城街道岗贝社区东纵路12号", "13800138001"),
        _archive("62080200100100001", "张建国", "男", "1958-09-25", zhang, "620802001001",
                 "东关街道解放中路社区8号", "13900139002"),
        _archive("62020010000100001", "张建国", "男", "1958-09-25", zhang, "620200100001",
                 "雄关路15号", "13900139002"),
        _archive("44200000100100001", "陈志明", "男", "1972-01-30", _id("442000", "19720130", "011"),
                 "442000001001", "石岐街道太平路3号"),
        _archive("46040010000100001", "王海燕", "女", "1980-07-08", _id("460400", "19800708", "042"),
                 "460400100001", "那大镇人民路7号"),
    ]
    source = write_archives(tmp_path / "archives.csv", rows)
    out = tmp_path / "out"
    run(source, out, show_progress=False)
    assert read_csv(out / "rejects.csv") == []
    decisions = {d["archive_id"]: d for d in read_csv(out / "decisions.csv")}
    merge = decisions["44190000300100002"] if "44190000300100002" in decisions else decisions["44190000300100001"]
    assert merge["action"] == "merge" and merge["to_region"][:6] == "441900"
    moved = [d for d in decisions.values() if d["action"] == "migrate"]
    assert [(d["from_region"][:6], d["to_region"][:6]) in {("620802", "620200"), ("620200", "620802")}
            for d in moved] == [True]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    by_county = summary["by_county"]
    assert {"441900", "442000", "460400", "620200", "620802"} <= set(by_county)
    assert by_county["441900"]["archives"] == 2 and by_county["441900"]["merges"] == 1
    assert by_county["441900"]["persons"] == 1
    assert by_county["442000"]["archives"] == by_county["460400"]["archives"] == 1
