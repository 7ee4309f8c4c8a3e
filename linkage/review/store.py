"""The review store: ``out_dir/review.db``, the durable, accountable record of reviewers' work.

One SQLite file per run folder, shared by the nightly batch (which publishes the queue) and
any number of reviewers at once: WAL mode, a busy timeout, and every write in its own
``BEGIN IMMEDIATE`` transaction, so a decision is on disk the moment it is made.  The file is
created owner-readable only (0600) before SQLite opens it; SQLite gives its -wal/-shm files
the same mode, and the umask is narrowed while connecting as a second guard.

Tables::

    meta       key -> value: schema_version, publish_seq, last_published
    queue      one row per review pair the engine handed over (archive_id_l < archive_id_r):
               score, weight, evidence, reason, both sides' county/township, the size of the
               cluster at stake, the display fields (JSON, PII: shown to reviewers only),
               status open|stale, and the lease: claimed_by, claim_token, claimed_until
    decisions  APPEND-ONLY history (triggers RAISE on UPDATE/DELETE): who (reviewer), when
               (UTC ISO), which pair, verdict same|different|skip|undone, the engine's score at
               that moment, the note, the source (session|cli|import) and ``supersedes``: the
               row that stood for the pair before this one (for 'undone': the row undone)
    current    the standing verdict per pair, written in the same transaction as its
               decisions row; derived, :meth:`ReviewStore.replay_verdicts` rebuilds it
    audit      APPEND-ONLY: reviewer, time, action (reveal|export|import), pair — never values

A changed mind is a new row superseding the old; an undo is an 'undone' row superseding the
undone one, after which the pair stands as before that row.  'skip' is history, not a verdict.

Leases: a reviewer's session claims one pair at a time (``claim_token`` identifies the
session); an expired lease (default 10 minutes) may be claimed by anyone.  Claims happen
inside ``BEGIN IMMEDIATE``, so two sessions never hold the same pair.  A decision is never
refused for want of a lease: it is recorded, and the latest decision stands.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from linkage.csvsafe import restore
from linkage.errors import ReviewError, StateError
from linkage.human import HumanDecisions
from linkage.outputs import settle_outputs
from linkage.review import triage
from linkage.review.household import household as related

STORE_NAME = "review.db"
SCHEMA_VERSION = "2"
# Household view: at most this many archives / queued pairs are settled on one screen.
GROUP_MAX_ARCHIVES = 6
GROUP_MAX_PAIRS = 10
DEFAULT_LEASE = timedelta(minutes=10)
BUSY_TIMEOUT_MS = 15_000
VERDICTS = ("same", "different")
ORDERS = ("uncertain", "size")
SOURCES = ("session", "cli", "import")
# Per archive, for side-by-side display, kept per side in queue.details (gathered by
# linkage.review_items): raw values as the clinic typed them, plus what the engine derived from
# them; phone_norm and address_norm group a household's pairs on one screen
# (linkage.review.household; in a store published before address_norm was kept, pairs group
# by archive and phone only until the next run republishes them).
DISPLAY_FIELDS: tuple[str, ...] = (
    "name", "name_py", "sex", "birth_date", "id_number", "id_status", "region_code",
    "address", "phone", "created_date", "last_service_date", "county", "township",
    "phone_norm", "address_skeleton", "address_norm",
)

Pair = tuple[str, str]
Clock = Callable[[], datetime]

_umask_lock = threading.Lock()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS queue (
    archive_id_l      TEXT NOT NULL,
    archive_id_r      TEXT NOT NULL,
    match_probability REAL,
    match_weight      REAL,
    evidence          TEXT NOT NULL DEFAULT '',
    reason            TEXT NOT NULL DEFAULT '',
    county_l          TEXT, county_r TEXT,
    township_l        TEXT, township_r TEXT,
    cluster_size      INTEGER NOT NULL DEFAULT 2,
    triage            TEXT NOT NULL DEFAULT '',
    triage_rank       INTEGER NOT NULL DEFAULT 0,
    details           TEXT NOT NULL DEFAULT '{}',
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'stale')),
    publish_seq       INTEGER NOT NULL,
    first_queued      TEXT NOT NULL,
    last_published    TEXT NOT NULL,
    claimed_by        TEXT,
    claim_token       TEXT,
    claimed_until     TEXT,
    PRIMARY KEY (archive_id_l, archive_id_r),
    CHECK (archive_id_l < archive_id_r)
);
CREATE INDEX IF NOT EXISTS queue_status ON queue (status);

CREATE TABLE IF NOT EXISTS decisions (
    decision_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    archive_id_l      TEXT NOT NULL,
    archive_id_r      TEXT NOT NULL,
    verdict           TEXT NOT NULL CHECK (verdict IN ('same', 'different', 'skip', 'undone')),
    reviewer          TEXT NOT NULL,
    decided_at        TEXT NOT NULL,
    match_probability REAL,
    match_weight      REAL,
    note              TEXT NOT NULL DEFAULT '',
    source            TEXT NOT NULL CHECK (source IN ('session', 'cli', 'import')),
    supersedes        INTEGER REFERENCES decisions (decision_id),
    blind             INTEGER NOT NULL DEFAULT 0,
    CHECK (archive_id_l < archive_id_r)
);
CREATE INDEX IF NOT EXISTS decisions_pair ON decisions (archive_id_l, archive_id_r);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only: record a new decision instead'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only: record a new decision instead'); END;

CREATE TABLE IF NOT EXISTS current (
    archive_id_l TEXT NOT NULL,
    archive_id_r TEXT NOT NULL,
    decision_id  INTEGER NOT NULL REFERENCES decisions (decision_id),
    verdict      TEXT NOT NULL CHECK (verdict IN ('same', 'different')),
    PRIMARY KEY (archive_id_l, archive_id_r)
);

CREATE TABLE IF NOT EXISTS audit (
    audit_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,
    reviewer     TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('reveal', 'export', 'import')),
    archive_id_l TEXT,
    archive_id_r TEXT
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """Fixed-width UTC ISO text, so that string order is time order."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def ordered_pair(a: str, b: str) -> Pair:
    a, b = str(a).strip(), str(b).strip()
    if not a or not b:
        raise ReviewError("a pair needs two archive numbers")
    if a == b:
        raise ReviewError(f"archive {a} cannot be paired with itself")
    return (a, b) if a < b else (b, a)


