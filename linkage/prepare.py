"""The first steps every engine run takes: read the export, standardise it, build the model
input.  Shared by the stateless run, training and ``linkage explain``.

    read (linkage.ingest) → ``features`` (linkage.standardise.table)
    → ``model_input`` (linkage.model.features)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from linkage.config import Config
from linkage.contracts import FEATURES_TABLE, NamedTable
from linkage.ingest import IngestResult, read_input
from linkage.model.features import MODEL_INPUT_TABLE, build_model_input
from linkage.model.shared_phones import SharedPhones, warn_shared_phones
from linkage.progress import StageTimer
from linkage.standardise.table import standardise_table


@dataclass(frozen=True)
class PreparedInput:
    """What the first steps made: the read counts and the tables the later steps read."""

    ingested: IngestResult  # counts, encoding, and the raw and rejects tables
    features: NamedTable
    model_input: NamedTable
    shared_phones: SharedPhones  # numbers blanked in the model input (not one household's)


def prepare_model_input(
    con: duckdb.DuckDBPyConnection, input_path: Path, config: Config, timer: StageTimer
) -> PreparedInput:
    """read → standardise → model input."""
    with timer.stage("read"):
        ingested = read_input(con, input_path, config)
    with timer.stage("standardise"):
        features = standardise_table(con, ingested.raw.name, FEATURES_TABLE)
        shared = ingested.shared_phones
        model_input = build_model_input(con, features.name, MODEL_INPUT_TABLE, shared=shared)
    warn_shared_phones(shared)
    return PreparedInput(ingested, features, model_input, shared)
