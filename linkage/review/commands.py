"""``linkage review``: the interactive session and its scriptable twins.

    linkage review --run DIR [--reviewer R] [--county C] [--township T] [--order uncertain|size]
                   [--blind] [--reveal]
    linkage review list   --run DIR [--county C] [--township T] [--status ..] [--format table|csv]
    linkage review decide --run DIR A B same|different [--note TEXT] [--reviewer R]
    linkage review export --run DIR --out decisions.csv [--history]
    linkage review import --run DIR decisions.csv [--reviewer R]
    linkage review stats  --run DIR [--format table|csv]
    linkage review audit  --run DIR [--since DATE] [--reviewer R] [--format table|csv]

Each command parses options, makes one library call and prints.  Library errors
(:class:`linkage.errors.LinkageError`) become ``Error: ...`` with exit code 1.  Nothing
printed names a person: archive numbers, counts and masked identifiers only (the session
screen shows names, and unmasked identifiers only with ``--reveal``, which is audited).
"""

from __future__ import annotations

import csv
import functools
import getpass
import io
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from linkage.errors import LinkageError, ReviewError
from linkage.review import triage
from linkage.csvsafe import neutralise
from linkage.outputs import write_bytes_atomic
from linkage.review.mask import mask_id, mask_name
from linkage.review.screen import run_terminal, terminal_keys
from linkage.review.session import Session
from linkage.review.stats import agreement_by_band, agreement_by_sight
from linkage.review.store import (
    ORDERS, QueueFilter, ReviewStore, ordered_pair, settle_run_folder, store_path,
)

F = TypeVar("F", bound=Callable[..., Any])

LIST_COLUMNS = (
    "archive_id_l", "archive_id_r", "match_probability", "match_weight", "cluster_size",
    "county_l", "county_r", "township_l", "township_r", "name_l", "name_r", "id_l", "id_r",
    "reason", "claimed_by", "status", "triage",
)
EXPORT_COLUMNS = (
    "archive_id_l", "archive_id_r", "verdict", "reviewer", "decided_at", "match_probability",
    "match_weight", "note", "decision_id",
)
HISTORY_COLUMNS = (
    "decision_id", "archive_id_l", "archive_id_r", "verdict", "reviewer", "decided_at",
    "match_probability", "match_weight", "note", "source", "supersedes",
)


