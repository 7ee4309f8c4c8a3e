"""``linkage explain A B --run OUT``: why two archives are, or are not, one resident.

For any pair — decided, in review, or never compared — this shows the evidence as a
waterfall (the prior, then each comparison's level and bits, with the running total, and
the final probability), the verdict that decided it (a reviewer's, a decision row's, or
what the engine's guards say now) and the cluster each archive sits in.

The pair is scored on demand with the run's own model, config and input (named with its
hash in summary.json), against the whole population's term frequencies, exactly as the run
scored it; so a pair no blocking rule proposed gets a score too.  Such a pair is said to be
never compared (the blocking rules, and the run's blocking guard, are applied to it again):
its score is what the model thinks now, not a status the run gave it.  Identifiers are masked as
in review (linkage.review.mask); names are shown, as a reviewer sees them.
"""

from __future__ import annotations

import csv
import html
import logging
import sqlite3
import textwrap
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkage.blocking_guard import guard_blocking
from linkage.config import Config, load_config
from linkage.connection import connect_for
from linkage.decide import born_before_created, clearly_apart, pair_guard
from linkage.divisions import division_name
from linkage.errors import InputError
from linkage.model.settings import level_codes, level_labels, load_model_dict
from linkage.outputs import run_files, write_bytes_atomic
from linkage.prepare import prepare_model_input
from linkage.progress import StageTimer
from linkage.report import charts
from linkage.report.figures import read_json
from linkage.resolve import archive_facts
from linkage.review.mask import id_relation, mask_id, mask_phone
from linkage.shipped import default_model_path
from linkage.state.scoring import Scorer
from linkage.summary import file_sha256

FIELD_LABELS = {"name": "姓名 name", "id": "身份证号 ID", "dob": "出生日期 birth date",
                "sex": "性别 sex", "location": "住址·电话·地区 location"}
SIDE_FIELDS = (("name", "姓名 name"), ("sex", "性别 sex"), ("birth_date", "出生日期 birth"),
               ("id_number", "身份证号 ID"), ("id_status", "号码检验 ID check"),
               ("region", "管理地区 region"),
               ("phone", "电话 phone"), ("created_date", "建档日期 created"),
               ("last_service_date", "末次服务 last"))


@dataclass
class Explanation:
    """Everything ``linkage explain`` shows about one pair (identifiers already masked)."""

    a: str
    b: str
    sides: dict[str, dict[str, str]]
    steps: list[dict[str, Any]]  # label, field, level, bits, start, end
    probability: float
    weight: float
    verdict: str
    decided_by: str
    rows: list[dict[str, str]] = field(default_factory=list)  # decisions naming the pair
    clusters: dict[str, tuple[str, int]] = field(default_factory=dict)  # archive -> (person, size)
    notes: list[str] = field(default_factory=list)


def _summary(run_dir: Path) -> dict[str, Any]:
    return read_json(run_files(run_dir) / "summary.json")


def _decision_rows(run_dir: Path, a: str, b: str) -> list[dict[str, str]]:
    """Rows of decisions.csv (and decision_log.csv of a nightly run) naming both archives."""
    rows, seen = [], set()
    for name in ("decision_log.csv", "decisions.csv"):
        path = run_files(run_dir) / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if {row.get("archive_id"), row.get("survivor_archive_id")} == {a, b}:
                    key = row.get("decision_id") or tuple(row.values())
                    if key not in seen:
                        seen.add(key)
                        rows.append({**row, "file": name})
    return rows


def _persons_review_row(run_dir: Path, a: str, b: str) -> tuple[str, str] | None:
    """The review row of decisions.csv that asks about the persons of ``a`` and ``b`` on
    another pair of their archives (linkage.review_fold keeps one row per pair of persons)."""
    folder = run_files(run_dir)
    if not (folder / "clusters.csv").is_file() or not (folder / "decisions.csv").is_file():
        return None
    with (folder / "clusters.csv").open(encoding="utf-8", newline="") as fh:
        person = {row["archive_id"]: row["person_id"] for row in csv.DictReader(fh)}
    wanted = {person.get(a, a), person.get(b, b)}
    with (folder / "decisions.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            x, y = row.get("archive_id", ""), row.get("survivor_archive_id", "")
            if row.get("action") == "review" and {person.get(x, x), person.get(y, y)} == wanted:
                return x, y
    return None


def _clusters(run_dir: Path, a: str, b: str) -> dict[str, tuple[str, int]]:
    path = run_files(run_dir) / "clusters.csv"
    if not path.is_file():
        return {}
    person: dict[str, str] = {}
    sizes: dict[str, int] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            sizes[row["person_id"]] = sizes.get(row["person_id"], 0) + 1
            if row["archive_id"] in (a, b):
                person[row["archive_id"]] = row["person_id"]
    return {x: (p, sizes[p]) for x, p in person.items()}


def _reviewer_verdict(run_dir: Path, a: str, b: str) -> str:
    db = run_dir / "review.db"
    if not db.is_file():
        return ""
    left, right = sorted((a, b))
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT d.verdict, d.reviewer, d.decided_at FROM current c JOIN decisions d USING (decision_id) "
            "WHERE c.archive_id_l = ? AND c.archive_id_r = ?", (left, right)).fetchone()
    except sqlite3.Error:
        return ""
    finally:
        con.close()
    if not row:
        return ""
    return f"reviewer {row[1]} said {row[0]} ({row[2]})"


