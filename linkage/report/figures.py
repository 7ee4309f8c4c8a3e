"""The figures of the administrator's report, read from a run's output folder (and state).

Everything here comes from the run's own files — summary.json (the per-area counts the
engine computed, see linkage.summary for how an area is counted), decisions.csv,
review.db and the model — plus, for history, the nightly state's ``runs`` and
``area_history`` tables.  Names come from linkage.divisions.  No PII is read: only
counts, codes, scores and dates.
"""

from __future__ import annotations

import csv
import json
import math
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from linkage.config import load_config
from linkage.divisions import division_name
from linkage.errors import InputError, StateError
from linkage.state.db import damage_reported, open_error
from linkage.model.settings import load_model_dict
from linkage.outputs import run_files
from linkage.shipped import default_model_path

# Columns of the per-area table, in order: key, Chinese header, kind (int | rate | text).
AREA_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("code", "区划代码", "text"),
    ("name", "名称", "text"),
    ("archives", "档案数", "int"),
    ("persons", "居民数(人)", "int"),
    ("found", "发现重复档案", "int"),
    ("resolved", "已处理", "int"),
    ("merges", "其中合并", "int"),
    ("migrations_out", "迁出", "int"),
    ("migrations_in", "迁入", "int"),
    ("open", "待审核(对)", "int"),
    ("duplicate_rate", "重复率", "rate"),
    ("blank_ids", "身份证号空缺", "int"),
    ("blank_id_rate", "空缺率", "rate"),
    ("abnormal_ids", "身份证号异常", "int"),
    ("unknown_area_ids", "其中地区码不存在", "int"),
    ("abnormal_id_rate", "异常率", "rate"),
    ("placeholder_birth_dates", "出生日期占位", "int"),
    ("unreadable_birth_dates", "出生日期无法识别", "int"),
)
POPULATION_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("population", "常住人口", "int"),
    ("effective_rate", "有效建档率", "rate"),
    ("meets_target", "达标", "text"),
)
COMPARISON_NAMES = {"name": "姓名", "id": "身份证号", "dob": "出生日期", "sex": "性别",
                    "location": "住址·电话·地区"}


@dataclass
class AreaRow:
    """One county or township: its counts and the rates derived from them."""

    code: str
    name: str
    values: dict[str, Any]


@dataclass
class Figures:
    """Everything the HTML report and the spreadsheet show."""

    run_dir: Path
    summary: dict[str, Any]
    counties: list[AreaRow]
    townships: list[AreaRow]
    totals: dict[str, Any]
    weights: list[dict[str, Any]]  # decisions' match weights (review and automatic)
    thresholds: dict[str, float]
    levels: list[dict[str, Any]]  # the model's weight per comparison level
    queue: list[dict[str, Any]]  # open review pairs: age in days, county
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per night
    county_history: list[dict[str, Any]] = field(default_factory=list)  # per night and county
    target: float = 0.9
    has_population: bool = False
    deadline: date | None = None


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def area_row(code: str, counts: dict[str, int], population: dict[str, int] | None,
             target: float) -> AreaRow:
    """Derived figures of one area: found = resolved + open, rates over archives."""
    v: dict[str, Any] = dict(counts)
    v.setdefault("unknown_area_ids", 0)
    v.setdefault("placeholder_birth_dates", 0)
    v.setdefault("unreadable_birth_dates", 0)  # runs before the count existed lack it
    v.setdefault("persons", counts.get("archives", 0) - counts.get("duplicate_archives", 0))
    v["resolved"] = counts["duplicate_archives"]
    v["open"] = counts["review_pairs"]
    v["found"] = v["resolved"] + v["open"]
    v["abnormal_ids"] = counts["invalid_ids"] + v["unknown_area_ids"]
    v["duplicate_rate"] = _rate(v["found"], counts["archives"])
    v["blank_id_rate"] = _rate(counts["blank_ids"], counts["archives"])
    v["abnormal_id_rate"] = _rate(v["abnormal_ids"], counts["archives"])
    if population is not None:
        pop = population.get(code)
        v["population"] = pop
        v["effective_rate"] = _rate(v["persons"], pop) if pop else None
        rate = v["effective_rate"]
        v["meets_target"] = "" if rate is None else ("是" if rate >= target else "否")
    name = division_name(code)
    v["code"], v["name"] = code, name or f"(未知区划 {code})"
    return AreaRow(code, v["name"], v)


