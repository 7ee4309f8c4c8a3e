"""Broken files lose nothing: each bad row is rejected alone, with the row a spreadsheet
shows, on every read path (DuckDB's fast reader, the careful reader, UTF-8, GB18030)."""

from __future__ import annotations

import csv
import io

import duckdb
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from linkage.config import load_config
from linkage.csv_records import UNBALANCED_QUOTE, read_records, split_lines
from linkage.errors import SchemaError, TooManyRejects
from linkage.ingest import RAW_TABLE, REJECTS_TABLE, read_input
from tests.test_ingest import HEADER, _row, lenient_config


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def _ids(n: int) -> list[str]:
    return [f"620802100201{i:05d}" for i in range(1, n + 1)]


def _write(tmp_path, lines: list[str], name: str = "in.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _rejects(con) -> list[tuple[int, str]]:
    return con.execute(f"SELECT row, field FROM {REJECTS_TABLE} ORDER BY row").fetchall()


def _accepted_rows(con) -> list[int]:
    return [r[0] for r in con.execute(f"SELECT row_number FROM {RAW_TABLE} ORDER BY 1").fetchall()]


def test_an_unbalanced_quote_rejects_its_row_only(tmp_path, con):
    rows = [_row(a) for a in _ids(40)]
    rows[3] = rows[3].replace(",王芳,", ',"王芳,', 1)  # row 5 opens a quote it never closes
    path = _write(tmp_path, [HEADER, *rows])
    result = read_input(con, path, load_config())
    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (40, 39, 1)
    assert _rejects(con) == [(5, "*")]
    reason = con.execute(f"SELECT reason FROM {REJECTS_TABLE}").fetchall()[0][0]
    assert reason == UNBALANCED_QUOTE
    assert _accepted_rows(con) == [r for r in range(2, 42) if r != 5]


def test_a_stray_quote_closed_much_later_swallows_nothing(tmp_path, con):
    rows = [_row(a) for a in _ids(400)]
    rows[9] = rows[9].replace(",王芳,", ',"王芳,', 1)        # opens at row 11
    rows[300] = rows[300].replace(",王芳,", ',王"芳,', 1)    # a quote 290 rows later
    # > 128 KB between them: once "field larger than field limit" for the whole file
    filler = "柳湖镇新村3组" * 30
    rows = [r.replace("柳湖镇新村3组", filler) for r in rows]
    path = _write(tmp_path, [HEADER, *rows])
    assert path.stat().st_size > 128 * 1024
    result = read_input(con, path, load_config())
    assert result.rows_rejected == 1 and _rejects(con) == [(11, "*")]
    assert result.rows_accepted == 399


def test_a_quoted_line_break_is_one_row(tmp_path, con):
    rows = [_row(a) for a in _ids(4)]
    rows[1] = rows[1].replace("柳湖镇新村3组", '"柳湖镇\n新村3组"')
    rows[3] = _row(_ids(4)[3], region="6208")  # row 5 as a spreadsheet shows it
    path = _write(tmp_path, [HEADER, *rows])
    result = read_input(con, path, lenient_config(tmp_path))
    assert result.rows_accepted == 3 and _rejects(con) == [(5, "region_code")]
    address = con.execute(f"SELECT address FROM {RAW_TABLE} WHERE row_number = 3").fetchall()
    assert address == [("柳湖镇\n新村3组",)]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_blank_lines_keep_spreadsheet_row_numbers_on_every_path(tmp_path, con, encoding):
    rows = [_row(a) for a in _ids(4)]
    rows[2] = _row(_ids(4)[2], region="6208")
    lines = [HEADER, rows[0], "", rows[1], rows[2], rows[3]]  # blank row 3, bad region row 5
    path = _write(tmp_path, lines, encoding=encoding)
    read_input(con, path, lenient_config(tmp_path))
    assert _rejects(con) == [(5, "region_code")]
    assert _accepted_rows(con) == [2, 4, 6]


def test_fast_and_careful_readers_agree_on_blank_fields(tmp_path):
    rows = [_row(a) for a in _ids(6)]
    rows[1] = rows[1].replace(",女,", ',"",', 1)  # a quoted empty field
    clean = _write(tmp_path, [HEADER, *rows], name="clean.csv")
    # The same rows as GB18030 go through the careful reader.
    careful = _write(tmp_path, [HEADER, *rows], name="careful.csv", encoding="gb18030")
    tables = []
    for path in (clean, careful):
        con = duckdb.connect()
        read_input(con, path, load_config())
        tables.append(con.execute(f"SELECT * FROM {RAW_TABLE} ORDER BY row_number").fetchall())
        con.close()
    assert tables[0] == tables[1]
    assert all(value != "" for row in tables[0] for value in row)  # blank is NULL, never ''


def test_a_huge_field_rejects_its_row_only(tmp_path, con):
    rows = [_row(a) for a in _ids(5)]
    rows[2] = rows[2].replace("柳湖镇新村3组", "村" * 2_100_000)  # > 2 MB in one field
    path = _write(tmp_path, [HEADER, *rows])
    result = read_input(con, path, lenient_config(tmp_path))
    assert result.rows_accepted == 4 and _rejects(con) == [(4, "address")]


def test_too_many_rejects_publish_nothing(tmp_path, con):
    rows = [_row(a, region="6208" if i < 3 else "620802100201") for i, a in enumerate(_ids(10))]
    path = _write(tmp_path, [HEADER, *rows])
    with pytest.raises(TooManyRejects, match=r"3 of 10 rows \(30.0%\).*region_code: 3 rows, first at row 2"):
        read_input(con, path, load_config())
    assert read_input(con, path, lenient_config(tmp_path, 0.5)).rows_accepted == 7
    every = _write(tmp_path, [HEADER, *[_row(a, region="6208") for a in _ids(3)]], name="all.csv")
    with pytest.raises(TooManyRejects, match="every row was rejected"):
        read_input(con, every, lenient_config(tmp_path, 1.0))


@pytest.mark.parametrize("column_sql, column", [
    ("62080210020100001.0::DOUBLE AS archive_id", "archive_id"),
    ("'620802100201'::BLOB AS address", "address"),
    ("440524188001010014::DOUBLE AS id_number", "id_number"),
])
def test_parquet_of_a_lossy_type_is_refused_by_column(tmp_path, con, column_sql, column):
    base = {"archive_id": "'62080210020100001' AS archive_id", "name": "'王芳' AS name",
            "region_code": "'620802100201' AS region_code"}
    base[column] = column_sql
    target = tmp_path / "typed.parquet"
    con.execute(f"COPY (SELECT {', '.join(base.values())}) TO '{target}' (FORMAT parquet)")
    with pytest.raises(SchemaError, match=column):
        read_input(con, target, load_config())


def test_parquet_integer_codes_are_accepted(tmp_path, con):
    target = tmp_path / "ints.parquet"
    con.execute(f"""COPY (SELECT 62080210020100001::BIGINT AS archive_id, '王芳' AS name,
                    620802100201::BIGINT AS region_code, DATE '1950-03-05' AS birth_date)
                    TO '{target}' (FORMAT parquet)""")
    assert read_input(con, target, load_config()).rows_accepted == 1
    assert con.execute(f"SELECT region_code, birth_date FROM {RAW_TABLE}").fetchall() == [
        ("620802100201", "1950-03-05")]


# -- the record reader itself ---------------------------------------------------------------

_text = st.text(alphabet=st.sampled_from(list('ab王芳,"\n ')), max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_text, min_size=3, max_size=3), min_size=1, max_size=12))
def test_well_formed_csv_reads_back_exactly(records):
    """Whatever csv.writer writes (quotes, commas, line breaks inside fields) is read back
    record for record, numbered 2, 3, ….  Excluded: a field whose line break is followed by
    text that is itself a whole record (commas, no quote) - read as an unbalanced quote on
    purpose, since that is what a stray quote looks like."""
    assume(not any("\n" in f and "," in f for record in records for f in record))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["a", "b", "c"])
    writer.writerows(records)
    got = list(read_records(split_lines(buffer.getvalue()), 3, max_record_lines=50))
    assert [r.row for r in got] == list(range(2, 2 + len(records)))
    for record, expected in zip(got, records):
        assert record.problem is None and record.fields == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=19), st.integers(min_value=1, max_value=3))
