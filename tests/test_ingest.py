"""Reading input: encodings, header mapping, rejects with row numbers, clear errors."""

from __future__ import annotations

import codecs

import duckdb
import pytest

from linkage.config import load_config
from linkage.errors import InputError, SchemaError
from linkage.ingest import RAW_TABLE, REJECTS_TABLE, detect_encoding, read_codec, read_input

HEADER = "archive_id,name,sex,birth_date,id_number,region_code,address,phone,created_date,last_service_date"


def _row(aid: str, region: str = "620802100201", name: str = "王芳") -> str:
    return f"{aid},{name},女,1950-03-05,,{region},柳湖镇新村3组,,2015-01-01,"


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_reads_utf8_with_bom_and_gb18030(tmp_path, con):
    text = "\n".join([HEADER, _row("62080210020100001")]) + "\n"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    gb = tmp_path / "gb.csv"
    gb.write_bytes(text.encode("gb18030"))
    assert detect_encoding(bom) == "utf-8-sig"
    assert detect_encoding(gb) == "gb18030"
    for path in (bom, gb):
        result = read_input(con, path, load_config())
        assert result.rows_accepted == 1
        assert con.execute(f"SELECT name FROM {RAW_TABLE}").fetchall() == [("王芳",)]


def test_the_reported_encoding_says_whether_utf8_has_a_bom(tmp_path, con):
    """summary.json said 'utf-8-sig' for every UTF-8 file (acceptance review): the name now
    says what the file is, and the read is the same with and without the BOM."""
    text = "\n".join([HEADER, _row("62080210020100001"), _row("62080210020100002", name="李娜")]) + "\n"
    plain, bom = tmp_path / "plain.csv", tmp_path / "bom.csv"
    plain.write_bytes(text.encode("utf-8"))
    bom.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    read = {}
    for path, expected in ((plain, "utf-8"), (bom, "utf-8-sig")):
        assert detect_encoding(path) == expected
        assert read_input(con, path, load_config()).encoding == expected
        read[expected] = con.execute(f"SELECT * FROM {RAW_TABLE} ORDER BY row_number").fetchall()
    assert read["utf-8"] == read["utf-8-sig"] and len(read["utf-8"]) == 2
    # A stray byte keeps the name and adds the lossy mark.
    for path, expected in ((plain, "utf-8+lossy"), (bom, "utf-8-sig+lossy")):
        path.write_bytes(path.read_bytes().replace("李娜".encode(), b"\xff" + "李娜".encode()))
        assert detect_encoding(path) == expected
        result = read_input(con, path, lenient_config(tmp_path))
        assert (result.encoding, result.rows_accepted, result.rows_rejected) == (expected, 1, 1)
    assert read_codec("utf-8") == read_codec("utf-8-sig+lossy") == "utf-8-sig"
    assert read_codec("gb18030+lossy") == "gb18030"


def test_chinese_headers_are_mapped(tmp_path, con):
    path = tmp_path / "zh.csv"
    path.write_text("档案编号,姓名,性别,出生日期,身份证号,行政区划代码,现住址,联系电话,建档日期,最近服务日期\n"
                    + _row("62080210020100001") + "\n", encoding="utf-8")
    result = read_input(con, path, load_config())
    assert result.rows_accepted == 1


def lenient_config(tmp_path, share: float = 1.0):
    """The default config, but accepting any share of rejected rows (to look at them)."""
    from linkage.config import default_config_path

    text = default_config_path().read_text(encoding="utf-8")
    path = tmp_path / "lenient.toml"
    path.write_text(text.replace("max_rejected_share = 0.10", f"max_rejected_share = {share}"),
                    encoding="utf-8")
    return load_config(path)


