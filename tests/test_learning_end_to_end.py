"""Learning from reviewers end to end: night 1 → a reviewer settles the queue from the truth
→ ``linkage train --labels`` → the next run joins the kinds of pair reviewers confirmed,
saying so in evidence, and still never joins a pair a safety guard holds back.

On a generator3 population (benchmarks/generator3: written apart from the engine), large
enough that some kinds of pair collect 10 of 10 verdicts."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.model.verdicts import VERDICTS_META

from helpers import read_csv

ROOT = Path(__file__).resolve().parent.parent
# Reasons that name a danger: a learned "same" never joins such a pair.
DANGERS = ("names one character apart", "similar names, same birth date", "newborn placeholder",
           "an archive predates", "shared ID")


def _generator3():
    spec = importlib.util.spec_from_file_location("generator3_e2e", ROOT / "benchmarks/generator3/generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["generator3_e2e"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> dict:
    """A population, its night-1 run with the shipped model, and the truth."""
    folder = tmp_path_factory.mktemp("learn")
    population = folder / "pop"
    _generator3().generate(6000, 3, population)
    with (population / "truth.csv").open(encoding="utf-8", newline="") as handle:
        person = {r["archive_id"]: r["person_id"] for r in csv.DictReader(handle)}
    runner = CliRunner()
    night1 = folder / "night1"
    result = runner.invoke(cli, ["run", str(population / "archives.csv"), "--out", str(night1)])
    assert result.exit_code == 0, result.output
    review = [d for d in read_csv(night1 / "decisions.csv") if d["action"] == "review"]
    labels = folder / "verdicts.csv"
    with labels.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["archive_id_l", "archive_id_r", "verdict"])
        for d in review:
            same = person[d["archive_id"]] == person[d["survivor_archive_id"]]
            writer.writerow([d["archive_id"], d["survivor_archive_id"], "same" if same else "different"])
    return {"folder": folder, "population": population, "person": person, "review": review,
            "labels": labels}


@pytest.fixture(scope="module")
def learned(night) -> dict:
    """``linkage train --labels`` on the night's verdicts, then a run with that model."""
    folder = night["folder"]
    model = folder / "learned.json"
    runner = CliRunner()
    trained = runner.invoke(cli, ["train", str(night["population"] / "archives.csv"),
                                  "--labels", str(night["labels"]), "--out", str(model)])
    assert trained.exit_code == 0, trained.output
    out = folder / "learned_run"
    result = runner.invoke(cli, ["run", str(night["population"] / "archives.csv"), "--out", str(out),
                                 "--model", str(model)])
    assert result.exit_code == 0, result.output
    return {"train_output": trained.output, "model": json.loads(model.read_text(encoding="utf-8")),
            "decisions": read_csv(out / "decisions.csv"),
            "person_of": {r["archive_id"]: r["person_id"] for r in read_csv(out / "clusters.csv")}}


def test_train_reports_what_verdicts_changed_and_checks_held_out_labels(night, learned):
    output = learned["train_output"]
    assert f"labels: {len(night['review'])} verdicts" in output
    assert "kind(s) of pair now joined automatically" in output
    assert "held-out check" in output
    assert "  join: " in output and "reviewer verdicts same" in output
    block = learned["model"][VERDICTS_META]
    assert block["labels"] == len(night["review"])
    assert any(v["decision"] == "auto" for keys in block["counts"].values() for v in keys.values())


def test_confirmed_kinds_join_with_their_evidence_and_rightly(night, learned):
    person = night["person"]
    joined = [d for d in learned["decisions"]
              if d["action"] in ("merge", "migrate") and "reviewer verdicts same" in d["evidence"]]
    assert joined, "no pair joined on learned verdicts"
    for d in joined:
        assert person[d["archive_id"]] == person[d["survivor_archive_id"]]
    review_after = sum(1 for d in learned["decisions"] if d["action"] == "review")
    assert review_after < len(night["review"])


def test_pairs_a_safety_guard_held_back_stay_apart(night, learned):
    person_of = learned["person_of"]
    held = [d for d in night["review"] if d["reason"].startswith(DANGERS)]
    assert held, "the population has no twin-looking pair to check"
    for d in held:
        a, b = d["archive_id"], d["survivor_archive_id"]
        if person_of.get(a) is not None and person_of.get(a) == person_of.get(b):
            # joined only through other archives' links, never by a learned pattern on this pair
            assert not any(
                {x["archive_id"], x["survivor_archive_id"]} == {a, b} and "reviewer verdicts" in x["evidence"]
                for x in learned["decisions"])


def test_verdicts_learned_on_the_shipped_model_keep_its_m_u_and_prior(night):
    """``--base``: a site that stayed with the shipped model learns its reviewers' verdicts
    without switching models; the night-1 queue was the shipped model's own."""
    from linkage.pipeline import default_model_path

    folder = night["folder"]
    learned = folder / "shipped_learned.json"
    runner = CliRunner()
    result = runner.invoke(cli, ["train", str(night["population"] / "archives.csv"), "--labels",
                                 str(night["labels"]), "--base", str(default_model_path()),
                                 "--out", str(learned)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("verdicts learned on top of default.json")
    shipped = json.loads(default_model_path().read_text(encoding="utf-8"))
    model = json.loads(learned.read_text(encoding="utf-8"))
    assert {k: v for k, v in model.items() if k != VERDICTS_META} == shipped
    assert model[VERDICTS_META]["labels"] == len(night["review"])
    out = folder / "shipped_learned_run"
    result = runner.invoke(cli, ["run", str(night["population"] / "archives.csv"), "--out", str(out),
                                 "--model", str(learned)])
    assert result.exit_code == 0, result.output
    person = night["person"]
    joined = [d for d in read_csv(out / "decisions.csv")
              if d["action"] in ("merge", "migrate") and "reviewer verdicts same" in d["evidence"]]
    assert joined and all(person[d["archive_id"]] == person[d["survivor_archive_id"]] for d in joined)


def test_base_without_labels_is_refused(night, tmp_path):
    result = CliRunner().invoke(cli, ["train", str(night["population"] / "archives.csv"),
                                      "--base", "models/default.json", "--out", str(tmp_path / "m.json")])
    assert result.exit_code == 2
    assert "--base is for learning verdicts on: give --labels too" in result.output
