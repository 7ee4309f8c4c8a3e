"""What the steps hand each other and the runs hand the writers: the features table's name,
the decision columns, and the result of linking.

Why a module of its own: the stateless run, the nightly run, the state commit and the
output writer all speak these names; when they lived in pipeline.py (a run) every one of
them had to import the run, and the imports went in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The standardised archives, one row per accepted archive (linkage.standardise.table).
FEATURES_TABLE = "features"

# A decision row as the state's decision_log keeps it.
DECISION_COLUMNS = (
    "action", "archive_id", "survivor_archive_id", "from_region", "to_region",
    "match_probability", "match_weight", "evidence", "person_id", "decided_by", "reason",
    "decision_id", "supersedes",
)
# decisions.csv: the columns above, then the reviewer's note on the verdict that made a row
# (spreadsheet-safe); the state's decision_log keeps DECISION_COLUMNS only.
DECISION_CSV_COLUMNS = (*DECISION_COLUMNS, "note")


@dataclass(frozen=True)
class NamedTable:
    """A table one step made on the run's connection: its name and a line on what it holds.

    Why: one DuckDB connection is the steps' shared namespace.  A step returns what it made
    (the name is a constant of the step's own module), and the steps after it read the name
    from this value instead of importing the maker's constant, so who owns a table is
    written down where it is made.
    """

    name: str
    holds: str


@dataclass
class RunSummary:
    """What a run did, in counts and seconds; written (with per-area counts) to summary.json."""

    input_rows: int = 0
    archives: int = 0
    rejected_rows: int = 0
    encoding: str = ""
    # Accepted archives whose non-blank birth_date is no readable date (kept, date unknown).
    unreadable_birth_dates: int = 0
    pairs_compared: int = 0
    pairs_by_rule: dict[str, int] = field(default_factory=dict)
    clusters: int = 0
    persons: int = 0
    merges: int = 0
    migrations: int = 0
    review_pairs: int = 0
    human_links_applied: int = 0
    # Reviewer "same" verdicts that a "different" verdict on the same people forbade.
    human_links_refused: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    peak_memory_mb: float = 0.0
    model: str = ""
    config: str = ""
    input_file: str = ""
    guards: dict[str, Any] = field(default_factory=dict)  # linkage.blocking_guard, review_cap


@dataclass
class LinkResult:
    """In-memory result of linking, before anything is written."""

    person_of: dict[str, str]  # archives in a group of two or more; any other is alone
    decisions: list[dict[str, Any]]
    summary: RunSummary
    # The tables the writers read (a stateless run's; the nightly run names its own).
    archives: NamedTable | None = None  # the linked archives' model input
    rejects: NamedTable | None = None  # the rows refused on reading
    raw: NamedTable | None = None  # the accepted input rows as read (the review queue shows them)
