"""Which archives a night must re-cluster; everyone else's persons and decisions stand.

Constrained clustering is separable: a group only ever grows along automatic edges and
reviewers' "same" links, and every rule that refuses a join looks only inside the two
groups being joined.  So the persons (and merge/migrate/review decisions) of a connected
component of that graph depend on nothing outside it: its edges and their scores, the
reviewers' links in it, and its archives' own facts.  A component none of whose inputs
changed keeps last night's result — with one caveat: edges are taken strongest first,
and scores drift a little every night (term frequencies, prior).  If last night joined all
of a component's edges without refusing any, the order did not matter and does not now
(every subset of a valid group is valid); components where something was refused are
re-clustered every night.

Seeds (archives whose component is re-clustered):

* new and changed archives;
* ends of kept pairs that appeared, disappeared or changed class (crossed the review,
  automatic or ID-less automatic threshold) since last night (``st.kept``);
* ends of reviewer / un-merge links that changed since last night (``st.human``);
* ends of automatic edges and reviewer "same" links that last night did not join
  (their ends were in different persons): conflicted components;
* current archives of last night's persons that lost an archive (vanished);
* the ends of pairs a household that moved with them could decide (linkage.comove): the
  pair vouching for them may have changed anywhere.

The seeds grow to whole components of tonight's graph (automatic edges, reviewers' "same"
links, and pairs at or above the review threshold: the review rows of a group are capped
as a whole, linkage.review_cap; and a pair to the pair that vouches for it as a household
that moved together, linkage.comove) and whole persons of last night, until neither adds an
archive.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pyarrow as pa

from linkage.comove import supporting_pairs
from linkage.connection import id_table, registered
from linkage.config import Thresholds
from linkage.human import HumanDecisions
from linkage.model.features import MODEL_INPUT_TABLE

KEPT_TABLE_SQL = "SELECT archive_id_l, archive_id_r, {cls} AS class FROM {pairs}"
HUMAN_TABLE = "night_human"  # archive_id_l, archive_id_r, verdict: tonight's reviewer/un-merge links
SCOPE_TABLE = "night_scope"  # archive_id: the archives re-clustered tonight


def class_sql(thresholds: Thresholds) -> str:
    """How many of the probability thresholds a pair reaches (0..3)."""
    cuts = sorted({thresholds.review_match_probability, thresholds.auto_match_probability,
                   thresholds.auto_match_probability_without_id})
    return " + ".join(f"(match_probability >= {c!r})::INTEGER" for c in cuts)


def human_table(con: duckdb.DuckDBPyConnection, human: HumanDecisions, name: str) -> None:
    """Tonight's reviewer and un-merge links as a table (archive_id_l, archive_id_r, verdict)."""
    pairs = [(a, b, "same") for a, b in sorted(human.must_links)]
    pairs += [(a, b, "different") for a, b in sorted(human.cannot_links)]
    rows = pa.table({
        "archive_id_l": pa.array([p[0] for p in pairs], pa.string()),
        "archive_id_r": pa.array([p[1] for p in pairs], pa.string()),
        "verdict": pa.array([p[2] for p in pairs], pa.string()),
    })
    with registered(con, "_human_rows", rows):
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _human_rows")


