"""Build small exam tables for the exam tests (synthetic values only)."""

from __future__ import annotations

import csv
from pathlib import Path

from linkage.exams.settings import EXAM_COLUMNS

BASE = {
    "exam_id": "E1", "archive_id": "A1", "exam_date": "2023-04-01", "region_code": "620802100201",
    "institution": "安国镇卫生院", "doctor": "620802100201-1", "height": "165", "weight": "60",
    "waist": "80", "sbp_left": "132", "dbp_left": "84", "sbp_right": "132", "dbp_right": "84",
    "pulse": "72", "glucose": "5.6",
}


def write_exams(path: Path, rows: list[dict[str, str]], header: list[str] | None = None,
                encoding: str = "utf-8") -> Path:
    header = header or list(EXAM_COLUMNS)
    with Path(path).open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            full = {**BASE, **row}
            writer.writerow([full.get(c, "") for c in EXAM_COLUMNS])
    return Path(path)