def _missing(con: Any, archive: str, input_name: str, rejects: str) -> str:
    rows = con.execute(f"SELECT row, field, reason FROM {rejects} WHERE archive_id = ? "
                       "ORDER BY row LIMIT 1", [archive]).fetchall()
    if rows:
        return (f"archive {archive} was rejected from {input_name} (row {rows[0][0]}, "
                f"field {rows[0][1]}: {rows[0][2]})")
    return f"archive {archive} is not in this run's input {input_name}: unknown archive"


@dataclass(frozen=True)
class Proposed:
    """The config's blocking rules that propose the pair: as the run blocked (``guarded``:
    oversized blocks left out, linkage.blocking_guard) and without the guard."""

    guarded: tuple[str, ...]
    unguarded: tuple[str, ...]


def _rules_proposing(con: Any, config: Config) -> tuple[str, ...]:
    return tuple(rule.name for rule in config.blocking_rules if con.execute(
        f"SELECT count(*) FROM explain_pair l JOIN explain_pair r "
        f"ON ({rule.sql}) AND l.archive_id < r.archive_id").fetchone()[0])


def _proposing_rules(con: Any, population: str, config: Config, blocks_dropped: int) -> Proposed:
    """Which blocking rules propose the pair in ``explain_pair``, the run's way: when the run
    dropped blocks (``blocks_dropped``, from its summary.json), the guard is re-run on the
    whole population (its dropped blocks depend on everyone), quietly (the run already
    reported them).  A pair no rule proposes was never scored by the run: what its score
    would say about review or linking never happened."""
    unguarded = _rules_proposing(con, config)
    if not unguarded or not blocks_dropped:
        return Proposed(unguarded, unguarded)
    guard_log = logging.getLogger(guard_blocking.__module__)
    level = guard_log.level
    guard_log.setLevel(logging.ERROR)
    try:
        guarded_config, _report = guard_blocking(con, population, config)
    finally:
        guard_log.setLevel(level)
    return Proposed(_rules_proposing(con, guarded_config), unguarded)


