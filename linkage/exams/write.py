"""Write exam_flags.csv, exam_rejects.csv and exam_summary.json together, atomically and
owner-only (linkage.outputs: staged, then moved; the summary moves last)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from linkage.exams.flags import flags_query
from linkage.exams.read import EXAM_REJECTS
from linkage.outputs import StagedOutputs, copy_query_csv

OUTPUT_FILES = ("exam_flags.csv", "exam_rejects.csv", "exam_summary.json")


def write_outputs(con: duckdb.DuckDBPyConnection, out_dir: Path, summary: dict[str, Any]) -> None:
    staged = StagedOutputs(out_dir)
    for name, query in (
        ("exam_flags.csv", flags_query()),
        ("exam_rejects.csv", f"SELECT row, exam_id, field, reason FROM {EXAM_REJECTS} "
                             "ORDER BY row, field, reason"),
    ):
        part = staged.staging / f".{name}.part"
        copy_query_csv(con, query, part)
        staged.add_from_file(name, part)
    text = json.dumps(summary, ensure_ascii=False, indent=2) + "\n"
    staged.add("exam_summary.json", text.encode("utf-8"))
    staged.publish()
