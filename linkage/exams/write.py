"""Write exam_flags.csv, exam_rejects.csv and exam_summary.json, each atomically and
owner-only, the summary last (its presence says the other two are complete).

Not a published generation (linkage.outputs.StagedOutputs): exam results often go into an
archive run's folder, beside its clusters.csv, where `linkage report` looks for them, and a
generation of their own would replace that run's published set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from linkage.exams.flags import flags_query
from linkage.exams.read import EXAM_REJECTS
from linkage.outputs import OutputLock, copy_query_csv, write_bytes_atomic

OUTPUT_FILES = ("exam_flags.csv", "exam_rejects.csv", "exam_summary.json")


def write_outputs(con: duckdb.DuckDBPyConnection, out_dir: Path, summary: dict[str, Any]) -> None:
    out = Path(out_dir)
    with OutputLock(out):  # also creates the folder owner-only, or says why it cannot
        for name, query in (
            ("exam_flags.csv", flags_query()),
            ("exam_rejects.csv", f"SELECT row, exam_id, field, reason FROM {EXAM_REJECTS} "
                                 "ORDER BY row, field, reason"),
        ):
            copy_query_csv(con, query, out / name)
        text = json.dumps(summary, ensure_ascii=False, indent=2) + "\n"
        write_bytes_atomic(out / "exam_summary.json", text.encode("utf-8"))
