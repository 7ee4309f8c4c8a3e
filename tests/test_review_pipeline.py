"""Reviewer decisions feeding back into the nightly run, and into training (real engine).

Uses models/default.json when it exists; otherwise trains a model once on a generated
population.  The run input is a small hand-written CSV of synthetic archives.
"""

from __future__ import annotations

import csv
import json
import re

import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.config import REPO_ROOT, load_config
from linkage.model.features import MODEL_INPUT_TABLE
from linkage.model.labels import load_labels
from linkage.model.settings import load_model_dict
from linkage.model.train import train_model
from linkage.connection import connect
from linkage.pipeline import run, train
from linkage.prepare import prepare_model_input
from linkage.progress import StageTimer
from linkage.review.commands import review_group
from linkage.review.store import ReviewStore, load_human_decisions, store_path
from linkage.standardise.address import normalise_address

pytestmark = pytest.mark.slow

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(county: str, ymd: str, seq: int) -> str:
    body = f"{county}{ymd}{seq:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _W)) % 11]


ADDRESS = "甘肃省兰州市城关区酒泉路街道"
X1, X2 = "62010200100100001", "62010200100100002"                          # one person, 2 archives
C1, C2, C3 = "62010200100100011", "62010200100100012", "62010200100100013"  # one person, 3 archives
Y1, Y2 = "62010200100100021", "62010200100100022"                          # doubtful pair
LONE = "62010300100100031"


def write_input(path) -> None:
    x_id, c_id = id_number("620102", "19560312", 123), id_number("620102", "19480705", 246)
    rows = [
        (X1, "张建国", "男", "1956-03-12", x_id, "620102001001", ADDRESS + "工业路88号5单元101室", "13919310001", "2012-04-01", "2022-05-01"),
        (X2, "张建国", "男", "1956-03-12", x_id, "620102001001", ADDRESS + "工业路88号5单元101室", "13919310001", "2016-04-01", "2023-05-01"),
        (C1, "李秀兰", "女", "1948-07-05", c_id, "620102001002", ADDRESS + "庆阳路12号3单元202室", "13919310011", "2011-01-01", "2021-01-01"),
        (C2, "李秀兰", "女", "1948-07-05", c_id, "620102001002", ADDRESS + "庆阳路12号3单元202室", "13919310011", "2013-01-01", "2022-01-01"),
        (C3, "李秀兰", "女", "1948-07-05", c_id, "620102001002", ADDRESS + "庆阳路12号3单元202室", "13919310011", "2015-01-01", "2023-01-01"),
        (Y1, "王桂英", "女", "1962-09-30", "", "620102001003", ADDRESS + "民主路5号1单元301室", "13919310021", "2014-06-01", "2020-06-01"),
        (Y2, "王桂英", "女", "1962-09-30", id_number("620102", "19620930", 442), "620102001003", ADDRESS + "张掖路9号2单元502室", "", "2018-06-01", "2023-06-01"),
        (LONE, "赵志强", "男", "1970-01-01", id_number("620103", "19700101", 311), "620103001001", "甘肃省兰州市七里河区西园街道建西东路7号", "13919310031", "2010-01-01", "2019-01-01"),
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["archive_id", "name", "sex", "birth_date", "id_number", "region_code", "address",
                         "phone", "created_date", "last_service_date"])
        writer.writerows(rows)


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    from linkage.synth import generate_population

    folder = tmp_path_factory.mktemp("population")
    generate_population(1500, 3, folder)
    config = folder / "train.toml"
    text = (REPO_ROOT / "configs" / "default.toml").read_text(encoding="utf-8")
    config.write_text(re.sub(r"u_max_pairs\s*=\s*\d+", "u_max_pairs = 200000", text), encoding="utf-8")
    return folder, config


@pytest.fixture(scope="module")
def model(population):
    default = REPO_ROOT / "models" / "default.json"
    if default.is_file():
        return default
    folder, config = population
    train(folder / "archives.csv", folder / "model.json", config, show_progress=False)
    return folder / "model.json"


def persons(out) -> dict[str, str]:
    with (out / "clusters.csv").open(encoding="utf-8") as handle:
        return {row["archive_id"]: row["person_id"] for row in csv.DictReader(handle)}


def retire_rows(out) -> dict[str, dict]:
    with (out / "decisions.csv").open(encoding="utf-8") as handle:
        return {row["archive_id"]: row for row in csv.DictReader(handle) if row["action"] != "review"}


def decide(out, a, b, verdict, note=""):
    result = CliRunner().invoke(review_group, ["decide", "--run", str(out), a, b, verdict, "--reviewer", "qa",
                                               "--note", note])
    assert result.exit_code == 0, result.output


def test_different_splits_an_automatic_merge_and_a_chain(tmp_path, model):
    source, out = tmp_path / "archives.csv", tmp_path / "out"
    write_input(source)
    run(source, out, model, show_progress=False)
    first = persons(out)
    assert first[X1] == first[X2]
    assert first[C1] == first[C2] == first[C3]
    assert store_path(out).is_file()

    decide(out, X1, X2, "different")   # the engine merged them automatically
    decide(out, C1, C3, "different")   # C1~C2 and C2~C3 chain them together
    human = load_human_decisions(out)
    assert human.cannot_links == {(X1, X2), (C1, C3)}

    summary = run(source, out, model, show_progress=False)
    second = persons(out)
    assert second[X1] != second[X2]
    assert second[C1] != second[C3]
    assert summary.human_links_applied == 2
    with ReviewStore(store_path(out)) as store:
        open_pairs = {item.pair for item in store.list_queue(status="open")}
    assert (X1, X2) not in open_pairs and (C1, C3) not in open_pairs  # decided: never queued again


