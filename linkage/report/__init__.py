"""``linkage report``: the administrator's duplicate-zeroing report over a run's outputs.

    figures.py  what is shown, read from the run folder (summary.json, decisions.csv,
                review.db, the model) and the nightly state's history
    charts.py   Vega-Lite specs, rendered to inline SVG (vl-convert)
    html.py     report.html, one self-contained page
    sheet.py    重复档案清零.xlsx with Chinese headers (openpyxl)
    exams.py    the 体检数据雷同 section from exam_summary.json, when there is one

The machine-facing files (clusters.csv, decisions.csv, summary.json) are untouched; both
report files are written atomically, owner-readable only, beside them (or into ``to``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from linkage.outputs import ensure_out_dir, write_bytes_atomic
from linkage.report import charts
from linkage.report.exams import EXAM_COLUMNS, exam_tables, find_exam_summary
from linkage.report.figures import (
    AREA_COLUMNS, POPULATION_COLUMNS, Figures, collect, read_json, read_population,
)
from linkage.report.html import chart, page, table
from linkage.report.sheet import SHEET_NAME, workbook_bytes

HTML_NAME = "report.html"
NIGHT_COLUMNS = (("run_id", "运行", "int"), ("at", "完成时间 (UTC)", "text"), ("archives", "档案数", "int"),
                 ("found", "发现重复", "int"), ("resolved", "已处理", "int"), ("open", "待审核(对)", "int"))
TITLE = "居民电子健康档案 重复档案清零报告"


@dataclass
class ReportFiles:
    html: Path
    sheet: Path
    counties: int
    townships: int
    nights: int


def provenance(fig: Figures) -> list[tuple[str, str]]:
    s = fig.summary
    inp = s.get("input") or {}
    eng = s.get("engine") or {}
    model, config = s.get("model_file") or {}, s.get("config_file") or {}
    rows = [
        ("统计时间 (as of)", f"{s.get('as_of', '—')}（运行于 {s.get('run_at', '—')} UTC）"),
        ("输入文件", f"{inp.get('file') or s.get('input_file') or '—'}  sha256 {inp.get('sha256') or '—'}"),
        ("引擎版本", f"linkage {eng.get('linkage', '—')} · Splink {eng.get('splink', '—')} · "
                    f"DuckDB {eng.get('duckdb', '—')}"),
        ("模型", f"{model.get('file') or s.get('model', '—')}  sha256 {model.get('sha256') or '—'}"),
        ("配置", f"{config.get('file') or s.get('config', '—')}  sha256 {config.get('sha256') or '—'}"),
        ("阈值", f"自动合并 p ≥ {fig.thresholds['auto']}，送审核 p ≥ {fig.thresholds['review']}"),
        ("运行", f"{s.get('mode') or '单次'}" + (f"，第 {s['run_id']} 次夜间运行" if s.get("run_id") else "")),
        ("区划名称", (s.get("divisions") or {}).get("names", "")),
        ("统计口径", "发现重复 = 已处理（合并、迁移退出的档案）+ 待审核（对）；重复率 = 发现重复 / 档案数；"
                     "跨区县（乡镇）的待审核对在两个区县（乡镇）各计一次，合计只计一次；"
                     "居民数按最终管理地统计；身份证号异常 = 格式或校验位错误 + 地区码从未存在（GB/T 2260 1980–2024）"),
    ]
    if fig.has_population:
        rows.append(("有效建档率", f"居民数 / 常住人口，目标 ≥ {fig.target:.0%}"))
    if fig.deadline:
        rows.append(("清零期限", fig.deadline.isoformat()))
    return rows


def build_report(
    run_dir: Path | str,
    *,
    to: Path | str | None = None,
    state_path: Path | str | None = None,
    population_path: Path | str | None = None,
    target: float = 0.9,
    deadline: date | None = None,
    exams: Path | str | None = None,
) -> ReportFiles:
    """Write report.html and 重复档案清零.xlsx for the run in ``run_dir`` (into ``to``)."""
    run_dir = Path(run_dir)
    population = read_population(Path(population_path)) if population_path else None
    fig = collect(run_dir, state_path=Path(state_path) if state_path else None,
                  population=population, target=target, deadline=deadline)
    columns = AREA_COLUMNS + (POPULATION_COLUMNS if population is not None else ())
    exam_path = find_exam_summary(run_dir, Path(exams) if exams else None)
    exam = exam_tables(read_json(exam_path), exam_path) if exam_path else {}
    meta = provenance(fig)

    county_names = {r.code: r.name for r in fig.counties}
    history = fig.history or [{"at": fig.summary.get("run_at") or "", "found": fig.totals["found"],
                               "open": fig.totals["open"]}]
    sections: list[tuple[str, str]] = [
        ("各区县", table(columns, [r.values for r in fig.counties], fig.totals, "counties")),
        ("重复档案清零进度", chart(charts.render(charts.burn_down(
            history, fig.deadline.isoformat() if fig.deadline else None)), "burn_down")
         + (table(NIGHT_COLUMNS, fig.history, None, "nights") if fig.history else
            '<p class="note">只有本次运行：用 --state 指定夜间状态文件可看逐夜趋势。</p>')
         + (chart(charts.render(charts.burn_down_by_county(fig.county_history, county_names)),
                  "burn_down_by_county") if fig.county_history else "")),
        ("各乡镇待审核", chart(charts.render(charts.open_by_township(
            [r.values for r in fig.townships])), "open_by_township")),
        ("各乡镇", table(columns, [r.values for r in fig.townships], None, "townships")),
        ("审核队列", chart(charts.render(charts.review_queue(fig.queue, county_names)), "review_queue")
         + '<p class="note">取自 review.db：生成报告时仍未决定的对；等待天数按统计时间计算。</p>'),
        ("匹配权重", chart(charts.render(charts.weight_distribution(fig.weights, fig.thresholds)),
                         "weight_distribution")
         + chart(charts.render(charts.model_weights(fig.levels)), "model_weights")),
    ]
    if exam:
        body = "".join(f"<h3>按{label}</h3>" + table(EXAM_COLUMNS, rows) for label, rows in exam.items())
        sections.append(("体检数据雷同", f'<p class="note">来源：{exam_path.name}</p>{body}'))
    html = page(TITLE, sections, meta)
    sheet = workbook_bytes(fig, columns, meta, exam, EXAM_COLUMNS)

    # Documents for people, beside the run's files but not part of its published set (a
    # report must never replace the set other systems read): each written atomically.
    out = Path(to) if to else run_dir
    ensure_out_dir(out)
    write_bytes_atomic(out / HTML_NAME, html.encode("utf-8"))
    write_bytes_atomic(out / SHEET_NAME, sheet)
    return ReportFiles(out / HTML_NAME, out / SHEET_NAME, len(fig.counties), len(fig.townships),
                       len(fig.history))


__all__ = ["build_report", "ReportFiles", "HTML_NAME", "SHEET_NAME"]
