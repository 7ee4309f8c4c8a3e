"""Settings read from configs/*.toml: column mapping, thresholds, blocking, training.

Thresholds live in configuration, never as literals in code, so a platform can tune them
from the evidence `linkage review stats` produces without a release.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from linkage import shipped
from linkage.errors import ConfigError
from linkage.schema import INPUT_COLUMNS


@dataclass(frozen=True)
class BlockingRule:
    """A named SQL condition on ``l.``/``r.`` feature columns that proposes candidate pairs."""

    name: str
    sql: str


@dataclass(frozen=True)
class Thresholds:
    auto_match_probability: float
    auto_match_probability_without_id: float
    review_match_probability: float
    max_auto_cluster_size: int


@dataclass(frozen=True)
class Training:
    u_max_pairs: int
    seed: int
    em_blocking_rules: tuple[str, ...]
    deterministic_rules: tuple[str, ...]
    deterministic_recall: float


@dataclass(frozen=True)
class Nightly:
    """Safety limits of the stateful nightly run."""

    # More of last night's archives missing than this share looks like a cut-short export,
    # not residents leaving: the run refuses unless told the archives really left.
    max_vanished_share: float = 0.05


@dataclass(frozen=True)
class InputLimits:
    """How the reader treats broken rows (README "Input"); defaults fit any real export."""

    # A field longer than this is rejected with its row: no name, ID or address is that
    # long, and standardising megabytes of text would stall the run.
    max_field_chars: int = 1000
    # A quoted field may hold line breaks (an address typed on two lines), but a quote that
    # runs on for more lines than this is an unbalanced quote: that row is rejected alone.
    max_record_lines: int = 20
    # Rejecting more than this share of rows means the export itself is broken: the run
    # publishes nothing and exits 1 instead of linking a fraction of the county.
    max_rejected_share: float = 0.10


BACKENDS: tuple[str, ...] = ("duckdb", "spark")


@dataclass(frozen=True)
class Engine:
    """Where scoring runs: "duckdb" (one machine, the default) or "spark" (Splink's SparkAPI
    on the active Spark session, else a local one; needs the [spark] extra and Java)."""

    backend: str = "duckdb"
    # DuckDB's memory limit: beyond it DuckDB spills to disk instead of growing.  1500MB
    # keeps a 1.07M-archive run at 1.9 GB peak RSS for 29 s (3.6 GB and 28 s unlimited;
    # outputs identical), which fits a 4 GB machine.  Raise it on a big machine.
    memory_limit: str = "1500MB"
    # DuckDB threads; 0 = one per core.
    threads: int = 0


@dataclass(frozen=True)
class Limits:
    """Guards against blow-ups (linkage.blocking_guard, linkage.review_cap).

    A birth date typed on every row, or one resident exported 500 times, makes blocks of
    thousands of archives whose pairs grow with the square of their size; these limits
    keep such a run bounded and say so, instead of filling the disk for hours.  The
    defaults never trigger on realistic populations.
    """

    # A block (archives sharing one rule's key) estimated above this many pairs is left
    # out of that rule; its archives are still compared by the other rules.
    max_block_pairs: int = 1_000_000
    # The pairs all rules may make together: per archive of the run (a realistic
    # population makes fewer than 10), and never more than max_total_pairs.
    max_pairs_per_archive: int = 50
    max_total_pairs: int = 50_000_000
    # Review rows listed per group of archives linked by review pairs or clusters.
    max_review_rows_per_group: int = 100
    # A phone number on more archives than this is a clinic's or doctor's, not a household's:
    # it is no evidence (linkage.model.shared_phones).
    max_archives_per_phone: int = 20


@dataclass(frozen=True)
class Config:
    columns: dict[str, tuple[str, ...]]
    thresholds: Thresholds
    blocking_rules: tuple[BlockingRule, ...]
    training: Training
    source: str = field(default="<default>")
    nightly: Nightly = field(default_factory=Nightly)
    input: InputLimits = field(default_factory=InputLimits)
    # The [exams] section as written; linkage.exams.settings validates it when exams run,
    # so a config without it still serves `linkage run`.
    exams: dict[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    engine: Engine = field(default_factory=Engine)


REPO_ROOT = shipped.CHECKOUT_ROOT  # the checkout, for tests and benchmarks


def default_config_path() -> Path:
    """configs/default.toml as shipped (the wheel's copy, or the checkout's file)."""
    return shipped.default_config_path()


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate a TOML config; ``None`` means the shipped default."""
    config_path = Path(path) if path is not None else default_config_path()
    if not config_path.is_file():
        raise ConfigError(f"config file not found: {config_path}")
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: not valid TOML ({exc})") from None
    return _parse(raw, str(config_path))


def _section(raw: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    value = raw.get(name)
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: missing section [{name}]")
    return value


# How a config error names the type a key wants (TOML's words, not Python's).
_KIND_NAMES: dict[type, str] = {int: "an integer", float: "a number", str: "a string",
                                bool: "true or false", list: "a list", dict: "a table"}


def _get(section: dict[str, Any], key: str, kind: type, source: str, where: str) -> Any:
    if key not in section:
        raise ConfigError(f"{source}: [{where}] needs key '{key}'")
    value = section[key]
    if kind is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, kind):
        raise ConfigError(f"{source}: [{where}] {key} must be {_KIND_NAMES.get(kind, kind.__name__)}")
    return value


