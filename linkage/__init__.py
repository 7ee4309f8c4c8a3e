"""linkage: probabilistic record linkage for Chinese resident health archives.

The public entry points are :func:`linkage.pipeline.run` (a stateless run, or with a state
the nightly run) and the ``linkage`` command line (:mod:`linkage.cli`), a thin layer over the
library.

Module map, in layers that only point down (tests/test_structure.py holds it):

base: what every layer speaks
    errors.py          every error the library raises on purpose (one tree)
    schema.py          column contracts; config.py settings from configs/*.toml
    contracts.py       FEATURES_TABLE, DECISION_COLUMNS, RunSummary, LinkResult
    connection.py      the DuckDB connection, and ``registered`` for in-memory tables
    outputs.py         atomic, owner-only files, a run's set published as one
    crash.py, file_lock.py, csvsafe.py, csv_records.py, progress.py, shipped.py,
    code_signature.py, human.py (reviewers' verdicts as links), divisions.py (area codes)

steps: each takes the connection and returns the table it made
    ingest.py          read the export (UTF-8/GB18030), reject unusable rows
    standardise/       raw fields -> comparable features (Python reference + SQL twin)
    prepare.py         read -> standardise -> model input
    model/             comparisons, settings, scoring (Splink), training, learned verdicts
    blocking_guard.py  skip blocking rules that would explode
    resolve.py         cluster and decide: candidate pairs, guards, edges, rows
    cluster.py         constrained clustering (pure); decide.py guards and survivors (pure)
    newborn.py         the one named archive a newborn placeholder can belong to
    review_cap.py, review_items.py, summary.py (output files and per-area counts)
    state/             the nightly state's parts (state/__init__.py has its own map)
    review/store.py    review.db: the queue runs publish into and verdicts runs read

runs
    pipeline.py        the stateless run, and ``run`` that picks stateless / nightly / Spark
    state/nightly.py   the nightly run; state/unmerge.py ``linkage unmerge``
    spark/run.py       the stateless run with standardise and score on Spark
    exams/run.py       the fabricated-exams run

interfaces
    cli.py, explain.py, review/ (session, screen, commands), report/, bench/, synth/
"""

__version__ = "0.1.0"