def _totals(rows: list[AreaRow], summary: dict[str, Any], population: dict[str, int] | None,
            target: float) -> dict[str, Any]:
    keys = ("archives", "persons", "duplicate_archives", "merges", "migrations_in", "migrations_out",
            "blank_ids", "invalid_ids", "unknown_area_ids", "placeholder_birth_dates",
            "unreadable_birth_dates")
    counts = {k: sum(int(r.values.get(k) or 0) for r in rows) for k in keys}
    # A cross-county review pair is counted in both counties; the total counts it once.
    counts["review_pairs"] = int(summary.get("review_pairs", 0))
    pop = None
    if population is not None:
        pop = {"total": sum(population.get(r.code, 0) or 0 for r in rows)}
    row = area_row("total", counts, pop, target)
    row.values["name"], row.values["code"] = "合计", ""
    return row.values


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: not found — is this a run's output folder?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({type(exc).__name__})") from None


def _decision_weights(run_dir: Path) -> list[dict[str, Any]]:
    """Match weights of the decisions that hold: decisions.csv of a stateless run; for a
    nightly run (which lists only tonight's emissions there) decision_log.csv less the rows
    a later correction superseded."""
    path = run_files(run_dir) / "decisions.csv"
    if not path.is_file():
        raise InputError(f"{path}: not found — is this a run's output folder?")
    log = run_files(run_dir) / "decision_log.csv"
    with (log if log.is_file() else path).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    superseded = {r["supersedes"] for r in rows if r.get("supersedes")}
    out = []
    for row in rows:
        if row.get("decision_id") in superseded:
            continue
        if row.get("match_weight") and row.get("action") in ("merge", "migrate", "review"):
            out.append({"action": row["action"], "weight": float(row["match_weight"]),
                        "probability": float(row["match_probability"] or "nan")})
    return out


def _thresholds(summary: dict[str, Any]) -> dict[str, float]:
    """The review and automatic thresholds of the run's config, as probabilities and weights."""
    path = (summary.get("config_file") or {}).get("path") or None
    try:
        th = load_config(path).thresholds
    except Exception:  # noqa: BLE001 - a moved config: fall back to the default settings
        th = load_config(None).thresholds
    out = {}
    for key, p in (("review", th.review_match_probability), ("auto", th.auto_match_probability)):
        out[key] = p
        out[f"{key}_weight"] = math.log2(p / (1 - p))
    return out


def model_levels(model: dict[str, Any]) -> list[dict[str, Any]]:
    """Every comparison level's match weight log2(m/u) with Chinese labels (Splink's
    match-weights chart); null levels carry no weight and are left out."""
    rows = []
    for comp in model.get("comparisons", []):
        name = comp["output_column_name"]
        for order, lvl in enumerate(comp["comparison_levels"]):
            m, u = lvl.get("m_probability"), lvl.get("u_probability")
            if lvl.get("is_null_level") or not m or not u:
                continue
            rows.append({"comparison": COMPARISON_NAMES.get(name, name), "level": lvl.get("label_for_charts", ""),
                         "weight": round(math.log2(m / u), 3), "order": order})
    return rows


def _model(summary: dict[str, Any]) -> dict[str, Any]:
    path = (summary.get("model_file") or {}).get("path") or summary.get("model") or default_model_path()
    try:
        return load_model_dict(path)
    except Exception:  # noqa: BLE001 - the report still shows everything else
        return {}


def _queue(run_dir: Path, as_of: datetime) -> list[dict[str, Any]]:
    """Open, undecided review pairs with their age in days on the report's as-of date."""
    db = run_dir / "review.db"
    if not db.is_file():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("""
            SELECT q.first_queued, q.county_l FROM queue q
            LEFT JOIN current c USING (archive_id_l, archive_id_r)
            WHERE q.status = 'open' AND c.verdict IS NULL
        """).fetchall()
    except sqlite3.Error as exc:
        raise InputError(f"{db}: cannot read the review queue ({type(exc).__name__})") from None
    finally:
        con.close()
    out = []
    for first, county in rows:
        queued = datetime.fromisoformat(first)
        if queued.tzinfo is None:
            queued = queued.replace(tzinfo=timezone.utc)
        out.append({"age_days": max(0, (as_of - queued).days), "county": county or ""})
    return out


def _open_state(state_path: Path) -> duckdb.DuckDBPyConnection:
    """The state, read-only: a clear error if a run holds it or the file is damaged."""
    try:
        return duckdb.connect(str(state_path), read_only=True)
    except duckdb.Error as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise StateError(f"{state_path}: cannot open the state read-only — is a run using it?") from None
        raise open_error(Path(state_path), exc) from None


