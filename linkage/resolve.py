"""The cluster-and-decide step: scored pairs in, persons and merge/migrate/review rows out.

    candidate pairs → guards and learned patterns → edges → constrained clusters
    → merge/migrate rows (with evidence) → review rows → one per pair of persons, cap,
    order, decision IDs

Only archives that an automatic edge or a reviewer's "same" could join take part in the
(Python) clustering; every other archive is a person on its own.  The result is the same as
clustering everyone, at a fraction of the cost: at 1M archives, building a Python object per
archive and per kept pair dominated the whole run.

Both runs call :func:`cluster_and_decide` (the stateless run over every scored pair, the
nightly run over the affected ones); the functions below it each do one part of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from linkage.cluster import ClusterResult, Edge, constrained_clusters
from linkage.config import Config, Thresholds
from linkage.connection import id_table, registered
from linkage.csvsafe import neutralise
from linkage.decide import (
    HOUSEHOLD_LEVELS, ID_AGREES, NOT_QUEUED_REASONS, PLACEHOLDER_NAME, ArchiveFacts, born_before_created,
    clearly_apart, could_vouch_for_move,
    decide_cluster, moved_with_household, newborn_at_home, one_person_at_home, pair_guard,
    possible_twins,
)
from linkage.comove import moved_together
from linkage.human import HumanDecisions
from linkage.model.score import comparison_names, format_evidence
from linkage.newborn import (
    TWIN_PLACEHOLDERS_REASON, newborn_pair_sql, placeholder_twins, sole_named_archive,
)
from linkage.model.settings import level_codes, level_labels
from linkage.model.verdicts import BAND_REASON, PatternDecision, PatternRules
from linkage.review_cap import cap_review_rows
from linkage.review_fold import fold_review_rows
from linkage.state.decision_log import with_ids

log = logging.getLogger(__name__)

_ACTION_ORDER = {"merge": 0, "migrate": 1, "review": 2}

Pair = tuple[str, str]
PairInfo = dict[str, Any]  # p, w, gammas, weights, level codes of one scored pair


def cluster_and_decide(
    con: duckdb.DuckDBPyConnection,
    model: dict[str, Any],
    config: Config,
    human: HumanDecisions,
    *,
    pairs_table: str,
    features_table: str,
    all_archives: bool = True,
) -> tuple[dict[str, str], list[dict[str, Any]], dict[str, Any]]:
    """Constrained clustering of the scored pairs in ``pairs_table`` (the scoring step's
    table), then merge/migrate/review rows.  The caller names both tables: the ones the
    steps before it returned.

    The returned map covers every archive of ``features_table``, or, with
    ``all_archives=False``, only those that took part (any other archive is alone).
    """
    th = config.thresholds
    scored = ScoredColumns.of(model)
    pair_info = candidate_pairs(con, pairs_table, scored, th)
    # vouched for by pairs at or above the review threshold that could each be one person who
    # moved (decide.could_vouch_for_move); linkage.state.affected scopes a night by every
    # pair at or above it, a superset, so a night still re-decides whatever this may change
    banded = [pair for pair, info in pair_info.items() if info["p"] >= th.review_match_probability
              and could_vouch_for_move(info["levels"])]
    together = {pair for pair in moved_together(con, features_table, banded)
                if moved_with_household(pair_info[pair]["levels"])}
    auto_pairs, review_candidates = split_by_score(pair_info, th, human, together)
    must_links = present_must_links(con, features_table, human)
    facts = archive_facts(con, features_table,
                          {a for pair in auto_pairs + review_candidates + must_links for a in pair})
    # two placeholder archives of one home and date: twins before they are named
    twin_placeholders = placeholder_twins(con, features_table, [
        pair for pair, info in pair_info.items()
        if info["levels"].get("name") == PLACEHOLDER_NAME and info["levels"].get("location") in HOUSEHOLD_LEVELS])
    judge = PairJudge(pair_info, facts, th, PatternRules.from_model(model),
                      sole_named_archive(con, features_table, {a for pair in auto_pairs for a in pair}),
                      together=together, twin_placeholders=twin_placeholders)
    review_candidates = judge.settle_review_candidates(review_candidates)
    learned_auto = [pair for pair in sorted(judge.learned) if judge.learned[pair].action == "auto"]
    involved = ({a for pair in auto_pairs for a in pair} | {a for pair in must_links for a in pair}
                | {a for pair in learned_auto for a in pair})
    edges = judge.edges(auto_pairs, learned_auto)
    clearly_different = [pair for pair in clearly_different_pairs(con, pairs_table, th, involved, human)
                         if pair not in pair_info]  # newborn pairs weighed below the band
    strong_ids, valid_ids = checked_ids(con, features_table, involved)
    result: ClusterResult = constrained_clusters(
        archives=sorted(involved),
        edges=edges,
        strong_ids=strong_ids,
        cannot_links=human.cannot_links,
        must_links=must_links,
        clearly_different=clearly_different,
        max_size=th.max_auto_cluster_size,
        valid_ids=valid_ids,
        possible_twins=same_surname(con, features_table, [pair for pair, info in pair_info.items()
                                                           if possible_twins(info["levels"])])
        + sorted(twin_placeholders),
    )
    groups = groups_of(result)
    person_of = person_ids(con, features_table, result, all_archives)
    pair_info.update(pairs_within_groups(con, pairs_table, scored, groups))
    evidence = Evidence(pair_info, judge.learned, scored.labels)
    decisions = retire_rows(groups, facts, person_of, evidence, human)
    decisions += review_rows(review_candidates, result, judge.learned, pair_info, person_of, facts,
                             evidence)
    decisions, folded = fold_review_rows(decisions, person_of, human.cannot_links)
    decisions, capped = cap_review_rows(decisions, person_of, config.limits.max_review_rows_per_group)
    decisions.sort(key=lambda d: (_ACTION_ORDER[d["action"]], d["archive_id"], d["survivor_archive_id"]))
    stats = {
        "clusters": len(groups),
        "learned_auto": sum(1 for d in judge.learned.values() if d.action == "auto"),
        "learned_drop": sum(1 for d in judge.learned.values() if d.action == "drop"),
        "human_links_applied": len(human.must_links) + len(human.cannot_links),
        "human_links_refused": len(result.must_links_refused),
        "contested": len(result.contested),
        "review_cap": capped.as_dict(),
        "review_folded": folded.as_dict(),
    }
    if result.must_links_refused:
        log.warning("%d reviewer 'same' verdict(s) not applied: another verdict says the two "
                    "groups hold different people (archives %s)", len(result.must_links_refused),
                    "; ".join(f"{a}/{b}" for a, b in result.must_links_refused[:10]))
    return person_of, with_ids(decisions), stats


@dataclass(frozen=True)
class ScoredColumns:
    """The columns of a scored-pairs table this step reads, per comparison of the model, and
    what a gamma means: its level code (what rules match on) and display label (evidence)."""

    names: list[str]
    labels: dict[str, dict[int, str]]
    codes: dict[str, dict[int, str]]

    @staticmethod
    def of(model: dict[str, Any]) -> "ScoredColumns":
        return ScoredColumns(comparison_names(model), level_labels(model), level_codes(model))

    def select(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        columns = ["archive_id_l", "archive_id_r", "match_probability", "match_weight",
                   *(f"gamma_{n}" for n in self.names), *(f"w_{n}" for n in self.names)]
        return ", ".join(prefix + c for c in columns)

    def rows(self, con: duckdb.DuckDBPyConnection, sql: str) -> dict[Pair, PairInfo]:
        """(a, b) -> probability, weight, gammas, per-comparison weights and level codes."""
        names, k = self.names, len(self.names)
        # a pair's level codes depend only on its gammas: one dict per distinct gamma tuple
        # (a few hundred), shared by the pairs that have it
        levels_of: dict[tuple[Any, ...], dict[str, str]] = {}
        codes = [self.codes[n] for n in names]
        info: dict[Pair, PairInfo] = {}
        for row in con.execute(sql).fetchall():
            gamma_values = row[4:4 + k]
            levels = levels_of.get(gamma_values)
            if levels is None:
                levels = levels_of[gamma_values] = {
                    n: code.get(int(g), "") for n, code, g in zip(names, codes, gamma_values)}
            info[(row[0], row[1])] = {
                "p": float(row[2]), "w": float(row[3]), "gammas": dict(zip(names, gamma_values)),
                "weights": dict(zip(names, row[4 + k:4 + 2 * k])), "levels": levels,
            }
        return info


def candidate_pairs(con: duckdb.DuckDBPyConnection, pairs_table: str, scored: ScoredColumns,
                    th: Thresholds) -> dict[Pair, PairInfo]:
    """Pairs that may join archives or go to review: few, and fetched with their evidence.
    Newborn placeholder pairs in one household come whatever their score (decide.newborn_at_home)."""
    rows = scored.rows(con, f"""
        SELECT {scored.select()} FROM {pairs_table}
        WHERE match_probability >= {th.review_match_probability!r} OR {newborn_pair_sql(scored.codes)}
        ORDER BY archive_id_l, archive_id_r
    """)
    return {pair: info for pair, info in rows.items()
            if info["p"] >= th.review_match_probability or newborn_at_home(info["levels"])}


def comove_seeds(con: duckdb.DuckDBPyConnection, model: dict[str, Any], pairs_table: str,
                 th: Thresholds) -> set[str]:
    """Archives of the pairs a household that moved with them could decide
    (decide.moved_with_household): whether another pair vouches for them can change with
    any other pair, so a nightly run re-clusters them every night (linkage.state.affected)."""
    scored = ScoredColumns.of(model)
    info = scored.rows(con, f"SELECT {scored.select()} FROM {pairs_table} "
                            f"WHERE match_probability >= {th.review_match_probability!r}")
    return {archive for pair, i in info.items() if moved_with_household(i["levels"]) for archive in pair}


def split_by_score(pair_info: dict[Pair, PairInfo], th: Thresholds, human: HumanDecisions,
                   together: set[Pair] = frozenset()) -> tuple[list[Pair], list[Pair]]:
    """Undecided candidates above the automatic threshold, and those in the review band
    (less pairs whose IDs, or twins' names and sexes, already tell them apart).  A pair
    decide.one_person_at_home or decide.newborn_at_home describes counts as automatic whatever
    its score (the pair guard still decides whether it joins), and so does a pair of a
    household that moved together (``together``, linkage.comove)."""
    auto_pairs = [pair for pair, info in pair_info.items()
                  if (info["p"] >= th.auto_match_probability or one_person_at_home(info["levels"])
                      or newborn_at_home(info["levels"]) or pair in together)
                  and not human.decided(*pair)]
    review_candidates = [pair for pair, info in pair_info.items()
                         if info["p"] < th.auto_match_probability and not one_person_at_home(info["levels"])
                         and not newborn_at_home(info["levels"]) and pair not in together
                         and not human.decided(*pair) and not clearly_apart(info["levels"])]
    return auto_pairs, review_candidates


def present_must_links(con: duckdb.DuckDBPyConnection, features: str,
                       human: HumanDecisions) -> list[Pair]:
    """Reviewers' "same" pairs whose two archives are both in this run (sorted)."""
    present = _present(con, features, {a for pair in human.must_links for a in pair})
    return [pair for pair in sorted(human.must_links) if pair[0] in present and pair[1] in present]


def _present(con: duckdb.DuckDBPyConnection, features: str, ids: set[str]) -> set[str]:
    """Which of ``ids`` are archives of this run (reviewers' links may name vanished ones)."""
    if not ids:
        return set()
    with registered(con, "_maybe_present", id_table(ids)):
        rows = con.execute(
            f"SELECT archive_id FROM {features} SEMI JOIN _maybe_present USING (archive_id)").fetchall()
    return {r[0] for r in rows}


def archive_facts(
    con: duckdb.DuckDBPyConnection, features: str, ids: Iterable[str]
) -> dict[str, ArchiveFacts]:
    """Facts of the given archives only: at 1M archives, fetching everyone's took seconds."""
    with registered(con, "_facts_ids", id_table(ids)):
        rows = con.execute(f"""
            SELECT archive_id, region_code, created_date, last_service_date, coalesce(id_valid, false),
                   (name_clean IS NOT NULL)::INT + (sex IS NOT NULL)::INT + (dob IS NOT NULL)::INT
                   + (id_norm IS NOT NULL)::INT + (address_norm IS NOT NULL)::INT
                   + (phone_norm IS NOT NULL)::INT + (last_service_date IS NOT NULL)::INT,
                   dob_best
            FROM {features} SEMI JOIN _facts_ids USING (archive_id)
        """).fetchall()
    return {r[0]: ArchiveFacts(*r) for r in rows}


@dataclass
class PairJudge:
    """The per-pair guard (linkage.decide) and the patterns reviewers consistently settled
    (linkage.model.verdicts): join, or stop queueing.  What a learned "same" may overrule is
    judged on the pair's guard without the thresholds (a twin-looking pair stays with the
    reviewers whatever its score).  ``learned`` collects every pattern decision taken."""

    pair_info: dict[Pair, PairInfo]
    facts: dict[str, ArchiveFacts]
    th: Thresholds
    rules: PatternRules
    # newborn placeholder archive -> its household's only named archive (linkage.newborn)
    sole_named: dict[str, str] = field(default_factory=dict)
    # pairs of households that moved together (linkage.comove)
    together: set[Pair] = field(default_factory=set)
    # two newborn placeholders of one home and date (linkage.newborn.placeholder_twins)
    twin_placeholders: set[Pair] = field(default_factory=set)
    learned: dict[Pair, PatternDecision] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._twin_archives = {archive for pair in self.twin_placeholders for archive in pair}

    def guard(self, pair: Pair, probability: float) -> str:
        a, b = pair
        if self._twin_placeholder_pair(pair):
            return TWIN_PLACEHOLDERS_REASON
        return pair_guard(self.pair_info[pair]["levels"], probability,
                          self.th.auto_match_probability_without_id,
                          born_before_created(self.facts[a], self.facts[b]),
                          sole_newborn=self.sole_named.get(a) == b or self.sole_named.get(b) == a,
                          moved_together=pair in self.together)

    def _twin_placeholder_pair(self, pair: Pair) -> bool:
        """The two placeholders of twins, or one of them and a named archive by the newborn
        rule (the name unknown, no ID agreeing): with two placeholders at home, the named
        child is one of them, and nothing says which."""
        if pair in self.twin_placeholders:
            return True
        levels = self.pair_info[pair]["levels"]
        return ((pair[0] in self._twin_archives or pair[1] in self._twin_archives)
                and levels.get("name") == PLACEHOLDER_NAME and levels.get("id") not in ID_AGREES)

    def learned_decision(self, pair: Pair, reason: str) -> PatternDecision | None:
        if not self.rules.counts:
            return None
        # ``reason`` (the band, or the guard at the pair's score) keys the learned kind; what
        # a learned "same" may overrule is the guard with the score set aside.
        return self.rules.decide(self.pair_info[pair]["levels"], reason, self.guard(pair, 1.0))

    def settle_review_candidates(self, candidates: list[Pair]) -> list[Pair]:
        """The review-band pairs no learned pattern settles (the settled ones are learned)."""
        for pair in candidates:
            decision = self.learned_decision(pair, BAND_REASON)
            if decision is not None:
                self.learned[pair] = decision
        return [pair for pair in candidates if pair not in self.learned]

    def edges(self, auto_pairs: list[Pair], learned_auto: list[Pair]) -> list[Edge]:
        """An edge per automatic pair (eligible unless its guard, not overruled by a learned
        pattern, objects), then one per review-band pair a learned pattern joins."""
        edges: list[Edge] = []
        for a, b in auto_pairs:
            info = self.pair_info[(a, b)]
            reason = self.guard((a, b), info["p"])
            if reason:
                decision = self.learned_decision((a, b), reason)
                if decision is not None:
                    self.learned[(a, b)] = decision
                    reason = "" if decision.action == "auto" else reason
            edges.append(Edge(a, b, info["p"], auto_eligible=not reason, guard_reason=reason,
                              id_confirmed=info["levels"].get("id") == "id.exact"))
        edges += [Edge(a, b, self.pair_info[(a, b)]["p"], auto_eligible=True,
                       id_confirmed=self.pair_info[(a, b)]["levels"].get("id") == "id.exact")
                  for a, b in learned_auto]
        return edges


def clearly_different_pairs(con: duckdb.DuckDBPyConnection, pairs_table: str, th: Thresholds,
                            involved: set[str], human: HumanDecisions) -> list[Pair]:
    """Low-scoring pairs: they matter only between archives that could end up in one group."""
    with registered(con, "_involved", id_table(involved)):
        rows = con.execute(f"""
            SELECT archive_id_l, archive_id_r FROM {pairs_table}
            WHERE match_probability < {th.review_match_probability!r}
              AND archive_id_l IN (SELECT archive_id FROM _involved)
              AND archive_id_r IN (SELECT archive_id FROM _involved)
        """).fetchall()
    return [(a, b) for a, b in rows if not human.decided(a, b)]


def same_surname(con: duckdb.DuckDBPyConnection, features: str, pairs: list[Pair]) -> list[Pair]:
    """Of ``pairs``, those whose names begin with the same character.  Twins share a
    surname; a surname typed as its homophone (章/张, 程/陈) is a typo, not how twins'
    names differ.  Measured at 30k persons, two seeds, four generators: of the true joins the
    twin chain rule (linkage.decide.possible_twins) held back, most were a surname homophone
    on one archive."""
    if not pairs:
        return []
    table = pa.table({"l": pa.array([a for a, _ in pairs], pa.string()),
                      "r": pa.array([b for _, b in pairs], pa.string())})
    with registered(con, "_twin_candidates", table):
        rows = con.execute(
            f"SELECT t.l, t.r FROM _twin_candidates t "
            f"JOIN {features} a ON a.archive_id = t.l JOIN {features} b ON b.archive_id = t.r "
            "WHERE left(a.name_clean, 1) = left(b.name_clean, 1) ORDER BY t.l, t.r"
        ).fetchall()
    return [(a, b) for a, b in rows]


def checked_ids(con: duckdb.DuckDBPyConnection, features: str,
                ids: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Checksum-valid IDs of the given archives: those consistent with their own record
    (strong), and all of them."""
    with registered(con, "_valid_ids", id_table(ids)):
        rows = con.execute(
            f"SELECT archive_id, id_norm, coalesce(id_consistent, false) FROM {features} "
            "SEMI JOIN _valid_ids USING (archive_id) WHERE id_valid"
        ).fetchall()
    return {a: i for a, i, strong in rows if strong}, {a: i for a, i, _ in rows}


def groups_of(result: ClusterResult) -> dict[str, list[str]]:
    """root -> sorted members, for the groups of two or more archives."""
    members: dict[str, list[str]] = {}
    for archive, root in sorted(result.root_of.items()):
        members.setdefault(root, []).append(archive)
    return {root: group for root, group in members.items() if len(group) > 1}


def person_ids(con: duckdb.DuckDBPyConnection, features: str, result: ClusterResult,
               all_archives: bool) -> dict[str, str]:
    """archive -> ``P<root>``: for the clustered archives, or (``all_archives``) everyone."""
    person_of: dict[str, str] = {}
    if all_archives:
        person_of = {a: f"P{a}" for (a,) in con.execute(f"SELECT archive_id FROM {features}").fetchall()}
    person_of.update({archive: f"P{root}" for archive, root in result.root_of.items()})
    return person_of


def pairs_within_groups(
    con: duckdb.DuckDBPyConnection, pairs_table: str, scored: ScoredColumns,
    groups: dict[str, list[str]],
) -> dict[Pair, PairInfo]:
    """Every scored pair inside a multi-archive group, whatever its score (for evidence)."""
    if not groups:
        return {}
    group_of = pa.table({
        "archive_id": pa.array([a for g in groups.values() for a in g], pa.string()),
        "root": pa.array([r for r, g in groups.items() for _ in g], pa.string()),
    })
    with registered(con, "_group_of", group_of):
        return scored.rows(con, f"""
            SELECT {scored.select("p")}
            FROM {pairs_table} p
            JOIN _group_of gl ON gl.archive_id = p.archive_id_l
            JOIN _group_of gr ON gr.archive_id = p.archive_id_r
            WHERE gl.root = gr.root
        """)


@dataclass(frozen=True)
class Evidence:
    """Probability, weight and the per-field evidence text of a pair, from this run's scores
    (and the learned pattern that settled it, if one did)."""

    pair_info: dict[Pair, PairInfo]
    learned: dict[Pair, PatternDecision]
    labels: dict[str, dict[int, str]]

    def of(self, a: str, b: str) -> tuple[float | None, float | None, str]:
        pair = (a, b) if a < b else (b, a)
        info = self.pair_info.get(pair)
        if info is None:
            return None, None, "reviewer decision (pair not scored this run)"
        text = format_evidence(self.labels, info["gammas"], info["weights"])
        note = self.learned.get(pair)
        if note is not None:
            text = f"{text}; {note.note()}"
        return round(info["p"], 6), round(info["w"], 3), text

    def best_partner(self, archive: str, group: list[str]) -> str:
        """The cluster member this archive is most strongly linked to (for its evidence)."""
        best, best_p = group[0] if group[0] != archive else group[-1], -1.0
        for other in group:
            if other == archive:
                continue
            info = self.pair_info.get((archive, other) if archive < other else (other, archive))
            if info is not None and info["p"] > best_p:
                best, best_p = other, info["p"]
        return best


def retire_rows(groups: dict[str, list[str]], facts: dict[str, ArchiveFacts],
                person_of: dict[str, str], evidence: Evidence,
                human: HumanDecisions) -> list[dict[str, Any]]:
    """The merge and migrate rows of every group (linkage.decide), each with its evidence."""
    decisions: list[dict[str, Any]] = []
    for group in groups.values():
        for d in decide_cluster([facts[a] for a in group]):
            # The evidence of this very pair when it was scored; otherwise of the link that
            # brought the archive in, saying so (a chain never passes off as a direct match).
            direct = tuple(sorted((d.archive_id, d.survivor_archive_id)))
            best = (d.survivor_archive_id if direct in evidence.pair_info
                    else evidence.best_partner(d.archive_id, group))
            prob, weight, text = evidence.of(d.archive_id, best)
            if best != d.survivor_archive_id:
                text = f"via {best}: {text}"
            human_pairs = [pair for other in group if (
                pair := (d.archive_id, other) if d.archive_id < other else (other, d.archive_id)
            ) in human.must_links] if human.must_links else []
            note = "; ".join(human.notes[p] for p in human_pairs if human.notes.get(p))
            decisions.append({
                "action": d.action, "archive_id": d.archive_id,
                "survivor_archive_id": d.survivor_archive_id,
                "from_region": d.from_region, "to_region": d.to_region,
                "match_probability": prob, "match_weight": weight, "evidence": text,
                "person_id": person_of[d.archive_id],
                "decided_by": "reviewer" if human_pairs else "engine", "reason": "",
                "note": neutralise(note),
            })
    return decisions


def review_rows(review_candidates: list[Pair], result: ClusterResult,
                learned: dict[Pair, PatternDecision], pair_info: dict[Pair, PairInfo],
                person_of: dict[str, str], facts: dict[str, ArchiveFacts],
                evidence: Evidence) -> list[dict[str, Any]]:
    """A review row per review-band pair and per edge the clustering refused (unless a learned
    "different" pattern drops it, or IDs tell it apart (decide.clearly_apart), or its reason
    was never one person (decide.NOT_QUEUED_REASONS), or the two are joined anyway)."""
    review_reasons: dict[Pair, str] = {pair: BAND_REASON for pair in review_candidates}
    for edge, reason in result.refused:
        pair = (edge.left, edge.right)
        if pair in learned and learned[pair].action == "drop":
            continue  # reviewers consistently said "different" to this pattern
        if reason not in NOT_QUEUED_REASONS and not clearly_apart(pair_info.get(pair, {}).get("levels", {})):
            review_reasons.setdefault(pair, reason)
    rows: list[dict[str, Any]] = []
    for (a, b), reason in sorted(review_reasons.items()):
        if a in person_of and person_of.get(a) == person_of.get(b):
            continue  # already joined through stronger pairs
        prob, weight, text = evidence.of(a, b)
        rows.append({
            "action": "review", "archive_id": a, "survivor_archive_id": b,
            "from_region": facts[a].region_code, "to_region": facts[b].region_code,
            "match_probability": prob, "match_weight": weight, "evidence": text,
            "person_id": "", "decided_by": "engine", "reason": reason,
        })
    return rows