def store_path(out_dir: Path | str) -> Path:
    return Path(out_dir) / STORE_NAME


@dataclass(frozen=True)
class QueueFilter:
    """Which queue pairs a reviewer works on: counties/townships (either side), and order."""

    counties: tuple[str, ...] = ()
    townships: tuple[str, ...] = ()
    order: str = "uncertain"

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ReviewError(f"unknown order {self.order!r} (use {' or '.join(ORDERS)})")


@dataclass(frozen=True)
class QueueItem:
    """One review pair as a reviewer sees it (``details`` holds PII: display only).

    ``status`` is open or stale (queue state); listings show 'decided' for decided pairs.
    """

    archive_id_l: str
    archive_id_r: str
    match_probability: float | None
    match_weight: float | None
    evidence: str
    reason: str
    county_l: str | None
    county_r: str | None
    township_l: str | None
    township_r: str | None
    cluster_size: int
    status: str
    claimed_by: str | None
    claimed_until: str | None
    triage: str
    details: dict[str, Any] = field(repr=False, compare=False)

    @property
    def pair(self) -> Pair:
        return (self.archive_id_l, self.archive_id_r)

    def side(self, side: str) -> dict[str, Any]:
        """``side`` 'l' or 'r' -> {field: value} for DISPLAY_FIELDS."""
        return {f: self.details.get(f"{side}_{f}") for f in DISPLAY_FIELDS}


@dataclass(frozen=True)
class Decision:
    decision_id: int
    archive_id_l: str
    archive_id_r: str
    verdict: str
    reviewer: str
    decided_at: str
    match_probability: float | None
    match_weight: float | None
    note: str
    source: str
    supersedes: int | None
    blind: bool = False

    @property
    def pair(self) -> Pair:
        return (self.archive_id_l, self.archive_id_r)


@dataclass(frozen=True)
class QueueCounts:
    """Open, undecided pairs matching a filter: free to claim, and held by other sessions."""

    available: int
    held_by_others: int

    @property
    def left(self) -> int:
        return self.available + self.held_by_others


@dataclass(frozen=True)
class AuditEvent:
    """One line of ``review audit``: archive numbers only, never values."""

    at: str
    reviewer: str
    action: str
    archive_id_l: str | None
    archive_id_r: str | None
    detail: str


@dataclass(frozen=True)
class QueueClass:
    """One reason x triage class of the queue (``review stats``)."""

    reason: str
    triage: str
    rank: int
    open: int
    same: int
    different: int


@dataclass(frozen=True)
class ImportResult:
    recorded: int
    unchanged: int
    ignored: int


_QUEUE_COLUMNS = (
    "archive_id_l, archive_id_r, match_probability, match_weight, evidence, reason, county_l, "
    "county_r, township_l, township_r, cluster_size, status, claimed_by, claimed_until, triage, details"
)
_DECISION_COLUMNS = (
    "decision_id, archive_id_l, archive_id_r, verdict, reviewer, decided_at, match_probability, "
    "match_weight, note, source, supersedes, blind"
)


def _queue_item(row: Sequence[Any]) -> QueueItem:
    *head, details = row
    return QueueItem(*head, details=json.loads(details or "{}"))


def _decision(row: Sequence[Any]) -> Decision:
    *head, blind = row
    return Decision(*head, blind=bool(blind))


