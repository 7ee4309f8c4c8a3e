"""benchmarks/generator4 (南充): its truth files agree with its archives in the format the
independent evaluator reads, a seed always gives the same bytes, and the evaluator scores a
perfect run built from the truth as perfect."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from generator_helpers import FILES, INPUT_COLUMNS, ROOT, gb11643_check, load_script, read_rows

NANCHONG = {"511302", "511303", "511304", "511321", "511322", "511323", "511324", "511325", "511381"}
CHENGDU = {"510104", "510106", "510107", "510108", "510112", "510116", "510117"}


GEN = load_script("generator4_generate", ROOT / "benchmarks/generator4/generate.py")
EVAL = load_script("independent_evaluate_g4", ROOT / "benchmarks/independent/evaluate.py")


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("g4") / "pop"
    GEN.generate(1000, 5, out)
    return out


def test_schema_and_truth_cover_every_archive(population: Path) -> None:
    header, archives = read_rows(population / "archives.csv")
    assert header == INPUT_COLUMNS
    ids = [a["archive_id"] for a in archives]
    assert len(ids) == len(set(ids))
    assert all(len(i) in (17, 20) and i.isdigit() and i.startswith(a["region_code"])
               for i, a in zip(ids, archives))
    assert all(len(a["region_code"]) == 12 and a["region_code"][:6] in NANCHONG | CHENGDU
               for a in archives)
    assert all(a["name"] for a in archives)

    header, truth = read_rows(population / "truth.csv")
    assert header == ["archive_id", "person_id", "tags", "county", "role"]
    assert sorted(t["archive_id"] for t in truth) == sorted(ids)
    region = {a["archive_id"]: a["region_code"] for a in archives}
    assert all(t["county"] == region[t["archive_id"]][:6] for t in truth)
    persons = {t["person_id"] for t in truth}
    assert len(persons) == 1000
    assert sum(t["role"] == "primary" for t in truth) == 1000
    assert {t["role"] for t in truth} == {"primary", "dup", "move", "newborn"}
    manifest = json.loads((population / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["archives"] == len(archives) and manifest["persons"] == 1000
    assert 0.08 < manifest["extra_archive_share"] < 0.15

    _, hardneg = read_rows(population / "hardneg.csv")
    assert all(h["person_a"] in persons and h["person_b"] in persons for h in hardneg)
    assert all(h["person_a"] < h["person_b"] for h in hardneg)
    assert {"twin", "spouse", "sibling", "parent_child", "namesake"} <= {h["type"] for h in hardneg}


def test_movers_point_at_archives_in_both_counties(population: Path) -> None:
    _, truth = read_rows(population / "truth.csv")
    _, movers = read_rows(population / "movers.csv")
    assert movers
    assert len({m["person_id"] for m in movers}) == len(movers)  # one move per person
    by_id = {t["archive_id"]: t for t in truth}
    for m in movers:
        new = by_id[m["new_archive_id"]]
        assert new["person_id"] == m["person_id"] and new["county"] == m["new_county"]
        assert new["role"] == "move" and m["old_county"] != m["new_county"]
        assert any(t["person_id"] == m["person_id"] and t["county"] == m["old_county"] for t in truth)
    assert any(m["new_county"] in CHENGDU for m in movers)


def test_untouched_ids_are_valid_and_fit_the_record(population: Path) -> None:
    _, archives = read_rows(population / "archives.csv")
    _, truth = read_rows(population / "truth.csv")
    tags = {t["archive_id"]: t["tags"].split() for t in truth}
    checked = 0
    for a in archives:
        if not a["id_number"] or any(t.startswith(("id_", "dob_")) for t in tags[a["archive_id"]]):
            continue
        number = a["id_number"].upper()
        assert len(number) == 18 and number[17] == gb11643_check(number[:17])
        y, m, d = (a["birth_date"].split("/") if "/" in a["birth_date"] else
                   (a["birth_date"].replace("-", "")[:4], a["birth_date"].replace("-", "")[4:6],
                    a["birth_date"].replace("-", "")[6:]))
        assert number[6:14] == f"{int(y):04d}{int(m):02d}{int(d):02d}"
        if a["sex"] and "sex_swap" not in tags[a["archive_id"]]:
            assert (int(number[16]) % 2 == 1) == (a["sex"] in ("1", "男"))
        checked += 1
    assert checked > 600


def test_twins_have_consecutive_ids_and_names_apart(population: Path) -> None:
    _, archives = read_rows(population / "archives.csv")
    _, truth = read_rows(population / "truth.csv")
    _, hardneg = read_rows(population / "hardneg.csv")
    first = {t["person_id"]: t["archive_id"] for t in truth if t["role"] == "primary"}
    rec = {a["archive_id"]: a for a in archives}
    twins = [(rec[first[h["person_a"]]], rec[first[h["person_b"]]]) for h in hardneg if h["type"] == "twin"]
    assert twins
    for a, b in twins:
        assert a["name"] != b["name"]
        if len(a["id_number"]) == len(b["id_number"]) == 18 and a["id_number"][:14] == b["id_number"][:14]:
            assert abs(int(a["id_number"][14:17]) - int(b["id_number"][14:17])) <= 5


def test_same_seed_same_bytes_any_hash_seed(population: Path, tmp_path: Path) -> None:
    GEN.generate(1000, 5, tmp_path / "again")
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (population / name).read_bytes(), name
        assert stat.S_IMODE((population / name).stat().st_mode) == 0o600
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, str(ROOT / "benchmarks/generator4/generate.py"), "--persons", "300",
                    "--seed", "9", "--out", str(tmp_path / "cli")], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    GEN.generate(300, 9, tmp_path / "lib")
    GEN.generate(300, 10, tmp_path / "other")
    for name in FILES:
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "lib" / name).read_bytes(), name
    assert (tmp_path / "other" / "archives.csv").read_bytes() != (tmp_path / "lib" / "archives.csv").read_bytes()


def test_severity_zero_leaves_extra_archives_clean(tmp_path: Path) -> None:
    GEN.generate(600, 2, tmp_path / "clean", severity=0)
    _, truth = read_rows(tmp_path / "clean" / "truth.csv")
    corruption = {t for r in truth for t in r["tags"].split()} - {
        "dup", "move", "same_village", "other_village", "other_township", "migrant", "move_county",
        "return", "old_township_code", "newborn_placeholder", "id_blank", "sex_blank", "id_parent",
        "id_spouse"}
    assert corruption == set()


def test_evaluator_scores_a_perfect_run_as_perfect(population: Path, tmp_path: Path) -> None:
    """clusters = truth; decisions move every cluster into the county of its newest archive."""
    _, truth = read_rows(population / "truth.csv")
    _, archives = read_rows(population / "archives.csv")
    created = {a["archive_id"]: a["created_date"].replace("-", "").replace("/", "") for a in archives}
    run = tmp_path / "run"
    run.mkdir()
    with (run / "clusters.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["archive_id", "person_id"])
        writer.writerows((t["archive_id"], t["person_id"]) for t in truth)
    by_person: dict[str, list[dict[str, str]]] = {}
    for t in truth:
        by_person.setdefault(t["person_id"], []).append(t)
    region = {a["archive_id"]: a["region_code"] for a in archives}
    movers = {m["person_id"]: m for m in read_rows(population / "movers.csv")[1]}
    with (run / "decisions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["archive_id", "action", "survivor_archive_id", "to_region"])
        for person, rows in by_person.items():
            if person in movers:
                survivor = movers[person]["new_archive_id"]
            else:  # any archive; the newest, as a county would keep
                survivor = max(rows, key=lambda t: (len(created[t["archive_id"]]), t["archive_id"]))["archive_id"]
            counties = {t["county"] for t in rows}
            for t in rows:
                if t["archive_id"] != survivor:
                    writer.writerow([t["archive_id"], "migrate" if len(counties) > 1 else "merge",
                                     survivor, region[survivor]])
    metrics = EVAL.evaluate(population, run)
    assert metrics["precision_auto"] == 1.0 and metrics["recall_auto"] == 1.0
    assert metrics["recall_with_review"] == 1.0 and metrics["missing_from_clusters"] == 0
    assert metrics["twin_links"] == 0 and metrics["false_positive_pairs"] == 0
    assert metrics["movers_linked"] == metrics["movers"] > 0
    assert metrics["mover_target_accuracy"] == 1.0
    assert metrics["merge_migrate_inconsistent"] == 0
