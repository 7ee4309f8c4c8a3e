"""The report's charts: Vega-Lite specifications, rendered to inline SVG by vl-convert.

Why Vega-Lite: it is the grammar Splink's own charts use (through Altair), so the match
weights look as a Splink user expects; why SVG rendered here: the report is one file that
opens offline, with no script to load and nothing to fail in the reader's browser.  Each
function returns a spec (a plain dict, testable without rendering); :func:`render` makes
the SVG.
"""

from __future__ import annotations

from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
CONFIG = {"font": FONT, "view": {"stroke": None}, "axis": {"labelFontSize": 11, "titleFontSize": 12},
          "title": {"fontSize": 14, "anchor": "start"}}
COLORS = {"发现重复": "#4c78a8", "待审核": "#e45756", "已处理": "#54a24b"}


def _spec(title: str, values: list[dict[str, Any]], **body: Any) -> dict[str, Any]:
    return {"$schema": SCHEMA, "title": title, "data": {"values": values}, "config": CONFIG, **body}


def open_by_township(rows: list[dict[str, Any]], limit: int = 40) -> dict[str, Any]:
    """Open duplicates (review pairs) per township, largest first (townships with none are
    left out: the table lists them)."""
    values = sorted(({"乡镇": r["name"], "待审核": r["open"], "已处理": r["resolved"]}
                     for r in rows if r["open"]),
                    key=lambda v: (-v["待审核"], -v["已处理"], v["乡镇"]))[:limit]
    return _spec(f"各乡镇待审核重复档案（前 {len(values)} 个，按数量排序）", values,
                 width=460, height={"step": 18}, mark={"type": "bar", "color": COLORS["待审核"]},
                 encoding={
                     "y": {"field": "乡镇", "type": "nominal", "sort": "-x", "title": None},
                     "x": {"field": "待审核", "type": "quantitative", "title": "待审核（对）",
                           "axis": {"tickMinStep": 1, "format": "d"}},
                     "tooltip": [{"field": "乡镇"}, {"field": "待审核"}, {"field": "已处理"}]})


def burn_down(history: list[dict[str, Any]], deadline: str | None) -> dict[str, Any]:
    """Duplicates found and still open, night over night, with the deadline as a rule and
    the pace (dotted) that would bring the open pairs to zero by then."""
    values = [{"时间": h["at"], "指标": label, "数量": h[key]}
              for h in history for key, label in (("found", "发现重复"), ("open", "待审核"))]
    line = {"mark": {"type": "line", "point": {"size": 60}},
            "encoding": {"x": {"field": "时间", "type": "temporal", "title": "运行时间 (UTC)",
                               "axis": {"format": "%Y-%m-%d", "labelAngle": 0, "tickCount": 6}},
                         "y": {"field": "数量", "type": "quantitative", "title": "档案（对）数"},
                         "color": {"field": "指标", "type": "nominal", "title": None,
                                   "scale": {"domain": ["发现重复", "待审核"],
                                             "range": [COLORS["发现重复"], COLORS["待审核"]]}},
                         "tooltip": [{"field": "时间", "type": "temporal", "format": "%Y-%m-%d %H:%M"},
                                     {"field": "指标"}, {"field": "数量"}]}}
    layers: list[dict[str, Any]] = [line]
    if deadline and history:
        # The pace that reaches zero open duplicates on the deadline, from the first night.
        pace = [{"时间": history[0]["at"], "数量": history[0]["open"]}, {"时间": deadline, "数量": 0}]
        layers.append({"data": {"values": pace},
                       "mark": {"type": "line", "strokeDash": [2, 3], "color": COLORS["待审核"], "opacity": 0.6},
                       "encoding": {"x": {"field": "时间", "type": "temporal"},
                                    "y": {"field": "数量", "type": "quantitative"}}})
    if deadline:
        layers.append({"data": {"values": [{"时间": deadline, "label": f"清零期限 {deadline}"}]},
                       "mark": {"type": "rule", "color": "#333", "strokeDash": [6, 4]},
                       "encoding": {"x": {"field": "时间", "type": "temporal"}}})
        layers.append({"data": {"values": [{"时间": deadline, "label": f"清零期限 {deadline}"}]},
                       "mark": {"type": "text", "align": "right", "dx": -4, "dy": -6, "baseline": "top"},
                       "encoding": {"x": {"field": "时间", "type": "temporal"}, "y": {"value": 0},
                                    "text": {"field": "label"}}})
    return _spec(f"重复档案清零进度（{len(history)} 次运行）", values, width=560, height=240, layer=layers)


def burn_down_by_county(rows: list[dict[str, Any]], names: dict[str, str]) -> dict[str, Any]:
    """The burn-down per county, small multiples (from the state's area_history)."""
    values = [{"时间": r["at"], "区县": names.get(r["county"], r["county"]), "指标": label, "数量": r[key]}
              for r in rows for key, label in (("found", "发现重复"), ("open", "待审核"))]
    return _spec("各区县逐夜进度", values, columns=3,
                 facet={"field": "区县", "type": "nominal", "title": None,
                        "sort": [names.get(c, c) for c in sorted({r["county"] for r in rows})]},
                 spec={"width": 220, "height": 110, "mark": {"type": "line", "point": True},
                       "encoding": {
                           "x": {"field": "时间", "type": "temporal", "title": None,
                                 "axis": {"format": "%m-%d", "labelAngle": 0, "tickCount": 4}},
                           "y": {"field": "数量", "type": "quantitative", "title": None},
                           "color": {"field": "指标", "type": "nominal", "title": None,
                                     "scale": {"domain": ["发现重复", "待审核"],
                                               "range": [COLORS["发现重复"], COLORS["待审核"]]}}}})


