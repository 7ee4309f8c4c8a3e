"""Plain Splink 5, pre-trained: the yardstick the scale benchmark times the engine against.

What a capable team would build from Splink's documentation in a day (issue 12): generic
cleaning (trim, full-width digits, ID and phone digits only, dates parsed, no pinyin, no
Chinese-specific rules), three blocking rules, six comparisons (Jaro-Winkler, Levenshtein,
exact), a model trained once beforehand (:func:`train_plain`, outside any timing), then the
timed run (:func:`run_plain`): read, clean, predict, cluster at 0.95 and write both output
files (clusters.csv and pairs.csv), as the engine writes clusters.csv and decisions.csv.

Unlike ``baselines.splink_plain`` (blocks on birth date alone, trains inside its timing: >15
min at 1M archives), this is the comparison the engine's speed target is stated against.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import duckdb

from linkage.progress import StageTimer

MATCH_THRESHOLD = 0.95
PREDICT_THRESHOLD = 0.5
U_MAX_PAIRS = 1e6
DETERMINISTIC_RECALL = 0.7
CLEAN_TABLE = "plain_archives"

_FULL_WIDTH = "０１２３４５６７８９ｘＸ×"
_ASCII = "0123456789XXX"


def clean_sql(source: str) -> str:
    """Generic cleaning of the input columns (one SELECT over the raw CSV relation)."""
    def digits(col: str, keep: str = "0-9") -> str:
        return (f"nullif(regexp_replace(upper(translate(trim(coalesce({col}, '')), '{_FULL_WIDTH}', "
                f"'{_ASCII}')), '[^{keep}]', '', 'g'), '')")
    date = ("coalesce(try_strptime(trim(birth_date), '%Y-%m-%d'), try_strptime(trim(birth_date), '%Y%m%d'), "
            "try_strptime(trim(birth_date), '%Y/%m/%d'), try_strptime(trim(birth_date), '%Y.%m.%d'))::DATE")
    return f"""
        SELECT archive_id,
               nullif(regexp_replace(coalesce(name, ''), '\\s+', '', 'g'), '') AS name,
               nullif(trim(sex), '') AS sex,
               {date} AS birth_date,
               year({date}) AS birth_year,
               {digits('id_number', '0-9X')} AS id_number,
               left(nullif(trim(region_code), ''), 6) AS county,
               nullif(trim(address), '') AS address,
               {digits('phone')} AS phone
        FROM {source}
    """


def settings() -> Any:
    """The plain model's settings (a SettingsCreator: printable, no database)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="archive_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("name"),
            cl.ExactMatch("birth_date"),
            cl.LevenshteinAtThresholds("id_number", [1, 2]),
            cl.ExactMatch("sex"),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("address"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name", "birth_year"),
            block_on("county", "birth_date"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _load(con: duckdb.DuckDBPyConnection, archives: Path) -> int:
    con.execute("SET lambda_syntax = 'ENABLE_SINGLE_ARROW'")  # Splink 5 on DuckDB 2.0
    con.execute("SET enable_progress_bar = false")
    raw = f"read_csv('{str(archives).replace(chr(39), chr(39) * 2)}', header = true, all_varchar = true)"
    con.execute(f"CREATE OR REPLACE TABLE {CLEAN_TABLE} AS {clean_sql(raw)}")
    return int(con.execute(f"SELECT count(*) FROM {CLEAN_TABLE}").fetchall()[0][0])


def train_plain(archives: Path, model_out: Path, seed: int = 7) -> None:
    """Train the plain model on ``archives`` and save it (done before the timed run)."""
    from splink import DuckDBAPI, Linker, block_on

    con = duckdb.connect()
    try:
        _load(con, archives)
        linker = Linker(DuckDBAPI(connection=con).register(CLEAN_TABLE), settings(),
                        log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("id_number"), block_on("name", "birth_date")], recall=DETERMINISTIC_RECALL)
        linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
        # EM on the prediction blocks (birth date alone makes 87M pairs at 1M archives).
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("county", "birth_date"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("name", "birth_year"))
        linker.misc.save_model_to_json(str(model_out), overwrite=True)
    finally:
        con.close()


def run_plain(archives: Path, model: Path, out_dir: Path, timer: StageTimer) -> dict[str, Any]:
    """The timed run: read + clean, predict, cluster, write clusters.csv and pairs.csv.

    ``timer`` is a :class:`linkage.progress.StageTimer` (stage seconds and peaks)."""
    from splink import DuckDBAPI, Linker

    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        with timer.stage("read"):
            archives_count = _load(con, archives)
        linker = Linker(DuckDBAPI(connection=con).register(CLEAN_TABLE), str(model),
                        log_level=logging.WARNING)
        with timer.stage("score"):
            predictions = linker.inference.predict(threshold_match_probability=PREDICT_THRESHOLD)
            pairs = int(con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0])
        with timer.stage("cluster"):
            clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=MATCH_THRESHOLD)
        with timer.stage("write"):
            for name, query in (
                ("clusters.csv", f"SELECT archive_id, cluster_id FROM {clustered.physical_name} ORDER BY archive_id"),
                ("pairs.csv", f"SELECT archive_id_l, archive_id_r, match_probability FROM "
                              f"{predictions.physical_name} ORDER BY archive_id_l, archive_id_r"),
            ):
                target = str(out_dir / name).replace("'", "''")
                con.execute(f"COPY ({query}) TO '{target}' (HEADER, DELIMITER ',')")
        return {"archives": archives_count, "pairs_above_predict_threshold": pairs}
    finally:
        con.close()


def count_pairs(archives: Path) -> dict[str, int]:
    """Pairs each plain blocking rule proposes (for the report; not part of the timed run)."""
    from splink import DuckDBAPI, Linker

    con = duckdb.connect()
    try:
        _load(con, archives)
        linker = Linker(DuckDBAPI(connection=con).register(CLEAN_TABLE), settings(),
                        log_level=logging.WARNING)
        records = linker.blocking_analysis.count_comparisons_from_blocking_rules(record_sample_proportion=1.0)
        return {r["blocking_rule"]: int(r["marginal_comparison_count"]) for r in records}
    finally:
        con.close()


def main(argv: list[str]) -> int:
    """Child-process entry of benchmarks/scale.py (its memory and CPU are the run's alone):

        python -m linkage.bench.plain_splink train ARCHIVES MODEL FACTS.json
        python -m linkage.bench.plain_splink run ARCHIVES MODEL OUT_DIR FACTS.json
    """
    if argv[:1] == ["train"] and len(argv) == 4:
        train_plain(Path(argv[1]), Path(argv[2]))
        facts: dict[str, Any] = {"pairs_by_rule": count_pairs(Path(argv[1]))}
        Path(argv[3]).write_text(json.dumps(facts, indent=1) + "\n", encoding="utf-8")
        return 0
    if argv[:1] == ["run"] and len(argv) == 5:
        timer = StageTimer(show=False)
        facts = run_plain(Path(argv[1]), Path(argv[2]), Path(argv[3]), timer)
        facts.update(stage_seconds=timer.seconds, stage_peak_mb=timer.stage_peak_mb)
        Path(argv[4]).write_text(json.dumps(facts, indent=1) + "\n", encoding="utf-8")
        return 0
    print(main.__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