def explain_pair(run_dir: Path | str, a: str, b: str) -> Explanation:
    """Score and explain the pair (a, b) of the run in ``run_dir``."""
    run_dir = Path(run_dir)
    a, b = a.strip(), b.strip()
    if a == b:
        raise InputError(f"A and B are the same archive ({a}): give two archive numbers")
    summary = _summary(run_dir)
    facts = summary.get("input") or {}
    input_path = Path(facts.get("path") or summary.get("input_file") or "")
    if not str(input_path) or not input_path.is_file():
        raise InputError(f"{run_dir}/summary.json: the run's input {input_path} is no longer there; "
                         "the pair cannot be scored")
    notes = []
    if facts.get("sha256") and file_sha256(input_path) != facts["sha256"]:
        notes.append(f"{input_path.name} changed since the run (sha256 differs): scored on the file as it is now")
    config = load_config((summary.get("config_file") or {}).get("path") or None)
    model = load_model_dict((summary.get("model_file") or {}).get("path") or summary.get("model")
                            or default_model_path())
    con = connect_for(config)
    try:
        prepared = prepare_model_input(con, input_path, config, StageTimer(show=False))
        model_input, raw = prepared.model_input.name, prepared.ingested.raw.name
        present = {r[0] for r in con.execute(
            f"SELECT archive_id FROM {model_input} WHERE archive_id IN (?, ?)", [a, b]).fetchall()}
        missing = [_missing(con, x, input_path.name, prepared.ingested.rejects.name)
                   for x in (a, b) if x not in present]
        if missing:
            raise InputError("; ".join(missing))
        con.execute(f"CREATE TABLE explain_pair AS SELECT * FROM {model_input} WHERE archive_id IN (?, ?)",
                    [a, b])
        dropped = ((summary.get("guards") or {}).get("blocking") or {}).get("blocks_dropped", 1)
        proposed = _proposing_rules(con, model_input, config, int(dropped or 0))
        scorer = Scorer(con, model, config, model_input)
        scorer.unblocked("explain_pair", "explain_scored")
        cursor = con.execute("SELECT * FROM explain_scored")
        row = dict(zip([c[0] for c in cursor.description], cursor.fetchone()))
        prior = scorer.prior_weight
        scorer.close()
        sides = _sides(con, raw, model_input, a, b)
        arch = archive_facts(con, model_input, [a, b])
    finally:
        con.close()

    labels, codes = level_labels(model), level_codes(model)
    steps, total = [{"label": "先验 prior", "field": "prior", "level": "", "bits": prior,
                     "start": 0.0, "end": prior}], prior
    level_of = {}
    for name in scorer.names:
        gamma = int(row[f"gamma_{name}"])
        bits = float(row[f"w_{name}"] or 0.0) if gamma != -1 else 0.0
        level = labels[name].get(gamma, str(gamma))
        level_of[name] = codes[name].get(gamma, "")
        steps.append({"label": f"{FIELD_LABELS.get(name, name)}: {level}", "field": name, "level": level,
                      "bits": bits, "start": total, "end": total + bits})
        total += bits
    p, w = float(row["match_probability"]), float(row["match_weight"])

    th = config.thresholds
    rows = _decision_rows(run_dir, a, b)
    clusters = _clusters(run_dir, a, b)
    reviewer = _reviewer_verdict(run_dir, a, b)
    same_person = len(clusters) == 2 and clusters[a][0] == clusters[b][0]
    if reviewer:
        verdict, by = reviewer, "reviewer"
    elif rows:
        last = rows[-1]
        verdict = f"{last['action']} ({last['file']}, decided by {last.get('decided_by') or 'engine'})"
        if last.get("reason"):
            verdict += f": {last['reason']}"
        by = last.get("decided_by") or "engine"
    else:
        notes.insert(0, "not in decisions.csv: scored now with the run's model" if proposed.guarded
                     else "not in decisions.csv: never compared by the run; scored now with its model")
        by = "engine"
        if same_person:
            # Joined through other archives (a chain, a household that moved together, a
            # newborn's named archive): this pair alone need not pass the guards.
            verdict = "one person: joined through other archives of the cluster"
        elif (asked := _persons_review_row(run_dir, a, b)) is not None:
            verdict = "in review on another pair of the same two persons"
            notes.append(f"the review row asking it: {asked[0]} / {asked[1]}")
        elif not proposed.guarded:
            verdict = ("never compared: no blocking rule proposed this pair, so the run neither "
                       "linked nor queued it")
            if proposed.unguarded:
                verdict += (f" (rule {proposed.unguarded[0]} would have, but the blocking guard left "
                            "its block out as too large: summary.json guards)")
        elif clearly_apart(level_of):
            verdict = "two people (IDs, or names with sexes or birth dates), not queued"
        elif p < th.review_match_probability:
            verdict = f"not linked: p below the review threshold {th.review_match_probability}"
        elif p < th.auto_match_probability:
            verdict = (f"between the thresholds ({th.review_match_probability} ≤ p < "
                       f"{th.auto_match_probability}), but this run did not queue it "
                       "(no review row names it)")
        else:
            reason = pair_guard(level_of, p, th.auto_match_probability_without_id,
                                born_before_created(arch[a], arch[b]))
            verdict = (f"refused by a guard: {reason}" if reason else
                       "above the automatic threshold; joined " + ("directly or through the cluster"
                                                                   if same_person else
                                                                   "unless the clustering refused it (cluster rule)"))
    if same_person:
        notes.append(f"both archives belong to person {clusters[a][0]} ({clusters[a][1]} archives)")
    return Explanation(a, b, sides, steps, p, w, verdict, by, rows, clusters, notes)


