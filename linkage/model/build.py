"""The shipped model generated from comparisons.py: its SQL, levels, labels and codes, with
the m/u values of a trained model.

models/default.json used to be a trained model saved as is, so the comparison SQL existed
twice (comparisons.py, which the tests check, and the JSON, which production runs) and
nothing held them together.  ``build_model`` writes the comparisons exactly as
comparisons.py spells them and takes from the trained model only what training learns (m,
u, the prior, training facts, learned verdicts); tests/test_model_build.py asserts that the
shipped JSON is what the builder makes of it.

    python -m linkage.model.build models/trained.json models/default.json
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from linkage.errors import ModelError
from linkage.model.comparisons import all_comparisons
from linkage.model.levels import LEVELS, code_of
from linkage.model.settings import (
    LEVELS_META, TRAINING_META, level_codes, levels_block, load_model_dict,
)
from linkage.outputs import write_json_atomic

# What training learns per level: copied from the trained model, everything else is rebuilt.
_TRAINED_KEYS = ("m_probability", "u_probability")


def _trained_levels(trained: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """level code -> the trained model's level dict."""
    codes = level_codes(trained)
    out: dict[str, dict[str, Any]] = {}
    for comparison in trained["comparisons"]:
        name = comparison["output_column_name"]
        levels = comparison["comparison_levels"]
        non_null = [lvl for lvl in levels if not lvl.get("is_null_level")]
        for position, level in enumerate(non_null):
            out[codes[name][len(non_null) - 1 - position]] = level
    return out


def build_model(trained: dict[str, Any]) -> dict[str, Any]:
    """The model to ship: comparisons.py's comparisons with ``trained``'s m/u values.

    Raises ModelError when a (non-null) level of comparisons.py has no trained m/u: a new
    level needs ``linkage train`` first."""
    by_code = _trained_levels(trained)
    comparisons = []
    for creator in all_comparisons("duckdb"):
        comparison = creator.get_comparison("duckdb").as_dict()
        name = comparison["output_column_name"]
        for level, (code, _) in zip(comparison["comparison_levels"], LEVELS[name]):
            if level.get("is_null_level"):
                continue
            source = by_code.get(code)
            if source is None or any(key not in source for key in _TRAINED_KEYS):
                raise ModelError(f"level {code} has no trained m/u in the model: run `linkage train`")
            # Splink's own key order (as `linkage train` saves it): m and u after the label.
            rest = {k: v for k, v in level.items() if k not in ("sql_condition", "label_for_charts")}
            head = {k: level[k] for k in ("sql_condition", "label_for_charts") if k in level}
            level.clear()
            level.update({**head, **{key: source[key] for key in _TRAINED_KEYS}, **rest})
        comparisons.append(comparison)
    model = {key: value for key, value in trained.items() if key != LEVELS_META}
    model["comparisons"] = comparisons
    model[LEVELS_META] = levels_block()
    if TRAINING_META in model:
        model[TRAINING_META] = _coded_training_meta(model[TRAINING_META])
    return model


def _coded_training_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Training facts with counted-u keys as level codes (older models wrote ``id:一致``)."""
    counted = {}
    for key, value in (meta.get("counted_u") or {}).items():
        name, sep, label = key.partition(":")
        counted[(code_of(name, label) or key) if sep else key] = value
    return {**meta, "counted_u": counted} if "counted_u" in meta else dict(meta)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m linkage.model.build TRAINED.json OUT.json", file=sys.stderr)
        return 2
    model = build_model(load_model_dict(argv[0]))
    write_json_atomic(Path(argv[1]), model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
