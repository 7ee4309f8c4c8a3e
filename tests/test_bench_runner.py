"""The benchmark runner end to end on a tiny population, and the report it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import linkage.bench
from linkage.bench import report
from linkage.bench.runner import BenchError, ensure_population, run_benchmark, run_system
from linkage.errors import LinkageError

PERSONS, SEED = 300, 7


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One work dir per module: the population is generated once and reused."""
    return tmp_path_factory.mktemp("bench-work")


def test_public_names() -> None:
    assert linkage.bench.__all__ == ["BenchError", "DEFAULT_TIME_LIMITS", "SYSTEMS", "run_benchmark"]
    assert linkage.bench.SYSTEMS == ("linkage", "id_only", "splink_plain")


def test_unknown_system_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="unknown systems"):
        run_benchmark([10], SEED, tmp_path / "w", tmp_path / "r", systems=("dedupe",))
    assert issubclass(BenchError, LinkageError)


@pytest.mark.slow
def test_baselines_side_by_side(work: Path, tmp_path: Path) -> None:
    results = run_benchmark([PERSONS], SEED, work, tmp_path, systems=("id_only", "splink_plain"),
                            command="linkage bench --sizes 300")
    on_disk = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(results, default=str))
    scenario = on_disk["scenarios"][0]
    assert scenario["persons"] == PERSONS and scenario["archives"] > PERSONS
    assert scenario["command"] == "linkage bench --sizes 300"
    for name in ("id_only", "splink_plain"):
        system = scenario["systems"][name]
        assert system["status"] == "ok", system
        assert system["peak_rss_mb"] > 0 and system["seconds"] > 0 and system["archives_per_second"] > 0
        m = system["metrics"]
        assert m["archives"] == scenario["archives"]
        assert 0 < m["pairwise"]["recall"] <= 1 and m["recall_by_corruption"]
        assert m["target_county"] is None  # baselines make no merge/migrate decisions
    assert scenario["systems"]["id_only"]["metrics"]["recall_by_corruption"]["id_blank"]["auto_linked"] == 0
    assert on_disk["machine"]["cpu"] and on_disk["machine"]["duckdb"]
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "id_only" in text and "splink_plain" in text and "B-cubed" in text


@pytest.mark.slow
def test_engine_runs_in_the_benchmark(work: Path, tmp_path: Path) -> None:
    """The shipped engine with the shipped model: fails (not skips) while it cannot run."""
    results = run_benchmark([PERSONS], SEED, work, tmp_path, systems=("linkage",))
    system = results["scenarios"][0]["systems"]["linkage"]
    assert system["status"] == "ok", system
    assert system["pairs_compared"] > 0
    m = system["metrics"]
    assert m["pairwise"]["precision"] >= 0.99 and m["pairwise"]["recall"] > 0
    assert m["target_county"]["persons"] > 0
    # The metrics count the review pairs the engine wrote, not some other table.
    assert m["review_pairs"] == system["engine_summary"]["review_pairs"] > 0


def test_population_is_reused(work: Path) -> None:
    first, _ = ensure_population(120, SEED, work)
    again, marker = ensure_population(120, SEED, work)
    assert again == first and marker["reused"] is True


def test_a_system_over_its_time_limit_is_recorded_as_skipped(work: Path, tmp_path: Path) -> None:
    pop, _ = ensure_population(120, SEED, work)
    result = run_system("splink_plain", pop / "archives.csv", tmp_path / "run", SEED, time_limit=0.3)
    assert result["status"] == "skipped" and result["reason"] == ">0.3 s"
    assert "metrics" not in result


def test_scaling_statement() -> None:
    def scenario(persons: int, archives: int, seconds: float, rss: float) -> dict:
        return {"persons": persons, "archives": archives,
                "systems": {"x": {"status": "ok", "seconds": seconds, "peak_rss_mb": rss},
                            "y": {"status": "skipped", "reason": ">15 min"}}}

    scale = report.scaling([scenario(10_000, 11_000, 10.0, 200.0), scenario(100_000, 110_000, 96.0, 900.0)])
    assert scale["x"]["steps"] == [{"from_archives": 11_000, "to_archives": 110_000, "archives_factor": 10.0,
                                    "time_factor": 9.6, "memory_factor": 4.5}]
    assert scale["x"]["statement"] == (
        "time grows ~linearly (exponent 0.98 on the largest step): ×9.6 for ×10 archives (11k→110k)")
    assert scale["y"]["statement"] is None


def test_markdown_renders_skipped_and_missing_values() -> None:
    results = {
        "machine": {"cpu": "test cpu"},
        "scenarios": [{
            "persons": 10, "seed": 1, "archives": 12, "command": "linkage bench", "date": "d",
            "generation": {"seconds": 0.1, "reused": False},
            "systems": {"splink_plain": {"status": "skipped", "reason": ">15 min", "pairs_compared": 123,
                                         "stage_seconds": {"read": 0.5}, "peak_rss_mb": 50.0}},
        }],
        "scaling": {},
    }
    text = report.render_markdown(results)
    assert "skipped: >15 min" in text and "| pairs compared | 123 |" in text


def test_rerunning_one_system_keeps_the_others(work: Path, tmp_path: Path) -> None:
    run_benchmark([120], SEED, work, tmp_path, systems=("id_only",), command="first")
    results = run_benchmark([120], SEED, work, tmp_path, systems=("id_only",), command="second")
    (scenario,) = results["scenarios"]
    assert scenario["systems"]["id_only"]["command"] == "second"
    assert "earlier_run" not in scenario["systems"]["id_only"]


def test_merge_keeps_systems_not_rerun() -> None:
    from linkage.bench.runner import _merge_previous

    gen = {"generator": "g1"}
    previous = {"scenarios": [
        {"persons": 10, "seed": 1, "command": "old", "date": "d0", "generation": gen,
         "systems": {"linkage": {"status": "ok"}, "splink_plain": {"status": "skipped"}}},
        {"persons": 20, "seed": 1, "command": "old", "date": "d0", "generation": gen, "systems": {}},
    ]}
    new = [{"persons": 10, "seed": 1, "command": "new", "date": "d1", "generation": gen,
            "systems": {"splink_plain": {"status": "ok", "command": "new"}}}]
    merged = _merge_previous(previous, new, seed=1)
    assert [s["persons"] for s in merged] == [10, 20]
    systems = merged[0]["systems"]
    assert list(systems) == ["linkage", "splink_plain"]
    assert systems["linkage"] == {"status": "ok", "command": "old", "date": "d0", "earlier_run": True}
    assert systems["splink_plain"] == {"status": "ok", "command": "new"}
    changed = [{**new[0], "generation": {"generator": "g2"}}]
    assert list(_merge_previous(previous, changed, seed=1)[0]["systems"]) == ["splink_plain"]