def test_one_stray_quote_costs_at_most_its_own_row(broken, field):
    lines = ["a,b,c\n"] + [f"{i},x{i},y{i}\n" for i in range(20)]
    parts = lines[broken + 1].rstrip("\n").split(",")
    parts[field - 1] = '"' + parts[field - 1]
    lines[broken + 1] = ",".join(parts) + "\n"
    got = list(read_records(lines, 3, max_record_lines=20))
    assert len(got) == 20
    # The broken row is rejected here or by its field count; every other row stands.
    good = [r for r in got if r.fields is not None and len(r.fields) == 3]
    assert len(good) >= 19
    assert all(r.row == 2 + int(r.fields[0]) for r in good)


def test_a_region_code_of_no_county_is_rejected(tmp_path, con):
    rows = [_row(a) for a in _ids(12)]
    rows[4] = _row(_ids(12)[4], region="999999100201")  # 12 digits, but no such county
    path = _write(tmp_path, [HEADER, *rows])
    result = read_input(con, path, load_config())
    assert result.rows_rejected == 1 and _rejects(con) == [(6, "region_code")]
    reason = con.execute(f"SELECT reason FROM {REJECTS_TABLE}").fetchall()[0][0]
    assert "no county" in reason


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_row_with_bytes_of_no_encoding_is_rejected_not_the_file(tmp_path, con, encoding):
    """One stray byte (a broken export, a disk error) costs its own row, named by row and
    field; the file was refused whole before."""
    ids = _ids(30)
    path = tmp_path / "in.csv"
    lines = [HEADER] + [_row(i) for i in ids]
    data = bytearray("\n".join(lines).encode(encoding))
    position = data.index(ids[9].encode()) + len(ids[9]) + 1  # the name field of row 11
    data[position:position] = b"\xff"
    path.write_bytes(bytes(data))
    result = read_input(con, path, lenient_config(tmp_path))
    assert result.rows_rejected == 1 and result.encoding.endswith("+lossy")
    row, archive_id, field, reason = con.execute(f"SELECT * FROM {REJECTS_TABLE}").fetchall()[0]
    assert (row, archive_id, field) == (11, ids[9], "name") and "not" in reason
    assert len(_accepted_rows(con)) == 29