def _user_errors(func: F) -> F:
    """Library errors -> ``Error: ...`` and exit code 1 (the CLI's job, not the library's)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LinkageError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def _run_dir(ctx: click.Context, run_dir: Path | None) -> Path:
    run_dir = run_dir or (ctx.obj or {}).get("run_dir")
    if run_dir is None:
        raise click.UsageError("--run DIR is required (the output folder of `linkage run`)")
    if not Path(run_dir).is_dir():
        raise ReviewError(f"run folder not found: {run_dir}")
    settle_run_folder(run_dir)
    return Path(run_dir)


def _open(run_dir: Path, create: bool = False) -> ReviewStore:
    path = store_path(run_dir)
    if not path.exists() and not create:
        raise ReviewError(f"no review store in {run_dir} (run `linkage run ... --out {run_dir}` first)")
    return ReviewStore(path, create=create)


def _reviewer(ctx: click.Context, reviewer: str | None) -> str:
    return reviewer or (ctx.obj or {}).get("reviewer") or getpass.getuser()


def _run_archives(run_dir: Path) -> set[str] | None:
    path = run_dir / "clusters.csv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["archive_id"] for row in csv.DictReader(handle)}


def _console() -> Console:
    stdout = sys.stdout
    return Console(file=stdout, width=None if stdout.isatty() else 120, highlight=False)


def _csv_text(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else neutralise(v) for v in row] for row in rows)
    return buffer.getvalue()


run_option = click.option(
    "--run", "run_dir", type=click.Path(file_okay=False, path_type=Path),
    help="Output folder of `linkage run` (holds review.db).",
)
reviewer_option = click.option("--reviewer", help="Who decides (default: the OS user).")
county_option = click.option("--county", multiple=True, help="Only pairs touching this county code (repeatable).")
township_option = click.option("--township", multiple=True, help="Only pairs touching this 9-digit township code (repeatable).")
order_option = click.option(
    "--order", type=click.Choice(ORDERS), default="uncertain", show_default=True,
    help="uncertain: closest to p=0.5 first; size: largest cluster at stake first.",
)


@click.group("review", invoke_without_command=True)
@run_option
@reviewer_option
@county_option
@township_option
@order_option
@click.option("--blind", is_flag=True, help="Hide the engine's score and evidence.")
@click.option("--reveal", is_flag=True, help="Show unmasked ID numbers and phones (audited).")
@click.pass_context
@_user_errors
def review_group(ctx: click.Context, run_dir: Path | None, reviewer: str | None,
                 county: tuple[str, ...], township: tuple[str, ...], order: str,
                 blind: bool, reveal: bool) -> None:
    """Review uncertain pairs: s same · d different · k skip · u undo · n note ·
    ? help · q quit; arrows scroll the evidence.  Pairs of one household come
    together: s, then e.g. "1,3 same; 2 different".  Decisions are saved as they
    are made; a session resumes where the queue was left.

    Exit codes: 0 ok, 1 a user error (no review store, unknown archive, bad
    option or file), 2 an internal error.

    Example:

    \b
        linkage review --run out/ --county 620802 --order size
        linkage review audit --run out/ --since 2026-01-01
    """
    ctx.ensure_object(dict)
    ctx.obj.update(run_dir=run_dir, reviewer=reviewer)
    if ctx.invoked_subcommand is not None:
        return
    run_dir = _run_dir(ctx, run_dir)
    with _open(run_dir) as store:
        session = Session(
            store, _reviewer(ctx, reviewer),
            queue_filter=QueueFilter(tuple(county), tuple(township), order),
            reveal=reveal, blind=blind,
        )
        run_terminal(session, _console(), terminal_keys())


@review_group.command("list")
@run_option
@county_option
@township_option
@order_option
@click.option("--status", type=click.Choice(["open", "decided", "stale", "all"]), default="open",
              show_default=True, help="Which queue pairs to list.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@click.pass_context
@_user_errors
def list_command(ctx: click.Context, run_dir: Path | None, county: tuple[str, ...],
                 township: tuple[str, ...], order: str, status: str, fmt: str) -> None:
    """List queued pairs with masked identifiers, in review order.

    Example:

    \b
        linkage review list --run out/ --county 620802 --format csv > queue.csv
    """
    run_dir = _run_dir(ctx, run_dir)
    with _open(run_dir) as store:
        items = store.list_queue(QueueFilter(tuple(county), tuple(township), order), status)
    rows = []
    for item in items:
        left, right = item.side("l"), item.side("r")
        rows.append((
            item.archive_id_l, item.archive_id_r, item.match_probability, item.match_weight,
            item.cluster_size, item.county_l, item.county_r, item.township_l, item.township_r,
            mask_name(left["name"]) or "-", mask_name(right["name"]) or "-",
            mask_id(left["id_number"]) or "-", mask_id(right["id_number"]) or "-",
            item.reason, item.claimed_by, item.status, item.triage,
        ))
    if fmt == "csv":
        click.echo(_csv_text(LIST_COLUMNS, rows), nl=False)
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("pair", "p", "size", "county", "names", "IDs", "reason"):
        table.add_column(column)
    for r in rows:
        p = "" if r[2] is None else f"{r[2]:.4f}"
        county_text = r[5] if r[5] == r[6] else f"{r[5]} / {r[6]}"
        table.add_row(f"{r[0]} / {r[1]}", p, str(r[4]), county_text or "", f"{r[9]} / {r[10]}",
                      f"{r[11]} / {r[12]}", r[13])
    console = _console()
    console.print(table)
    console.print(f"{len(rows)} pairs ({status})")


@review_group.command("decide")
@run_option
@click.argument("archive_a")
@click.argument("archive_b")
@click.argument("verdict", type=click.Choice(["same", "different"]))
@click.option("--note", default="", help="Why (kept with the decision).")
@reviewer_option
@click.pass_context
@_user_errors
def decide_command(ctx: click.Context, run_dir: Path | None, archive_a: str, archive_b: str,
                   verdict: str, note: str, reviewer: str | None) -> None:
    """Record one verdict on a pair of archives (any pair of the run, queued or not).

    Example:

    \b
        linkage review decide --run out/ --note "twins" \\
            62080200100100001 62080200100100002 different
    """
    run_dir = _run_dir(ctx, run_dir)
    pair = ordered_pair(archive_a, archive_b)
    with _open(run_dir, create=True) as store:
        known = _run_archives(run_dir)
        if known is None:
            known = store.known_archives()
        unknown = [a for a in pair if a not in known]
        if unknown:
            raise ReviewError(f"archive {unknown[0]} is not in this run")
        before = store.standing().get(pair)
        decision = store.decide(pair, verdict, _reviewer(ctx, reviewer), note=note, source="cli")
        number = store.decision_number(decision.decision_id)
        before_number = store.decision_number(before.decision_id) if before is not None else 0
    text = f"recorded #{number}: {pair[0]} / {pair[1]} {verdict} ({decision.reviewer})"
    if before is not None:
        text += f", replacing #{before_number} ({before.verdict}, {before.reviewer})"
    click.echo(text)


@review_group.command("export")
@run_option
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV to write (owner-readable only).")
@click.option("--history", is_flag=True, help="Every row of the history, not just standing verdicts.")
@reviewer_option
@click.pass_context
@_user_errors
def export_command(ctx: click.Context, run_dir: Path | None, out_path: Path, history: bool,
                   reviewer: str | None) -> None:
    """Write standing verdicts (archive_id_l, archive_id_r, verdict, ...) to a CSV, the input
    of `linkage review import` and `linkage train --labels`.

    Formula-leading text (= + - @) gets a leading apostrophe, so a spreadsheet shows
    it as text.

    Example:

        linkage review export --run out/ --out decisions.csv
    """
    run_dir = _run_dir(ctx, run_dir)
    with _open(run_dir) as store:
        if history:
            header, rows = HISTORY_COLUMNS, [
                (d.decision_id, d.archive_id_l, d.archive_id_r, d.verdict, d.reviewer, d.decided_at,
                 d.match_probability, d.match_weight, d.note, d.source, d.supersedes)
                for d in store.history()
            ]
        else:
            header, rows = EXPORT_COLUMNS, [
                (d.archive_id_l, d.archive_id_r, d.verdict, d.reviewer, d.decided_at,
                 d.match_probability, d.match_weight, d.note, d.decision_id)
                for d in store.standing().values()
            ]
        write_bytes_atomic(out_path, _csv_text(header, rows).encode("utf-8"))
        store.log_access(_reviewer(ctx, reviewer), "export")
    click.echo(f"{len(rows)} {'history rows' if history else 'decisions'} -> {out_path}")


@review_group.command("import")
@run_option
@click.argument("csv_path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@reviewer_option
@click.pass_context
@_user_errors
def import_command(ctx: click.Context, run_dir: Path | None, csv_path: Path, reviewer: str | None) -> None:
    """Record verdicts from a CSV (archive_id_l, archive_id_r, verdict[, reviewer, note]),
    all or nothing: a bad row (a verdict other than same/different/skip/undone, an archive
    not in this run) fails the whole file.  Rows that already stand unchanged are skipped.

    Example:

        linkage review import --run out/ decisions.csv
    """
    run_dir = _run_dir(ctx, run_dir)
    if not csv_path.is_file():
        raise ReviewError(f"file not found: {csv_path}")
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"archive_id_l", "archive_id_r", "verdict"} - set(reader.fieldnames or ())
        if missing:
            raise ReviewError(f"{csv_path}: missing columns {', '.join(sorted(missing))}")
        rows = list(reader)
    with _open(run_dir, create=True) as store:
        known = _run_archives(run_dir)
        if known is None:
            known = store.known_archives()
        try:
            result = store.import_decisions(rows, _reviewer(ctx, reviewer), known)
        except ReviewError as exc:
            raise ReviewError(f"{csv_path}: {exc}; nothing imported") from None
    click.echo(f"{result.recorded} recorded, {result.unchanged} unchanged, "
               f"{result.ignored} ignored (not same/different)")


@review_group.command("stats")
@run_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@click.pass_context
@_user_errors
def stats_command(ctx: click.Context, run_dir: Path | None, fmt: str) -> None:
    """How often reviewers agreed with the engine, by the engine's score when they decided
    ("agreed": same where p >= 0.5, different where p < 0.5); blind against sighted
    decisions; and the queue by reason and class (open pairs, verdicts so far).

    Example:

        linkage review stats --run out/
    """
    run_dir = _run_dir(ctx, run_dir)
    with _open(run_dir) as store:
        standing = store.standing()
        bands = agreement_by_band(standing)
        sights = agreement_by_sight(standing)
        classes = store.composition()
        history = len(store.history())
    if fmt == "csv":
        rows: list[tuple[Any, ...]] = [
            ("band", b.band, b.decisions, "", b.same, b.different, b.agreed,
             "" if b.agreement is None else f"{b.agreement:.3f}") for b in bands]
        rows += [("sight", s.sight, s.decisions, "", "", "", s.agreed,
                  "" if s.agreement is None else f"{s.agreement:.3f}") for s in sights]
        rows += [("queue", f"{c.reason} | {triage.label(c.triage)}", c.same + c.different, c.open,
                  c.same, c.different, "", "") for c in classes]
        click.echo(_csv_text(("table", "group", "decisions", "open", "same", "different", "agreed",
                              "agreement"), rows), nl=False)
        return
    console = _console()
    table = Table(show_header=True, header_style="bold", title="agreement with the engine")
    for column in ("engine score", "decisions", "same", "different", "agreed", "agreement"):
        table.add_column(column, justify="right")
    for b in bands:
        table.add_row(b.band, str(b.decisions), str(b.same), str(b.different), str(b.agreed),
                      "" if b.agreement is None else f"{b.agreement:.0%}")
    table.add_section()
    for s in sights:
        table.add_row(s.sight, str(s.decisions), "", "", str(s.agreed),
                      "" if s.agreement is None else f"{s.agreement:.0%}")
    console.print(table)
    queue = Table(show_header=True, header_style="bold", title="queue by reason and class")
    for column, justify in (("reason", "left"), ("class", "left"), ("open", "right"),
                            ("same", "right"), ("different", "right")):
        queue.add_column(column, justify=justify)  # type: ignore[arg-type]
    for c in classes:
        late = " (queued last)" if c.rank else ""
        queue.add_row(c.reason or "-", triage.label(c.triage) + late, str(c.open), str(c.same),
                      str(c.different))
    console.print(queue)
    total = sum(b.decisions for b in bands)
    console.print(f"{total} standing decisions; {history} rows of history")


AUDIT_COLUMNS = ("at", "reviewer", "action", "archive_id_l", "archive_id_r", "detail")


def _since(value: str | None) -> str | None:
    """--since: a date (YYYY-MM-DD) or a UTC date and time; compared with the stored UTC text."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ReviewError(f"--since {value!r}: expected a date such as 2026-01-31") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


