"""The Spark backend gives the DuckDB run's outputs (linkage.spark).

The equivalence test runs the same input through ``linkage run`` on DuckDB and on a local
Spark (one core, two shuffle partitions, to stay light) and compares clusters.csv,
decisions.csv (evidence text, weights and reasons included), rejects.csv and the counts of
summary.json byte for byte.  It is skipped only where pyspark or Java is missing and CI is
not set: in CI a missing Spark fails it.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot

from linkage.config import load_config
from linkage.errors import ConfigError
from linkage.model.settings import load_model_dict, settings_for_prediction
from linkage.pipeline import default_model_path, run
from linkage.shipped import example_input_path
from linkage.synth import generate_population

from helpers import clinic_rows, read_csv, write_archives


def _spark_missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[dev,spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java (Spark needs Java 17)"
    return None


MISSING = _spark_missing()
needs_spark = pytest.mark.skipif(
    MISSING is not None and not os.environ.get("CI"), reason=f"Spark unavailable: {MISSING}"
)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if MISSING is not None:
        pytest.fail(f"CI must run the Spark equivalence test: {MISSING}")
    from linkage.spark.session import spark_session

    session = spark_session("local[1]", shuffle_partitions=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


# ---- without Spark: the model spelled for Spark -------------------------------------------


def test_every_level_of_the_model_transpiles_to_spark_sql() -> None:
    from linkage.spark.dialect import SPARK_SPECIFIC, spark_settings

    model = load_model_dict(default_model_path())
    duck = settings_for_prediction(model, load_config(), 1000)
    spark = spark_settings(duck)
    assert spark["sql_dialect"] == "spark" and duck.get("sql_dialect") != "spark"
    for c_duck, c_spark in zip(duck["comparisons"], spark["comparisons"]):
        for l_duck, l_spark in zip(c_duck["comparison_levels"], c_spark["comparison_levels"]):
            # m, u, labels, TF settings untouched; only the SQL is respelled
            assert {k: v for k, v in l_duck.items() if k != "sql_condition"} == {
                k: v for k, v in l_spark.items() if k != "sql_condition"}
            sql = l_spark["sql_condition"]
            assert not any(f"{name}(" in sql.lower() for name in SPARK_SPECIFIC), sql
            if sql != "ELSE":
                sqlglot.parse_one(sql, read="spark")
    for rule in spark["blocking_rules_to_generate_predictions"]:
        assert rule["sql_dialect"] == "spark"
        sqlglot.parse_one(rule["blocking_rule"], read="spark")


def test_engine_backend_is_checked(tmp_path: Path) -> None:
    text = (Path(load_config().source)).read_text(encoding="utf-8")
    assert 'backend = "duckdb"' in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('backend = "duckdb"', 'backend = "hadoop"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[engine\] backend must be one of duckdb, spark"):
        load_config(bad)


def test_spark_backend_refuses_a_state(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duckdb backend only"):
        run(example_input_path(), tmp_path / "out", state_path=tmp_path / "state.duckdb",
            backend="spark")


def _linkage(*args: str, block_pyspark: bool = False) -> subprocess.CompletedProcess:
    block = "sys.modules['pyspark'] = None; " if block_pyspark else ""
    code = f"import sys; {block}from linkage.cli import main; sys.argv = ['linkage', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=300)


def test_cli_backend_errors_are_user_errors(tmp_path: Path) -> None:
    stateful = _linkage("run", "--example", "--out", str(tmp_path / "a"), "--backend", "spark",
                        "--state", str(tmp_path / "s.duckdb"))
    assert stateful.returncode == 1
    assert stateful.stderr.strip() == (
        "Error: the nightly state (--state) runs on the duckdb backend only")
    no_pyspark = _linkage("run", "--example", "--out", str(tmp_path / "b"), "--backend", "spark",
                          block_pyspark=True)
    assert no_pyspark.returncode == 1
    assert "needs pyspark and Java 17: pip install 'linkage[spark]'" in no_pyspark.stderr
    assert "Traceback" not in no_pyspark.stderr
    assert not (tmp_path / "b" / "clusters.csv").exists()


# ---- with Spark ---------------------------------------------------------------------------


def _outputs(folder: Path) -> dict[str, Any]:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    for timing in ("stage_seconds", "peak_memory_mb", "stage_peak_mb", "run_at", "as_of"):
        summary.pop(timing, None)
    # The blocking guard is DuckDB's (it bounds DuckDB's memory); Spark reports none.
    summary.get("guards", {}).pop("blocking", None)
    return {
        **{name: (folder / name).read_text(encoding="utf-8")
           for name in ("clusters.csv", "decisions.csv", "rejects.csv")},
        "summary.json": summary,
    }


def _differences(duck: str, spark: str) -> list[str]:
    a, b = duck.splitlines(), spark.splitlines()
    only_a, only_b = set(a) - set(b), set(b) - set(a)
    return [f"duckdb: {x}" for x in a if x in only_a] + [f"spark:  {y}" for y in b if y in only_b]


NEWBORN_HOUSEHOLDS = Path(__file__).parent / "fixtures" / "newborn_households.csv"


@pytest.fixture(scope="module")
def synth_300(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 generated persons, and four households (from generator3) where a newborn's
    placeholder archive (王敏的孩子, 男婴) and the named child's archive score below the
    review threshold: the newborn rule joins them, so both backends must keep the pair.
    And 24 villagers under a doctor's number, which both must count over the whole
    population (not per Spark batch) and leave out as evidence."""
    folder = tmp_path_factory.mktemp("synth300")
    generate_population(300, 3, folder)
    path = folder / "archives.csv"
    extra = NEWBORN_HOUSEHOLDS.read_text(encoding="utf-8").splitlines()[1:]
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(extra) + "\n")
    rows = read_csv(path) + clinic_rows(24)
    return write_archives(path, rows)


