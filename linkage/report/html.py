"""report.html: one self-contained page (inline CSS and SVG charts, no script, no network).

Only counts, codes, names of places and scores appear: no resident's name, ID number or
phone ever reaches this module.
"""

from __future__ import annotations

from html import escape
from typing import Any

_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;
margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 6px}th{background:#f2f2f2}td{white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.total td{font-weight:bold;background:#fafafa}
.meta td{white-space:normal}.meta td:first-child{color:#555;white-space:nowrap}.chart{margin:12px 0}.note{color:#555;font-size:13px}
.warn{color:#b00}
"""


def fmt(value: Any, kind: str) -> str:
    if value is None or value == "":
        return "—"
    if kind == "rate":
        return f"{value:.2%}"
    if kind == "int":
        return f"{int(value):,}"
    return str(value)


def table(columns: tuple[tuple[str, str, str], ...], rows: list[dict[str, Any]],
          total: dict[str, Any] | None = None, css_id: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for _, h, _ in columns)
    body = []
    for row, cls in [(r, "") for r in rows] + ([(total, "total")] if total else []):
        cells = "".join(
            f'<td class="n">{escape(fmt(row.get(k), kind))}</td>' if kind != "text"
            else f"<td>{escape(fmt(row.get(k), kind))}</td>" for k, _, kind in columns)
        body.append(f'<tr class="{cls}">{cells}</tr>' if cls else f"<tr>{cells}</tr>")
    ident = f' id="{css_id}"' if css_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(title: str, sections: list[tuple[str, str]], meta: list[tuple[str, str]]) -> str:
    """The document: a title, the provenance table, then each (heading, inner HTML)."""
    meta_rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in meta)
    parts = [f"<h2>{escape(h)}</h2>{body}" if h else body for h, body in sections]
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><table class=\"meta\">{meta_rows}</table>"
        + "".join(parts) + "</body></html>\n"
    )


def chart(svg: str, name: str) -> str:
    return f'<div class="chart" data-chart="{escape(name)}">{svg}</div>'