def test_rejects_name_rows_and_reasons_and_keep_first_duplicate(tmp_path, con):
    lines = [
        HEADER,
        _row("62080210020100001"),            # row 2 ok
        _row("62080210020100001"),            # row 3 duplicate
        "62080210020100002,王芳,女",           # row 4 wrong field count
        _row(""),                              # row 5 blank archive id
        _row("62080210020100003", region="6208"),  # row 6 bad region
        _row("62080210020100004"),            # row 7 ok
    ]
    path = tmp_path / "in.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_input(con, path, lenient_config(tmp_path))
    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (6, 2, 4)
    rejects = con.execute(f"SELECT row, field FROM {REJECTS_TABLE} ORDER BY row").fetchall()
    assert rejects == [(3, "archive_id"), (4, "*"), (5, "archive_id"), (6, "region_code")]
    rows = con.execute(f"SELECT row_number FROM {RAW_TABLE} ORDER BY row_number").fetchall()
    assert rows == [(2,), (7,)]
    reasons = " ".join(r[0] for r in con.execute(f"SELECT reason FROM {REJECTS_TABLE}").fetchall())
    assert "王芳" not in reasons  # no PII in reasons


def test_missing_file_missing_columns_empty_table_unknown_encoding(tmp_path, con):
    config = load_config()
    with pytest.raises(InputError, match="not found"):
        read_input(con, tmp_path / "nope.csv", config)
    missing = tmp_path / "missing.csv"
    missing.write_text("archive_id,sex\n1,男\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="name, region_code"):
        read_input(con, missing, config)
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="no rows"):
        read_input(con, empty, config)
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_input(con, blank, config)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81\x30\xff" * 10)
    with pytest.raises(InputError, match="encoding"):
        read_input(con, binary, config)


def test_parquet_input(tmp_path, con):
    con.execute(f"""COPY (SELECT '62080210020100001' AS archive_id, '王芳' AS name, '620802100201' AS region_code)
                    TO '{tmp_path / "in.parquet"}' (FORMAT parquet)""")
    result = read_input(con, tmp_path / "in.parquet", load_config())
    assert result.rows_accepted == 1
    assert con.execute(f"SELECT sex, row_number FROM {RAW_TABLE}").fetchall() == [(None, 2)]


@pytest.mark.parametrize(("bom", "named"), [(b"", "utf-8"), (codecs.BOM_UTF8, "utf-8-sig")])
def test_a_bad_byte_reject_names_the_encoding_as_the_summary_does(tmp_path, con, bom, named):
    """The reject said 'utf-8-sig' for a file without a BOM while summary.json said 'utf-8'."""
    text = "\n".join([HEADER] + [_row(f"6208021002010000{i}") for i in range(1, 10)]) + "\n"
    path = tmp_path / "in.csv"
    path.write_bytes(bom + text.encode("utf-8").replace("王芳".encode(), b"\xff" + "王芳".encode(), 1))
    result = read_input(con, path, lenient_config(tmp_path))
    assert result.encoding == named + "+lossy"
    reasons = [r[0] for r in con.execute(f"SELECT reason FROM {REJECTS_TABLE}").fetchall()]
    assert reasons == [f"bytes that are not {named} text"]


@pytest.mark.parametrize(("separator", "named"), [("\t", "tab"), (";", "semicolon")])
def test_a_file_separated_by_something_else_says_so(tmp_path, con, separator, named):
    path = tmp_path / "in.csv"
    path.write_text("\n".join(line.replace(",", separator) for line in [HEADER, _row("62080210020100001")])
                    + "\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=f"missing required column.*looks {named}-separated; "
                                          "the input must be comma-separated CSV"):
        read_input(con, path, load_config())
    missing = tmp_path / "missing.csv"  # a comma file that lacks columns gets no such hint
    missing.write_text("archive_id,sex\n1,男\n", encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        read_input(con, missing, load_config())
    assert "looks" not in str(caught.value).split(": ", 1)[1]


def test_a_folder_as_input_is_named_a_folder(tmp_path, con):
    from linkage.pipeline import run

    with pytest.raises(InputError, match="input is a folder, not a file"):
        read_input(con, tmp_path, load_config())
    with pytest.raises(InputError, match="input is a folder, not a file"):
        run(tmp_path, tmp_path / "out", show_progress=False)
    assert not (tmp_path / "out").exists()
