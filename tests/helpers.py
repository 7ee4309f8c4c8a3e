"""Small helpers shared by the tests that read the engine's output files."""

from __future__ import annotations

import csv
from pathlib import Path


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of an output CSV as dicts (UTF-8, header row)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_archives(path: Path, rows: list[dict[str, str]]) -> Path:
    """Rows as an input CSV with the schema's columns (UTF-8, header row)."""
    from linkage.schema import INPUT_COLUMNS

    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(INPUT_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def bucket(archive_id: str, n: int) -> int:
    """A stable pseudo-random bucket of an archive (for picking archives to edit or drop)."""
    import hashlib

    return int(hashlib.md5(archive_id.encode()).hexdigest(), 16) % n


# A village doctor's number typed for its elderly residents (tests/test_shared_phones.py).
VILLAGE = "620802001003"
DOCTOR = "13912345678"
SURNAMES = "李王刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"


def _villager(i: int, name: str, birth: str, phone: str = DOCTOR) -> dict[str, str]:
    return {"archive_id": f"V{i:03d}", "name": name, "sex": "2", "birth_date": birth,
            "id_number": "", "region_code": VILLAGE, "address": f"甘肃省平凉市崆峒区龙洞村{i % 7 + 1}组{i}号",
            "phone": phone, "created_date": "2015-04-02", "last_service_date": "2024-06-11"}


def clinic_rows(count: int) -> list[dict[str, str]]:
    """``count`` elderly villagers under the doctor's number (written three ways), two of them
    namesakes born on one day in two houses."""
    rows = [_villager(1, "张秀英", "1948-05-12"), _villager(2, "张秀英", "1948-05-12", "139-1234-5678")]
    for i in range(3, count + 1):
        rows.append(_villager(i, f"{SURNAMES[i % len(SURNAMES)]}桂兰", f"19{40 + i % 15}-0{1 + i % 9}-1{i % 10}",
                              DOCTOR if i % 2 else "+86 139 1234 5678"))
    return rows