def _create_owner_only(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists; never widen an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


class ReviewStore:
    """A connection to one review store.  One per thread; cheap to open."""

    def __init__(
        self,
        path: Path | str,
        *,
        create: bool = True,
        clock: Clock = utc_now,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.lease = lease
        if not self.path.exists():
            if not create:
                raise StateError(f"no review store at {self.path}")
            _create_owner_only(self.path)
        with _umask_lock:
            old = os.umask(0o077)
            try:
                self._con = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
                )
                self._con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                mode = self._con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                self._con.execute("PRAGMA synchronous = FULL")
                self._con.execute("PRAGMA foreign_keys = ON")
                self._ensure_schema()
            except sqlite3.DatabaseError as exc:
                if hasattr(self, "_con"):
                    self._con.close()
                raise StateError(f"{self.path}: cannot open the review store ({exc})") from None
            finally:
                os.umask(old)
        if str(mode).lower() != "wal":
            raise StateError(f"{self.path}: the review store needs WAL mode (got {mode})")

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "ReviewStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error."""
        con = self._con
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def _ensure_schema(self) -> None:
        row = None
        try:
            row = self._con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:
            pass  # a new file: no tables yet
        if row is not None and row[0] == "1":
            self._migrate_from_1()
            return
        if row is not None:
            if row[0] != SCHEMA_VERSION:
                raise StateError(
                    f"{self.path}: review store schema {row[0]}, this version reads {SCHEMA_VERSION}"
                )
            return
        with self._write() as con:
            for statement in _split_sql(_SCHEMA):
                con.execute(statement)
            con.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?), ('publish_seq', '0')",
                (SCHEMA_VERSION,),
            )

    def _migrate_from_1(self) -> None:
        """Version 2 adds the queue's triage class and whether a decision was made blind
        (columns only: the append-only triggers stay, and no row is rewritten)."""
        with self._write() as con:
            con.execute("ALTER TABLE queue ADD COLUMN triage TEXT NOT NULL DEFAULT ''")
            con.execute("ALTER TABLE queue ADD COLUMN triage_rank INTEGER NOT NULL DEFAULT 0")
            con.execute("ALTER TABLE decisions ADD COLUMN blind INTEGER NOT NULL DEFAULT 0")
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,))

    def _now(self) -> str:
        return iso(self.clock())

    # -- the queue --------------------------------------------------------------------------

    def publish(self, items: Iterable[dict[str, Any]], cluster_sizes: dict[str, int] | None = None,
                generation: int | None = None) -> dict[str, int]:
        """Upsert this run's review pairs; pairs already decided are not queued; the rest of
        the open queue goes stale.  Returns counts (queued, already_decided, stale).

        ``generation``: the output generation (linkage.outputs) this queue belongs to,
        recorded in the same transaction, so a publication killed before its files became
        visible can tell whether the queue already moved on."""
        sizes = cluster_sizes or {}
        now = self._now()
        queued = decided = 0
        with self._write() as con:
            seq = int(con.execute("SELECT value FROM meta WHERE key = 'publish_seq'").fetchone()[0]) + 1
            con.execute("UPDATE meta SET value = ? WHERE key = 'publish_seq'", (str(seq),))
            con.execute(
                "INSERT INTO meta VALUES ('last_published', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (now,)
            )
            if generation is not None:
                con.execute(
                    "INSERT INTO meta VALUES ('output_generation', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(generation),)
                )
            standing = {(r[0], r[1]) for r in con.execute("SELECT archive_id_l, archive_id_r FROM current")}
            rows = []  # one executemany: a statement per item cost ~0.4 s at 24k review rows
            for item in items:
                pair = ordered_pair(item["archive_id_l"], item["archive_id_r"])
                if pair in standing:
                    decided += 1
                    continue
                flip = pair[0] != str(item["archive_id_l"]).strip()
                details = _details(item, flip)
                code = triage.classify(item.get("evidence"), _side(details, "l"), _side(details, "r"),
                                       item.get("reason"))
                size = sizes.get(pair[0], 1) + sizes.get(pair[1], 1) if sizes else 2
                rows.append((
                    *pair, _float(item.get("match_probability")), _float(item.get("match_weight")),
                    item.get("evidence") or "", item.get("reason") or "",
                    details.get("l_county"), details.get("r_county"),
                    details.get("l_township"), details.get("r_township"),
                    size, code, triage.rank(code), json.dumps(details, ensure_ascii=False, default=str), seq, now, now,
                ))
                queued += 1
            con.executemany(
                    """
                    INSERT INTO queue (archive_id_l, archive_id_r, match_probability, match_weight,
                        evidence, reason, county_l, county_r, township_l, township_r, cluster_size,
                        triage, triage_rank, details, status, publish_seq, first_queued,
                        last_published)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)
                    ON CONFLICT (archive_id_l, archive_id_r) DO UPDATE SET
                        match_probability = excluded.match_probability,
                        match_weight = excluded.match_weight, evidence = excluded.evidence,
                        reason = excluded.reason, county_l = excluded.county_l,
                        county_r = excluded.county_r, township_l = excluded.township_l,
                        township_r = excluded.township_r, cluster_size = excluded.cluster_size,
                        triage = excluded.triage, triage_rank = excluded.triage_rank,
                        details = excluded.details, status = 'open',
                        publish_seq = excluded.publish_seq, last_published = excluded.last_published
                    """, rows)
            stale = con.execute(
                "UPDATE queue SET status = 'stale' WHERE publish_seq < ? AND status = 'open'", (seq,)
            ).rowcount
        return {"queued": queued, "already_decided": decided, "stale": stale}

    def _filter_sql(self, flt: QueueFilter) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if flt.counties:
            marks = ", ".join("?" for _ in flt.counties)
            clauses.append(f"(q.county_l IN ({marks}) OR q.county_r IN ({marks}))")
            params += [*flt.counties, *flt.counties]
        if flt.townships:
            marks = ", ".join("?" for _ in flt.townships)
            clauses.append(f"(q.township_l IN ({marks}) OR q.township_r IN ({marks}))")
            params += [*flt.townships, *flt.townships]
        return "".join(f" AND {c}" for c in clauses), params

    @staticmethod
    def _order_sql(order: str) -> str:
        # Measured near-never-match classes go last whatever the order (linkage.review.triage).
        uncertain = "q.match_probability IS NULL, abs(q.match_probability - 0.5)"
        if order == "size":
            return f"q.triage_rank, q.cluster_size DESC, {uncertain}, q.archive_id_l, q.archive_id_r"
        return f"q.triage_rank, {uncertain}, q.cluster_size DESC, q.archive_id_l, q.archive_id_r"

    _UNDECIDED = (
        "q.status = 'open' AND NOT EXISTS (SELECT 1 FROM current c "
        "WHERE c.archive_id_l = q.archive_id_l AND c.archive_id_r = q.archive_id_r)"
    )

    def claim_next(
        self, reviewer: str, token: str, flt: QueueFilter = QueueFilter(), exclude: Iterable[Pair] = ()
    ) -> QueueItem | None:
        """Lease the next open, undecided pair for this session (releasing any it held)."""
        group = self.claim_group(reviewer, token, flt, exclude, household=False)
        return group[0] if group else None

    # A pair is free for a session when nobody holds it, the lease ran out, this session holds
    # it, or the same reviewer holds it (a session of theirs that died: reclaimed at once).
    _CLAIMABLE = ("(q.claim_token IS NULL OR q.claimed_until <= ? OR coalesce(q.claim_token = ?, 0) "
                  "OR coalesce(q.claimed_by = ?, 0))")

    def claim_group(
        self, reviewer: str, token: str, flt: QueueFilter = QueueFilter(),
        exclude: Iterable[Pair] = (), *, household: bool = True,
    ) -> list[QueueItem]:
        """Lease the next pair and, with ``household``, the queued pairs that touch the same
        archive or household (linkage.review.household), all to this session.  The pair a
        dead session of the same reviewer still holds comes first.  [] when nothing is left."""
        where, params = self._filter_sql(flt)
        excluded = json.dumps(["\x1f".join(p) for p in exclude])
        now = self._now()
        select = f"""
            SELECT {', '.join('q.' + c.strip() for c in _QUEUE_COLUMNS.split(','))} FROM queue q
            WHERE {self._UNDECIDED} AND {self._CLAIMABLE}
              AND q.archive_id_l || char(31) || q.archive_id_r NOT IN (SELECT value FROM json_each(?))
              {where}
            ORDER BY (q.claimed_by IS ? AND q.claimed_until > ?) DESC, {self._order_sql(flt.order)}
        """
        args = (now, token, reviewer, excluded, *params, reviewer, now)
        with self._write() as con:
            self._release_all(con, token)
            row = con.execute(select + " LIMIT 1", args).fetchone()
            if row is None:
                return []
            first = _queue_item(row)
            group = [first]
            if household:
                # A household's pairs share a county with the first pair (its archives' own):
                # only those are read, so a long queue costs little per screen.
                counties = [first.county_l, first.county_r]
                nearby = select.replace(
                    "ORDER BY", "AND (q.county_l IN (?, ?) OR q.county_r IN (?, ?)) ORDER BY", 1)
                rows = con.execute(nearby, (*args[:-2], *counties, *counties, *args[-2:])).fetchall()
                group += related(first, [_queue_item(r) for r in rows])
            return [self._lease(con, item.pair, reviewer, token) for item in group]

    def claim(self, pair: Pair, reviewer: str, token: str) -> QueueItem | None:
        """Lease one given pair (e.g. after an undo); None if another session holds it."""
        with self._write() as con:
            return self._claim_in(con, pair, reviewer, token)

    def claim_also(self, pair: Pair, reviewer: str, token: str) -> QueueItem | None:
        """Lease one more pair to a session that keeps what it holds (a household put back
        on screen by an undo); None if another session holds it."""
        with self._write() as con:
            row = con.execute(
                "SELECT claim_token, claimed_until, claimed_by FROM queue "
                "WHERE archive_id_l = ? AND archive_id_r = ?", pair).fetchone()
            if row is None or (row[0] not in (None, token) and row[1] is not None
                               and row[1] > self._now() and row[2] != reviewer):
                return None
            return self._lease(con, pair, reviewer, token)

    def _claim_in(self, con: sqlite3.Connection, pair: Pair, reviewer: str, token: str) -> QueueItem | None:
        row = con.execute(
            "SELECT claim_token, claimed_until, claimed_by FROM queue "
            "WHERE archive_id_l = ? AND archive_id_r = ?", pair
        ).fetchone()
        if row is None:
            return None
        held_token, until, holder = row
        if (held_token not in (None, token) and until is not None and until > self._now()
                and holder != reviewer):
            return None
        self._release_all(con, token)
        return self._lease(con, pair, reviewer, token)

    def _lease(self, con: sqlite3.Connection, pair: Pair, reviewer: str, token: str) -> QueueItem:
        until = iso(self.clock() + self.lease)
        con.execute(
            "UPDATE queue SET claimed_by = ?, claim_token = ?, claimed_until = ? "
            "WHERE archive_id_l = ? AND archive_id_r = ?",
            (reviewer, token, until, *pair),
        )
        return self._item(con, pair)  # type: ignore[return-value]

    @staticmethod
    def _release_all(con: sqlite3.Connection, token: str) -> None:
        con.execute(
            "UPDATE queue SET claimed_by = NULL, claim_token = NULL, claimed_until = NULL "
            "WHERE claim_token = ?", (token,)
        )

    def release(self, token: str) -> None:
        """Give back whatever this session holds."""
        with self._write() as con:
            self._release_all(con, token)

    def _item(self, con: sqlite3.Connection, pair: Pair) -> QueueItem | None:
        row = con.execute(
            f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE archive_id_l = ? AND archive_id_r = ?", pair
        ).fetchone()
        return _queue_item(row) if row else None

    def item(self, pair: Pair) -> QueueItem | None:
        return self._item(self._con, pair)

    def counts(self, token: str | None = None, flt: QueueFilter = QueueFilter(),
               exclude: Iterable[Pair] = (), reviewer: str | None = None) -> QueueCounts:
        """How many open, undecided pairs match ``flt`` (excluding ``exclude``): free for this
        session (``token``, or held by the same ``reviewer``), and held by other sessions."""
        where, params = self._filter_sql(flt)
        excluded = json.dumps(["\x1f".join(p) for p in exclude])
        now = self._now()
        row = self._con.execute(
            f"""
            SELECT count(*) FILTER (WHERE {self._CLAIMABLE}),
                   count(*) FILTER (WHERE NOT {self._CLAIMABLE})
            FROM queue q
            WHERE {self._UNDECIDED}
              AND q.archive_id_l || char(31) || q.archive_id_r NOT IN (SELECT value FROM json_each(?))
              {where}
            """,
            (now, token, reviewer, now, token, reviewer, excluded, *params),
        ).fetchone()
        return QueueCounts(int(row[0] or 0), int(row[1] or 0))

    def list_queue(self, flt: QueueFilter = QueueFilter(), status: str = "open") -> list[QueueItem]:
        """Queue pairs by ``status``: open (undecided), decided, stale, or all."""
        where, params = self._filter_sql(flt)
        decided = ("EXISTS (SELECT 1 FROM current c WHERE c.archive_id_l = q.archive_id_l "
                   "AND c.archive_id_r = q.archive_id_r)")
        condition = {
            "open": self._UNDECIDED,
            "decided": decided,
            "stale": f"q.status = 'stale' AND NOT {decided}",
            "all": "1 = 1",
        }.get(status)
        if condition is None:
            raise ReviewError(f"unknown status {status!r}")
        columns = [f"q.{c.strip()}" for c in _QUEUE_COLUMNS.split(",")]
        columns[columns.index("q.status")] = f"CASE WHEN {decided} THEN 'decided' ELSE q.status END"
        rows = self._con.execute(
            f"SELECT {', '.join(columns)} FROM queue q "
            f"WHERE {condition} {where} ORDER BY {self._order_sql(flt.order)}",
            params,
        ).fetchall()
        return [_queue_item(r) for r in rows]

    def known_archives(self) -> set[str]:
        ids: set[str] = set()
        for a, b in self._con.execute("SELECT archive_id_l, archive_id_r FROM queue"):
            ids.update((a, b))
        return ids

    # -- decisions --------------------------------------------------------------------------

    def decide(
        self,
        pair: Pair,
        verdict: str,
        reviewer: str,
        *,
        note: str = "",
        source: str = "cli",
        token: str | None = None,
        match_probability: float | None = None,
        match_weight: float | None = None,
        blind: bool = False,
    ) -> Decision:
        """Record one decision (same|different|skip) in its own transaction.

        The engine's score at this moment comes from the queue (or the caller, for a pair the
        queue never held).  A 'skip' is kept as history and changes no verdict.  ``blind``:
        the reviewer did not see the engine's score (``review --blind``).
        """
        if verdict not in (*VERDICTS, "skip"):
            raise ReviewError(f"unknown verdict {verdict!r} (use same, different or skip)")
        if source not in SOURCES:
            raise ReviewError(f"unknown source {source!r}")
        pair = ordered_pair(*pair)
        reviewer = _check_reviewer(reviewer)
        with self._write() as con:
            decision = self._insert_decision(
                con, pair, verdict, reviewer, note, source, match_probability, match_weight, blind
            )
            if token is not None:
                self._release_all(con, token)
        return decision

    def decide_many(self, verdicts: Sequence[tuple[Pair, str]], reviewer: str, *, note: str = "",
                    source: str = "session", token: str | None = None,
                    blind: bool = False) -> list[Decision]:
        """Several verdicts in one transaction (a household settled at once); each pair still
        gets its own decisions row."""
        reviewer = _check_reviewer(reviewer)
        if source not in SOURCES:
            raise ReviewError(f"unknown source {source!r}")
        with self._write() as con:
            out = []
            for pair, verdict in verdicts:
                if verdict not in (*VERDICTS, "skip"):
                    raise ReviewError(f"unknown verdict {verdict!r} (use same, different or skip)")
                out.append(self._insert_decision(con, ordered_pair(*pair), verdict, reviewer, note,
                                                 source, None, None, blind))
            if token is not None:
                self._release_all(con, token)
        return out

    def decision_number(self, decision_id: int) -> int:
        """Reviewers' numbering: the count of verdicts (same/different) up to this row; skips
        and undos are history but take no number."""
        row = self._con.execute(
            "SELECT count(*) FROM decisions WHERE verdict IN ('same', 'different') AND decision_id <= ?",
            (decision_id,),
        ).fetchone()
        return int(row[0])

    def _insert_decision(self, con: sqlite3.Connection, pair: Pair, verdict: str, reviewer: str,
                         note: str, source: str, probability: float | None,
                         weight: float | None, blind: bool = False) -> Decision:
        queued = con.execute(
            "SELECT match_probability, match_weight FROM queue WHERE archive_id_l = ? AND archive_id_r = ?",
            pair,
        ).fetchone()
        if queued is not None:
            probability = queued[0] if probability is None else probability
            weight = queued[1] if weight is None else weight
        standing = con.execute(
            "SELECT decision_id FROM current WHERE archive_id_l = ? AND archive_id_r = ?", pair
        ).fetchone()
        row = con.execute(
            f"""INSERT INTO decisions (archive_id_l, archive_id_r, verdict, reviewer, decided_at,
                    match_probability, match_weight, note, source, supersedes, blind)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_DECISION_COLUMNS}""",
            (*pair, verdict, reviewer, self._now(), probability, weight, note or "", source,
             standing[0] if standing else None, int(blind)),
        ).fetchone()
        decision = _decision(row)
        if verdict in VERDICTS:
            con.execute(
                "INSERT INTO current VALUES (?, ?, ?, ?) ON CONFLICT (archive_id_l, archive_id_r) "
                "DO UPDATE SET decision_id = excluded.decision_id, verdict = excluded.verdict",
                (*pair, decision.decision_id, verdict),
            )
            con.execute(
                "UPDATE queue SET claimed_by = NULL, claim_token = NULL, claimed_until = NULL "
                "WHERE archive_id_l = ? AND archive_id_r = ?", pair
            )
        return decision

    def undo(self, decision_id: int, reviewer: str, *, token: str | None = None, note: str = "",
             source: str = "session") -> tuple[Decision, QueueItem | None]:
        """Undo a standing decision with an 'undone' row; the pair stands as it did before.

        With ``token``, the pair is leased back to that session in the same transaction (so it
        returns to the reviewer's screen, not to someone else's).
        """
        undone, items = self.undo_many([decision_id], reviewer, token=token, note=note, source=source)
        return undone[0], (items[0] if items else None)

    def undo_many(self, decision_ids: Sequence[int], reviewer: str, *, token: str | None = None,
                  note: str = "", source: str = "session") -> tuple[list[Decision], list[QueueItem]]:
        """Undo several decisions (a household settled in one step) in one transaction; with
        ``token`` the pairs still free are leased back to that session."""
        reviewer = _check_reviewer(reviewer)
        with self._write() as con:
            undone = [self._undo_in(con, i, reviewer, note, source) for i in decision_ids]
            items: list[QueueItem] = []
            if token:
                self._release_all(con, token)
                now = self._now()
                for d in undone:
                    held = con.execute(
                        "SELECT claim_token, claimed_until, claimed_by FROM queue "
                        "WHERE archive_id_l = ? AND archive_id_r = ?", d.pair).fetchone()
                    if held is None or (held[0] not in (None, token) and held[1] is not None
                                        and held[1] > now and held[2] != reviewer):
                        continue
                    items.append(self._lease(con, d.pair, reviewer, token))
        return undone, items

    def _undo_in(self, con: sqlite3.Connection, decision_id: int, reviewer: str, note: str,
                 source: str) -> Decision:
        target = con.execute(
            f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE decision_id = ?", (decision_id,)
        ).fetchone()
        if target is None:
            raise ReviewError(f"no decision #{decision_id}")
        target = _decision(target)
        standing = con.execute(
            "SELECT decision_id FROM current WHERE archive_id_l = ? AND archive_id_r = ?", target.pair
        ).fetchone()
        if target.verdict not in VERDICTS or standing is None or standing[0] != decision_id:
            raise ReviewError(
                f"the decision on {target.archive_id_l}/{target.archive_id_r} no longer "
                "stands (decided again since); nothing undone"
            )
        row = con.execute(
            f"""INSERT INTO decisions (archive_id_l, archive_id_r, verdict, reviewer, decided_at,
                    match_probability, match_weight, note, source, supersedes, blind)
                VALUES (?, ?, 'undone', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_DECISION_COLUMNS}""",
            (*target.pair, reviewer, self._now(), target.match_probability, target.match_weight,
             note, source, decision_id, int(target.blind)),
        ).fetchone()
        self._restore(con, target)
        return _decision(row)

    @staticmethod
    def _restore(con: sqlite3.Connection, target: Decision) -> None:
        """After undoing ``target``, the pair stands on the row ``target`` superseded."""
        if target.supersedes is None:
            con.execute("DELETE FROM current WHERE archive_id_l = ? AND archive_id_r = ?", target.pair)
            return
        verdict = con.execute(
            "SELECT verdict FROM decisions WHERE decision_id = ?", (target.supersedes,)
        ).fetchone()[0]
        con.execute(
            "UPDATE current SET decision_id = ?, verdict = ? WHERE archive_id_l = ? AND archive_id_r = ?",
            (target.supersedes, verdict, *target.pair),
        )

    def history(self, pair: Pair | None = None) -> list[Decision]:
        if pair is None:
            rows = self._con.execute(f"SELECT {_DECISION_COLUMNS} FROM decisions ORDER BY decision_id")
        else:
            rows = self._con.execute(
                f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE archive_id_l = ? AND archive_id_r = ? "
                "ORDER BY decision_id", ordered_pair(*pair),
            )
        return [_decision(r) for r in rows.fetchall()]

    def standing(self) -> dict[Pair, Decision]:
        """The decision row that stands for each decided pair (from ``current``)."""
        rows = self._con.execute(
            f"SELECT {', '.join('d.' + c.strip() for c in _DECISION_COLUMNS.split(','))} "
            "FROM current c JOIN decisions d USING (decision_id) ORDER BY d.archive_id_l, d.archive_id_r"
        ).fetchall()
        return {(r[1], r[2]): _decision(r) for r in rows}

    def replay_verdicts(self) -> dict[Pair, Decision]:
        """The standing decision per pair, recomputed from the append-only history alone."""
        rows = {d.decision_id: d for d in self.history()}
        standing: dict[Pair, Decision] = {}
        for d in rows.values():
            if d.verdict in VERDICTS:
                standing[d.pair] = d
            elif d.verdict == "undone" and d.supersedes is not None:
                undone = rows[d.supersedes]
                if undone.supersedes is None:
                    standing.pop(d.pair, None)
                else:
                    standing[d.pair] = rows[undone.supersedes]
        return standing

    def import_decisions(self, rows: Iterable[dict[str, Any]], reviewer: str,
                         known: Container[str] | None = None) -> ImportResult:
        """Record a CSV's verdicts in one transaction (all or nothing).

        Rows whose pair already stands on the same verdict are left alone (re-importing a file
        changes nothing); rows whose verdict is not same/different are ignored.  With
        ``known`` (the run's archive numbers), a row naming any other archive fails the whole
        file, as ``review decide`` refuses it: a verdict on an archive the run does not hold
        would stand in review.db unseen and unused.  Archive numbers a spreadsheet-safe export
        wrote with a leading apostrophe (``'-5113…``) are read back as written by the run.
        """
        reviewer = _check_reviewer(reviewer)
        recorded = unchanged = ignored = 0
        with self._write() as con:
            for number, row in enumerate(rows, start=2):
                verdict = (row.get("verdict") or "").strip().lower()
                if verdict in ("skip", "undone"):
                    ignored += 1
                    continue
                if verdict not in VERDICTS:
                    raise ReviewError(f"row {number}: verdict must be same or different")
                try:
                    pair = ordered_pair(restore(row.get("archive_id_l") or ""),
                                        restore(row.get("archive_id_r") or ""))
                except ReviewError as exc:
                    raise ReviewError(f"row {number}: {exc}") from None
                unknown = [a for a in pair if known is not None and a not in known]
                if unknown:
                    raise ReviewError(f"row {number}: archive {unknown[0]} is not in this run")
                standing = con.execute(
                    "SELECT verdict FROM current WHERE archive_id_l = ? AND archive_id_r = ?", pair
                ).fetchone()
                if standing is not None and standing[0] == verdict:
                    unchanged += 1
                    continue
                who = (row.get("reviewer") or "").strip() or reviewer
                self._insert_decision(
                    con, pair, verdict, _check_reviewer(who), (row.get("note") or "").strip(),
                    "import", _float(row.get("match_probability")), _float(row.get("match_weight")),
                )
                recorded += 1
            self._audit(con, reviewer, "import", None)
        return ImportResult(recorded, unchanged, ignored)

    # -- audit ------------------------------------------------------------------------------

    def _audit(self, con: sqlite3.Connection, reviewer: str, action: str, pair: Pair | None) -> None:
        con.execute(
            "INSERT INTO audit (at, reviewer, action, archive_id_l, archive_id_r) VALUES (?, ?, ?, ?, ?)",
            (self._now(), reviewer, action, *(pair or (None, None))),
        )

    def log_access(self, reviewer: str, action: str, pair: Pair | None = None) -> None:
        """Record that ``reviewer`` saw unmasked identifiers of ``pair`` (or exported)."""
        with self._write() as con:
            self._audit(con, _check_reviewer(reviewer), action, pair)

    def audit_events(self, since: str | None = None, reviewer: str | None = None) -> list[AuditEvent]:
        """Who revealed, exported, imported and decided what, and when, oldest first: the
        audit table and the decision history together.  Archive numbers only: no names, ID
        numbers or notes (a note may name someone)."""
        clauses, params = [], []
        if since:
            clauses.append("at >= ?")
            params.append(since)
        if reviewer:
            clauses.append("reviewer = ?")
            params.append(reviewer)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._con.execute(
            f"""
            SELECT * FROM (
                SELECT at, reviewer, action, archive_id_l, archive_id_r, '' AS detail, 0 AS kind,
                       audit_id AS seq FROM audit
                UNION ALL
                SELECT decided_at, reviewer, verdict, archive_id_l, archive_id_r,
                       source || CASE WHEN blind THEN ', blind' ELSE '' END
                              || CASE WHEN supersedes IS NOT NULL THEN ', supersedes an earlier row'
                                      ELSE '' END,
                       1, decision_id FROM decisions
            ) {where}
            ORDER BY at, kind, seq
            """, params,
        ).fetchall()
        return [AuditEvent(*r[:6]) for r in rows]

    def composition(self, flt: QueueFilter = QueueFilter()) -> list[QueueClass]:
        """The queue by reason and triage class: open pairs, and the standing verdicts on
        pairs of that class (so reviewers' answers keep measuring each class)."""
        where, params = self._filter_sql(flt)
        rows = self._con.execute(
            f"""
            SELECT q.reason, q.triage, q.triage_rank,
                   count(*) FILTER (WHERE {self._UNDECIDED}),
                   count(*) FILTER (WHERE c.verdict = 'same'),
                   count(*) FILTER (WHERE c.verdict = 'different')
            FROM queue q LEFT JOIN current c USING (archive_id_l, archive_id_r)
            WHERE (q.status = 'open' OR c.verdict IS NOT NULL) {where}
            GROUP BY q.reason, q.triage, q.triage_rank ORDER BY q.triage_rank, 4 DESC, q.reason, q.triage
            """, params,
        ).fetchall()
        return [QueueClass(*r) for r in rows]

    def audit_log(self) -> list[tuple[str, str, str, str | None, str | None]]:
        return self._con.execute(
            "SELECT at, reviewer, action, archive_id_l, archive_id_r FROM audit ORDER BY audit_id"
        ).fetchall()


