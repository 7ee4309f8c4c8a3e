"""重复档案清零.xlsx: the per-county and per-township tables for the people who hand them in.

Chinese headers, one sheet per level plus a 说明 sheet (as-of date, input file and hash,
engine, model, config and how areas are counted), numbers as numbers and rates as
percentages, so the bureau can sort and add up in Excel.  Written with openpyxl.
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime, timezone
from io import BytesIO
from typing import Any

from linkage.report.figures import Figures

SHEET_NAME = "重复档案清零.xlsx"


def _write_table(ws: Any, columns: tuple[tuple[str, str, str], ...], rows: list[dict[str, Any]]) -> None:
    from openpyxl.styles import Font

    ws.append([header for _, header, _ in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row.get(key) for key, _, _ in columns])
    for index, (_, header, kind) in enumerate(columns, start=1):
        letter = ws.cell(row=1, column=index).column_letter
        ws.column_dimensions[letter].width = max(10, 2 * len(header) + 2) if kind != "text" else 24
        if kind == "rate":
            for cell in ws[letter][1:]:
                cell.number_format = "0.00%"
    ws.freeze_panes = "C2"


def workbook_bytes(fig: Figures, columns: tuple[tuple[str, str, str], ...],
                   provenance: list[tuple[str, str]],
                   exam_tables: dict[str, list[dict[str, Any]]] | None = None,
                   exam_columns: tuple[tuple[str, str, str], ...] = ()) -> bytes:
    """The workbook as bytes (written atomically by the caller)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "区县"
    _write_table(ws, columns, [r.values for r in fig.counties] + [fig.totals])
    _write_table(wb.create_sheet("乡镇"), columns, [r.values for r in fig.townships])
    for label, rows in (exam_tables or {}).items():
        _write_table(wb.create_sheet(f"体检雷同-{label}"), exam_columns, rows)
    about = wb.create_sheet("说明")
    about.append(["项目", "内容"])
    for key, value in provenance:
        about.append([key, value])
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 100
    # Document times are the run's: the same run gives the same workbook.
    run_at = fig.summary.get("run_at")
    stamp = (datetime.fromisoformat(run_at) if run_at else datetime(1980, 1, 1, tzinfo=timezone.utc))
    stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    wb.properties.created = stamp
    buffer = BytesIO()
    wb.save(buffer)
    return _reproducible(buffer.getvalue(), stamp.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _reproducible(data: bytes, stamp: str) -> bytes:
    """The same workbook with the clock taken out: openpyxl dates each zip entry and the
    'modified' property with the wall clock at save; here they are the run's time."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, body)
    return out.getvalue()