def test_same_joins_a_doubtful_pair_marked_as_the_reviewers_decision(tmp_path, model):
    source, out = tmp_path / "archives.csv", tmp_path / "out"
    write_input(source)
    run(source, out, model, show_progress=False)
    with ReviewStore(store_path(out)) as store:
        queued = {item.pair: item for item in store.list_queue(status="open")}
    for item in queued.values():  # what the pipeline handed over is what reviewers see
        assert item.side("l")["name"] and item.side("r")["region_code"]
        for side in (item.side("l"), item.side("r")):  # the household view's key (engine's own)
            assert side["address_norm"] == (normalise_address(side["address"]) if side["address"] else None)
        assert item.match_probability is not None and item.evidence

    decide(out, Y1, Y2, "same", note="=same family doctor")
    run(source, out, model, show_progress=False)
    after = persons(out)
    assert after[Y1] == after[Y2]
    retired = retire_rows(out)
    row = retired.get(Y1) or retired.get(Y2)
    assert row["decided_by"] == "reviewer"
    # The reviewer's note travels into decisions.csv, last column, neutralised for spreadsheets.
    assert row["note"] == "'=same family doctor"
    assert list(row)[-1] == "note"
    assert retired[X2]["decided_by"] == "engine" and retired[X2]["note"] == ""
    with ReviewStore(store_path(out)) as store:
        assert (Y1, Y2) not in {item.pair for item in store.list_queue(status="open")}
        if (Y1, Y2) in queued:
            assert [i.pair for i in store.list_queue(status="decided")] == [(Y1, Y2)]


def test_training_with_labels_counts_patterns_and_keeps_the_prior(tmp_path, population):
    """Labels from the generated truth (issue 9: the prior is no longer calibrated on them):
    the model's prior and m/u are those of unlabelled training, and every labelled pair in
    the data is counted under its comparison pattern."""
    folder, config_path = population
    with (folder / "truth.csv").open(encoding="utf-8") as handle:
        truth = {row["archive_id"]: row["person_id"] for row in csv.DictReader(handle)}
    by_person: dict[str, list[str]] = {}
    for archive, person in sorted(truth.items()):
        by_person.setdefault(person, []).append(archive)
    same = [(g[0], g[1]) for g in by_person.values() if len(g) > 1][:60]
    with (folder / "hard_negatives.csv").open(encoding="utf-8") as handle:
        different = [(r["archive_id_l"], r["archive_id_r"]) for r in csv.DictReader(handle)]
    singles = [g[0] for g in by_person.values() if len(g) == 1]
    different += list(zip(singles[0:80:2], singles[1:80:2]))
    labels_csv = tmp_path / "labels.csv"
    with labels_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["archive_id_l", "archive_id_r", "verdict"])
        writer.writerows([(a, b, "same") for a, b in same] + [(a, b, "different") for a, b in different])

    config = load_config(config_path)
    con = connect()
    try:
        prepare_model_input(con, folder / "archives.csv", config, StageTimer(show=False))
        train_model(con, MODEL_INPUT_TABLE, config, tmp_path / "plain.json")
        table = load_labels(con, labels_csv)
        report = train_model(con, MODEL_INPUT_TABLE, config, tmp_path / "labelled.json", table)
    finally:
        con.close()
    plain, model = load_model_dict(tmp_path / "plain.json"), load_model_dict(tmp_path / "labelled.json")
    assert model["probability_two_random_records_match"] == pytest.approx(
        plain["probability_two_random_records_match"], rel=1e-6)

    def m_u(m: dict) -> list[float]:
        return [lvl.get(k, 0.0) for c in m["comparisons"] for lvl in c["comparison_levels"]
                for k in ("m_probability", "u_probability")]

    # Same m and u, up to the noise of sampling u on parallel threads: labels do not touch
    # them (learning from the review sample used to move them, and the prior 290-fold).
    assert m_u(model) == pytest.approx(m_u(plain), rel=0.05)
    block = model["linkage_verdicts"]
    counted = sum(v["same"] + v["different"] for v in block["counts"]["pattern"].values())
    assert counted == block["labels"] == len(same) + len(different) - report.verdicts.labels_not_in_data
    assert report.verdicts.labels_same == len(same)


def test_the_note_reaches_decisions_csv_in_a_nightly_run_too(tmp_path, model):
    source, out, state = tmp_path / "archives.csv", tmp_path / "out", tmp_path / "state.duckdb"
    write_input(source)
    run(source, out, model, show_progress=False, state_path=state)
    decide(out, Y1, Y2, "same", note="+same family doctor")
    run(source, out, model, show_progress=False, state_path=state)
    retired = retire_rows(out)
    row = retired.get(Y1) or retired.get(Y2)
    assert (row["decided_by"], row["note"]) == ("reviewer", "'+same family doctor")


def test_a_refused_same_verdict_is_reported_not_dropped(tmp_path, model):
    """Two "same" verdicts chain C1 to C3, which a "different" verdict keeps apart: one "same"
    cannot be applied, and the run says so on the command line and in summary.json."""
    source, out = tmp_path / "archives.csv", tmp_path / "out"
    write_input(source)
    run(source, out, model, show_progress=False)
    decide(out, C1, C3, "different")
    decide(out, C1, C2, "same")
    decide(out, C2, C3, "same")
    result = CliRunner().invoke(cli, ["run", str(source), "--out", str(out),
                                      "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert "1 reviewer 'same' verdict(s) not applied" in result.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["human_links_refused"] == 1
    assert persons(out)[C1] != persons(out)[C3]
