"""Splink settings: the model description, and loading a saved model with our blocking.

A saved model (models/*.json) carries the trained m/u values and the comparisons.  The
blocking rules used for prediction come from configs/, so a platform can add a rule without
retraining; the JSON's own rules are replaced on load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from splink import SettingsCreator

from linkage.config import Config
from linkage.errors import ModelError
from linkage.model.comparisons import all_comparisons
from linkage.model.levels import LABELS, LEVELS

UNIQUE_ID = "archive_id"


def new_settings(config: Config, prior: float = 1e-6) -> SettingsCreator:
    """An untrained model with our comparisons and the configured blocking rules."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=all_comparisons(),
        blocking_rules_to_generate_predictions=[rule.sql for rule in config.blocking_rules],
        probability_two_random_records_match=prior,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=[],
    )


def load_model_dict(path: Path | str) -> dict[str, Any]:
    """Read a Splink model JSON, with a clear error for a missing or broken file."""
    model_path = Path(path)
    if not model_path.is_file():
        raise ModelError(f"model file not found: {model_path}")
    try:
        model = json.loads(model_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{model_path}: not a valid model JSON ({exc.__class__.__name__})") from None
    if not isinstance(model, dict) or "comparisons" not in model:
        raise ModelError(f"{model_path}: not a Splink model (no 'comparisons')")
    return model


TRAINING_META = "linkage_training"
_MIN_PRIOR_FACTOR, _MAX_PRIOR_FACTOR = 0.01, 10.0
# Whatever the rescaling gives, a prior stays a probability Splink can take the odds of, and
# never says "more likely the same than not" of two random archives.
_MIN_PRIOR, _MAX_PRIOR = 1e-12, 0.5


def settings_for_prediction(
    model: dict[str, Any], config: Config, records: int | None = None
) -> dict[str, Any]:
    """The saved model with the configured blocking rules and the columns scoring needs.

    The prior (probability two random archives match) is about 2d/N for d duplicate pairs
    per archive, so it shrinks as the population grows.  A model trained on N_train archives
    and applied to N archives gets prior × N_train / N, so the same pair earns the same
    verdict in a 10k and a 1M population and the thresholds keep their meaning.
    """
    # Our own blocks (training facts, learned verdicts) are not Splink settings.
    settings = {k: v for k, v in model.items() if not k.startswith("linkage_")}
    trained_on = (model.get(TRAINING_META) or {}).get("records")
    if records and trained_on:
        # Bounded: tiny runs (tests, one clinic's file) are not populations the
        # 2d/N rule describes.
        factor = min(max(trained_on / records, _MIN_PRIOR_FACTOR), _MAX_PRIOR_FACTOR)
        prior = float(model["probability_two_random_records_match"]) * factor
        settings["probability_two_random_records_match"] = min(max(prior, _MIN_PRIOR), _MAX_PRIOR)
    settings["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": rule.sql, "sql_dialect": "duckdb"} for rule in config.blocking_rules
    ]
    settings["retain_intermediate_calculation_columns"] = True
    settings["retain_matching_columns"] = False
    settings["unique_id_column_name"] = UNIQUE_ID
    settings["link_type"] = "dedupe_only"
    return settings


LEVELS_META = "linkage_levels"


def levels_block() -> dict[str, list[str]]:
    """The model's ``linkage_levels`` block: each comparison's level codes in level order."""
    return {name: [code for code, _ in levels] for name, levels in LEVELS.items()}


def _codes_by_sql(comparison: dict[str, Any]) -> list[str]:
    """Level codes of a model written before models carried them, matched on the SQL."""
    name = comparison["output_column_name"]
    known = {c.output_column_name: c for c in (
        creator.get_comparison("duckdb") for creator in all_comparisons())}
    if name not in known:
        raise ModelError(f"model comparison {name!r} is not one of linkage's comparisons")
    by_sql = {lvl.sql_condition: code for lvl, (code, _) in zip(
        known[name].comparison_levels, LEVELS[name])}
    codes = []
    for level in comparison["comparison_levels"]:
        if level["sql_condition"] not in by_sql:
            raise ModelError(f"model comparison {name!r} has a level linkage does not know "
                             f"({level.get('label_for_charts', '?')}); rebuild the model with "
                             "`linkage train` or scripts/build_model.py")
        codes.append(by_sql[level["sql_condition"]])
    return codes


def _by_gamma(levels: list[dict[str, Any]], values: list[str], null_value: str) -> dict[int, str]:
    """{comparison_vector_value: value} for one comparison (-1 is the null level)."""
    non_null = [(lvl, v) for lvl, v in zip(levels, values) if not lvl.get("is_null_level")]
    by_gamma = {len(non_null) - 1 - position: v for position, (_, v) in enumerate(non_null)}
    by_gamma[-1] = next((v for lvl, v in zip(levels, values) if lvl.get("is_null_level")), null_value)
    return by_gamma


def level_codes(model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """comparison output name -> {comparison_vector_value: level code} (``name.homophone``).

    What guards, exact-u counting and learned verdict patterns read: a display label can be
    renamed without changing a decision.  A model without its ``linkage_levels`` block
    (saved before it existed) gets its codes by matching each level's SQL.
    """
    block = model.get(LEVELS_META) or {}
    out: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        levels = comparison["comparison_levels"]
        codes = block.get(name) if block else _codes_by_sql(comparison)
        if codes is None or len(codes) != len(levels):
            raise ModelError(f"model: {LEVELS_META}[{name!r}] does not list one code per level "
                             f"({len(levels)} levels)")
        unknown = [code for code in codes if code not in LABELS or not code.startswith(f"{name}.")]
        if unknown:
            raise ModelError(f"model: unknown level codes for comparison {name!r}: {unknown}")
        out[name] = _by_gamma(levels, list(codes), f"{name}.null")
    return out


def level_labels(model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """comparison output name -> {comparison_vector_value: chart label}, for evidence text."""
    labels: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        levels = [lvl for lvl in comparison["comparison_levels"]]
        by_gamma: dict[int, str] = {}
        non_null = [lvl for lvl in levels if not lvl.get("is_null_level")]
        for position, level in enumerate(non_null):
            by_gamma[len(non_null) - 1 - position] = level.get("label_for_charts", "")
        by_gamma[-1] = next(
            (lvl.get("label_for_charts", "空") for lvl in levels if lvl.get("is_null_level")), "空"
        )
        labels[comparison["output_column_name"]] = by_gamma
    return labels
