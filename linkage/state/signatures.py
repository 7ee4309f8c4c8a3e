"""When what the state holds is no longer valid, and a night must rebuild everything.

* Standardised features go stale when the standardisation code or the feature columns
  change: the signature hashes the column contracts and the source of the modules that
  compute them.
* Kept pairs, persons and standing decisions go stale when the model, the scoring settings
  (thresholds, blocking rules), Splink, or the code that scores, clusters and decides
  changes: after an upgrade, one full night re-decides everyone by the new rules instead of
  leaving the residents nobody touched tonight under the old ones.

A run compares both with the ones stored by the last run; a difference forces a full
rebuild, which is logged and recorded with its reason in the ``runs`` table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import splink

import linkage
from linkage.config import Config
from linkage.model.features import DERIVED_COLUMNS
from linkage.schema import FEATURE_COLUMNS

_PACKAGE = Path(linkage.__file__).resolve().parent
_FEATURE_SOURCES = ("standardise", "model/features.py", "ingest.py", "schema.py")
_DECISION_SOURCES = ("model/comparisons.py", "model/settings.py", "model/score.py", "cluster.py",
                     "decide.py", "human.py", "pipeline.py", "state/scoring.py",
                     "state/evidence.py", "state/affected.py", "state/changes.py",
                     "state/nightly.py", "state/decision_log.py", "state/persons.py",
                     "state/person_ids.py", "state/unmerge.py", "blocking_guard.py",
                     "review_cap.py", "state/standing_scores.py")


def _sources(names: tuple[str, ...]) -> list[Path]:
    paths: list[Path] = []
    for name in names:
        path = _PACKAGE / name
        paths.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return paths


@lru_cache(maxsize=1)
def features_signature() -> str:
    """Computed once per process: the code a process runs does not change under it."""
    digest = hashlib.sha256()
    digest.update(linkage.__version__.encode())
    digest.update(json.dumps([FEATURE_COLUMNS, DERIVED_COLUMNS], sort_keys=True).encode())
    _hash_sources(digest, _FEATURE_SOURCES)
    return digest.hexdigest()[:32]


def _hash_sources(digest: Any, names: tuple[str, ...]) -> None:
    for path in _sources(names):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())


@lru_cache(maxsize=1)
def _decision_code_signature() -> str:
    digest = hashlib.sha256()
    digest.update(splink.__version__.encode())
    _hash_sources(digest, _DECISION_SOURCES)
    return digest.hexdigest()


def model_signature(model: dict[str, Any], config: Config) -> str:
    digest = hashlib.sha256()
    digest.update(_decision_code_signature().encode())
    digest.update(json.dumps(model, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    digest.update(json.dumps(asdict(config.thresholds), sort_keys=True).encode())
    digest.update(json.dumps([asdict(r) for r in config.blocking_rules]).encode("utf-8"))
    digest.update(json.dumps(asdict(config.limits), sort_keys=True).encode())
    return digest.hexdigest()[:32]