def history(state_path: Path) -> list[dict[str, Any]]:
    """One row per committed night: when, duplicates found (resolved + open) and open."""
    if not Path(state_path).is_file():
        raise StateError(f"no state at {state_path}")
    con = _open_state(state_path)
    try:
        with damage_reported(Path(state_path)):
            rows = con.execute(
                "SELECT run_id, strftime(timezone('UTC', finished_at), '%Y-%m-%dT%H:%M:%S+00:00'), summary "
                "FROM runs ORDER BY run_id").fetchall()
    finally:
        con.close()
    out = []
    for run_id, finished, text in rows:
        s = json.loads(text or "{}")
        resolved = int(s.get("merges", 0)) + int(s.get("migrations", 0))
        open_ = int(s.get("review_pairs", 0))
        out.append({"run_id": int(run_id), "at": finished,
                    "found": resolved + open_, "open": open_, "resolved": resolved,
                    "archives": int(s.get("archives", 0))})
    return out


def county_history(state_path: Path) -> list[dict[str, Any]]:
    """Per county and night: duplicates found (resolved + open) and open, from the state's
    ``area_history`` (nights before that table existed are simply absent)."""
    con = _open_state(state_path)
    try:
        with damage_reported(Path(state_path)):
            rows = con.execute("""
                SELECT h.run_id, strftime(timezone('UTC', r.finished_at), '%Y-%m-%dT%H:%M:%S+00:00'),
                       h.area, h.duplicate_archives + h.review_pairs, h.review_pairs
                FROM area_history h JOIN runs r USING (run_id)
                WHERE h.level = 'county' ORDER BY h.run_id, h.area
            """).fetchall()
    except duckdb.CatalogException:
        rows = []
    finally:
        con.close()
    return [{"run_id": r[0], "at": r[1], "county": r[2], "found": int(r[3]), "open": int(r[4])}
            for r in rows]


def read_population(path: Path) -> dict[str, int]:
    """常住人口 by county or township: a CSV (UTF-8 or GB18030) with a code column
    (区划代码 / code) and a population column (常住人口 / population)."""
    raw = Path(path).read_bytes() if Path(path).is_file() else None
    if raw is None:
        raise InputError(f"{path}: population file not found")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise InputError(f"{path}: neither UTF-8 nor GB18030 text") from None
    reader = csv.reader(text.splitlines())
    header = [h.strip() for h in next(reader, [])]
    code_col = next((i for i, h in enumerate(header) if h in ("区划代码", "code", "代码")), None)
    pop_col = next((i for i, h in enumerate(header) if h in ("常住人口", "population", "人口")), None)
    if code_col is None or pop_col is None:
        raise InputError(f"{path}: row 1 needs columns 区划代码 (or code) and 常住人口 (or population)")
    out: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(code_col, pop_col):
            raise InputError(f"{path}: row {number}: expected {len(header)} fields, found {len(row)}")
        code, value = row[code_col].strip(), row[pop_col].strip().replace(",", "")
        if len(code) not in (6, 9) or not code.isdigit():
            raise InputError(f"{path}: row {number}, field {header[code_col]}: "
                             "a 6-digit county or 9-digit township code expected")
        if not value.isdigit():
            raise InputError(f"{path}: row {number}, field {header[pop_col]}: a whole number expected")
        out[code] = int(value)
    return out


def collect(run_dir: Path, *, state_path: Path | None = None, population: dict[str, int] | None = None,
            target: float = 0.9, deadline: date | None = None) -> Figures:
    """All figures of one run folder (plus the state's history when given)."""
    run_dir = Path(run_dir)
    summary = read_json(run_files(run_dir) / "summary.json")
    as_of = datetime.fromisoformat(summary["run_at"]) if summary.get("run_at") else datetime.now(timezone.utc)
    counties = [area_row(c, v, population, target) for c, v in sorted(summary.get("by_county", {}).items())]
    townships = [area_row(c, v, population, target) for c, v in sorted(summary.get("by_township", {}).items())]
    return Figures(
        run_dir=run_dir, summary=summary, counties=counties, townships=townships,
        totals=_totals(counties, summary, population, target),
        weights=_decision_weights(run_dir), thresholds=_thresholds(summary),
        levels=model_levels(_model(summary)), queue=_queue(run_dir, as_of),
        history=history(state_path) if state_path else [],
        county_history=county_history(state_path) if state_path else [], target=target,
        has_population=population is not None, deadline=deadline,
    )
