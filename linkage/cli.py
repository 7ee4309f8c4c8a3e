"""The ``linkage`` command line: a thin layer over the library.

Each command parses options, makes one library call and prints the result.  Exit codes:
0 ok, 1 a user error (bad input, missing file, bad option), 2 an internal error.
Nothing printed here contains names, ID numbers or phones.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

import click

from linkage.errors import LinkageError, PublishPending
from linkage.shipped import example_input_path

EXIT_USER_ERROR = 1
EXIT_INTERNAL_ERROR = 2


@click.group()
@click.option("--verbose", "-v", is_flag=True, help="Log stage timings to stderr.")
@click.version_option(package_name="linkage")
def cli(verbose: bool) -> None:
    """Deduplicate and link Chinese resident health archives (居民电子健康档案).

    Example:

        linkage synth --persons 2000 --seed 1 --out example/

        linkage run example/archives.csv --out out/
    """
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
        linkage run /data/export/archives.csv --state /var/lib/linkage/state.duckdb \\
            --out /var/lib/linkage/out
    """
    from linkage.pipeline import run as run_pipeline

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
        return
    click.echo(
        f"{summary.archives} archives ({summary.rejected_rows} rejected), "
        f"{summary.pairs_compared} pairs compared: {summary.merges} merges, "
        f"{summary.migrations} migrations, {summary.review_pairs} review pairs -> {out_dir}"
    )


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
        linkage unmerge 62010200100100006 --state state.duckdb --out out/ --reason "two people"
        linkage unmerge --person P0000012345 --state state.duckdb --out out/ --by wang.li
    """
    import getpass

    from linkage.state.unmerge import unmerge as unmerge_archive

    result = unmerge_archive(state_path, out_dir, archive_id=archive_id, person_id=person_id,
                             reason=reason, by=by or getpass.getuser())
    what = f"archive {archive_id}" if archive_id else f"{result.archives} archives"
    click.echo(
        f"un-merge {result.unmerge_id}: {what} of {result.person_id} kept apart by "
        f"{result.links} cannot-links; the next run applies it"
    )


@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--model", "model_path", required=True, type=click.Path(path_type=Path),
              help="Where to write the trained model JSON.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Settings TOML (default: configs/default.toml).")
@click.option("--labels", "labels_path", type=click.Path(path_type=Path),
              help="Reviewer decisions (CSV export or review store) to learn from.")
def train(input_path: Path, model_path: Path, config_path: Path | None, labels_path: Path | None) -> None:
    """Train a model without labels (u by sampling/counting, m by EM), optionally with labels.

    Example:

        linkage train archives.csv --model models/default.json
    """
    from linkage.pipeline import train as train_pipeline

    report = train_pipeline(input_path, model_path, config_path, labels_path)
    click.echo(f"trained on {report.records} archives; prior {report.prior:.3g} -> {model_path}")


@cli.command()
@click.option("--persons", type=click.IntRange(min=1), required=True, help="People to simulate.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for archives.csv, truth.csv, hard_negatives.csv.")
def synth(persons: int, seed: int, out_dir: Path) -> None:
    """Generate a synthetic population with known truth.

    Example:

        linkage synth --persons 100000 --seed 7 --out data/100k
    """
    from linkage.synth import generate_population

    summary = generate_population(persons, seed, out_dir)
    click.echo(f"{summary.persons} persons, {summary.archives} archives -> {out_dir}")


@cli.command()
@click.option("--sizes", default="10000,100000,1000000", show_default=True,
              help="Comma-separated population sizes (persons).")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed for synth.")
@click.option("--systems", default="linkage,id_only,splink_plain", show_default=True,
              help="Comma-separated systems to compare.")
@click.option("--work", "work_dir", type=click.Path(path_type=Path), default=Path("benchmarks/work"),
              show_default=True, help="Scratch folder for populations and outputs (not in git).")
@click.option("--results", "results_dir", type=click.Path(path_type=Path),
              default=Path("benchmarks/results"), show_default=True,
              help="Where results.json and RESULTS.md are written.")
def bench(sizes: str, seed: int, systems: str, work_dir: Path, results_dir: Path) -> None:
    """Compare this engine with ID-only matching and plain Splink on synthetic populations.

    Example:

        linkage bench --sizes 10000,100000 --results benchmarks/results
    """
    from linkage.bench.runner import run_benchmark

    try:
        size_list = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter("sizes must be whole numbers separated by commas") from None
    run_benchmark(size_list, seed, work_dir, results_dir,
                  systems=tuple(s.strip() for s in systems.split(",") if s.strip()))
    click.echo(f"results -> {results_dir / 'RESULTS.md'}")


def _register_subcommands() -> None:
    """Command groups that live beside the library they drive."""
    from linkage.review.commands import review_group

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
