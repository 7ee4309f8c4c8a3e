"""The ``linkage`` command line: a thin layer over the library.

Each command parses options, makes one library call and prints the result.  Exit codes:
0 ok, 1 a user error (bad input, missing file, bad option), 2 an internal error.
Nothing printed here contains names, ID numbers or phones.
"""

from __future__ import annotations

import getpass
import logging
import sys
import traceback
from datetime import datetime
from pathlib import Path

import click

from linkage.bench.publish import results_dir as pick_results
from linkage.bench.runner import run_benchmark
from linkage.errors import LinkageError, PublishPending
from linkage.exams import run_exams
from linkage.exams.synth import generate_exams
from linkage.explain import explain_pair, render_text, write_html
from linkage.model.report import describe_training
from linkage.pipeline import run as run_pipeline
from linkage.pipeline import train as train_pipeline
from linkage.report import build_report
from linkage.review.commands import review_group
from linkage.shipped import example_input_path
from linkage.state.unmerge import unmerge as unmerge_archive
from linkage.synth import generate_population

EXIT_USER_ERROR = 1
EXIT_INTERNAL_ERROR = 2


@click.group(invoke_without_command=True)
@click.option("--verbose", "-v", is_flag=True, help="Log stage timings to stderr.")
@click.version_option(package_name="linkage")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Deduplicate and link Chinese resident health archives (居民电子健康档案).

    Exit codes: 0 ok, 1 a user error (bad input, missing file, bad option, state
    in use by another run), 2 an internal error.

    Example:

    \b
        linkage synth --persons 2000 --seed 1 --out example/
        linkage run example/archives.csv --out out/
        linkage review --run out/ --county 620802
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())  # bare `linkage`: help on stdout, exit 0
        ctx.exit(0)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path), required=False)
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for clusters.csv, decisions.csv, rejects.csv, summary.json.")
@click.option("--example", is_flag=True,
              help="Link the example export bundled with the package instead of INPUT.")
@click.option("--model", "model_path", type=click.Path(path_type=Path),
              help="Trained model JSON (default: models/default.json).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Settings TOML (default: configs/default.toml).")
@click.option("--state", "state_path", type=click.Path(path_type=Path),
              help="Durable state (DuckDB file, created on first use): link only what changed "
                   "since the last run, keep person IDs, emit only new decisions.")
@click.option("--full", is_flag=True,
              help="With --state: re-standardise and re-score everything (a full rebuild).")
@click.option("--allow-vanished", is_flag=True,
              help="With --state: accept an export that lacks more of last night's archives "
                   "than [nightly] max_vanished_share allows (they really left).")
@click.option("--backend", type=click.Choice(["duckdb", "spark"]),
              help="Where to standardise and score (default: [engine] backend of the config). "
                   "spark: the active Spark session, else local[*]; needs linkage[spark], Java 17.")
def run(input_path: Path | None, out_dir: Path, example: bool, model_path: Path | None, config_path: Path | None,
        state_path: Path | None, full: bool, allow_vanished: bool, backend: str | None) -> None:
    """Link one table of archives: clusters, merge/migrate/review decisions, summary.

    With --state this is the nightly job: new, changed and vanished archives are found by
    archive_id and content, only they are linked against everyone, person IDs stay put, and
    decisions.csv lists only decisions not emitted before (plus corrections).

    Example:

    \b
        linkage run --example --out out/example
        linkage run archives.csv --out out/ --config configs/default.toml
        linkage run archives.csv --out out/ --backend spark
        linkage run /data/export/archives.csv --out /var/lib/linkage/out \\
            --state /var/lib/linkage/state.duckdb
    """

    if example == (input_path is not None):
        raise click.UsageError("give either INPUT or --example")
    if example:
        input_path = example_input_path()
    if (full or allow_vanished) and state_path is None:
        raise click.BadParameter("--full and --allow-vanished need --state")
    summary = run_pipeline(input_path, out_dir, model_path, config_path,
                           state_path=state_path, full=full, allow_vanished=allow_vanished,
                           backend=backend)
    if state_path is not None:
        changes = summary.changes
        emitted = sum(summary.decisions_emitted.values())
        ids = summary.person_ids
        click.echo(
            f"run {summary.run_id} ({summary.mode}): {changes.get('new', 0)} new, "
            f"{changes.get('changed', 0)} changed, {changes.get('vanished', 0)} vanished of "
            f"{summary.archives} archives; person IDs {ids.get('created', 0)} created, "
            f"{ids.get('merged', 0)} merged, {ids.get('split', 0)} split, "
            f"{ids.get('retired', 0)} retired; {emitted} new decisions -> {out_dir}"
        )
    else:
        click.echo(
            f"{summary.archives} archives ({summary.rejected_rows} rejected), "
            f"{summary.pairs_compared} pairs compared: {summary.merges} merges, "
            f"{summary.migrations} migrations, {summary.review_pairs} review pairs -> {out_dir}"
        )
    if summary.human_links_refused:
        # A reviewer's "same" the engine did not apply must never vanish without a word.
        click.echo(
            f"{summary.human_links_refused} reviewer 'same' verdict(s) not applied: another "
            "verdict says the two groups hold different people (summary.json: "
            "human_links_refused); settle them with `linkage review`", err=True)