def weight_distribution(weights: list[dict[str, Any]], thresholds: dict[str, float]) -> dict[str, Any]:
    """Match weights of this run's decided and review pairs, with the two thresholds."""
    action = {"merge": "合并", "migrate": "迁移", "review": "待审核"}
    values = [{"匹配权重": round(w["weight"], 2), "处理": action[w["action"]]} for w in weights]
    rules = [{"权重": round(thresholds["review_weight"], 2), "阈值": f"审核阈值 p={thresholds['review']}"},
             {"权重": round(thresholds["auto_weight"], 2), "阈值": f"自动阈值 p={thresholds['auto']}"}]
    return _spec("匹配权重分布（bits）与两个阈值", values, width=560, height=220, layer=[
        {"mark": "bar", "encoding": {
            "x": {"field": "匹配权重", "type": "quantitative", "bin": {"maxbins": 40}, "title": "匹配权重 (bits)"},
            "y": {"aggregate": "count", "type": "quantitative", "title": "对数"},
            "color": {"field": "处理", "type": "nominal", "title": None,
                      "scale": {"domain": ["合并", "迁移", "待审核"],
                                "range": ["#54a24b", "#72b7b2", "#e45756"]}}}},
        {"data": {"values": rules}, "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#333"},
         "encoding": {"x": {"field": "权重", "type": "quantitative"}}},
        {"data": {"values": rules}, "mark": {"type": "text", "angle": 0, "dx": 4, "align": "left", "baseline": "top"},
         "encoding": {"x": {"field": "权重", "type": "quantitative"}, "y": {"value": 2},
                      "text": {"field": "阈值"}}},
    ])


def model_weights(levels: list[dict[str, Any]]) -> dict[str, Any]:
    """The model's match weight per comparison level (Splink's match-weights chart)."""
    values = [{"比较": r["comparison"], "级别": r["level"], "权重": r["weight"], "序": r["order"],
               "方向": "支持同一人" if r["weight"] >= 0 else "支持不同人"} for r in levels]
    return _spec("模型各比较级别的匹配权重（bits）", values,
                 facet={"row": {"field": "比较", "type": "nominal", "title": None,
                                "sort": list(dict.fromkeys(v["比较"] for v in values)),
                                "header": {"labelAngle": 0, "labelAlign": "left", "labelFontSize": 12}}},
                 resolve={"scale": {"y": "independent"}},
                 spec={"width": 420, "height": {"step": 16}, "mark": "bar", "encoding": {
                     "y": {"field": "级别", "type": "nominal", "sort": {"field": "序"}, "title": None},
                     "x": {"field": "权重", "type": "quantitative", "title": "匹配权重 log2(m/u)"},
                     "color": {"field": "方向", "type": "nominal", "title": None,
                               "scale": {"domain": ["支持同一人", "支持不同人"], "range": ["#4c78a8", "#e45756"]}},
                     "tooltip": [{"field": "比较"}, {"field": "级别"}, {"field": "权重"}]}})


AGE_BANDS = ((7, "0–7 天"), (30, "8–30 天"), (90, "31–90 天"), (None, "90 天以上"))


def review_queue(queue: list[dict[str, Any]], county_names: dict[str, str]) -> dict[str, Any]:
    """Open review pairs by how long they have waited, per county."""
    def band(days: int) -> str:
        return next(label for limit, label in AGE_BANDS if limit is None or days <= limit)

    values = [{"等待": band(q["age_days"]), "区县": county_names.get(q["county"], q["county"] or "未知")}
              for q in queue]
    return _spec(f"审核队列：{len(queue)} 对待审核，按等待时间", values, width=460, height=180,
                 mark="bar", encoding={
                     "x": {"field": "等待", "type": "ordinal", "title": "已等待",
                           "scale": {"domain": [label for _, label in AGE_BANDS]}, "axis": {"labelAngle": 0}},
                     "y": {"aggregate": "count", "type": "quantitative", "title": "待审核（对）",
                           "axis": {"tickMinStep": 1, "format": "d"}},
                     "color": {"field": "区县", "type": "nominal"}})


def waterfall(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The evidence of one pair: each field's bits added to a running total (linkage explain)."""
    values = []
    for i, s in enumerate(steps):
        values.append({"序": i, "项": s["label"], "起": s["start"], "止": s["end"], "bits": s["bits"],
                       "方向": "支持同一人" if s["bits"] >= 0 else "支持不同人"})
    return _spec("证据瀑布图（bits，累计）", values, width=480, height={"step": 24}, layer=[
        {"mark": "bar", "encoding": {
            "y": {"field": "项", "type": "nominal", "sort": {"field": "序"}, "title": None},
            "x": {"field": "起", "type": "quantitative", "title": "累计匹配权重 (bits)"},
            "x2": {"field": "止"},
            "color": {"field": "方向", "type": "nominal", "title": None,
                      "scale": {"domain": ["支持同一人", "支持不同人"], "range": ["#4c78a8", "#e45756"]}}}},
        {"mark": {"type": "text", "align": "left", "dx": 4},
         "encoding": {"y": {"field": "项", "type": "nominal", "sort": {"field": "序"}},
                      "x": {"field": "止", "type": "quantitative"},
                      "text": {"field": "bits", "format": "+.2f"}}},
    ])


def render(spec: dict[str, Any]) -> str:
    """The chart as an SVG element (vl-convert: Vega in Rust/Deno, no browser or network)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec)
    return svg[svg.index("<svg"):]
