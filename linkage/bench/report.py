"""Machine facts, the scaling summary and the Markdown rendering of benchmark results.

Kept apart from the runner so the tables can be re-rendered from a results.json (and
tested) without running anything.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

import linkage
from linkage.code_signature import code_signature

SYSTEM_LABELS = {
    "linkage": "linkage (this engine)",
    "id_only": "id_only (group by valid ID)",
    "splink_plain": "splink_plain (Splink docs)",
}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


CODE_ROOT = Path(__file__).resolve().parents[2]
# The entry point whose import closure is "the code" when there is no git commit to name.
_CODE_ROOTS = ("linkage.cli",)


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), *args],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def _git_commit(root: Path = CODE_ROOT) -> str | None:
    """``git describe`` of the checkout the code runs from, or None when there is none.

    An installed wheel sits in site-packages: not a checkout, or (a venv inside some other
    repository) a checkout of another project, whose commit would be a lie.  So the
    checkout counts only when its top level is ``root`` itself.
    """
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != root.resolve():
        return None
    return _git(root, "describe", "--always", "--dirty")


def _code_signature() -> str | None:
    try:
        return code_signature(_CODE_ROOTS)[:12]
    except (OSError, SyntaxError):
        return None


def machine_facts(code_root: Path = CODE_ROOT) -> dict[str, Any]:
    """What a reader needs to compare these numbers with their own machine (and code:
    ``code_root`` is where the git commit is looked up, a parameter so tests can point it
    at a folder that is not a checkout)."""
    import duckdb

    return {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "splink": _version("splink"),
        "linkage": _version("linkage") or linkage.__version__,
        "git": _git_commit(code_root),
        "code_signature": _code_signature(),
    }


def machine_line(machine: dict[str, Any]) -> str:
    """The machine and software a table was measured with, as one sentence (scale.md,
    bound.md): what a reader compares with their own."""
    return (f"Machine: {machine['cpu']}, {machine['logical_cores']} logical cores, {machine['ram_gb']} GB RAM, "
            f"{machine['os']}; Python {machine['python']}, DuckDB {machine['duckdb']}, Splink {machine['splink']}; "
            f"code at {code_label(machine)}.")


def code_label(machine: dict[str, Any]) -> str:
    """The code a result was measured on, for a header: the git commit, or for an installed
    package (no checkout) its version and code signature; never "None" (results.json files
    written before the signature was kept render too)."""
    if machine.get("git"):
        return str(machine["git"])
    words = ["installed package, no git commit"]
    if machine.get("code_signature"):
        words.append(f"code signature {machine['code_signature']}")
    return ", ".join(words)


def _factor(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _short(archives: int) -> str:
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if archives >= size:
            return f"{archives / size:.3g}{suffix}"
    return str(archives)


def _curve(exponent: float) -> str:
    if exponent < 0.85:
        return "sub-linearly (fixed costs still weigh)"
    if exponent <= 1.15:
        return "~linearly"
    if exponent <= 1.5:
        return "a little faster than linearly"
    return f"super-linearly (~n^{exponent:.1f})"


def scaling(scenarios: list[dict[str, Any]]) -> dict[str, Any]:
    """Per system: time and memory at each size, growth factors and a one-line statement."""
    out: dict[str, Any] = {}
    names = list(dict.fromkeys(name for s in scenarios for name in s.get("systems", {})))
    for name in names:
        points = [
            {"persons": s["persons"], "archives": s["archives"],
             "seconds": s["systems"][name]["seconds"], "peak_rss_mb": s["systems"][name]["peak_rss_mb"]}
            for s in sorted(scenarios, key=lambda s: s["archives"])
            if s["systems"].get(name, {}).get("status") == "ok" and s["systems"][name].get("seconds")
        ]
        steps = []
        for a, b in zip(points, points[1:]):
            steps.append({
                "from_archives": a["archives"], "to_archives": b["archives"],
                "archives_factor": round(b["archives"] / a["archives"], 2),
                "time_factor": round(b["seconds"] / a["seconds"], 2),
                "memory_factor": round(b["peak_rss_mb"] / a["peak_rss_mb"], 2) if a["peak_rss_mb"] else None,
            })
        statement = None
        if steps:
            # The curve is judged on the largest step, where fixed costs (start-up, model
            # loading, Splink's training on samples) weigh least.
            last = steps[-1]
            exponent = math.log(last["time_factor"]) / math.log(last["archives_factor"])
            parts = ", ".join(
                f"×{_factor(st['time_factor'])} for ×{_factor(st['archives_factor'])} archives "
                f"({_short(st['from_archives'])}→{_short(st['to_archives'])})" for st in steps)
            statement = f"time grows {_curve(exponent)} (exponent {exponent:.2f} on the largest step): {parts}"
        out[name] = {"points": points, "steps": steps, "statement": statement}
    return out


# Markdown ----------------------------------------------------------------------------

def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _scores(block: dict[str, Any] | None) -> str:
    if not block:
        return "—"
    return " / ".join(_num(block.get(k)) for k in ("precision", "recall", "f1"))


def _stages(stage_seconds: dict[str, float]) -> str:
    return " · ".join(f"{k} {v:.1f}" for k, v in stage_seconds.items()) or "—"


def _system_rows(systems: dict[str, dict[str, Any]], names: list[str]) -> list[list[str]]:
    def col(fn: Any) -> list[str]:
        cells = []
        for n in names:
            s = systems[n]
            try:
                cells.append(fn(s, s.get("metrics") or {}))
            except (KeyError, TypeError):
                cells.append("—")
        return cells

    def status(s: dict[str, Any], _: dict[str, Any]) -> str:
        if s["status"] == "ok":
            return "ok"
        where = f" (stopped in {s['stopped_in']})" if s.get("stopped_in") else ""
        return f"{s['status']}: {s.get('reason') or s.get('error', '')}{where}"

    county = lambda s, m: ("—" if not m.get("target_county") else  # noqa: E731
                           f"{_pct(m['target_county']['accuracy'])} of {m['target_county']['persons']:,}")
    return [
        ["status", *col(status)],
        ["time (s)", *col(lambda s, m: _num(s.get("seconds", s.get("wall_seconds")), 1))],
        ["stages (s)", *col(lambda s, m: _stages(s.get("stage_seconds", {})))],
        ["archives / s", *col(lambda s, m: _num(s.get("archives_per_second"), 0))],
        ["peak RSS (MB)", *col(lambda s, m: _num(s.get("peak_rss_mb"), 0))],
        ["load average at start", *col(lambda s, m: _num(s.get("load_average_at_start"), 1))],
        ["pairs compared", *col(lambda s, m: _num(s.get("pairs_compared")))],
        ["pairwise precision / recall / F1", *col(lambda s, m: _scores(m.get("pairwise")))],
        ["B-cubed precision / recall / F1", *col(lambda s, m: _scores(m.get("bcubed")))],
        ["wrongly joined pairs", *col(lambda s, m: _num(m.get("wrong_pairs")))],
        ["wrongly joined pairs per 100k archives", *col(lambda s, m: _num(m.get("wrong_pairs_per_100k_archives"), 1))],
        ["clusters mixing ≥2 persons", *col(lambda s, m: _num(m.get("mixed_clusters")))],
        ["review pairs per archive", *col(lambda s, m: _num(m.get("review_pairs_per_archive"), 4))],
        ["pairwise recall counting review", *col(lambda s, m: _num(m.get("recall_with_review")))],
        ["target county right for moved persons", *col(county)],
    ]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _tag_rows(systems: dict[str, dict[str, Any]], names: list[str], key: str) -> list[list[str]]:
    tags = sorted({t for n in names for t in ((systems[n].get("metrics") or {}).get(key) or {})})
    rows = []
    for tag in tags:
        pairs = next(((systems[n].get("metrics") or {})[key][tag]["pairs"] for n in names
                      if tag in ((systems[n].get("metrics") or {}).get(key) or {})), None)
        cells = []
        for n in names:
            got = ((systems[n].get("metrics") or {}).get(key) or {}).get(tag)
            if not got:
                cells.append("—")
            elif got["with_review"] != got["auto_linked"]:
                cells.append(f"{_pct(got['recall'])} ({_pct(got['recall_with_review'])})")
            else:
                cells.append(_pct(got["recall"]))
        rows.append([tag, _num(pairs), *cells])
    return rows


def _negative_rows(systems: dict[str, dict[str, Any]], names: list[str]) -> list[list[str]]:
    key = "hard_negative_links"
    tags = sorted({t for n in names for t in ((systems[n].get("metrics") or {}).get(key) or {})})
    rows = []
    for tag in tags:
        pairs = None
        cells = []
        for n in names:
            got = ((systems[n].get("metrics") or {}).get(key) or {}).get(tag)
            pairs = pairs or (got or {}).get("pairs")
            cells.append("—" if not got else f"{got['linked']:,}")
        rows.append([tag, _num(pairs), *cells])
    return rows


def _carried(s: dict[str, Any]) -> list[str]:
    """Lines naming the systems whose results come from an earlier run of this scenario."""
    lines = [f"- {n}: kept from the run of {r.get('date')} with `{r.get('command')}`"
             for n, r in s["systems"].items() if r.get("earlier_run")]
    return [*lines, ""] if lines else []


def _scenario_md(s: dict[str, Any]) -> list[str]:
    names = list(s["systems"])
    labels = [SYSTEM_LABELS.get(n, n) for n in names]
    gen = s.get("generation") or {}
    lines = [
        f"## {s['persons']:,} persons → {s['archives']:,} archives (seed {s['seed']})",
        "",
        f"Run {s['date']} with `{s['command']}`. Generation "
        f"{'reused' if gen.get('reused') else _num(gen.get('seconds'), 1) + ' s'}.",
        "",
        *_carried(s),
        *_table(["", *labels], _system_rows(s["systems"], names)),
        "",
        "Recall by corruption kind: share of true pairs involving an archive with that tag that "
        "were linked automatically (in brackets: counting review pairs).",
        "",
        *_table(["corruption", "true pairs", *labels], _tag_rows(s["systems"], names, "recall_by_corruption")),
        "",
        "Recall by origin of the archive:",
        "",
        *_table(["origin", "true pairs", *labels], _tag_rows(s["systems"], names, "recall_by_origin")),
        "",
        "False links on hard negatives (different persons ending in one cluster; lower is better):",
        "",
        *_table(["hard negative", "pairs", *labels], _negative_rows(s["systems"], names)),
        "",
    ]
    return lines


def _scaling_md(scale: dict[str, Any], scenarios: list[dict[str, Any]]) -> list[str]:
    sizes = sorted({(s["archives"], s["persons"]) for s in scenarios})
    if len(sizes) < 2:
        return []
    header = ["system", "measure", *[f"{p:,} persons ({a:,} archives)" for a, p in sizes]]
    rows = []
    for name, info in scale.items():
        by_archives = {p["archives"]: p for p in info["points"]}
        for measure, key, digits in (("time (s)", "seconds", 1), ("peak RSS (MB)", "peak_rss_mb", 0)):
            cells = []
            for archives, _ in sizes:
                point = by_archives.get(archives)
                if point is None:
                    status = next((s["systems"].get(name, {}) for s in scenarios if s["archives"] == archives), {})
                    cells.append(status.get("status", "—") + (f" ({status['reason']})" if status.get("reason") else ""))
                else:
                    cells.append(_num(float(point[key]), digits))
            rows.append([SYSTEM_LABELS.get(name, name), measure, *cells])
    lines = ["## Scaling", "", *_table(header, rows), ""]
    for name, info in scale.items():
        if info["statement"]:
            mem = ", ".join(f"×{_factor(st['memory_factor'])}" for st in info["steps"] if st["memory_factor"])
            lines.append(f"- **{name}**: {info['statement']}; peak memory {mem}.")
    lines.append("")
    return lines


def render_markdown(results: dict[str, Any]) -> str:
    m = results.get("machine", {})
    lines = [
        "# Benchmark results",
        "",
        "Generated by `linkage bench` (see benchmarks/README.md); do not edit by hand.",
        "",
        f"Machine: {m.get('cpu')}, {m.get('logical_cores')} logical cores, {m.get('ram_gb')} GB RAM, "
        f"{m.get('os')}. Python {m.get('python')}, DuckDB {m.get('duckdb')}, Splink {m.get('splink')}, "
        f"linkage {m.get('linkage')} ({code_label(m)}).",
        "",
        "Each system runs in its own process on the same archives.csv; time is wall time of the "
        "system's own work (interpreter start excluded, and for splink_plain the benchmark's exact "
        "pair count excluded); peak RSS is the worker process's maximum resident memory; the "
        "1-minute load average when each system started shows whether the machine was busy. "
        "Pairwise metrics count pairs of archives; the engine's automatic links only unless "
        "\"counting review\" is said.",
        "",
    ]
    limits = results.get("time_limits_seconds") or {}
    if limits:
        lines += ["Time limits: " + ", ".join(f"{k} {v / 60:.0f} min" for k, v in limits.items() if v) + ".", ""]
    for s in results.get("scenarios", []):
        lines += _scenario_md(s)
    lines += _scaling_md(results.get("scaling", {}), results.get("scenarios", []))
    return "\n".join(lines).rstrip() + "\n"