def _sides(con: Any, raw: str, features: str, a: str, b: str) -> dict[str, dict[str, str]]:
    """Both archives' display fields, ID numbers and phones masked as in review."""
    cursor = con.execute(f"""
        SELECT r.archive_id, r.name, r.sex, r.birth_date, r.id_number, f.id_status, r.region_code,
               r.phone, r.created_date, r.last_service_date, f.county, f.township
        FROM {raw} r JOIN {features} f USING (archive_id) WHERE r.archive_id IN (?, ?)
    """, [a, b])
    columns = [c[0] for c in cursor.description]
    found = {row[0]: dict(zip(columns, row)) for row in cursor.fetchall()}
    sides = {}
    for x in (a, b):
        r = found[x]
        region = str(r["region_code"] or "")
        sides[x] = {
            "name": str(r["name"] or ""), "sex": str(r["sex"] or ""),
            "birth_date": str(r["birth_date"] or ""),
            # The check on a line of its own: beside the number it was cut at 28 columns.
            "id_number": mask_id(r["id_number"]) or "-", "id_status": str(r["id_status"] or ""),
            "region": f"{region[:9]} {division_name(region[:9]) or ''}".strip(),
            "phone": mask_phone(r["phone"]) or "-", "created_date": str(r["created_date"] or ""),
            "last_service_date": str(r["last_service_date"] or ""),
            "_id_raw_relation": "",
        }
    sides[a]["_id_raw_relation"] = id_relation(found[a]["id_number"], found[b]["id_number"])
    return sides


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """Left-aligned in ``width`` terminal columns (a Chinese character takes two)."""
    while _width(text) > width:
        text = text[:-1]
    return text + " " * (width - _width(text))


def render_text(e: Explanation) -> str:
    """The terminal form (fits 80 columns): both archives, the evidence, verdict, clusters."""
    lines = [f"pair {e.a} / {e.b}"]
    lines += [line for n in e.notes for line in textwrap.wrap(
        n, 80, initial_indent="  ", subsequent_indent="    ", break_long_words=False)]
    lines.append(_pad("", 24) + _pad(f"A {e.a}", 28) + f"B {e.b}")
    for key, label in SIDE_FIELDS:
        lines.append(_pad(label, 24) + _pad(e.sides[e.a][key], 28) + _pad(e.sides[e.b][key], 28).rstrip())
    lines.append(f"ID numbers: {e.sides[e.a]['_id_raw_relation']}")
    lines.append("")
    lines.append(_pad("evidence 证据", 44) + f"{'bits':>8}{'total':>9}")
    for s in e.steps:
        lines.append(_pad(s["label"], 44) + f"{s['bits']:>+8.2f}{s['end']:>+9.2f}")
    lines.append(f"final: weight {e.weight:+.2f} bits, probability {e.probability:.6f}")
    lines += textwrap.wrap(f"verdict: {e.verdict}", 80, subsequent_indent="  ", break_long_words=False)
    for x in (e.a, e.b):
        person = e.clusters.get(x)
        lines.append(f"cluster of {x}: " + (f"{person[0]} ({person[1]} archives)" if person else "not in clusters.csv"))
    return "\n".join(lines)


def write_html(e: Explanation, path: Path | str) -> None:
    """The explanation as one self-contained page with the waterfall chart, owner-only."""
    esc = html.escape
    rows = "".join(f"<tr><td>{esc(label)}</td><td>{esc(e.sides[e.a][k])}</td><td>{esc(e.sides[e.b][k])}</td></tr>"
                   for k, label in SIDE_FIELDS)
    steps = "".join(f"<tr><td>{esc(s['label'])}</td><td class=n>{s['bits']:+.2f}</td>"
                    f"<td class=n>{s['end']:+.2f}</td></tr>" for s in e.steps)
    clusters = "".join(f"<li>{esc(x)}: {esc(str(e.clusters[x][0]))} ({e.clusters[x][1]} 份档案)</li>"
                       for x in (e.a, e.b) if x in e.clusters)
    notes = "".join(f"<p class=note>{esc(n)}</p>" for n in e.notes)
    svg = charts.render(charts.waterfall(e.steps))
    page = (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f"<title>explain {esc(e.a)} / {esc(e.b)}</title><style>"
        "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:24px}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}"
        ".n{text-align:right}.note{color:#555}</style></head><body>"
        f"<h1>为什么：{esc(e.a)} / {esc(e.b)}</h1>{notes}"
        f"<table><tr><th></th><th>A {esc(e.a)}</th><th>B {esc(e.b)}</th></tr>{rows}</table>"
        f"<h2>证据</h2><div class=\"chart\" data-chart=\"waterfall\">{svg}</div>"
        f"<table><tr><th>项</th><th>bits</th><th>累计</th></tr>{steps}</table>"
        f"<p>最终：权重 {e.weight:+.2f} bits，概率 {e.probability:.6f}</p>"
        f"<h2>结论</h2><p>{esc(e.verdict)}</p><h2>所在人员</h2><ul>{clusters}</ul></body></html>\n")
    write_bytes_atomic(Path(path), page.encode("utf-8"))
