"""Reviewers' standing decisions as the engine consumes them: must-links and cannot-links.

The review store (linkage.review.store) keeps the full, append-only history; this is the
current verdict per pair, the only thing clustering needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HumanDecisions:
    must_links: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    cannot_links: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    # The reviewer's note on a standing verdict (a < b), for decisions.csv's note column.
    notes: Mapping[tuple[str, str], str] = field(default_factory=dict, compare=False)

    @staticmethod
    def from_verdicts(verdicts: dict[tuple[str, str], str],
                      notes: Mapping[tuple[str, str], str] | None = None) -> "HumanDecisions":
        """``{(a, b): 'same' | 'different'}`` with a < b -> the two link sets."""
        same = frozenset(pair for pair, verdict in verdicts.items() if verdict == "same")
        different = frozenset(pair for pair, verdict in verdicts.items() if verdict == "different")
        return HumanDecisions(same, different, dict(notes or {}))

    def decided(self, a: str, b: str) -> bool:
        pair = (a, b) if a < b else (b, a)
        return pair in self.must_links or pair in self.cannot_links
