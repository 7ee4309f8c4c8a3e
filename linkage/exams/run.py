"""``linkage exams``: read -> residents -> clones, evidence, copied, gaps -> flags -> summary -> write."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from linkage.config import load_config
from linkage.divisions import DIVISION_NAMES
from linkage.exams.clones import CLONE_EXAMS, find_clones
from linkage.exams.copied import find_copied
from linkage.exams.evidence import score_groups
from linkage.exams.flags import build_flags
from linkage.exams.gaps import find_gaps
from linkage.exams.read import EXAMS, read_exams
from linkage.exams.residents import resolve_residents
from linkage.exams.settings import exam_settings
from linkage.exams.summary import summarise
from linkage.exams.write import write_outputs

log = logging.getLogger("linkage.exams")


@dataclass(frozen=True)
class ExamRunSummary:
    """What one run found (counts only: no values, no identifiers)."""

    exams: int
    rows_rejected: int
    values_rejected: int
    clone_groups: int
    clone_exams: int
    clone_exams_unlikely: int
    copied_from_last_year: int
    lr_gaps: int
    seconds: float
    summary: dict[str, Any]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def run_exams(input_path: Path | str, out_dir: Path | str, archives_run: Path | str | None = None,
              config_path: Path | str | None = None,
              names: Mapping[str, str] | None = None,
              con: duckdb.DuckDBPyConnection | None = None) -> ExamRunSummary:
    """Find cloned, copied and inconsistent exams in ``input_path``; write them to ``out_dir``.

    ``names`` maps region codes (6, 9 or 12 digits) to display names for the summary
    (default: the shipped division table, linkage.divisions).
    """
    names = DIVISION_NAMES if names is None else names
    start = time.perf_counter()
    settings = exam_settings(load_config(config_path))
    con = con or duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    stage = time.perf_counter()

    def done(what: str) -> None:
        nonlocal stage
        log.info("%s: %.2f s", what, time.perf_counter() - stage)
        stage = time.perf_counter()

    read = read_exams(con, input_path, settings)
    done("read")
    resolve_residents(con, EXAMS, Path(archives_run) if archives_run else None)
    groups = find_clones(con, EXAMS, settings)
    done("clones")
    score_groups(con, settings)
    copied = find_copied(con, EXAMS, settings)
    gaps = find_gaps(con, EXAMS, settings)
    build_flags(con, settings.max_listed_exam_ids)
    done("evidence, copied, gaps")
    summary = summarise(con, EXAMS, file_name=Path(input_path).name, sha256=file_sha256(Path(input_path)),
                        six=settings.six, names=names,
                        extra_totals={"rows_read": read.rows_read, "rows_rejected": read.rows_rejected,
                                      "values_rejected": read.values_rejected})
    write_outputs(con, Path(out_dir), summary)
    done("summary, write")
    con.execute(f"DROP TABLE IF EXISTS {CLONE_EXAMS}")
    totals = summary["totals"]
    return ExamRunSummary(
        exams=read.exams, rows_rejected=read.rows_rejected, values_rejected=read.values_rejected,
        clone_groups=groups, clone_exams=totals["clone_exams"],
        clone_exams_unlikely=totals["clone_exams_unlikely"], copied_from_last_year=copied,
        lr_gaps=gaps, seconds=round(time.perf_counter() - start, 3), summary=summary,
    )
