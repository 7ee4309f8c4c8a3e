"""Every error the library raises on purpose.

Callers catch :class:`LinkageError`; the CLI turns it into ``Error: ...`` and exit code 1.
Anything else escaping the library is a bug and exits 2.  Messages never carry PII: they
name files, row numbers, column names and archive numbers, never names, IDs or phones.

    LinkageError
    ├── InputError          bad input the user can fix (missing file/columns, encoding, empty)
    │   └── SchemaError     required columns missing after the header mapping
    ├── ConfigError         a configs/*.toml that cannot be used
    ├── ModelError          a model JSON that cannot be loaded or does not fit the data
    ├── StateError          the durable state file is missing, locked or inconsistent
    ├── ReviewError         a review action that cannot be carried out (unknown pair, …)
    └── BenchError          a benchmark that cannot run as asked (linkage.bench.runner)
"""

from __future__ import annotations


class LinkageError(Exception):
    """Base class: an expected failure with a message fit for the user."""


class InputError(LinkageError):
    """The input table cannot be read as resident archives."""


class SchemaError(InputError):
    """Required columns are missing after the header mapping."""


class ConfigError(LinkageError):
    """A configuration file is missing a key or holds a value of the wrong kind."""


class ModelError(LinkageError):
    """A trained model cannot be loaded or used."""


class StateError(LinkageError):
    """The durable state cannot be opened or is inconsistent."""


class ReviewError(LinkageError):
    """A reviewer action that cannot be carried out."""
