"""重复档案清零.xlsx: the per-county and per-township tables for the people who hand them in.

Chinese headers, one sheet per level plus a 说明 sheet (as-of date, input file and hash,
engine, model, config and how areas are counted), numbers as numbers and rates as
percentages, so the bureau can sort and add up in Excel.  Written with openpyxl.
"""

from __future__ import annotations

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
    # Fixed document times: the same run gives the same workbook.
    created = fig.summary.get("run_at")
    if created:
        from datetime import datetime

        stamp = datetime.fromisoformat(created).replace(tzinfo=None)
        wb.properties.created = wb.properties.modified = stamp
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
