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
from typing import Any

import splink

import linkage
from linkage.code_signature import code_signature
from linkage.config import Config
from linkage.model.features import DERIVED_COLUMNS
from linkage.schema import FEATURE_COLUMNS

# Entry points whose code (and all of ours they import: linkage.code_signature) a stored
# result depends on.  Features: what reads and standardises an archive.  Decisions: what
# scores, clusters and decides, and the nightly run that applies them.
FEATURE_ROOTS = ("linkage.ingest", "linkage.standardise.table", "linkage.model.features",
                 "linkage.schema")
DECISION_ROOTS = ("linkage.model.score", "linkage.model.settings", "linkage.cluster",
                  "linkage.decide", "linkage.human", "linkage.resolve", "linkage.state.nightly")


@lru_cache(maxsize=1)
def features_signature() -> str:
    """Computed once per process: the code a process runs does not change under it."""
    digest = hashlib.sha256()
    digest.update(linkage.__version__.encode())
    digest.update(json.dumps([FEATURE_COLUMNS, DERIVED_COLUMNS], sort_keys=True).encode())
    digest.update(code_signature(FEATURE_ROOTS).encode())
    return digest.hexdigest()[:32]


@lru_cache(maxsize=1)
def _decision_code_signature() -> str:
    digest = hashlib.sha256()
    digest.update(splink.__version__.encode())
    digest.update(code_signature(DECISION_ROOTS).encode())
    return digest.hexdigest()


def model_signature(model: dict[str, Any], config: Config) -> str:
    digest = hashlib.sha256()
    digest.update(_decision_code_signature().encode())
    digest.update(json.dumps(model, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    digest.update(json.dumps(asdict(config.thresholds), sort_keys=True).encode())
    digest.update(json.dumps([asdict(r) for r in config.blocking_rules]).encode("utf-8"))
    digest.update(json.dumps(asdict(config.limits), sort_keys=True).encode())
    return digest.hexdigest()[:32]