@cli.command()
@click.argument("archive_id", required=False)
@click.option("--person", "person_id", help="Dissolve this whole person instead of one archive.")
@click.option("--state", "state_path", required=True, type=click.Path(path_type=Path),
              help="The state file of the nightly run.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="The nightly run's output folder (its review store records the un-merge).")
@click.option("--reason", default="", help="Why (kept with the decision; no names or ID numbers).")
@click.option("--by", "by", help="Who un-merges (recorded; default: your login name).")
def unmerge(archive_id: str | None, person_id: str | None, state_path: Path, out_dir: Path,
            reason: str, by: str | None) -> None:
    """Separate an archive from its person for good (or dissolve a person with --person).

    The archive becomes a cannot-link with every other archive of its person; the next
    nightly run keeps them apart, gives it its own person ID and emits an `unmerge` row for
    each merge it emitted that no longer holds.

    Example:

    \b
        linkage unmerge 62080200100100006 --state state.duckdb --out out/ \\
            --reason "two people"
        linkage unmerge --person P0000012345 --state state.duckdb --out out/ \\
            --by wang.li
    """


    result = unmerge_archive(state_path, out_dir, archive_id=archive_id, person_id=person_id,
                             reason=reason, by=by or getpass.getuser())
    what = f"archive {archive_id}" if archive_id else f"{result.archives} archives"
    click.echo(
        f"un-merge {result.unmerge_id}: {what} of {result.person_id} kept apart by "
        f"{result.links} cannot-links; the next run applies it"
    )


@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--out", "model_path", metavar="MODEL", type=click.Path(path_type=Path),
              help="Where to write the trained model JSON.")
@click.option("--model", "old_model_path", type=click.Path(path_type=Path), hidden=True,
              help="Deprecated spelling of --out.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Settings TOML (default: configs/default.toml).")
@click.option("--labels", "labels_path", type=click.Path(path_type=Path),
              help="Reviewer verdicts: the run's review.db (or the run's folder), or a CSV "
                   "written by `linkage review export` (not decisions.csv).")
@click.option("--base", "base_path", type=click.Path(path_type=Path),
              help="Learn the --labels on top of this model (e.g. models/default.json), "
                   "keeping its m, u and prior, instead of training a new one.")
def train(input_path: Path, model_path: Path | None, old_model_path: Path | None,
          config_path: Path | None, labels_path: Path | None, base_path: Path | None) -> None:
    """Train a model on an export (u counted/sampled, m by EM); with --labels, also learn
    which kinds of pair (pattern, pooled pattern, held-back reason) reviewers consistently
    settle: 10 of 10 "same" joins them, 6 of 6 "different" stops queueing them.

    Example:

    \b
        linkage train /data/620802/archives.csv --out models/site.json
        linkage train /data/620802/archives.csv --labels out/review.db \\
            --out models/site.json
        linkage train /data/620802/archives.csv --labels out/review.db \\
            --base models/default.json --out models/learned.json
    """

    if old_model_path is not None:
        click.echo("Warning: --model is deprecated for train; use --out MODEL.", err=True)
        if model_path is not None and model_path != old_model_path:
            raise click.BadParameter("give --out once (--model is its old name)")
        model_path = model_path or old_model_path
    if model_path is None:
        raise click.BadParameter("--out MODEL is required")
    if base_path is not None and labels_path is None:
        raise click.BadParameter("--base is for learning verdicts on: give --labels too")
    report = train_pipeline(input_path, model_path, config_path, labels_path, base_path=base_path)
    for line in describe_training(report, model_path):
        click.echo(line)


