"""Outputs of a stateful run: written before the state commits, published after.

The state commit is the moment a run happens.  Publishing outputs before it would hand the
platform decisions the state does not know it emitted; publishing after it, a crash in
between would lose them.  So the run writes its complete outputs into a private folder
``DIR/.pending-run-NNNNNN`` first, commits the state, then copies them into DIR with
linkage.outputs (staged, all together, summary.json last) and removes the folder.

The next run (or ``linkage unmerge``) resolves whatever a crash left behind: a pending
folder of a committed run is published, one of an uncommitted run is discarded.
:func:`stage_outputs` writes the files; the rest of this module moves them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from linkage.connection import registered
from linkage.contracts import DECISION_COLUMNS, DECISION_CSV_COLUMNS, LinkResult
from linkage.outputs import (
    StagedOutputs, copy_query_csv, csv_bytes, current_manifest, recover_outputs, write_bytes_atomic,
)
from linkage.progress import StageTimer
from linkage.state.db import DECISION_LOG_COLUMNS, decision_rows_table
from linkage.state.decision_log import RETIRE_ACTIONS
from linkage.state.persons import NIGHT_PERSONS
from linkage.summary import write_outputs

PENDING_PREFIX = ".pending-run-"


def pending_dir(out_dir: Path, run_id: int) -> Path:
    return Path(out_dir) / f"{PENDING_PREFIX}{run_id:06d}"


def prepare_pending(out_dir: Path, run_id: int) -> Path:
    """An empty, owner-only folder for this run's outputs."""
    folder = pending_dir(out_dir, run_id)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, mode=0o700)
    return folder


def publish_pending(out_dir: Path, folder: Path,
                    on_publish: Callable[[int], None] | None = None,
                    queue_generation: Callable[[], int | None] | None = None) -> int:
    """Copy the pending files into ``out_dir`` as one new generation (linkage.outputs), then
    drop the folder; returns the generation.  ``on_publish`` commits the review queue just
    before the set becomes visible.

    Copies, not moves: if this dies half-way, the pending folder is still whole and the
    next run publishes it again.
    """
    staged = StagedOutputs(Path(out_dir), queue_generation)
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            staged.add(path.name, path.read_bytes())
    generation = staged.publish(on_publish, source=folder.name)
    shutil.rmtree(folder)
    return generation


def recover_pending(out_dir: Path, committed: Callable[[int], bool],
                    hand_over: bool = False,
                    queue_generation: Callable[[], int | None] | None = None) -> list[int]:
    """Publish pending outputs of committed runs, discard the rest; returns runs published.

    ``hand_over``: the caller (a nightly run) repeats those runs' decisions in its own
    decisions.csv, so they are published here with an empty one: the platform never reads
    the same instruction from two files."""
    published: list[int] = []
    out = Path(out_dir)
    if not out.is_dir():
        return published
    recover_outputs(out, queue_generation)
    visible = (current_manifest(out) or {}).get("source")
    for folder in sorted(out.glob(f"{PENDING_PREFIX}*")):
        if folder.name == visible:
            shutil.rmtree(folder)  # killed after its set became visible: published already
            continue
        try:
            run_id = int(folder.name[len(PENDING_PREFIX):])
        except ValueError:
            continue
        if committed(run_id):
            if hand_over and (folder / "decisions.csv").is_file():
                write_bytes_atomic(folder / "decisions.csv", csv_bytes(DECISION_CSV_COLUMNS, []))
            publish_pending(out, folder, queue_generation=queue_generation)
            published.append(run_id)
        else:
            shutil.rmtree(folder)
    return published


def stage_outputs(
    con: duckdb.DuckDBPyConnection,
    pending: Path,
    decisions: list[dict[str, Any]],
    emitted: list[dict[str, Any]],
    summary: Any,
    timer: StageTimer,
    handed_over: Sequence[int] = (),
    *,
    archives: str,
    rejects: str,
) -> None:
    """Write every output file of the night, complete, into ``pending``.

    ``archives`` and ``rejects`` name tonight's model input and refused rows, as the steps
    that made them returned them (this module owns neither).

    summary.json and its per-county counts describe every decision that holds tonight (as
    in a stateless run); decisions.csv what this night emits, after the emissions of the
    ``handed_over`` runs (committed, but their outputs were published only just now, so the
    platform may never have read them); decision_log.csv every
    decision ever emitted; clusters.csv every archive's person, written by DuckDB straight
    from the person index (a million rows never pass through Python).
    """
    # write_outputs reads the persons of archives with merge/migrate decisions (their
    # migrations per county); clusters.csv comes from the full person index instead.
    targets = sorted({d["person_id"] for d in decisions if d["action"] in RETIRE_ACTIONS})
    with registered(con, "_targets", pa.table({"person_id": pa.array(targets, pa.string())})):
        movers = dict(con.execute(
            f"SELECT archive_id, person_id FROM {NIGHT_PERSONS} SEMI JOIN _targets USING (person_id)"
        ).fetchall())
    write_outputs(con, pending, LinkResult(movers, decisions, summary), archives,
                  rejects, timer, write_clusters=False, private=True)
    copy_query_csv(con, f"SELECT archive_id, person_id FROM {NIGHT_PERSONS} ORDER BY archive_id",
                   pending / "clusters.csv")
    earlier = con.execute(
        f"SELECT {', '.join(DECISION_COLUMNS)} FROM st.decision_log "
        "WHERE list_contains(?, run_id) ORDER BY run_id, seq", [list(handed_over)]).fetchall()
    write_bytes_atomic(pending / "decisions.csv", csv_bytes(DECISION_CSV_COLUMNS, [
        *((*row, "") for row in earlier), *([d.get(c) for c in DECISION_CSV_COLUMNS] for d in emitted)]))
    decision_rows_table(con, emitted, "_emitted_tonight")
    columns = ", ".join(DECISION_LOG_COLUMNS)
    copy_query_csv(con, f"SELECT {columns} FROM st.decision_log UNION ALL "
                   f"SELECT {columns} FROM _emitted_tonight ORDER BY run_id, seq",
                   pending / "decision_log.csv")
    con.execute("DROP TABLE _emitted_tonight")
