"""Twins stay apart when a typo makes one twin's archive carry the other twin's name
(linkage.decide.possible_twins, linkage.cluster): found by the blind fourth generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkage.pipeline import run
from linkage.review.store import ReviewStore, store_path
from linkage.standardise.id_number import check_digit
from linkage.synth import generate_population

from helpers import read_csv, write_archives

REGION = "620802001003"


def _id(body: str) -> str:
    return body + check_digit(body)


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> list[dict[str, str]]:
    folder = tmp_path_factory.mktemp("twin_chain")
    generate_population(1500, 21, folder)
    return read_csv(folder / "archives.csv")


def _archive(archive_id: str, name: str, id_number: str, address: str, phone: str) -> dict[str, str]:
    return {"archive_id": archive_id, "name": name, "sex": "2", "birth_date": "2011-03-14",
            "id_number": id_number, "region_code": REGION, "address": address, "phone": phone,
            "created_date": "2012-05-30", "last_service_date": "2023-05-08"}


@pytest.mark.slow
def test_a_typo_with_the_other_twins_name_does_not_join_the_twins(tmp_path: Path, population):
    home = "甘肃省平凉市崆峒区新华街149号19栋4单元1102号"
    twin_a_id = _id("62080220110314542")
    rows = [
        _archive("T1", "欧思彤", "", home, "13900001111"),                  # twin A, no ID
        _archive("T2", "欧思彤", twin_a_id, home, "13900001111"),           # twin A, with ID
        _archive("T3", "欧思桐", twin_a_id, home, "13900001111"),           # twin A, name typed as B's
        _archive("T4", "欧思桐", "", home, "13900002222"),                  # twin B, no ID
    ]
    out = tmp_path / "out"
    run(write_archives(tmp_path / "in.csv", population + rows), out, show_progress=False)
    person = {r["archive_id"]: r["person_id"] for r in read_csv(out / "clusters.csv")}
    assert person["T2"] == person["T3"]  # one ID fitting both: one person, a name typo
    assert person["T4"] != person["T2"]
    # T1 looks to that person exactly as T4 does (the same name as one of its archives, a
    # twin's name to the other): which of the ID's two names is the typo, only a reviewer
    # can tell, so both wait for one, with the reason.
    assert person["T1"] != person["T2"]
    queued = {frozenset((d["archive_id"], d["survivor_archive_id"])): d["reason"]
              for d in read_csv(out / "decisions.csv") if d["action"] == "review"}
    for archive in ("T1", "T4"):
        rows = [reason for pair, reason in queued.items() if archive in pair]
        assert rows and all("twins" in reason for reason in rows), archive


@pytest.mark.slow
def test_a_reviewers_same_does_not_hand_the_typo_to_the_other_twin(tmp_path: Path, population):
    """The reviewer settles T1-T2 "same" (twin A): the ID then joins A's typo'd archive T3
    to A, and twin B's T4 still waits for a reviewer."""
    home = "甘肃省平凉市崆峒区新华街149号19栋4单元1102号"
    twin_a_id = _id("62080220110314542")
    rows = [
        _archive("T1", "欧思彤", "", home, "13900001111"),
        _archive("T2", "欧思彤", twin_a_id, home, "13900001111"),
        _archive("T3", "欧思桐", twin_a_id, home, "13900001111"),
        _archive("T4", "欧思桐", "", home, "13900002222"),
    ]
    source, out = write_archives(tmp_path / "in.csv", population + rows), tmp_path / "out"
    run(source, out, show_progress=False)
    with ReviewStore(store_path(out)) as store:
        store.decide(("T1", "T2"), "same", "reviewer1")
    run(source, out, show_progress=False)
    person = {r["archive_id"]: r["person_id"] for r in read_csv(out / "clusters.csv")}
    assert person["T1"] == person["T2"] == person["T3"]
    assert person["T4"] != person["T1"]
