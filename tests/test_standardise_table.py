"""standardise_table on a small synthetic table: the schema contract and per-row results."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.errors import SchemaError
from linkage.schema import FEATURE_COLUMNS
from linkage.standardise import (
    clean_dob,
    clean_name,
    name_pinyin,
    normalise_address,
    normalise_phone,
    normalise_sex,
    parse_date,
    parse_id,
    standardise_table,
)

TODAY = date(2026, 11, 23)
COLUMNS = ("archive_id", "name", "sex", "birth_date", "id_number", "region_code", "address",
           "phone", "created_date", "last_service_date")
ROWS = [
    # consistent: dob and sex agree with the ID
    ("A1", "陳小明", "女", "1949-12-31", "11010519491231002x", "620802101201", "甘肃省平凉市崆峒区柳湖镇新民村三组",
     "+86 138 0013 8000", "2015-03-04 10:20:30", "2020-01-02"),
    # day and month swapped in the record: still consistent
    ("A2", "曾 敏", "F", "1980-05-03", "11010519800305002X", "620802101202", "崆峒区柳湖镇二组",
     "", "20150304", None),
    # sex disagrees with the ID; legacy 15-digit ID
    ("A3", "单雄信", "男", "19491231", "110105491231002", "620802101203", None,
     "0933-8123456", "2015/3/4", ""),
    # placeholders everywhere
    ("A4", "  ", "未知", "1900-01-01", "无", "620802101204", "", "00000000", "2015-03-04", None),
    # dob after creation; ID fails its check
    (" A5 ", None, None, "2016-01-01", "11010519491231003X", "620802101205", "阳光小区3号楼", None,
     "2015-03-04", None),
]


@pytest.fixture()
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    cols = ", ".join(f"{c} VARCHAR" for c in COLUMNS)
    connection.execute(f"CREATE TABLE raw ({cols}, row_number BIGINT)")
    connection.executemany(
        f"INSERT INTO raw VALUES ({', '.join('?' * (len(COLUMNS) + 1))})",
        [(*row, i) for i, row in enumerate(ROWS, start=1)],
    )
    yield connection
    connection.close()


def _features(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, object]]:
    cur = con.execute("SELECT * FROM features ORDER BY row_number")
    names = [d[0] for d in cur.description]
    return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


def test_output_has_exactly_the_feature_columns(con: duckdb.DuckDBPyConnection) -> None:
    standardise_table(con, "raw", "features", today=TODAY)
    described = con.execute("DESCRIBE features").fetchall()
    assert [(r[0], r[1]) for r in described] == [(c, t) for c, (t, _) in FEATURE_COLUMNS.items()]
    assert con.execute("SELECT count(*) FROM features").fetchone() == (len(ROWS),)
    leftovers = con.execute(
        "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views()"
        " WHERE NOT internal ORDER BY 1"
    ).fetchall()
    assert leftovers == [("features",), ("raw",)]


def test_per_row_values(con: duckdb.DuckDBPyConnection) -> None:
    standardise_table(con, "raw", "features", today=TODAY)
    f = _features(con)
    a1 = f["A1"]
    assert a1["row_number"] == 1 and a1["county"] == "620802" and a1["township"] == "620802101"
    assert (a1["name_clean"], a1["name_len"], a1["name_py"]) == ("陈小明", 3, "chenxiaoming")
    assert (a1["id_norm"], a1["id_status"], a1["id_valid"], a1["id_consistent"]) == (
        "11010519491231002X", "valid", True, True
    )
    assert a1["id_sorted"] == "".join(sorted("11010519491231002X"))
    assert (a1["dob"], a1["id_dob"], a1["sex"]) == (date(1949, 12, 31), date(1949, 12, 31), "F")
    assert a1["address_norm"] == "柳湖镇新民村3组"
    assert (a1["phone_norm"], a1["created_date"], a1["last_service_date"]) == (
        "13800138000", date(2015, 3, 4), date(2020, 1, 2)
    )

    a2 = f["A2"]
    assert (a2["surname_py"], a2["name_clean"]) == ("zeng", "曾敏")
    assert a2["id_consistent"] is True  # 1980-05-03 recorded, 1980-03-05 in the ID
    assert a2["phone_norm"] is None and a2["last_service_date"] is None

    a3 = f["A3"]
    assert (a3["id_norm"], a3["id_valid"], a3["id_consistent"]) == ("11010519491231002X", True, False)
    assert a3["surname_py"] == "shan" and a3["address_norm"] is None

    a4 = f["A4"]
    assert (a4["name_clean"], a4["sex"], a4["dob"], a4["dob_raw_placeholder"]) == (None, None, None, True)
    assert (a4["id_status"], a4["id_norm"], a4["id_valid"], a4["id_consistent"]) == (
        "placeholder", None, False, False
    )
    assert a4["phone_norm"] is None and a4["address_norm"] is None

    a5 = f["A5"]  # archive id trimmed
    assert (a5["dob"], a5["dob_raw_placeholder"]) == (None, True)
    assert (a5["id_status"], a5["id_valid"], a5["id_dob"]) == ("bad_check", False, date(1949, 12, 31))
    assert a5["address_norm"] == "阳光小区3栋"


def test_replaces_an_existing_output_table(con: duckdb.DuckDBPyConnection) -> None:
    standardise_table(con, "raw", "features", today=TODAY)
    standardise_table(con, "raw", "features", today=TODAY)
    assert con.execute("SELECT count(*) FROM features").fetchone() == (len(ROWS),)


def test_missing_columns_raise_schema_error(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE thin AS SELECT archive_id, name FROM raw")
    with pytest.raises(SchemaError, match="region_code"):
        standardise_table(con, "thin", "features", today=TODAY)


# ---- every output column equals the Python references, row by row ---------------------

_dirty = st.one_of(st.none(), st.text(max_size=12))
_ids = st.one_of(_dirty, st.sampled_from(
    ["11010519491231002X", "11010519491231002x", "110105491231002", "无", "4.40524E+17",
     "11010519491231003X", "11010519800305002X", " 1101051949123100210 "]))
_dates = st.one_of(_dirty, st.sampled_from(
    ["1949-12-31", "19491231", "1980/3/5", "1980-05-03", "1900-01-01", "0000-00-00", "2016-01-01"]))
_names = st.one_of(_dirty, st.sampled_from(["陳小明", "曾 敏", "单雄信", "阿卜杜•热合曼", "欧阳娜娜"]))
_addresses = st.one_of(_dirty, st.sampled_from(
    ["甘肃省平凉市崆峒区柳湖镇新民村三组", "崆峒区柳湖镇二组", "阳光小区3号楼", "六盘水市"]))
_rows = st.lists(
    st.tuples(_names, st.one_of(_dirty, st.sampled_from(["男", "女", "1", "2"])), _dates, _ids,
              _addresses, _dirty, st.one_of(_dirty, st.sampled_from(["2015-03-04 10:20:30"])), _dates),
    max_size=30,
)


@settings(max_examples=15, deadline=None)
@given(_rows)
def test_table_matches_python_references(rows: list[tuple[str | None, ...]]) -> None:
    con = duckdb.connect()
    try:
        raw = pa.table({
            "archive_id": [f"A{i}" for i in range(len(rows))],
            **{col: pa.array([r[j] for r in rows], pa.string()) for j, col in enumerate(
                ("name", "sex", "birth_date", "id_number", "address", "phone", "created_date",
                 "last_service_date"))},
            "region_code": ["620802101201"] * len(rows),
            "row_number": pa.array(range(1, len(rows) + 1), pa.int64()),
        })
        con.register("raw_view", raw)
        con.execute("CREATE TABLE raw AS SELECT * FROM raw_view")
        standardise_table(con, "raw", "features", today=TODAY)
        cur = con.execute("SELECT * FROM features")
        columns = [d[0] for d in cur.description]
        got = [dict(zip(columns, r)) for r in cur.fetchall()]
    finally:
        con.close()
    assert [g["row_number"] for g in got] == list(range(1, len(rows) + 1))  # order kept
    for (name, sex, birth, id_raw, address, phone, created, last), g in zip(rows, got):
        clean = clean_name(name)
        keys = name_pinyin(clean) if clean else None
        created_d = parse_date(created)
        dob, placeholder = clean_dob(birth, created_d, TODAY)
        info = parse_id(id_raw, TODAY)
        norm = normalise_address(address)
        expected = {
            "name_clean": clean, "name_len": len(clean) if clean else None,
            "name_py": keys.name_py if keys else None,
            "name_py_sorted": keys.name_py_sorted if keys else None,
            "sex": normalise_sex(sex), "dob": dob, "dob_raw_placeholder": placeholder,
            "id_norm": info.norm, "id_status": info.status, "id_dob": info.dob,
            "id_valid": info.status == "valid",
            "phone_norm": normalise_phone(phone), "address_norm": norm,
            "created_date": created_d, "last_service_date": parse_date(last),
        }
        assert {k: g[k] for k in expected} == expected


def test_public_names() -> None:
    import linkage.standardise as std

    assert sorted(std.__all__) == [
        "IdInfo", "NamePinyin", "address_table", "check_digit", "clean_dob",
        "clean_name", "dob_precision", "is_one_typo", "is_placeholder_dob", "lunar_calendar_table",
        "lunar_to_solar", "name_pinyin", "name_table", "normalise_address", "normalise_phone",
        "normalise_sex", "parse_date", "parse_id", "pinyin_table", "standardise_table",
    ]
    assert all(callable(getattr(std, name)) for name in std.__all__)


def test_connection_settings_are_restored(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET threads = 3")
    con.execute("SET preserve_insertion_order = false")
    standardise_table(con, "raw", "features", today=TODAY)
    assert con.execute(
        "SELECT current_setting('threads'), current_setting('preserve_insertion_order')"
    ).fetchall() == [(3, False)]