@review_group.command("audit")
@run_option
@click.option("--since", help="Only events from this date (YYYY-MM-DD, UTC) on.")
@reviewer_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@click.pass_context
@_user_errors
def audit_command(ctx: click.Context, run_dir: Path | None, since: str | None,
                  reviewer: str | None, fmt: str) -> None:
    """Who revealed, exported, imported and decided what, and when (UTC), oldest
    first.  Archive numbers only: never names, ID numbers, phones or notes.

    Example:

        linkage review audit --run out/ --since 2026-01-01 --reviewer wang.li
    """
    run_dir = _run_dir(ctx, run_dir)
    with _open(run_dir) as store:
        events = store.audit_events(_since(since), reviewer)
    rows = [(e.at, e.reviewer, e.action, e.archive_id_l, e.archive_id_r, e.detail) for e in events]
    if fmt == "csv":
        click.echo(_csv_text(AUDIT_COLUMNS, rows), nl=False)
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("when (UTC)", "reviewer", "action", "pair", "detail"):
        table.add_column(column)
    for at, who, action, a, b, detail in rows:
        table.add_row(at[:19].replace("T", " "), who, action, f"{a} / {b}" if a else "-", detail)
    console = _console()
    console.print(table)
    console.print(f"{len(rows)} events")


def main() -> None:
    """``python -m linkage.review``: the review group on its own."""
    review_group.main(prog_name="linkage review")


if __name__ == "__main__":
    main()
