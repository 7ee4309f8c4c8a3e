"""The ``[exams]`` section of the config, validated: which six indicators, window, thresholds,
plausible ranges and unit mix-ups.

Kept apart from linkage.config so `linkage run` never needs it: the section is checked only
when exams are read, and a missing key names the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

from linkage.config import Config, parse_columns
from linkage.errors import ConfigError

# Every indicator the exam table may carry (README "Fabricated exam data").
INDICATORS: tuple[str, ...] = (
    "height", "weight", "waist", "sbp_left", "dbp_left", "sbp_right", "dbp_right", "pulse", "glucose",
)
ID_COLUMNS: tuple[str, ...] = ("exam_id", "archive_id", "exam_date", "region_code", "institution", "doctor")
EXAM_COLUMNS: tuple[str, ...] = ID_COLUMNS + INDICATORS
REQUIRED_EXAM_COLUMNS: tuple[str, ...] = ("exam_id", "archive_id", "exam_date", "region_code")
WINDOWS: tuple[str, ...] = ("year", "half", "quarter", "month", "all")
PRESSURES: tuple[str, ...] = ("systolic", "diastolic")


@dataclass(frozen=True)
class Range:
    """Plausible values of one indicator, and units it is mistakenly typed in."""

    low: float
    high: float
    # (unit name, factor to this indicator's unit): a value outside the range whose product
    # with a factor lands inside it was typed in that unit (1.65 m for 165 cm).
    mixups: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ExamSettings:
    columns: dict[str, tuple[str, ...]]
    six: tuple[str, ...]
    min_identical: int
    window: str
    joint: tuple[tuple[str, str], ...]
    evidence_threshold: float
    copied_min_identical: int
    max_listed_exam_ids: int
    gap_pressures: tuple[str, ...]
    gap_flag_mmhg: float
    gap_remeasure_mmhg: float
    ranges: dict[str, Range]

    @property
    def subsets(self) -> tuple[tuple[str, ...], ...]:
        """The indicator subsets of size ``min_identical``: 15 for 4 of 6.  Two exams agreeing
        on at least that many indicators share at least one subset exactly (blocking keys)."""
        return tuple(combinations(self.six, self.min_identical))


def _get(section: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, source: str) -> Any:
    if key not in section:
        raise ConfigError(f"{source}: [{where}] needs key '{key}'")
    value = section[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind):
        name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ConfigError(f"{source}: [{where}] {key} must be a {name}")
    return value


def exam_settings(config: Config) -> ExamSettings:
    """Validate ``config.exams``; a ConfigError names the key at fault."""
    raw, source = config.exams, config.source
    if not raw:
        raise ConfigError(f"{source}: missing section [exams]")
    columns = parse_columns(raw.get("columns", {}), EXAM_COLUMNS, source, "exams.columns")
    six = tuple(_get(raw, "six_indicators", list, "exams", source))
    unknown = [i for i in six if i not in INDICATORS]
    if unknown or len(set(six)) != len(six) or len(six) < 2:
        raise ConfigError(f"{source}: [exams] six_indicators must name distinct indicators of "
                          f"{', '.join(INDICATORS)}")
    min_identical = _get(raw, "min_identical", int, "exams", source)
    if not 1 <= min_identical <= len(six):
        raise ConfigError(f"{source}: [exams] min_identical must be between 1 and {len(six)}")
    window = _get(raw, "window", str, "exams", source)
    if window not in WINDOWS:
        raise ConfigError(f"{source}: [exams] window must be one of {', '.join(WINDOWS)}")
    joint = tuple(tuple(p) for p in raw.get("joint", []))
    if any(len(p) != 2 or not set(p) <= set(six) for p in joint):
        raise ConfigError(f"{source}: [exams] joint must list pairs of the six indicators")
    gap_pressures = tuple(_get(raw, "gap_pressures", list, "exams", source))
    if not gap_pressures or not set(gap_pressures) <= set(PRESSURES):
        raise ConfigError(f"{source}: [exams] gap_pressures must list systolic and/or diastolic")
    flag = _get(raw, "gap_flag_mmhg", float, "exams", source)
    remeasure = _get(raw, "gap_remeasure_mmhg", float, "exams", source)
    if not 0 < flag <= remeasure:
        raise ConfigError(f"{source}: [exams] need 0 < gap_flag_mmhg <= gap_remeasure_mmhg")
    copied = _get(raw, "copied_min_identical", int, "exams", source)
    if not 1 <= copied <= len(six):
        raise ConfigError(f"{source}: [exams] copied_min_identical must be between 1 and {len(six)}")
    listed = _get(raw, "max_listed_exam_ids", int, "exams", source)
    if listed < 1:
        raise ConfigError(f"{source}: [exams] max_listed_exam_ids must be at least 1")
    ranges_raw = raw.get("plausible", {})
    mixups_raw = raw.get("unit_mixups", {})
    ranges: dict[str, Range] = {}
    for indicator in INDICATORS:
        bounds = ranges_raw.get(indicator)
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
                or bounds[0] >= bounds[1]):
            raise ConfigError(f"{source}: [exams.plausible] {indicator} must be [low, high]")
        mixups = []
        for entry in mixups_raw.get(indicator, []):
            if (not isinstance(entry, dict) or not isinstance(entry.get("unit"), str)
                    or not isinstance(entry.get("factor"), (int, float))):
                raise ConfigError(f"{source}: [exams.unit_mixups] {indicator} entries need unit and factor")
            mixups.append((entry["unit"], float(entry["factor"])))
        ranges[indicator] = Range(float(bounds[0]), float(bounds[1]), tuple(mixups))
    return ExamSettings(
        columns=columns, six=six, min_identical=min_identical, window=window,
        joint=joint,  # type: ignore[arg-type]
        evidence_threshold=_get(raw, "evidence_threshold", float, "exams", source),
        copied_min_identical=copied, max_listed_exam_ids=listed, gap_pressures=gap_pressures, gap_flag_mmhg=flag,
        gap_remeasure_mmhg=remeasure, ranges=ranges,
    )
