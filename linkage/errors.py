"""Every error the library raises on purpose.

Callers catch :class:`LinkageError`; the CLI turns it into ``Error: ...`` and exit code 1.
Anything else escaping the library is a bug and exits 2.  Messages never carry PII: they
name files, row numbers, column names and archive numbers, never names, IDs or phones.

    LinkageError
    ├── InputError          bad input the user can fix (missing file/columns, encoding, empty)
    │   └── SchemaError     required columns missing after the header mapping
    │   └── TooManyRejects  more rows rejected than [input] max_rejected_share: nothing published
    ├── OutputError         --out is not a writable folder, or another run is writing to it
    ├── ConfigError         a configs/*.toml that cannot be used
    ├── ModelError          a model JSON that cannot be loaded or does not fit the data
    ├── StateError          the durable state file is missing, locked or inconsistent
    │   └── PublishPending  a night committed, but its outputs wait for the next run (exit 2)
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


class TooManyRejects(InputError):
    """So many rows were rejected that the export itself must be broken: nothing published."""


class OutputError(LinkageError):
    """The output folder cannot be used: not a folder, not writable, or in use by another run."""


class ConfigError(LinkageError):
    """A configuration file is missing a key or holds a value of the wrong kind."""


class ModelError(LinkageError):
    """A trained model cannot be loaded or used."""


class StateError(LinkageError):
    """The durable state cannot be opened or is inconsistent."""


class PublishPending(StateError):
    """A nightly run committed to the state but could not publish its outputs.

    Said truthfully, because the platform must not think the night never happened: the
    outputs wait, complete, in a pending folder that the next run publishes first."""

    def __init__(self, run_id: int, pending: object) -> None:
        super().__init__(
            f"run {run_id} is committed in the state, but its outputs could not be published; "
            f"they wait, complete, in {pending} and the next run publishes them first")
        self.run_id = run_id


class ReviewError(LinkageError):
    """A reviewer action that cannot be carried out."""
