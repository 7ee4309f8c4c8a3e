"""Atomic, owner-only output files, and one run's set of them published as one.

A single file is written to a temporary sibling, flushed to disk and renamed over the target,
so a reader sees the old file or the new one, never half of one.

A set of files (one run's outputs) must change together: a platform that reads
clusters.csv of one run and decisions.csv of another merges the wrong archives.  Renaming
files one by one cannot do that, so the set lives in a generation folder and one symlink
says which generation is current::

    OUT/.generations/g000042/{clusters.csv, decisions.csv, …, MANIFEST.json}
    OUT/.current -> .generations/g000042         (swapped by one atomic rename)
    OUT/clusters.csv -> .current/clusters.csv    (fixed links: the names other systems read)

Publishing writes a complete generation folder, runs the caller's ``on_publish(n)`` (the
review queue is committed there, naming generation n), then swaps ``.current``.  A run
killed before the swap leaves the previous set visible; one killed after the queue commit
but before the swap is rolled forward by :func:`recover_outputs` (the queue already names
it), any other unfinished generation is discarded.  Two runs on one folder are kept apart
by :class:`OutputLock`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkage.crash import crash_point
from linkage.csvsafe import csv_cells
from linkage.errors import OutputError
from linkage.file_lock import ExclusiveLock

if TYPE_CHECKING:
    import duckdb

OWNER_ONLY = 0o600


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, owner-readable only."""
    write_chunks_atomic(path, (data,))


