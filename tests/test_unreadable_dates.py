"""Birth dates the engine cannot read keep their archive but are counted and named by row
(acceptance review: 04/03/1985, 85-3-4 and lunar text silently became "unknown")."""

from __future__ import annotations

import json
import logging

import duckdb

from linkage.config import load_config
from linkage.ingest import UNREADABLE_DOB_TABLE, read_input
from linkage.pipeline import run
from linkage.report.figures import AREA_COLUMNS, collect

from helpers import read_csv, write_archives

BIRTHS = [
    "1960-05-01",                 # row 2: read
    "04/03/1985",                 # row 3: day/month order unknown
    "36106",                      # row 4: Excel serial, read (1998-11-07)
    "85-3-4",                     # row 5: two-digit year
    "1985-03-04T00:00:00Z",       # row 6: read
    "",                           # row 7: blank, not unreadable
    "不详",                        # row 8: a placeholder, counted as such
    "农历一九八五年三月初四",          # row 9: lunar text
    "1988-02-30",                 # row 10: no such day
    "1970-07-07",                 # row 11
    "1985年3月",                   # row 12: month only
    "1971-01-02 00:00:00",        # row 13
]
UNREADABLE_ROWS = [3, 5, 9, 10, 12]


def _rows() -> list[dict[str, str]]:
    county = ["620802", "620821"]
    return [{"archive_id": f"6208021010010{i:04d}", "name": f"王{'一二三四五六七八九十甲乙'[i]}",
             "sex": "男", "birth_date": birth, "id_number": "",
             "region_code": f"{county[i % 2]}101001", "address": f"柳湖镇新村{i}号", "phone": "",
             "created_date": "2015-01-01", "last_service_date": ""}
            for i, birth in enumerate(BIRTHS)]


def test_unreadable_birth_dates_are_kept_counted_and_named_by_row(tmp_path, caplog) -> None:
    path = write_archives(tmp_path / "in.csv", _rows())
    con = duckdb.connect()
    with caplog.at_level(logging.WARNING, logger="linkage.ingest"):
        result = read_input(con, path, load_config())
    assert result.rows_rejected == 0 and result.rows_accepted == len(BIRTHS)
    assert result.unreadable_birth_dates == len(UNREADABLE_ROWS)
    rows = [r[0] for r in con.execute(f"SELECT row_number FROM {UNREADABLE_DOB_TABLE} ORDER BY 1").fetchall()]
    assert rows == UNREADABLE_ROWS
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "5 archive(s)" in warning and "birth_date" in warning and "rows 3, 5, 9, 10, 12" in warning
    for value in BIRTHS[1:]:  # never a value (they may identify a resident)
        assert not value or value not in warning
    con.close()


def test_a_run_reports_unreadable_birth_dates_in_summary(tmp_path) -> None:
    source = write_archives(tmp_path / "in.csv", _rows())
    out = tmp_path / "out"
    run(source, out, show_progress=False)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["unreadable_birth_dates"] == len(UNREADABLE_ROWS)
    by_county = summary["by_county"]
    # Row r is archive r - 2, in 620802 when that is even, else in 620821.
    expected = {"620802": sum(1 for r in UNREADABLE_ROWS if (r - 2) % 2 == 0),
                "620821": sum(1 for r in UNREADABLE_ROWS if (r - 2) % 2 == 1)}
    assert {c: by_county[c]["unreadable_birth_dates"] for c in expected} == expected
    assert by_county["620802"]["placeholder_birth_dates"] == 1  # 不详, row 8
    assert len(read_csv(out / "clusters.csv")) == len(BIRTHS)  # every archive kept
    # The administrator's report shows them per county and in total.
    figures = collect(out)
    assert ("unreadable_birth_dates", "出生日期无法识别", "int") in AREA_COLUMNS
    assert {r.code: r.values["unreadable_birth_dates"] for r in figures.counties} == expected
    assert figures.totals["unreadable_birth_dates"] == len(UNREADABLE_ROWS)
