"""The Spark session a run uses: the caller's, or a local one.

Under ``spark-submit`` (or in a notebook) a session is already active and is used as it
is; its master, cores and shuffle partitions are the cluster's business.  Otherwise a local
session is started (``local[*]``), with Splink's similarity jar, which provides the
``jaro_winkler`` function the name comparison needs on Spark.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

from pyspark.sql import SparkSession
from splink.backends.spark import similarity_jar_location

from linkage.errors import ConfigError

# Heap of a local session's JVM (driver and executor in one); small beside the machines a
# regional platform runs on, twice Spark's own default.
_LOCAL_DRIVER_MEMORY = "2g"


def spark_session(master: str | None = None, shuffle_partitions: int | None = None) -> SparkSession:
    """The active session; under spark-submit, the one it configured; else a new local one
    on ``master`` (default ``local[*]``).

    A local session runs its Python workers on this interpreter (the one linkage is
    installed in, unless PYSPARK_PYTHON says otherwise), spills into a private temporary
    folder removed at exit, keeps the UI and adaptive query execution off, and shuffles into
    few partitions (default: two per core), since Spark's 200 would cost more than the work
    on one machine.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if master is None and os.environ.get("PYSPARK_GATEWAY_PORT"):
        # spark-submit (or the pyspark shell) started the JVM with its own master and
        # settings: take them as they are
        return SparkSession.builder.appName("linkage").getOrCreate()
    master = master or "local[*]"
    # pyspark starts its Python workers with $PYSPARK_PYTHON, else whatever "python3" is
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Shuffle and cache files hold personal data: in a folder only this user can read (0700).
    scratch = tempfile.mkdtemp(prefix="linkage-spark-")
    atexit.register(shutil.rmtree, scratch, True)
    builder = (
        SparkSession.builder.master(master)
        .appName("linkage")
        .config("spark.jars", similarity_jar_location())
        .config("spark.local.dir", scratch)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # The local JVM is driver and executor at once; Spark's 1g default left a broadcast
        # join short of heap once in CI (300 archives). SPARK_DRIVER_MEMORY still wins.
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", _LOCAL_DRIVER_MEMORY))
        # Splink runs dozens of small queries: on one machine, re-planning each stage
        # adaptively cost more than it saved (10k archives on local[1]: score 66 s -> 37 s)
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions or _default_partitions(master)))
    )
    try:
        return builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: no Java, or a broken one
        raise ConfigError(
            "the spark backend could not start a local Spark session; it needs Java 17 "
            f"(JAVA_HOME or java on PATH) ({exc.__class__.__name__})"
        ) from None


def _default_partitions(master: str) -> int:
    inside = master[len("local["):-1] if master.startswith("local[") else ""
    cores = int(inside) if inside.isdigit() else (os.cpu_count() or 2)
    return max(2, 2 * cores)