def write_chunks_atomic(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` one after another to ``path`` atomically, owner-readable only: a big
    file (5M synthetic archives) never has to be one bytes object in memory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, OWNER_ONLY)
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_json_atomic(path: Path, payload: Any) -> None:
    text = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=False, default=str) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 CSV (no BOM) with ``\n`` line ends; None becomes an empty field; text that a
    spreadsheet would execute is neutralised (linkage.csvsafe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(map(csv_cells, rows))
    return buffer.getvalue().encode("utf-8")


def copy_query_csv(con: "duckdb.DuckDBPyConnection", query: str, target: Path) -> None:
    """A query's rows as a CSV file written by DuckDB, as csv_bytes would write them (UTF-8,
    ``\n`` line ends, a header) but without passing every row through Python; atomic and
    owner-readable only."""
    tmp = Path(target).with_name(f".{Path(target).name}.tmp")
    quoted = str(tmp).replace("'", "''")
    con.execute(f"COPY ({query}) TO '{quoted}' (FORMAT csv, HEADER true, NEW_LINE '\n')")
    os.chmod(tmp, OWNER_ONLY)
    os.replace(tmp, target)


GENERATIONS = ".generations"
CURRENT = ".current"
MANIFEST = "MANIFEST.json"
LOCK_NAME = ".lock"
_KEEP_GENERATIONS = 2  # the current set and the one before it (a reader may still hold it)


class OutputLock(ExclusiveLock):
    """``with OutputLock(out):`` one run (or un-merge) writes to ``out`` at a time.

    Taken before any work: a second run exits at once with a clear error instead of
    interleaving its files with the first one's.  Taking it is also the up-front check that
    ``out`` is a folder we can write.

    A run that fails before writing anything leaves no trace: the folders this lock created
    are removed again if they hold nothing but the lock file (a mistyped input must not
    leave an empty ``out/zz`` behind).  The lock file is unlinked while still held, so a
    process that opened it meanwhile finds it busy, and one that comes after creates its own
    in a folder that then stays.
    """

    def __init__(self, out_dir: Path | str) -> None:
        self.out_dir = Path(out_dir)
        self._created: list[Path] = []
        super().__init__(self.out_dir / LOCK_NAME)

    def acquire(self) -> None:
        missing = [d for d in (self.out_dir, *self.out_dir.parents) if not d.exists()]
        ensure_out_dir(self.out_dir)
        super().acquire()
        self._created = missing  # deepest first

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: Any) -> None:
        try:
            if exc_type is not None and self._created:
                self._remove_created()
        finally:
            self.release()

    def _remove_created(self) -> None:
        try:
            if [p.name for p in self.out_dir.iterdir()] != [LOCK_NAME]:
                return
            self.path.unlink()
            for folder in self._created:
                folder.rmdir()
        except OSError:
            pass  # something else is there now: it stays

    def busy(self) -> Exception:
        return OutputError(f"{self.out_dir}: another linkage run is writing to this folder; "
                           "wait for it to finish")

    def cannot_create(self, exc: OSError) -> Exception:
        return OutputError(f"{self.out_dir}: cannot write here ({exc.strerror})")


def ensure_out_dir(out_dir: Path) -> None:
    """Create ``out_dir`` owner-only, or say clearly why it cannot be an output folder."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: --out must be a folder, and this is a file")
    try:
        out.mkdir(parents=True, exist_ok=True, mode=0o700)  # a new folder: ours only
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: the output folder is not writable")


def _generation_dirs(out: Path) -> dict[int, Path]:
    """Complete generation folders by number (a staging folder is not one)."""
    found: dict[int, Path] = {}
    root = out / GENERATIONS
    if root.is_dir():
        for child in root.iterdir():
            if child.name.startswith("g") and child.name[1:].isdigit() and (child / MANIFEST).is_file():
                found[int(child.name[1:])] = child
    return found


def current_generation(out_dir: Path | str) -> int | None:
    """The generation ``out/.current`` points at; None before the first publication."""
    link = Path(out_dir) / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        return None
    name = Path(target).name
    return int(name[1:]) if name.startswith("g") and name[1:].isdigit() else None


def current_files(out_dir: Path | str) -> Path | None:
    """The folder of the current set, resolved once: read every file of one run from it."""
    generation = current_generation(out_dir)
    if generation is None:
        return None
    return Path(out_dir) / GENERATIONS / f"g{generation:06d}"


def run_files(out_dir: Path | str) -> Path:
    """Where to read one run's files from: the current generation, resolved once (or the
    folder itself for outputs written before generations)."""
    return current_files(out_dir) or Path(out_dir)


def current_manifest(out_dir: Path | str) -> dict[str, Any] | None:
    """The manifest of the current set (generation, files, review_queue, source)."""
    folder = current_files(out_dir)
    if folder is None or not (folder / MANIFEST).is_file():
        return None
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def _replace_symlink(link: Path, target: str) -> None:
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.is_dir() and not link.is_symlink():
        # A copy of the folder that followed the links (shutil.copytree, cp -L): the copied
        # set is stale the moment this publication lands, so it gives way to the link.
        shutil.rmtree(link)
    tmp = link.with_name(f".{link.name.lstrip('.')}.link-tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _make_current(out: Path, generation: int, crash_test: bool = False) -> None:
    """Swap ``.current`` to ``generation`` (the moment the whole set changes), then make sure
    every file of the set has its fixed link and no link points at a file the set lacks."""
    folder = out / GENERATIONS / f"g{generation:06d}"
    names = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    _replace_symlink(out / CURRENT, f"{GENERATIONS}/{folder.name}")
    _fsync_dir(out)
    if crash_test:
        crash_point("publish_swapped")
    for name in names:
        _replace_symlink(out / name, f"{CURRENT}/{name}")
    for link in out.iterdir():
        if link.is_symlink() and link.name != CURRENT and os.readlink(link).startswith(
                f"{CURRENT}/") and link.name not in names:
            link.unlink()
    _fsync_dir(out)
    for number, old in sorted(_generation_dirs(out).items())[:-_KEEP_GENERATIONS]:
        if number != generation:
            shutil.rmtree(old, ignore_errors=True)


def recover_outputs(out_dir: Path | str, queue_generation: Callable[[], int | None] | None = None) -> None:
    """Finish or undo what a killed publication left (call with the OutputLock held).

    A complete generation newer than ``.current`` whose review queue was already committed
    (``queue_generation()`` names it, or it has no queue) is made current: the run had
    passed its point of no return.  Any other newer generation, and every staging folder,
    is removed.  Older outputs written file by file (before generations) are left as they
    are until the next publication replaces them with links.
    """
    out = Path(out_dir)
    root = out / GENERATIONS
    if not root.is_dir():
        return
    for child in root.iterdir():
        if child.name.startswith(".staging-"):
            shutil.rmtree(child, ignore_errors=True)
    current = current_generation(out) or 0
    if current and current in _generation_dirs(out):
        _make_current(out, current)  # a kill between the swap and the links: finish the links
    queued = queue_generation() if queue_generation is not None else None
    for number, folder in sorted(_generation_dirs(out).items(), reverse=True):
        if number <= current:
            break
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if not manifest.get("review_queue") or queued == number:
            _make_current(out, number)
            return
        shutil.rmtree(folder, ignore_errors=True)


def settle_outputs(out_dir: Path | str, queue_generation: Callable[[], int | None]) -> bool:
    """For readers (``linkage review``): finish a publication a killed run left between its
    queue commit and its swap, so the files and the queue they see are one run's.  Does
    nothing while a run holds the folder (it will finish itself); True if it settled."""
    out = Path(out_dir)
    if not (out / GENERATIONS).is_dir():
        return False
    lock = OutputLock(out)
    try:
        lock.acquire()
    except OutputError:
        return False
    try:
        recover_outputs(out, queue_generation)
    finally:
        lock.release()
    return True


class StagedOutputs:
    """Stage one run's files for DIR, then publish them together as a new generation."""

    def __init__(self, out_dir: Path, queue_generation: Callable[[], int | None] | None = None):
        self.out_dir = Path(out_dir)
        ensure_out_dir(self.out_dir)
        root = self.out_dir / GENERATIONS
        root.mkdir(exist_ok=True, mode=0o700)
        recover_outputs(self.out_dir, queue_generation)
        self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
        os.chmod(self.staging, 0o700)
        self._names: list[str] = []

    def add(self, name: str, data: bytes) -> None:
        write_bytes_atomic(self.staging / name, data)
        self._names.append(name)

    def add_from_file(self, name: str, source: Path) -> None:
        """Move an already-written file (e.g. a DuckDB COPY) into the staging area."""
        os.chmod(source, OWNER_ONLY)
        os.replace(source, self.staging / name)
        self._names.append(name)

    def publish(self, on_publish: Callable[[int], None] | None = None, source: str | None = None) -> int:
        """Make the staged set the current one; returns its generation number.

        ``on_publish(n)`` runs after the set is complete on disk and before it becomes
        visible: the review queue commits there, recording ``n``, so a crash on either side
        of it is resolved by :func:`recover_outputs` one way or the other.  ``source`` names
        what was published (a nightly run's pending folder), for :func:`current_manifest`."""
        existing = _generation_dirs(self.out_dir)
        generation = max([*existing, current_generation(self.out_dir) or 0]) + 1
        manifest = {"generation": generation, "files": sorted(set(self._names)),
                    "review_queue": on_publish is not None, "source": source}
        write_bytes_atomic(self.staging / MANIFEST,
                           (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
        folder = self.out_dir / GENERATIONS / f"g{generation:06d}"
        os.rename(self.staging, folder)
        _fsync_dir(folder.parent)
        crash_point("publish_complete")
        if on_publish is not None:
            on_publish(generation)
        crash_point("publish_queued")
        _make_current(self.out_dir, generation, crash_test=True)
        return generation


class PrivateFolder:
    """StagedOutputs' interface over a private folder nobody reads yet (a nightly run's
    pending outputs): files land in place; publication is the caller's later step."""

    def __init__(self, folder: Path) -> None:
        self.staging = Path(folder)
        self.staging.mkdir(parents=True, exist_ok=True, mode=0o700)

    def add(self, name: str, data: bytes) -> None:
        write_bytes_atomic(self.staging / name, data)

    def add_from_file(self, name: str, source: Path) -> None:
        os.chmod(source, OWNER_ONLY)
        os.replace(source, self.staging / name)

    def publish(self, on_publish: Callable[[int], None] | None = None, source: str | None = None) -> int:
        return 0
