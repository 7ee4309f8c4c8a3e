"""Accuracy of one system's clusters against the generator's truth, computed in DuckDB.

Why counts instead of pairs: a 1M-archive population has clusters of every size, and listing
their pairs in Python would cost minutes and gigabytes.  Every pair count here comes from
cluster sizes and the (predicted cluster × true person) contingency table, Σ C(n, 2), and
"pairs involving an archive with tag T" from C(n, 2) − C(n − t, 2): one GROUP BY each.

Inputs are loaded once per system with :func:`load_inputs` into fixed table names on a
connection the caller owns (the seam for tests); :func:`evaluate` then reads them.

Conventions (chosen so the numbers mean one thing in every table):
- An archive of the truth missing from the predicted clusters (e.g. a row the engine
  rejected) counts as a singleton; predicted archives absent from the truth are ignored.
- A ratio with a zero denominator is ``None`` ("undefined"), never 0 or 1.
- A true pair is "covered by review" when its two archives are in different predicted
  clusters that one review pair joins directly (a reviewer accepting that pair would join
  them).  Chains of review pairs do not count: each link of a chain is a separate decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from linkage.connection import registered

TRUTH = "bench_truth"               # archive_id, person_id, kind
PREDICTED = "bench_predicted"       # archive_id, cluster_id
HARD_NEGATIVES = "bench_hard_negatives"  # archive_id_l, archive_id_r, tag
REVIEW_PAIRS = "bench_review_pairs"  # archive_id_l, archive_id_r
MOVES = "bench_moves"               # archive_id, to_region   (merge/migrate decision rows)
REGIONS = "bench_regions"           # archive_id, region_code, created_date

_COLUMNS: dict[str, tuple[str, ...]] = {
    TRUTH: ("archive_id", "person_id", "kind"),
    PREDICTED: ("archive_id", "cluster_id"),
    HARD_NEGATIVES: ("archive_id_l", "archive_id_r", "tag"),
    REVIEW_PAIRS: ("archive_id_l", "archive_id_r"),
    MOVES: ("archive_id", "to_region"),
    REGIONS: ("archive_id", "region_code", "created_date"),
}

# Derived tables, rebuilt by load_inputs.
_ASSIGN = "_bench_assign"        # archive_id, person_id, cluster_id (every truth archive)
_TAGS = "_bench_tags"            # archive_id, family ('origin'|'corruption'), tag
_CELLS = "_bench_cells"          # cluster_id, person_id, n
_TAG_CELLS = "_bench_tag_cells"  # cluster_id, person_id, family, tag, t
_REVIEW_EDGES = "_bench_review_edges"  # a, b: distinct predicted-cluster pairs, a < b

TableData = Sequence[tuple[Any, ...]] | pa.Table | str | None
"""Rows as tuples, an Arrow table, or a SQL query over tables on the same connection."""


@dataclass(frozen=True)
class Scores:
    precision: float | None
    recall: float | None
    f1: float | None


@dataclass(frozen=True)
class TagRecall:
    """True pairs involving at least one archive with the tag, and how many were found."""

    pairs: int
    auto_linked: int
    with_review: int
    recall: float | None
    recall_with_review: float | None


@dataclass(frozen=True)
class NegativeLinks:
    """Hard-negative pairs (different persons that look alike) ending in one cluster."""

    pairs: int
    linked: int


@dataclass(frozen=True)
class CountyAccuracy:
    """Persons with a linked `moved` archive whose merge/migrate target is the new county."""

    persons: int
    correct: int
    accuracy: float | None


@dataclass(frozen=True)
class Metrics:
    archives: int
    persons: int
    predicted_clusters: int
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int
    pairwise: Scores
    bcubed: Scores
    wrong_pairs: int
    wrong_pairs_per_100k_archives: float | None
    mixed_clusters: int
    review_pairs: int
    review_pairs_per_archive: float | None
    review_covered_pairs: int
    recall_with_review: float | None
    recall_by_origin: dict[str, TagRecall] = field(default_factory=dict)
    recall_by_corruption: dict[str, TagRecall] = field(default_factory=dict)
    hard_negative_links: dict[str, NegativeLinks] = field(default_factory=dict)
    target_county: CountyAccuracy | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if not denominator else numerator / denominator


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _scores(precision: float | None, recall: float | None) -> Scores:
    return Scores(precision, recall, _f1(precision, recall))


def _create(con: duckdb.DuckDBPyConnection, name: str, data: TableData) -> None:
    """(Re)create ``name`` with its fixed VARCHAR columns from ``data`` (empty if None)."""
    columns = _COLUMNS[name]
    con.execute(f"DROP TABLE IF EXISTS {name}")
    typed = ", ".join(f"{c} VARCHAR" for c in columns)
    con.execute(f"CREATE TABLE {name} ({typed})")
    if data is None:
        return
    select = ", ".join(f"CAST({c} AS VARCHAR)" for c in columns)
    if isinstance(data, str):
        con.execute(f"INSERT INTO {name} SELECT {select} FROM ({data})")
        return
    if not isinstance(data, pa.Table):
        rows = list(data)
        data = pa.table({c: pa.array([None if r[i] is None else str(r[i]) for r in rows],
                                     pa.string())
                         for i, c in enumerate(columns)})
    view = f"_src_{name}"
    with registered(con, view, data):
        con.execute(f"INSERT INTO {name} SELECT {select} FROM {view}")


def load_inputs(
    con: duckdb.DuckDBPyConnection,
    *,
    truth: TableData,
    predicted: TableData,
    hard_negatives: TableData = None,
    review_pairs: TableData = None,
    moves: TableData = None,
    regions: TableData = None,
) -> None:
    """Load one system's output and the truth, and build the contingency tables.

    ``moves`` are the merge/migrate decision rows (retired archive, target region);
    ``regions`` gives each archive's region_code and created_date (used for moves).
    """
    for name, data in ((TRUTH, truth), (PREDICTED, predicted), (HARD_NEGATIVES, hard_negatives),
                       (REVIEW_PAIRS, review_pairs), (MOVES, moves), (REGIONS, regions)):
        _create(con, name, data)
    con.execute(f"""
        CREATE OR REPLACE TABLE {_ASSIGN} AS
        SELECT t.archive_id, t.person_id,
               coalesce(p.cluster_id, 'singleton:' || t.archive_id) AS cluster_id
        FROM {TRUTH} t
        LEFT JOIN (SELECT archive_id, any_value(cluster_id) AS cluster_id
                   FROM {PREDICTED} GROUP BY archive_id) p USING (archive_id)
    """)
    # kind = '<origin>' or '<origin>:<corr>+<corr>'
    con.execute(f"""
        CREATE OR REPLACE TABLE {_TAGS} AS
        SELECT DISTINCT archive_id, 'origin' AS family, split_part(kind, ':', 1) AS tag
        FROM {TRUTH} WHERE coalesce(split_part(kind, ':', 1), '') <> ''
        UNION
        SELECT DISTINCT archive_id, 'corruption' AS family, tag FROM (
            SELECT archive_id, unnest(string_split(split_part(kind, ':', 2), '+')) AS tag
            FROM {TRUTH} WHERE kind LIKE '%:%'
        ) WHERE tag <> ''
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE {_CELLS} AS
        SELECT cluster_id, person_id, count(*) AS n FROM {_ASSIGN} GROUP BY ALL
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE {_TAG_CELLS} AS
        SELECT a.cluster_id, a.person_id, g.family, g.tag, count(*) AS t
        FROM {_ASSIGN} a JOIN {_TAGS} g USING (archive_id) GROUP BY ALL
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE {_REVIEW_EDGES} AS
        SELECT DISTINCT least(x.cluster_id, y.cluster_id) AS a, greatest(x.cluster_id, y.cluster_id) AS b
        FROM {REVIEW_PAIRS} r
        JOIN {_ASSIGN} x ON x.archive_id = r.archive_id_l
        JOIN {_ASSIGN} y ON y.archive_id = r.archive_id_r
        WHERE x.cluster_id <> y.cluster_id
    """)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    rows = con.execute(sql).fetchall()  # fetch all: a half-read result blocks the connection
    return rows[0]


def pair_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """(true pairs, predicted pairs, true-positive pairs), from sizes alone."""
    true_pairs, = _one(con, f"""
        SELECT coalesce(sum(n * (n - 1) // 2), 0)
        FROM (SELECT count(*) AS n FROM {_ASSIGN} GROUP BY person_id)""")
    predicted_pairs, = _one(con, f"""
        SELECT coalesce(sum(n * (n - 1) // 2), 0)
        FROM (SELECT count(*) AS n FROM {_ASSIGN} GROUP BY cluster_id)""")
    true_positive, = _one(con, f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM {_CELLS}")
    return int(true_pairs), int(predicted_pairs), int(true_positive)


def bcubed(con: duckdb.DuckDBPyConnection) -> Scores:
    """B-cubed: per archive, the share of its predicted cluster that is its person (precision)
    and the share of its person found in its cluster (recall), averaged over archives."""
    precision, recall, archives = _one(con, f"""
        WITH c AS (SELECT cluster_id, sum(n) AS size FROM {_CELLS} GROUP BY cluster_id),
             p AS (SELECT person_id, sum(n) AS size FROM {_CELLS} GROUP BY person_id)
        SELECT sum(x.n * x.n / c.size), sum(x.n * x.n / p.size), sum(x.n)
        FROM {_CELLS} x JOIN c USING (cluster_id) JOIN p USING (person_id)""")
    if not archives:
        return _scores(None, None)
    return _scores(float(precision) / archives, float(recall) / archives)


def mixed_clusters(con: duckdb.DuckDBPyConnection) -> int:
    """Predicted clusters holding archives of two or more true persons."""
    count, = _one(con, f"""
        SELECT count(*) FROM (SELECT cluster_id FROM {_CELLS} GROUP BY cluster_id
                              HAVING count(*) >= 2)""")
    return int(count)


def review_covered_pairs(con: duckdb.DuckDBPyConnection) -> int:
    """True pairs split across two predicted clusters that one review pair joins."""
    count, = _one(con, f"""
        SELECT coalesce(sum(x.n * y.n), 0) FROM {_REVIEW_EDGES} e
        JOIN {_CELLS} x ON x.cluster_id = e.a
        JOIN {_CELLS} y ON y.cluster_id = e.b AND y.person_id = x.person_id""")
    return int(count)


def recall_by_tag(con: duckdb.DuckDBPyConnection, family: str) -> dict[str, TagRecall]:
    """For each tag of ``family``: true pairs with ≥1 tagged archive, auto-linked or reviewed.

    Pairs with a tagged archive = C(n, 2) − C(n − t, 2) per person (all pairs minus the
    untagged ones); the same formula per contingency cell gives the auto-linked ones, and
    n_a·n_b − (n_a − t_a)(n_b − t_b) per review-joined cluster pair the reviewed ones.
    """
    sql = f"""
    WITH persons AS (SELECT person_id, sum(n) AS n FROM {_CELLS} GROUP BY person_id),
    person_tags AS (
        SELECT person_id, tag, sum(t) AS t FROM {_TAG_CELLS} WHERE family = $family GROUP BY ALL),
    totals AS (
        SELECT g.tag, sum(p.n * (p.n - 1) // 2 - (p.n - g.t) * (p.n - g.t - 1) // 2) AS pairs
        FROM person_tags g JOIN persons p USING (person_id) GROUP BY g.tag),
    linked AS (
        SELECT g.tag, sum(c.n * (c.n - 1) // 2 - (c.n - g.t) * (c.n - g.t - 1) // 2) AS linked
        FROM {_TAG_CELLS} g JOIN {_CELLS} c USING (cluster_id, person_id)
        WHERE g.family = $family GROUP BY g.tag),
    edge_cells AS (
        SELECT e.a, e.b, x.person_id, x.n AS na, y.n AS nb FROM {_REVIEW_EDGES} e
        JOIN {_CELLS} x ON x.cluster_id = e.a
        JOIN {_CELLS} y ON y.cluster_id = e.b AND y.person_id = x.person_id),
    edge_tags AS (
        SELECT DISTINCT ec.a, ec.b, ec.person_id, g.tag FROM edge_cells ec
        JOIN {_TAG_CELLS} g ON g.person_id = ec.person_id AND g.cluster_id IN (ec.a, ec.b)
        WHERE g.family = $family),
    reviewed AS (
        SELECT et.tag, sum(ec.na * ec.nb - (ec.na - coalesce(ga.t, 0)) * (ec.nb - coalesce(gb.t, 0)))
            AS reviewed
        FROM edge_tags et JOIN edge_cells ec USING (a, b, person_id)
        LEFT JOIN {_TAG_CELLS} ga ON ga.cluster_id = et.a AND ga.person_id = et.person_id
            AND ga.family = $family AND ga.tag = et.tag
        LEFT JOIN {_TAG_CELLS} gb ON gb.cluster_id = et.b AND gb.person_id = et.person_id
            AND gb.family = $family AND gb.tag = et.tag
        GROUP BY et.tag)
    SELECT totals.tag, totals.pairs, coalesce(linked.linked, 0), coalesce(reviewed.reviewed, 0)
    FROM totals LEFT JOIN linked USING (tag) LEFT JOIN reviewed USING (tag)
    ORDER BY totals.tag
    """
    result: dict[str, TagRecall] = {}
    for tag, pairs, linked, reviewed in con.execute(sql, {"family": family}).fetchall():
        pairs, linked, reviewed = int(pairs), int(linked), int(reviewed)
        if pairs == 0:
            continue  # a tag on single-archive persons only: no pair to find
        result[tag] = TagRecall(pairs, linked, linked + reviewed, _ratio(linked, pairs),
                                _ratio(linked + reviewed, pairs))
    return result


def hard_negative_links(con: duckdb.DuckDBPyConnection) -> dict[str, NegativeLinks]:
    """Per hard-negative tag: pairs, and how many ended in the same predicted cluster."""
    rows = con.execute(f"""
        SELECT h.tag, count(*), count(*) FILTER (WHERE x.cluster_id = y.cluster_id)
        FROM {HARD_NEGATIVES} h
        JOIN {_ASSIGN} x ON x.archive_id = h.archive_id_l
        JOIN {_ASSIGN} y ON y.archive_id = h.archive_id_r
        GROUP BY h.tag ORDER BY h.tag""").fetchall()
    return {tag: NegativeLinks(int(pairs), int(linked)) for tag, pairs, linked in rows}


def target_county_accuracy(con: duckdb.DuckDBPyConnection) -> CountyAccuracy:
    """Is the person now managed in the county they moved to?

    For each person whose newest `moved` archive (by created_date) the engine linked to
    another archive of the same person, every merge/migrate row of that predicted cluster
    must name a to_region in the moved archive's county (first 6 digits).  A linked person
    with no such row counts as wrong: nothing tells the platform where they live now.
    """
    persons, correct = _one(con, f"""
        WITH moved AS (
            SELECT a.person_id, a.archive_id, a.cluster_id, r.region_code,
                   row_number() OVER (PARTITION BY a.person_id
                                      ORDER BY r.created_date DESC NULLS LAST, a.archive_id DESC) AS k
            FROM {_ASSIGN} a
            JOIN {_TAGS} g ON g.archive_id = a.archive_id AND g.family = 'origin' AND g.tag = 'moved'
            JOIN {REGIONS} r ON r.archive_id = a.archive_id),
        linked AS (
            SELECT m.* FROM moved m WHERE m.k = 1 AND EXISTS (
                SELECT 1 FROM {_ASSIGN} o WHERE o.cluster_id = m.cluster_id
                  AND o.person_id = m.person_id AND o.archive_id <> m.archive_id)),
        targets AS (
            SELECT a.cluster_id, left(mv.to_region, 6) AS county
            FROM {MOVES} mv JOIN {_ASSIGN} a USING (archive_id)),
        judged AS (
            SELECT l.person_id,
                   count(t.county) > 0
                   AND coalesce(bool_and(t.county = left(l.region_code, 6)), false) AS ok
            FROM linked l LEFT JOIN targets t ON t.cluster_id = l.cluster_id
            GROUP BY l.person_id, l.region_code)
        SELECT count(*), count(*) FILTER (WHERE ok) FROM judged""")
    return CountyAccuracy(int(persons), int(correct), _ratio(correct, persons))


def evaluate(con: duckdb.DuckDBPyConnection, *, with_decisions: bool = True) -> Metrics:
    """All metrics for the inputs loaded by :func:`load_inputs`.

    ``with_decisions=False`` (systems that emit only clusters) leaves the target-county
    accuracy undefined instead of scoring every linked move as wrong.
    """
    true_pairs, predicted_pairs, tp = pair_counts(con)
    archives, persons, clusters = _one(con, f"""
        SELECT count(*), count(DISTINCT person_id), count(DISTINCT cluster_id) FROM {_ASSIGN}""")
    review_pairs, = _one(con, f"SELECT count(*) FROM {REVIEW_PAIRS}")
    covered = review_covered_pairs(con)
    wrong = predicted_pairs - tp
    return Metrics(
        archives=int(archives),
        persons=int(persons),
        predicted_clusters=int(clusters),
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        true_positive_pairs=tp,
        pairwise=_scores(_ratio(tp, predicted_pairs), _ratio(tp, true_pairs)),
        bcubed=bcubed(con),
        wrong_pairs=wrong,
        wrong_pairs_per_100k_archives=None if not archives else wrong * 100_000 / archives,
        mixed_clusters=mixed_clusters(con),
        review_pairs=int(review_pairs),
        review_pairs_per_archive=_ratio(int(review_pairs), int(archives)),
        review_covered_pairs=covered,
        recall_with_review=_ratio(tp + covered, true_pairs),
        recall_by_origin=recall_by_tag(con, "origin"),
        recall_by_corruption=recall_by_tag(con, "corruption"),
        hard_negative_links=hard_negative_links(con),
        target_county=target_county_accuracy(con) if with_decisions else None,
    )