@pytest.mark.parametrize("header", [
    "archive_id,name,姓名,sex,birth_date,id_number,region_code,address,phone,created_date,last_service_date",
    "archive_id,name,name,sex,birth_date,id_number,region_code,address,phone,created_date,last_service_date",
])
def test_two_columns_for_one_field_are_refused_by_name(tmp_path, con, header):
    path = tmp_path / "in.csv"
    path.write_text(header + "\n" + ",".join(["1"] * 11) + "\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"column 2 \('name'\), column 3 .* field 'name'"):
        read_input(con, path, load_config())


@pytest.mark.parametrize("archive_id,kept", [
    ("-51132199999999997", "-51132199999999997"),   # a spreadsheet formula
    ("=1+1", "=1+1"),
    ("5.11321E+16", "5.11321E+16"),                  # a spreadsheet's rounding of the ID
    ("A-001_b", None),                               # letters, digits, _ and - inside: fine
])
def test_a_refused_archive_id_is_named_as_typed(tmp_path, con, archive_id, kept):
    ids = _ids(20)
    lines = [HEADER] + [_row(i) for i in ids] + [_row(archive_id)]
    path = _write(tmp_path, lines)
    read_input(con, path, lenient_config(tmp_path))
    rejects = con.execute(f"SELECT archive_id, field, reason FROM {REJECTS_TABLE}").fetchall()
    if kept is None:
        assert rejects == []
    else:
        assert rejects == [(kept, "archive_id", "archive_id must be 1-40 letters, digits, '_' or '-', "
                                                "not starting with '-'")]
