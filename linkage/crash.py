"""Test hook: die like a killed process at a named point, so tests can prove every kill
point leaves the state and the output folder consistent.

A no-op unless the environment variable LINKAGE_TEST_CRASH_AT names the point.  It lives
at the bottom of the package because the steps that call it (publication, the state
commit) sit below the runs.
"""

from __future__ import annotations

import logging
import os

CRASH_ENV = "LINKAGE_TEST_CRASH_AT"


def crash_point(stage: str) -> None:
    """Exit at once with 137 (as after kill -9) if LINKAGE_TEST_CRASH_AT == ``stage``."""
    if os.environ.get(CRASH_ENV) == stage:
        logging.shutdown()
        os._exit(137)
