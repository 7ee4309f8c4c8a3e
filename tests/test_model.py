"""Model features, training and scoring on a small generated population (real DuckDB + Splink)."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest

from linkage.config import default_config_path, load_config
from linkage.model.features import four_corner_key
from linkage.standardise.dates import lunar_to_solar
from linkage.model.settings import TRAINING_META, settings_for_prediction
from linkage.model.score import columns_read
from linkage.model.settings import load_model_dict
from linkage.pipeline import default_model_path, train
from linkage.synth import generate_population


def test_four_corner_key_makes_look_alikes_close():
    assert four_corner_key("己") == four_corner_key("已")
    key_wang, key_yu = four_corner_key("王海波"), four_corner_key("玉海波")
    assert len(key_wang) == len(key_yu) == 15
    assert sum(a != b for a, b in zip(key_wang, key_yu)) == 1
    assert four_corner_key(None) is None


def test_lunar_to_solar():
    assert lunar_to_solar(date(1950, 3, 5)) == date(1950, 4, 21)
    assert lunar_to_solar(date(1850, 3, 5)) is None  # outside the reliable calendar


@pytest.fixture(scope="module")
def training_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    generate_population(2500, 21, folder)
    config = folder / "config.toml"
    config.write_text(default_config_path().read_text(encoding="utf-8").replace(
        "u_max_pairs = 3000000", "u_max_pairs = 300000"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("train")
    generate_population(2500, 21, folder)
    config = folder / "config.toml"
    config.write_text(default_config_path().read_text(encoding="utf-8").replace(
        "u_max_pairs = 3000000", "u_max_pairs = 300000"), encoding="utf-8")
    model_path = folder / "model.json"
    report = train(folder / "archives.csv", model_path, config, show_progress=False)
    assert report.records > 2500
    return json.loads(model_path.read_text(encoding="utf-8"))


def _levels(model: dict) -> dict[tuple[str, str], dict]:
    return {
        (c["output_column_name"], lvl["label_for_charts"]): lvl
        for c in model["comparisons"] for lvl in c["comparison_levels"]
        if not lvl.get("is_null_level")
    }


def test_training_gives_every_level_m_and_u_and_sensible_weights(trained):
    levels = _levels(trained)
    for key, level in levels.items():
        assert 0 < level["m_probability"] <= 1, key
        assert 0 < level["u_probability"] <= 1, key
        assert level["m_probability"] >= 0.9e-3, key  # floor applied after EM

    def weight(comparison: str, label: str) -> float:
        lvl = levels[(comparison, label)]
        return math.log2(lvl["m_probability"] / lvl["u_probability"])

    assert weight("id", "一致") > 10
    assert weight("id", "均有效且相符但不同") < weight("id", "均有效但不同") < 0
    assert weight("name", "一致") > weight("name", "仅同姓")
    assert weight("name", "不同") < 0
    assert weight("dob", "一致") > weight("dob", "一年内")
    assert weight("location", "同址同电话") > weight("location", "跨县")


def test_exact_level_u_is_counted_and_recorded(trained):
    meta = trained[TRAINING_META]
    assert meta["records"] > 2500
    assert {"id.exact", "name.exact", "location.address_phone"} <= set(meta["counted_u"])
    assert _levels(trained)[("id", "一致")]["u_probability"] == pytest.approx(meta["counted_u"]["id.exact"])


def test_prior_is_rescaled_to_population_size(trained):
    config = load_config()
    base = trained["probability_two_random_records_match"]
    records = trained[TRAINING_META]["records"]
    half = settings_for_prediction(trained, config, records * 2)
    assert half["probability_two_random_records_match"] == pytest.approx(base / 2)
    assert TRAINING_META not in half
    rules = [r["blocking_rule"] for r in half["blocking_rules_to_generate_predictions"]]
    assert rules == [rule.sql for rule in config.blocking_rules]


def test_newborn_placeholder_is_a_feature_and_a_neutral_level(trained):
    import duckdb

    from linkage.model.features import build_model_input
    from linkage.model.shared_phones import NONE_SHARED

    con = duckdb.connect()
    con.execute("""CREATE TABLE features AS SELECT * FROM (VALUES
        ('a', '王芳之子', DATE '2024-03-01'), ('b', '李小龙', DATE '2024-03-01'), ('c', NULL, NULL))
        t(archive_id, name_clean, dob)""")
    con.execute("ALTER TABLE features ADD COLUMN id_valid BOOLEAN")
    con.execute("ALTER TABLE features ADD COLUMN id_dob DATE")
    con.execute("ALTER TABLE features ADD COLUMN address_norm VARCHAR")
    con.execute("ALTER TABLE features ADD COLUMN phone_norm VARCHAR")
    build_model_input(con, "features", "mi", shared=NONE_SHARED)
    assert con.execute("SELECT archive_id, name_placeholder FROM mi ORDER BY 1").fetchall() == [
        ("a", True), ("b", False), ("c", False)]
    level = _levels(trained)[("name", "新生儿占位")]
    assert abs(math.log2(level["m_probability"] / level["u_probability"])) < 0.1  # no evidence


def _truth_labels(folder, path) -> int:
    """Verdicts a reviewer would give: true duplicate pairs "same", hard negatives "different"."""
    import csv
    import itertools

    with (folder / "truth.csv").open(encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    by_person: dict[str, list[str]] = {}
    for row in truth:
        by_person.setdefault(row["person_id"], []).append(row["archive_id"])
    rows = [(a, b, "same") for members in by_person.values() for a, b in itertools.combinations(members, 2)]
    with (folder / "hard_negatives.csv").open(encoding="utf-8") as handle:
        rows += [(r["archive_id_l"], r["archive_id_r"], "different") for r in csv.DictReader(handle)]
    with path.open("w", encoding="utf-8") as handle:
        handle.write("archive_id_l,archive_id_r,verdict\n")
        handle.writelines(f"{a},{b},{v}\n" for a, b, v in rows)
    return len(rows)


def test_train_with_labels_learns_patterns_and_keeps_the_prior(training_folder, tmp_path):
    from click.testing import CliRunner

    from linkage.cli import cli
    from linkage.model.verdicts import VERDICTS_META

    labels = tmp_path / "verdicts.csv"
    n = _truth_labels(training_folder, labels)
    config = str(training_folder / "config.toml")
    archives = str(training_folder / "archives.csv")
    plain, learned = tmp_path / "plain.json", tmp_path / "learned.json"
    runner = CliRunner()
    result = runner.invoke(cli, ["train", archives, "--config", config, "--out", str(plain)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["train", archives, "--config", config, "--labels", str(labels),
                                 "--model", str(learned)])
    assert result.exit_code == 0, result.output
    assert "--model is deprecated" in result.output
    assert f"labels: {n} verdicts" in result.output
    assert "held-out check" in result.output
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (plain, learned))
    assert a["probability_two_random_records_match"] == pytest.approx(
        b["probability_two_random_records_match"], rel=1e-6)

    def m_u(m: dict) -> list[float]:
        return [lvl.get(k, 0.0) for c in m["comparisons"] for lvl in c["comparison_levels"]
                for k in ("m_probability", "u_probability")]

    assert m_u(a) == pytest.approx(m_u(b), rel=0.05)  # m and u untouched (up to sampling noise)
    block = b[VERDICTS_META]
    assert block["labels"] > 0 and set(block["counts"]) == {"pattern", "class", "reason"}
    assert all(v["decision"] in ("auto", "drop", "review")
               for keys in block["counts"].values() for v in keys.values())


def test_scoring_reads_only_the_columns_the_model_and_rules_name() -> None:
    """Splink copies every column of its input: the scoring view keeps the ones read."""
    settings = settings_for_prediction(load_model_dict(default_model_path()), load_config(), 1000)
    available = {"archive_id", "name_py", "surname_py", "dob_best", "address_tokens", "row_number",
                 "created_date", "id_status", "phone_norm", "county", "id_sorted", "given_py"}
    kept = columns_read(settings, available)
    assert {"archive_id", "name_py", "surname_py", "dob_best", "phone_norm", "county", "id_sorted",
            "given_py"} <= set(kept)
    assert not {"address_tokens", "row_number", "created_date", "id_status"} & set(kept)
