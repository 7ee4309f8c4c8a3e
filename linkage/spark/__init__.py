"""The Spark backend: the same pipeline as linkage.pipeline, run through Splink's SparkAPI.

    read (driver, the same reader) → standardise (Spark, mapInArrow over the same Python
    references) → score (Splink SparkAPI, the model's own levels spelled for Spark) →
    pairs at or above the review threshold collected → cluster, decide, write (driver,
    the same code on DuckDB)

Modules:
    dialect.py      the model JSON and blocking rules transpiled from DuckDB to Spark SQL
    session.py      the Spark session: the active one, or a local one
    standardise.py  raw rows → model input columns on the executors
    run.py          the run itself (``run_spark``), called by linkage.pipeline.run
    submit.py       the application file for spark-submit (README "Spark")

pyspark is an optional extra (``pip install 'linkage[spark]'``, Java 17): the modules here
that touch Spark import it, and linkage.pipeline imports them only when the Spark backend
is asked for (dialect.py needs only sqlglot).  The nightly state (``--state``) stays
DuckDB-only.
"""