def _split_sql(script: str) -> list[str]:
    """Statements of the schema script (triggers hold ';' inside BEGIN ... END)."""
    statements, buffer = [], []
    for line in script.splitlines():
        buffer.append(line)
        text = "\n".join(buffer).strip()
        if text and sqlite3.complete_statement(text):
            statements.append(text)
            buffer = []
    return statements


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _check_reviewer(reviewer: str) -> str:
    reviewer = (reviewer or "").strip()
    if not reviewer or len(reviewer) > 64:
        raise ReviewError("a reviewer name of 1 to 64 characters is required")
    return reviewer


def _details(item: dict[str, Any], flip: bool) -> dict[str, Any]:
    """Both sides' display fields, relabelled so that l_ is the smaller archive number."""
    src_l, src_r = ("r", "l") if flip else ("l", "r")
    out: dict[str, Any] = {}
    for name in DISPLAY_FIELDS:
        out[f"l_{name}"] = _plain(item.get(f"{src_l}_{name}"))
        out[f"r_{name}"] = _plain(item.get(f"{src_r}_{name}"))
    return out


def _side(details: dict[str, Any], side: str) -> dict[str, Any]:
    return {f: details.get(f"{side}_{f}") for f in DISPLAY_FIELDS}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # dates


def new_token() -> str:
    return uuid.uuid4().hex


