"""Where the benchmark keeps things in its work folder, shared by runner and worker.

    WORK/persons<N>_seed<S>/                 one population (reused while the generator is unchanged)
        archives.csv truth.csv hard_negatives.csv population.json
        runs/<system>/status.json            facts so far (times, pair counts, memory)
        runs/<system>/result.json            final facts of the run
        runs/<system>/clusters.parquet       baselines: archive_id, cluster_id
        runs/<system>/engine/                the engine's own outputs (clusters.csv, decisions.csv, …)
        runs/<system>/worker.log
"""

from __future__ import annotations

import hashlib
from pathlib import Path

STATUS_FILE = "status.json"
RESULT_FILE = "result.json"
CLUSTERS_FILE = "clusters.parquet"
ENGINE_DIR = "engine"
POPULATION_MARKER = "population.json"
POPULATION_FILES = ("archives.csv", "truth.csv", "hard_negatives.csv")


def population_dir(work_dir: Path, persons: int, seed: int) -> Path:
    return Path(work_dir) / f"persons{persons}_seed{seed}"


def generator_fingerprint() -> str:
    """Hash of the generator's code and data: a population is reused only if it matches,
    so a changed generator never leaves a stale population in the benchmark."""
    package = Path(__file__).resolve().parent.parent
    code = [p for p in (package / "synth").rglob("*.py") if "__pycache__" not in p.parts]
    tables = list((package / "data").glob("synth_*"))  # the generator's own tables only
    digest = hashlib.sha256()
    for path in sorted(code + tables):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