@needs_spark
@pytest.mark.slow
@pytest.mark.parametrize("source", ["example", "synth_300"])
def test_spark_run_equals_duckdb_run(source: str, spark: Any, tmp_path: Path,
                                     request: pytest.FixtureRequest) -> None:
    path = example_input_path() if source == "example" else request.getfixturevalue(source)
    run(path, tmp_path / "duckdb", backend="duckdb", show_progress=False)
    run(path, tmp_path / "spark", backend="spark", show_progress=False)  # the active session
    duck, on_spark = _outputs(tmp_path / "duckdb"), _outputs(tmp_path / "spark")
    for name in ("clusters.csv", "decisions.csv", "rejects.csv"):
        assert duck[name] == on_spark[name], "\n".join([name, *_differences(duck[name], on_spark[name])])
    assert duck["summary.json"] == on_spark["summary.json"]
    assert duck["decisions.csv"].count("\n") > 5  # the population has merges to compare
    if source == "synth_300":  # the newborn pairs were kept and joined (see the fixture)
        assert duck["decisions.csv"].count("name=新生儿占位") >= 4
        assert on_spark["summary.json"]["guards"]["shared_phones"]["phones"] == 1


@needs_spark
def test_spark_forms_of_duckdb_functions_agree(spark: Any) -> None:
    """hamming and Jaro-Winkler ≥ 0.88 (the two levels needing a Spark form) give DuckDB's
    verdicts on every pair of a few hundred pinyin given names and of mistyped IDs."""
    from splink.backends.spark import SparkAPI

    from linkage.spark.dialect import to_spark_sql
    from linkage.standardise.name import name_pinyin

    SparkAPI(spark_session=spark, break_lineage_method="persist")  # registers jaro_winkler

    names_file = Path(example_input_path()).parents[1] / "synth_given_names.csv"
    lines = [x for x in names_file.read_text(encoding="utf-8").splitlines() if not x.startswith("#")]
    given = sorted({name_pinyin("王" + row["text"]).given_py
                    for row in list(csv.DictReader(lines))[:250]} - {""})
    ids = ["62080219800101001X", "62080219800101010X", "62080219800110001X", "62080219800101001Y",
           "620802198001010012", "26080219800101001X"]
    pairs = [(a, b) for a in given for b in given] + [(a, b) for a in ids for b in ids]
    sql = {
        "jw": "jaro_winkler_similarity(a_l, a_r) >= 0.88",
        "h1": "hamming(a_l, a_r) <= 1",
        "h2": "hamming(a_l, a_r) = 2",
    }
    table = pa.table({"a_l": [a for a, _ in pairs], "a_r": [b for _, b in pairs]})
    con = duckdb.connect()
    con.register("p", table)
    ham = "CASE WHEN length(a_l) = length(a_r) THEN {} END"
    duck = con.execute(
        f"SELECT a_l, a_r, {sql['jw']}, {ham.format(sql['h1'])}, {ham.format(sql['h2'])} "
        "FROM p").fetchall()
    frame = spark.createDataFrame(table)
    frame.createOrReplaceTempView("p")
    got = spark.sql(
        f"SELECT a_l, a_r, {to_spark_sql(sql['jw'])}, {to_spark_sql(sql['h1'])}, "
        f"{to_spark_sql(sql['h2'])} FROM p").toArrow()
    on_spark = set(zip(*(column.to_pylist() for column in got.columns)))
    assert len(given) > 100 and len(on_spark) == len(duck)
    assert [r for r in duck if r not in on_spark] == []


@needs_spark
def test_a_local_session_gets_more_heap_than_sparks_default(spark: Any) -> None:
    """Spark's 1g default heap once ran short in a broadcast join on 300 archives."""
    expected = os.environ.get("SPARK_DRIVER_MEMORY", "2g")
    assert spark.conf.get("spark.driver.memory") == expected
    heap_mb = spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory() / 2**20
    assert heap_mb > 1024 or "SPARK_DRIVER_MEMORY" in os.environ