# -- the contract linkage.pipeline calls --------------------------------------------------------


def load_human_decisions(out_dir: Path | str) -> HumanDecisions:
    """Standing verdicts of ``out_dir/review.db`` as must-links/cannot-links (empty if none).

    Computed from the append-only history (latest decision wins, undos honoured, skips are
    not verdicts); pairs are ordered (a < b).
    """
    path = store_path(out_dir)
    if not path.exists():
        return HumanDecisions()
    with ReviewStore(path, create=False) as store:
        standing = store.replay_verdicts()
    return HumanDecisions.from_verdicts({pair: d.verdict for pair, d in standing.items()},
                                        {pair: d.note for pair, d in standing.items() if d.note})


def queue_generation(out_dir: Path | str) -> int | None:
    """The output generation the review queue was last published for (None: no store yet)."""
    path = store_path(out_dir)
    if not path.is_file():
        return None
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'output_generation'").fetchone()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return int(row[0]) if row else None


def settle_run_folder(out_dir: Path | str) -> None:
    """Before a reviewer reads ``out_dir``: make its files and its queue one run's again if a
    run was killed between committing the queue and swapping the files (linkage.outputs)."""
    settle_outputs(out_dir, lambda: queue_generation(out_dir))


def publish_queue(out_dir: Path | str, items: list[dict[str, Any]],
                  cluster_sizes: dict[str, int] | None = None, generation: int | None = None) -> None:
    """Upsert one run's review pairs into ``out_dir/review.db`` (called at the end of a run).

    Decided pairs are never re-queued; open pairs absent from this run are marked stale (kept,
    not shown).  ``cluster_sizes``: archive -> size of its cluster in this run, for the
    size of the cluster at stake (the run knows it; absent, each pair counts as two).
    """
    with ReviewStore(store_path(out_dir)) as store:
        store.publish(items, cluster_sizes, generation)
