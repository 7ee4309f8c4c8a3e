"""Comparison levels as data: models/default.json is generated from comparisons.py, every
level has a stable code, and display labels are only displayed.

Renaming every display label of a model changes no decision: guards, apart-by-IDs and
learned patterns read level codes (linkage.model.levels), never labels.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from pathlib import Path

import pytest

import linkage.decide as decide
from linkage.errors import ModelError
from linkage.model import train as train_module
from linkage.model.build import build_model
from linkage.model.comparisons import all_comparisons
from linkage.model.levels import LABELS, LEVELS, code_of
from linkage.model.settings import LEVELS_META, level_codes, load_model_dict
from linkage.pipeline import default_model_path, run
from linkage.review.facts import evidence_levels
from linkage.synth import generate_population

from helpers import read_csv


def test_shipped_model_is_what_the_builder_makes_of_it():
    shipped = load_model_dict(default_model_path())
    assert build_model(shipped) == shipped


def test_shipped_model_has_the_sql_labels_and_codes_of_comparisons_py():
    shipped = load_model_dict(default_model_path())
    for theirs, ours in zip(shipped["comparisons"], all_comparisons("duckdb"), strict=True):
        ours = ours.get_comparison("duckdb").as_dict()
        name = ours["output_column_name"]
        assert theirs["output_column_name"] == name
        assert shipped[LEVELS_META][name] == [code for code, _ in LEVELS[name]]
        for level, mine, (code, label) in zip(theirs["comparison_levels"], ours["comparison_levels"],
                                              LEVELS[name], strict=True):
            assert level["sql_condition"] == mine["sql_condition"], code
            assert level["label_for_charts"] == mine["label_for_charts"] == label, code
            assert bool(level.get("is_null_level")) == bool(mine.get("is_null_level")), code
            for key in ("tf_adjustment_column", "tf_adjustment_weight", "tf_minimum_u_value"):
                assert level.get(key) == mine.get(key), (code, key)


def test_codes_are_unique_and_name_their_comparison():
    codes = [code for levels in LEVELS.values() for code, _ in levels]
    assert len(codes) == len(set(codes))
    for name, levels in LEVELS.items():
        assert all(code.startswith(f"{name}.") for code, _ in levels)
        labels = [label for _, label in levels]
        assert len(labels) == len(set(labels)), name  # evidence text reads back to one code


def test_every_code_the_guards_training_and_review_name_exists():
    """A code spelled wrong in a guard would never match: the guard would silently weaken."""
    import linkage.review.facts as facts
    import linkage.review.triage as triage

    pattern = re.compile(r"\"((?:name|id|dob|sex|location)\.[a-z_0-9]+)\"")
    named = set()
    for module in (decide, facts, triage, train_module):
        named |= set(pattern.findall(inspect.getsource(module)))
    assert len(named) > 25
    assert named <= set(LABELS), sorted(named - set(LABELS))


def test_a_model_without_codes_gets_them_from_its_sql_and_an_unknown_level_is_an_error():
    shipped = load_model_dict(default_model_path())
    old = {k: v for k, v in shipped.items() if k != LEVELS_META}
    assert level_codes(old) == level_codes(shipped)
    broken = copy.deepcopy(old)
    broken["comparisons"][0]["comparison_levels"][2]["sql_condition"] = "name_clean_l = upper(name_clean_r)"
    with pytest.raises(ModelError, match="level linkage does not know"):
        level_codes(broken)
    wrong = copy.deepcopy(shipped)
    wrong[LEVELS_META]["name"][2] = "name.renamed"
    with pytest.raises(ModelError, match="unknown level codes"):
        level_codes(wrong)


def test_evidence_text_reads_back_as_codes():
    text = "name=同音 +7.9; id=空 0; dob=农历生日 +3.1; sex=一致 +1.0; location=同址 +5.0"
    assert evidence_levels(text) == {"name": "name.homophone", "id": "id.null", "dob": "dob.lunar",
                                     "sex": "sex.same", "location": "location.address"}
    assert code_of("id", "号同但生日/性别不符") == "id.shared_not_fitting"


def test_training_refuses_a_counted_level_the_model_does_not_have(tmp_path, monkeypatch):
    from linkage.config import default_config_path
    from linkage.pipeline import train

    generate_population(200, 3, tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(default_config_path().read_text(encoding="utf-8").replace(
        "u_max_pairs = 3000000", "u_max_pairs = 20000"), encoding="utf-8")
    monkeypatch.setitem(train_module._EXACT_PAIR_COUNTS, "name.renamed_level",
                        "SELECT 0 FROM {t}")
    with pytest.raises(ModelError, match="name.renamed_level"):
        train(tmp_path / "archives.csv", tmp_path / "model.json", config, show_progress=False)


def _decisions_without_display(folder: Path) -> list[tuple]:
    return [tuple((k, v) for k, v in row.items() if k != "evidence")
            for row in read_csv(folder / "decisions.csv")]


def test_renaming_every_display_label_changes_no_decision(tmp_path):
    generate_population(1500, 11, tmp_path)
    shipped = load_model_dict(default_model_path())
    renamed = copy.deepcopy(shipped)
    for comparison in renamed["comparisons"]:
        for position, level in enumerate(comparison["comparison_levels"]):
            level["label_for_charts"] = f"L{position}·{comparison['output_column_name']}"
    model = tmp_path / "renamed.json"
    model.write_text(json.dumps(renamed, ensure_ascii=False), encoding="utf-8")
    run(tmp_path / "archives.csv", tmp_path / "shipped", show_progress=False)
    run(tmp_path / "archives.csv", tmp_path / "renamed", model_path=model, show_progress=False)
    before = _decisions_without_display(tmp_path / "shipped")
    after = _decisions_without_display(tmp_path / "renamed")
    assert before == after
    assert any(row[0] == ("action", "review") for row in before)  # guards had work to do
    assert (tmp_path / "shipped" / "clusters.csv").read_bytes() == (
        tmp_path / "renamed" / "clusters.csv").read_bytes()
    evidence = [row["evidence"] for row in read_csv(tmp_path / "renamed" / "decisions.csv")]
    assert evidence and all("L" in text for text in evidence if "=" in text)