def parse_columns(section: dict[str, Any], columns: tuple[str, ...], source: str,
                  where: str) -> dict[str, tuple[str, ...]]:
    """Header aliases for each of ``columns``; the column's own name always matches."""
    out: dict[str, tuple[str, ...]] = {}
    for column in columns:
        aliases = section.get(column, [column])
        if isinstance(aliases, str):
            aliases = [aliases]
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ConfigError(f"{source}: [{where}] {column} must be a list of header names")
        out[column] = tuple(dict.fromkeys([column, *aliases]))
    return out


def _parse(raw: dict[str, Any], source: str) -> Config:
    columns = parse_columns(_section(raw, "columns", source), INPUT_COLUMNS, source, "columns")

    th = _section(raw, "thresholds", source)
    thresholds = Thresholds(
        auto_match_probability=_get(th, "auto_match_probability", float, source, "thresholds"),
        auto_match_probability_without_id=_get(
            th, "auto_match_probability_without_id", float, source, "thresholds"),
        review_match_probability=_get(th, "review_match_probability", float, source, "thresholds"),
        max_auto_cluster_size=_get(th, "max_auto_cluster_size", int, source, "thresholds"),
    )
    if not 0 < thresholds.review_match_probability <= thresholds.auto_match_probability < 1:
        raise ConfigError(
            f"{source}: thresholds must satisfy 0 < review_match_probability "
            "<= auto_match_probability < 1"
        )

    blocking = _section(raw, "blocking", source)
    rules_raw = _get(blocking, "rules", list, source, "blocking")
    rules = []
    for i, rule in enumerate(rules_raw):
        if not isinstance(rule, dict) or not {"name", "sql"} <= rule.keys():
            raise ConfigError(f"{source}: [blocking] rules[{i}] needs 'name' and 'sql'")
        rules.append(BlockingRule(name=str(rule["name"]), sql=str(rule["sql"])))
    if not rules:
        raise ConfigError(f"{source}: [blocking] rules must not be empty")
    if len({r.name for r in rules}) != len(rules):
        raise ConfigError(f"{source}: [blocking] rule names must be unique")

    tr = _section(raw, "training", source)
    training = Training(
        u_max_pairs=_get(tr, "u_max_pairs", int, source, "training"),
        seed=_get(tr, "seed", int, source, "training"),
        em_blocking_rules=tuple(_get(tr, "em_blocking_rules", list, source, "training")),
        deterministic_rules=tuple(_get(tr, "deterministic_rules", list, source, "training")),
        deterministic_recall=_get(tr, "deterministic_recall", float, source, "training"),
    )
    nightly = Nightly()
    if "nightly" in raw:
        share = _get(_section(raw, "nightly", source), "max_vanished_share", float, source, "nightly")
        if not 0 <= share <= 1:
            raise ConfigError(f"{source}: [nightly] max_vanished_share must be between 0 and 1")
        nightly = Nightly(max_vanished_share=share)
    limits = InputLimits()
    if "input" in raw:
        section = _section(raw, "input", source)
        limits = InputLimits(
            max_field_chars=_get(section, "max_field_chars", int, source, "input"),
            max_record_lines=_get(section, "max_record_lines", int, source, "input"),
            max_rejected_share=_get(section, "max_rejected_share", float, source, "input"),
        )
        if limits.max_field_chars < 1 or limits.max_record_lines < 1:
            raise ConfigError(f"{source}: [input] max_field_chars and max_record_lines must be >= 1")
        if not 0 <= limits.max_rejected_share <= 1:
            raise ConfigError(f"{source}: [input] max_rejected_share must be between 0 and 1")
    exams = raw.get("exams", {})
    if not isinstance(exams, dict):
        raise ConfigError(f"{source}: [exams] must be a table")
    engine = _engine(raw, source)
    return Config(columns, thresholds, tuple(rules), training, source, nightly, input=limits,
                  exams=exams, limits=_limits(raw, source), engine=engine)


_MEMORY_RE = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def _engine(raw: dict[str, Any], source: str) -> Engine:
    """[engine]: backend, memory_limit, threads; every key optional."""
    section = raw.get("engine", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: [engine] must be a table")
    default = Engine()
    backend = _get(section, "backend", str, source, "engine") if "backend" in section else default.backend
    if backend not in BACKENDS:
        raise ConfigError(f"{source}: [engine] backend must be one of {', '.join(BACKENDS)}")
    memory = (_get(section, "memory_limit", str, source, "engine")
              if "memory_limit" in section else default.memory_limit)
    if not _MEMORY_RE.fullmatch(memory.strip()):
        raise ConfigError(f"{source}: [engine] memory_limit must be a size such as \"1500MB\" or \"8GB\"")
    threads = _get(section, "threads", int, source, "engine") if "threads" in section else default.threads
    if isinstance(threads, bool) or threads < 0:
        raise ConfigError(f"{source}: [engine] threads must be 0 (one per core) or more")
    return Engine(backend=backend, memory_limit=memory.strip(), threads=threads)


def _limits(raw: dict[str, Any], source: str) -> Limits:
    """[limits]: every key optional (the defaults are safe), each a positive integer."""
    if "limits" not in raw:
        return Limits()
    section = _section(raw, "limits", source)
    defaults = Limits()
    values: dict[str, int] = {}
    for key in defaults.__dataclass_fields__:
        if key not in section:
            continue
        value = _get(section, key, int, source, "limits")
        if isinstance(value, bool) or value < 1:
            raise ConfigError(f"{source}: [limits] {key} must be a positive integer")
        values[key] = value
    unknown = sorted(set(section) - set(defaults.__dataclass_fields__))
    if unknown:
        raise ConfigError(f"{source}: [limits] has unknown keys: {', '.join(unknown)}")
    return Limits(**values)
