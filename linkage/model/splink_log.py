"""Splink's repeated warnings, summarised instead of dumped.

Training runs several EM passes and a predict over the labelled pairs; Splink warns about
the same thing (a level not observed, a probability out of range) once per pass, so one
fact filled the terminal.  Inside :func:`summarised`, each distinct message passes once and
its repeats are counted; the counts are returned for the training report.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class _Once(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = record.getMessage()[:200]
        self.seen[key] += 1
        return self.seen[key] == 1


@contextmanager
def summarised(logger_name: str = "splink") -> Iterator[Counter[str]]:
    """Let each distinct warning of ``logger_name`` (and its children) through once."""
    once = _Once()
    handlers = []
    for name in [logger_name] + [n for n in logging.root.manager.loggerDict if n.startswith(logger_name + ".")]:
        logger = logging.getLogger(name)
        logger.addFilter(once)
        handlers.append(logger)
    try:
        yield once.seen
    finally:
        for logger in handlers:
            logger.removeFilter(once)