def _ids(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    return {r[0] for r in con.execute(sql).fetchall()}


def affected_archives(
    con: duckdb.DuckDBPyConnection,
    *,
    pairs: str,
    human: HumanDecisions,
    human_now: str,
    changes: str,
    current: str,
    thresholds: Thresholds,
    features: str = MODEL_INPUT_TABLE,
    always: Iterable[str] = (),
) -> set[str]:
    """The archives to re-cluster tonight (see the module docstring); ``current``: a table
    of tonight's archive_ids (reviewers' links may name archives that are not); ``always``:
    archives re-clustered every night (resolve.comove_seeds)."""
    auto = repr(thresholds.auto_match_probability)
    seeds = _ids(con, f"""
        SELECT archive_id FROM {changes} WHERE change <> 'vanished'
        UNION
        SELECT unnest([coalesce(o.archive_id_l, n.archive_id_l), coalesce(o.archive_id_r, n.archive_id_r)])
        FROM st.kept o
        FULL OUTER JOIN ({KEPT_TABLE_SQL.format(cls=class_sql(thresholds), pairs=pairs)}) n
            USING (archive_id_l, archive_id_r)
        WHERE o.class IS DISTINCT FROM n.class
        UNION
        SELECT unnest([coalesce(o.archive_id_l, n.archive_id_l), coalesce(o.archive_id_r, n.archive_id_r)])
        FROM st.human o FULL OUTER JOIN {human_now} n USING (archive_id_l, archive_id_r)
        WHERE o.verdict IS DISTINCT FROM n.verdict
        UNION
        SELECT unnest([e.archive_id_l, e.archive_id_r])
        FROM (SELECT archive_id_l, archive_id_r FROM {pairs} WHERE match_probability >= {auto}
              UNION SELECT archive_id_l, archive_id_r FROM {human_now} WHERE verdict = 'same') e
        LEFT JOIN st.persons pl ON pl.archive_id = e.archive_id_l
        LEFT JOIN st.persons pr ON pr.archive_id = e.archive_id_r
        WHERE pl.person_id IS DISTINCT FROM pr.person_id
        UNION
        SELECT p.archive_id FROM st.persons p
        WHERE p.person_id IN (SELECT person_id FROM st.persons
                              WHERE archive_id IN (SELECT archive_id FROM {changes} WHERE change = 'vanished'))
          AND p.archive_id NOT IN (SELECT archive_id FROM {changes} WHERE change = 'vanished')
    """)
    seeds |= set(always)
    # Review pairs link too: the review rows of a group are capped as a whole
    # (linkage.review_cap), so a group is re-decided whole or not at all.
    review = repr(thresholds.review_match_probability)
    edges = con.execute(
        f"SELECT archive_id_l, archive_id_r FROM {pairs} WHERE match_probability >= {review}"
    ).fetchall()
    neighbours: dict[str, list[str]] = {}
    for a, b in list(edges) + sorted(human.must_links):
        if human.decided(a, b) and (a, b) not in human.must_links:
            continue  # a reviewer's "different" removes the edge
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    for (a, _), (c, _) in supporting_pairs(con, features, edges):
        neighbours.setdefault(a, []).append(c)
        neighbours.setdefault(c, []).append(a)
    vanished = _ids(con, f"SELECT archive_id FROM {changes} WHERE change = 'vanished'")
    scope: set[str] = set()
    frontier = set(seeds) - vanished
    while frontier:
        scope |= _component(frontier, neighbours, scope)
        frontier = _old_persons(con, scope) - scope - vanished
    with registered(con, "_scope_ids", id_table(scope)):
        return _ids(con, f"SELECT archive_id FROM _scope_ids SEMI JOIN {current} USING (archive_id)")


def _component(start: Iterable[str], neighbours: dict[str, list[str]], known: set[str]) -> set[str]:
    """Everything reachable from ``start`` (beyond ``known``) along tonight's links."""
    found: set[str] = set()
    stack = [a for a in start if a not in known]
    while stack:
        archive = stack.pop()
        if archive in found or archive in known:
            continue
        found.add(archive)
        stack.extend(n for n in neighbours.get(archive, ()) if n not in found and n not in known)
    return found


def _old_persons(con: duckdb.DuckDBPyConnection, archives: set[str]) -> set[str]:
    """Every archive of last night's persons of ``archives``."""
    with registered(con, "_scope_ids", id_table(archives)):
        return _ids(con, """
            SELECT archive_id FROM st.persons
            WHERE person_id IN (SELECT person_id FROM st.persons SEMI JOIN _scope_ids USING (archive_id))
        """)