@cli.command()
@click.option("--persons", type=click.IntRange(min=1), required=True, help="People to simulate.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for archives.csv, truth.csv, hard_negatives.csv.")
@click.option("--exams", is_flag=True,
              help="Also write exams.csv and exams_truth.csv: yearly exams of residents 65+, "
                   "with injected clones, copies and L/R gaps.")
def synth(persons: int, seed: int, out_dir: Path, exams: bool) -> None:
    """Generate a synthetic population with known truth.

    Example:

        linkage synth --persons 100000 --seed 7 --out data/100k --exams
    """

    summary = generate_population(persons, seed, out_dir)
    click.echo(f"{summary.persons} persons, {summary.archives} archives -> {out_dir}")
    if exams:

        made = generate_exams(persons, seed, out_dir)
        click.echo(f"{made.exams} exams of {made.residents_65} residents aged 65+, "
                   f"{made.template_groups} template groups -> {out_dir}")


@cli.command()
@click.argument("input_path", metavar="EXAMS", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for exam_flags.csv, exam_rejects.csv, exam_summary.json.")
@click.option("--archives-run", "archives_run", type=click.Path(path_type=Path),
              help="Output folder of `linkage run`: its clusters.csv tells which archives "
                   "are one person (their exams are not clones of each other).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Settings TOML (default: configs/default.toml, section [exams]).")
def exams(input_path: Path, out_dir: Path, archives_run: Path | None, config_path: Path | None) -> None:
    """Find fabricated elderly exams (体检数据雷同): clones, copies, L/R gaps.

    Example:

    \b
        linkage exams exams_620802.csv --out exams_out/
        linkage exams exams_6208.parquet --archives-run out/ --out exams_out/
    """

    s = run_exams(input_path, out_dir, archives_run=archives_run, config_path=config_path)
    click.echo(
        f"{s.exams} exams ({s.rows_rejected} rows, {s.values_rejected} values rejected): "
        f"{s.clone_groups} clone groups, {s.clone_exams} exams in them "
        f"({s.clone_exams_unlikely} unlikely by chance), {s.copied_from_last_year} copied "
        f"from last year, {s.lr_gaps} L/R gaps -> {out_dir}"
    )


@cli.command()
@click.option("--sizes", default=None,
              help="Comma-separated population sizes (persons) [default: 10000, a quick run; "
                   "the published tables use 10000,100000,1000000].")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed for synth.")
@click.option("--systems", default="linkage,id_only,splink_plain", show_default=True,
              help="Comma-separated systems to compare.")
@click.option("--work", "work_dir", type=click.Path(path_type=Path), default=Path("benchmarks/work"),
              show_default=True, help="Scratch folder for populations and outputs (not in git).")
@click.option("--publish", is_flag=True,
              help="Write results.json and RESULTS.md to benchmarks/results (the committed "
                   "tables) instead of WORK/results; earlier rows are kept only if measured "
                   "on this same machine.")
def bench(sizes: str | None, seed: int, systems: str, work_dir: Path, publish: bool) -> None:
    """Compare this engine with ID-only matching and plain Splink on synthetic populations.

    With no options: 10,000 persons (a minute or two), results under WORK/results; the
    committed tables in benchmarks/results change only with --publish.

    Example:

    \b
        linkage bench
        linkage bench --sizes 10000,100000 --publish
    """

    quick = sizes is None
    try:
        size_list = [int(s) for s in (sizes or "10000").split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter("sizes must be whole numbers separated by commas") from None
    results_dir = pick_results(work_dir, publish)
    run_benchmark(size_list, seed, work_dir, results_dir,
                  systems=tuple(s.strip() for s in systems.split(",") if s.strip()))
    click.echo(f"results -> {results_dir / 'RESULTS.md'}")
    if not publish:
        click.echo("Not published: add --publish to write benchmarks/results.")
    if quick:
        click.echo("This was the quick size. The published tables: linkage bench "
                   "--sizes 10000,100000,1000000 --publish (at 1M plain Splink "
                   "runs to its time limit; --systems linkage,id_only skips it).")


@cli.command()
@click.argument("run_dir", metavar="OUT", type=click.Path(path_type=Path))
@click.option("--state", "state_path", type=click.Path(path_type=Path),
              help="The nightly state: adds the burn-down, night over night.")
@click.option("--population", "population_path", type=click.Path(path_type=Path),
              help="Population CSV (区划代码,常住人口): adds 有效建档率.")
@click.option("--target", type=click.FloatRange(0, 1), default=0.9, show_default=True,
              help="Target 有效建档率 (with --population).")
@click.option("--deadline", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Duplicate-zeroing deadline, drawn on the burn-down (YYYY-MM-DD).")
@click.option("--exams", "exams", type=click.Path(path_type=Path),
              help="Folder (or file) with exam_summary.json from `linkage exams`.")
@click.option("--to", "to_dir", type=click.Path(path_type=Path),
              help="Write the report here instead of into OUT.")
def report(run_dir: Path, state_path: Path | None, population_path: Path | None, target: float,
           deadline: datetime | None, exams: Path | None, to_dir: Path | None) -> None:
    """Write report.html and 重复档案清零.xlsx for a run: per county and township.

    Example:

    \b
        linkage report out/ --state state.duckdb --deadline 2027-03-31
        linkage report out/ --population 常住人口.csv --target 0.9
    """

    files = build_report(run_dir, to=to_dir, state_path=state_path,
                         population_path=population_path, target=target,
                         deadline=deadline.date() if deadline else None, exams=exams)
    click.echo(f"{files.counties} counties, {files.townships} townships, {files.nights} nights "
               f"-> {files.html}, {files.sheet}")


@cli.command()
@click.argument("archive_a", metavar="A")
@click.argument("archive_b", metavar="B")
@click.option("--run", "run_dir", required=True, type=click.Path(path_type=Path),
              help="The run's output folder (its summary.json names input, model, config).")
@click.option("--html", "html_path", type=click.Path(path_type=Path),
              help="Also write the evidence waterfall as an HTML page here.")
def explain(archive_a: str, archive_b: str, run_dir: Path, html_path: Path | None) -> None:
    """Why two archives are (not) one resident: evidence, verdict, cluster.

    IDs and phones are masked as in review.  A pair the run did not score is scored now
    with the run's model (the input is read again); one no blocking rule proposed is said
    to be never compared.

    Example:

    \b
        linkage explain 62080210010100021 62080210010100022 --run out/
        linkage explain 62080210010100021 62082110010100007 --run out/ \\
            --html why.html
    """

    result = explain_pair(run_dir, archive_a, archive_b)
    click.echo(render_text(result))
    if html_path is not None:
        write_html(result, html_path)
        click.echo(f"-> {html_path}")


def _register_subcommands() -> None:
    """Command groups that live beside the library they drive."""

    cli.add_command(review_group, "review")


_register_subcommands()


def main() -> None:
    """Entry point: map errors to exit codes without tracebacks."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_USER_ERROR)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USER_ERROR)
    except PublishPending as exc:
        _show_traceback_if_verbose()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_INTERNAL_ERROR)
    except LinkageError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        click.echo("Interrupted: outputs were not changed.", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        _show_traceback_if_verbose()
        click.echo(
            f"Internal error ({type(exc).__name__}). Re-run with -v for the traceback and "
            "report it; no output files were changed.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL_ERROR)


def _show_traceback_if_verbose() -> None:
    """With -v, the traceback of the error being handled goes to stderr (it names code and
    exception types; the library keeps personal data out of its exception messages)."""
    if logging.getLogger().isEnabledFor(logging.INFO):
        traceback.print_exc(file=sys.stderr)


if __name__ == "__main__":
    main()
