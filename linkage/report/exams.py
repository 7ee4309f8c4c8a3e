"""The 体检数据雷同 (copied elderly-exam data) section, from ``exam_summary.json``.

``linkage exams`` (another command) writes that file into a run folder; its layout:
``{"as_of", "input", "six_indicators", "totals", "by_county": {CODE6: {"name", "exams",
"clone_groups", "clone_exams", "residents_in_clones", "copied_from_last_year",
"lr_gap_over_10", "lr_gap_over_20", "implausible", "clone_share", "lr_gap_share"}},
"by_township": {...}, "by_village": {...}, "by_institution": {...}}``.  This module only
reads and checks it; names missing from the file come from linkage.divisions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from linkage.divisions import division_name
from linkage.errors import InputError

EXAM_FILE = "exam_summary.json"
EXAM_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("code", "代码", "text"),
    ("name", "名称", "text"),
    ("exams", "体检人次", "int"),
    ("clone_groups", "雷同组数", "int"),
    ("clone_exams", "雷同体检数", "int"),
    ("residents_in_clones", "涉及居民", "int"),
    ("clone_share", "雷同占比", "rate"),
    ("copied_from_last_year", "照抄上年", "int"),
    ("lr_gap_over_10", "左右血压差>10", "int"),
    ("lr_gap_over_20", "左右血压差>20", "int"),
    ("lr_gap_share", "血压差占比", "rate"),
    ("implausible", "不合理数值", "int"),
)
LEVELS = (("by_county", "区县"), ("by_township", "乡镇"), ("by_village", "村（居）"),
          ("by_institution", "机构"))


def find_exam_summary(run_dir: Path, exams: Path | None) -> Path | None:
    """``--exams DIR`` (or a file), else the run folder's own exam_summary.json, if any."""
    if exams is not None:
        path = exams / EXAM_FILE if exams.is_dir() else exams
        if not path.is_file():
            raise InputError(f"{path}: no {EXAM_FILE} there (run `linkage exams` first)")
        return path
    own = run_dir / EXAM_FILE
    return own if own.is_file() else None


def exam_tables(data: dict[str, Any], path: Path) -> dict[str, list[dict[str, Any]]]:
    """Rows per level (区县, 乡镇, 村, 机构), most copied first; bad entries name the key."""
    if not isinstance(data, dict):
        raise InputError(f"{path}: not an exam summary (a JSON object expected)")
    tables: dict[str, list[dict[str, Any]]] = {}
    for key, label in LEVELS:
        section = data.get(key)
        section = {} if section is None else section
        if not isinstance(section, dict):
            raise InputError(f"{path}: field {key} must be an object of code -> counts")
        rows = []
        for code, entry in section.items():
            if not isinstance(entry, dict):
                raise InputError(f"{path}: {key}.{code} must be an object")
            row = {"code": code, "name": entry.get("name") or division_name(code) or code}
            for column, _, kind in EXAM_COLUMNS[2:]:
                value = entry.get(column)
                if value is not None and not isinstance(value, (int, float)):
                    raise InputError(f"{path}: {key}.{code}.{column} must be a number")
                row[column] = value
            rows.append(row)
        rows.sort(key=lambda r: (-(r.get("clone_exams") or 0), r["code"]))
        if rows:
            tables[label] = rows
    return tables
