"""The first steps every engine run takes: read the export, standardise it, build the model
input.  Shared by the stateless run, training and ``linkage explain``.

    read (linkage.ingest) → ``features`` (linkage.standardise.table)
    → ``model_input`` (linkage.model.features)
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from linkage.config import Config
from linkage.contracts import FEATURES_TABLE
from linkage.ingest import RAW_TABLE, IngestResult, read_input
from linkage.model.features import MODEL_INPUT_TABLE, build_model_input
from linkage.progress import StageTimer
from linkage.standardise.table import standardise_table


def prepare_model_input(
    con: duckdb.DuckDBPyConnection, input_path: Path, config: Config, timer: StageTimer
) -> IngestResult:
    """read → standardise → model input (the table named ``MODEL_INPUT_TABLE``)."""
    with timer.stage("read"):
        ingested = read_input(con, input_path, config)
    with timer.stage("standardise"):
        standardise_table(con, RAW_TABLE, FEATURES_TABLE)
        build_model_input(con, FEATURES_TABLE, MODEL_INPUT_TABLE)
    return ingested
