"""The application file for ``spark-submit``: ``linkage run --backend spark`` on the
session spark-submit starts (its master, executors and settings).

    spark-submit --master yarn --jars "$SPLINK_JAR" "$(python -m linkage.spark.submit)" \\
        archives.parquet --out out/

Run as a module (``python -m linkage.spark.submit``) it prints its own path, for the line
above; run by spark-submit (as a script), its arguments are those of ``linkage run``.
"""

from __future__ import annotations

import sys

from linkage.cli import main


def _submitted() -> None:
    sys.argv = ["linkage", "run", "--backend", "spark", *sys.argv[1:]]
    main()


if __name__ == "__main__":
    if __spec__ is not None:  # python -m linkage.spark.submit: say where this file is
        print(__file__)
    else:  # spark-submit runs the file as a script
        _submitted()
