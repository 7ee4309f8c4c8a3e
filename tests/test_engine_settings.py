"""[engine]: DuckDB's memory limit and threads come from the config and reach the connection;
each stage's peak memory reaches summary.json."""

from __future__ import annotations

import json

import pytest

from linkage.config import default_config_path, load_config
from linkage.errors import ConfigError
from linkage.connection import connect_for
from linkage.pipeline import run
from linkage.shipped import example_input_path


def _config(tmp_path, engine: str):
    text = default_config_path().read_text(encoding="utf-8")
    start = text.index("[engine]")
    end = text.index("[thresholds]")
    path = tmp_path / "engine.toml"
    path.write_text(text[:start] + "[engine]\n" + engine + "\n\n" + text[end:], encoding="utf-8")
    return load_config(path)


def test_defaults_fit_a_small_machine():
    engine = load_config().engine
    assert (engine.backend, engine.memory_limit, engine.threads) == ("duckdb", "1500MB", 0)


def test_memory_limit_and_threads_reach_duckdb(tmp_path):
    config = _config(tmp_path, 'memory_limit = "700MB"\nthreads = 1')
    con = connect_for(config)
    try:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    finally:
        con.close()
    assert limit.replace(" ", "").upper().startswith(("667", "700", "0.6")) and int(threads) == 1


@pytest.mark.parametrize("engine, message", [
    ('memory_limit = "lots"', "memory_limit"),
    ("threads = -1", "threads"),
    ('backend = "oracle"', "backend"),
])
def test_bad_engine_settings_are_config_errors(tmp_path, engine, message):
    with pytest.raises(ConfigError, match=message):
        _config(tmp_path, engine)


def test_summary_has_each_stages_peak_memory(tmp_path):
    run(example_input_path(), tmp_path / "out", show_progress=False)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    peaks = summary["stage_peak_mb"]
    assert {"read", "standardise", "score", "cluster", "write"} <= set(peaks)  # write: so far
    assert all(value > 0 for value in peaks.values())
    assert summary["peak_memory_mb"] >= max(peaks.values()) * 0.99
