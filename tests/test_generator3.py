"""benchmarks/generator3: its truth files agree with its archives, in the format the
independent evaluator reads, and a seed always gives the same files."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest

from generator_helpers import FILES, INPUT_COLUMNS, ROOT, gb11643_check, load_script, read_rows

GEN = load_script("generator3_generate", ROOT / "benchmarks/generator3/generate.py")
EVAL = load_script("independent_evaluate", ROOT / "benchmarks/independent/evaluate.py")


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("g3") / "pop"
    GEN.generate(600, 3, out)
    return out


def test_schema_and_truth_cover_every_archive(population: Path) -> None:
    header, archives = read_rows(population / "archives.csv")
    assert header == INPUT_COLUMNS
    ids = [a["archive_id"] for a in archives]
    assert len(ids) == len(set(ids))
    assert all(len(i) in (17, 20) and i.isdigit() for i in ids)
    assert all(len(a["region_code"]) == 12 and a["region_code"].startswith("6210") for a in archives)
    assert all(a["archive_id"].startswith(a["region_code"]) for a in archives)

    header, truth = read_rows(population / "truth.csv")
    assert header[:4] == ["archive_id", "person_id", "tags", "county"]
    assert sorted(t["archive_id"] for t in truth) == sorted(ids)
    region = {a["archive_id"]: a["region_code"] for a in archives}
    assert all(t["county"] == region[t["archive_id"]][:6] for t in truth)
    persons = {t["person_id"] for t in truth}
    assert len(persons) == 600
    assert sum(t["role"] == "primary" for t in truth) == 600
    assert len(truth) > 600  # duplicates exist

    _, hardneg = read_rows(population / "hardneg.csv")
    assert all(h["person_a"] in persons and h["person_b"] in persons for h in hardneg)
    assert all(h["person_a"] != h["person_b"] for h in hardneg)
    assert {"twin", "spouse"} <= {h["type"] for h in hardneg}


def test_movers_point_at_archives_in_both_counties(population: Path) -> None:
    _, truth = read_rows(population / "truth.csv")
    _, movers = read_rows(population / "movers.csv")
    assert movers
    assert len({m["person_id"] for m in movers}) == len(movers)  # one move per person
    by_id = {t["archive_id"]: t for t in truth}
    for m in movers:
        new = by_id[m["new_archive_id"]]
        assert new["person_id"] == m["person_id"] and new["county"] == m["new_county"]
        assert m["old_county"] != m["new_county"]
        assert any(t["person_id"] == m["person_id"] and t["county"] == m["old_county"] for t in truth)


def test_untouched_ids_are_valid_and_fit_the_record(population: Path) -> None:
    _, archives = read_rows(population / "archives.csv")
    _, truth = read_rows(population / "truth.csv")
    tags = {t["archive_id"]: t["tags"].split() for t in truth}
    checked = 0
    for a in archives:
        if any(t.startswith(("id_", "dob_")) for t in tags[a["archive_id"]]):
            continue
        if "newborn_placeholder" in tags[a["archive_id"]]:
            continue
        number = a["id_number"].upper()
        assert len(number) == 18 and number[17] == gb11643_check(number[:17])
        assert number[6:14] == a["birth_date"].replace("-", "")[:8] or "/" in a["birth_date"]
        if a["sex"] and "sex_swap" not in tags[a["archive_id"]]:
            male = a["sex"] in ("1", "男")
            assert (int(number[16]) % 2 == 1) == male
        checked += 1
    assert checked > 300


def test_same_seed_same_files_other_seed_other_files(population: Path, tmp_path: Path) -> None:
    GEN.generate(600, 3, tmp_path / "again")
    GEN.generate(600, 4, tmp_path / "other")
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (population / name).read_bytes(), name
    assert (tmp_path / "other" / "archives.csv").read_bytes() != (population / "archives.csv").read_bytes()
    for name in FILES:
        assert stat.S_IMODE((population / name).stat().st_mode) == 0o600
    manifest = json.loads((population / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 3 and manifest["persons"] == 600


def test_the_independent_evaluator_scores_it_unchanged(population: Path, tmp_path: Path) -> None:
    """Clusters equal to the truth score precision and recall 1 with the existing scorer."""
    _, truth = read_rows(population / "truth.csv")
    out = tmp_path / "run"
    out.mkdir()
    with (out / "clusters.csv").open("w", encoding="utf-8", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["archive_id", "person_id"])
        w.writerows([t["archive_id"], t["person_id"]] for t in truth)
    (out / "decisions.csv").write_text(
        "action,archive_id,survivor_archive_id,from_region,to_region\n", encoding="utf-8")
    m = EVAL.evaluate(population, out)
    assert m["missing_from_clusters"] == 0
    assert m["precision_auto"] == 1.0 and m["recall_auto"] == 1.0
    assert m["twin_links"] == 0 and m["hard_negative_person_pairs"].get("twin", 0) > 0


def test_severity_zero_leaves_only_structure(tmp_path: Path) -> None:
    """At severity 0 extra archives are copies: only placement and built-in tags remain."""
    GEN.generate(400, 5, tmp_path / "clean", severity=0)
    _, truth = read_rows(tmp_path / "clean" / "truth.csv")
    tags = {t for row in truth for t in row["tags"].split()}
    allowed = {"dup", "same_village", "same_township", "other_township", "move",
               "newborn_placeholder", "sex_blank", "id_parent", "id_spouse", "phone_two"}
    assert tags <= allowed, tags - allowed


def test_cli_rejects_zero_persons(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        GEN.main(["--persons", "0", "--out", str(tmp_path / "x")])
