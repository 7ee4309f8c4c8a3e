"""A week of simulated nights against one state: new archives, edits, a resident moving
county, vanished archives, a reviewer's "different", an operator's un-merge, a rerun.

Every night runs incrementally, and the same night is also run as a full rebuild on a copy
of the state (and of its review store): both must give the same clusters, the same person
IDs and the same decisions.  Synthetic population only (linkage.synth).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from linkage.pipeline import run
from linkage.review.store import ReviewStore, store_path
from linkage.state.unmerge import unmerge
from linkage.synth import generate_population

from helpers import bucket, read_csv, write_archives

pytestmark = pytest.mark.slow

Row = dict[str, str]


@dataclass
class Night:
    """One night's input and what the incremental and the full run wrote."""

    rows: list[Row]
    out: Path
    full_out: Path
    summary: dict
    full_summary: dict

    def clusters(self, full: bool = False) -> dict[str, str]:
        folder = self.full_out if full else self.out
        return {r["archive_id"]: r["person_id"] for r in read_csv(folder / "clusters.csv")}

    def decisions(self, full: bool = False) -> list[Row]:
        return read_csv((self.full_out if full else self.out) / "decisions.csv")


class Week:
    """Runs nights against one state, each also as a full rebuild on a copy."""

    def __init__(self, root: Path, model: Path) -> None:
        self.root, self.model = root, model
        self.state = root / "state" / "state.duckdb"
        self.out = root / "out"
        self.nights: list[Night] = []

    def night(self, rows: list[Row]) -> Night:
        n = len(self.nights) + 1
        night_dir = self.root / f"night{n}"
        night_dir.mkdir()
        archives = write_archives(night_dir / "archives.csv", rows)
        # The full rebuild runs on copies made before the incremental run touches anything.
        full_state = night_dir / "full-state" / "state.duckdb"
        full_out = night_dir / "full-out"
        if self.state.exists():
            full_state.parent.mkdir()
            for suffix in ("", ".wal"):
                if Path(str(self.state) + suffix).exists():
                    shutil.copy2(str(self.state) + suffix, str(full_state) + suffix)
            shutil.copytree(self.out, full_out)
        run(archives, self.out, self.model, show_progress=False, state_path=self.state)
        summary = json.loads((self.out / "summary.json").read_text(encoding="utf-8"))
        snapshot = night_dir / "out"
        shutil.copytree(self.out, snapshot)
        if full_state.parent.exists():
            run(archives, full_out, self.model, show_progress=False, state_path=full_state, full=True)
            full_summary = json.loads((full_out / "summary.json").read_text(encoding="utf-8"))
        else:
            full_out, full_summary = snapshot, summary
        night = Night(rows, snapshot, full_out, summary, full_summary)
        self.nights.append(night)
        return night


@pytest.fixture(scope="module")
def week(tmp_path_factory, model_path) -> Week:
    root = tmp_path_factory.mktemp("week")
    population = root / "population"
    generate_population(3000, 23, population)
    everyone = read_csv(population / "archives.csv")
    week = Week(root, model_path)
    week.plan = {}  # what each night did, for the assertions

    # Night 1: most archives; a seventh arrives later.
    late = {r["archive_id"] for r in everyone if bucket(r["archive_id"], 7) == 0}
    n1 = week.night([r for r in everyone if r["archive_id"] not in late])

    # Night 2: the late ones arrive, 20 archives get a new phone, one resident moves county
    # (a new archive in another county, served recently, same person).
    clusters1 = n1.clusters()
    size1: dict[str, int] = {}
    for person in clusters1.values():
        size1[person] = size1.get(person, 0) + 1
    edited = sorted(a for a in clusters1 if bucket(a, 97) == 5)[:20]
    rows2 = []
    for r in everyone:
        r = dict(r)
        if r["archive_id"] in edited:
            r["phone"] = "139" + r["archive_id"][-8:]
        rows2.append(r)
    movers = [r for r in rows2 if r["archive_id"] in clusters1 and size1[clusters1[r["archive_id"]]] == 1
              and len(r["id_number"]) == 18 and r["id_number"].isdigit() and r["birth_date"]
              and r["name"] and r["phone"] and r["archive_id"] not in edited]
    mover = movers[0]
    elsewhere = next(r for r in rows2 if r["region_code"][:6] != mover["region_code"][:6])
    moved = dict(mover, archive_id="MV" + mover["archive_id"], region_code=elsewhere["region_code"],
                 address=elsewhere["address"], created_date="2024-11-02",
                 last_service_date="2025-01-15")
    rows2.append(moved)
    week.plan.update(late=late, edited=edited, mover=mover["archive_id"], moved=moved["archive_id"],
                     moved_region=moved["region_code"])
    n2 = week.night(rows2)

    # Night 3: the platform carried out some merges (their retired archives leave the
    # export), one singleton leaves, and a reviewer says one merged pair is two people.
    merges = [d for d in n2.decisions() if d["action"] == "merge"]
    clusters2 = n2.clusters()
    size2: dict[str, int] = {}
    for person in clusters2.values():
        size2[person] = size2.get(person, 0) + 1
    pairs = [d for d in merges if size2[clusters2[d["archive_id"]]] == 2
             and d["archive_id"] not in edited and d["survivor_archive_id"] not in edited]
    carried_out = [d["archive_id"] for d in pairs[:10]]
    reviewed, unmerged = pairs[10], pairs[11]
    gone_single = next(a for a, p in sorted(clusters2.items()) if size2[p] == 1 and a not in edited)
    rows3 = [r for r in rows2 if r["archive_id"] not in carried_out and r["archive_id"] != gone_single]
    busy = set(carried_out) | {gone_single} | {reviewed["archive_id"], reviewed["survivor_archive_id"],
                                               unmerged["archive_id"], unmerged["survivor_archive_id"]}
    confirmed = next(d for d in n2.decisions() if d["action"] == "review"
                     and not {d["archive_id"], d["survivor_archive_id"]} & busy)
    with ReviewStore(store_path(week.out)) as store:
        store.decide((reviewed["archive_id"], reviewed["survivor_archive_id"]), "different",
                     "reviewer1", note="two people", source="cli")
        store.decide((confirmed["archive_id"], confirmed["survivor_archive_id"]), "same",
                     "reviewer1", source="cli")
    week.plan.update(carried_out=carried_out, reviewed=reviewed, unmerged=unmerged,
                     gone_single=gone_single, confirmed=confirmed)
    week.night(rows3)

    # Night 4: an operator un-merges another archive; the same input comes again.
    result = unmerge(week.state, week.out, archive_id=unmerged["archive_id"],
                     reason="different mothers", by="operator1")
    week.plan.update(unmerge_result=result)
    week.night(rows3)

    # Night 5: nothing changed at all.
    week.night(rows3)
    return week


def _groups(clusters: dict[str, str]) -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for archive, person in clusters.items():
        groups.setdefault(person, set()).add(archive)
    return {p: frozenset(g) for p, g in groups.items()}


def test_incremental_and_full_rebuild_agree_every_night(week):
    for number, night in enumerate(week.nights, start=1):
        assert night.clusters() == night.clusters(full=True), f"night {number}: clusters"
        assert night.decisions() == night.decisions(full=True), f"night {number}: decisions"
        for key in ("merges", "migrations", "review_pairs", "clusters", "persons", "person_ids",
                    "decisions_emitted"):
            assert night.summary[key] == night.full_summary[key], f"night {number}: {key}"
    modes = [n.summary["mode"] for n in week.nights]
    assert modes == ["full", "incremental", "incremental", "incremental", "incremental"]
    assert week.nights[1].full_summary["mode"] == "full"


def test_changes_are_detected_by_id_and_content(week):
    plan = week.plan
    n1, n2, n3, n4, n5 = (n.summary["changes"] for n in week.nights)
    assert n1["new"] == len(week.nights[0].rows)
    assert n2 == {"new": len(plan["late"]) + 1, "changed": len(plan["edited"]), "vanished": 0,
                  "unchanged": len(week.nights[1].rows) - len(plan["late"]) - 1 - len(plan["edited"]),
                  "kept_rejected": 0}
    assert n3["vanished"] == len(plan["carried_out"]) + 1 and n3["new"] == n3["changed"] == 0
    assert n4["new"] == n4["changed"] == n4["vanished"] == 0
    assert n5 == n4
    # Only what changed is scored: far fewer pairs than the full rebuild compares.
    night2 = week.nights[1]
    assert 0 < night2.summary["pairs_compared"] < night2.full_summary["pairs_compared"]


def test_person_ids_stay_with_their_residents(week):
    for before, after in zip(week.nights, week.nights[1:]):
        old, new = before.clusters(), after.clusters()
        old_groups, new_groups = _groups(old), _groups(new)
        for person, members in new_groups.items():
            if person in old_groups and old_groups[person] & members:
                continue  # the ID carried over to (part of) the same resident
            # A new ID only for archives that were not linked this way before.
            assert person not in old_groups, "an ended ID came back"
        for person, members in old_groups.items():
            if members <= set(new) and members in set(new_groups.values()):
                # Same archives, same person: the same ID.
                assert new[next(iter(members))] == person
    # An ID that ended (merged, split off nothing, retired) never comes back later.
    ended: set[str] = set()
    for before, after in zip(week.nights, week.nights[1:]):
        now = set(after.clusters().values())
        assert not now & ended, "an ended person ID was reused"
        ended |= set(before.clusters().values()) - now
    assert all(p.startswith("P") and len(p) == 11 for n in week.nights for p in n.clusters().values())


def test_new_archive_of_a_moved_resident_migrates_and_keeps_the_old_id(week):
    plan, n1, n2 = week.plan, week.nights[0], week.nights[1]
    migrate = [d for d in n2.decisions() if d["action"] == "migrate"
               and {d["archive_id"], d["survivor_archive_id"]} == {plan["mover"], plan["moved"]}]
    assert len(migrate) == 1
    assert migrate[0]["to_region"] == plan["moved_region"]
    assert migrate[0]["decision_id"].startswith("D") and migrate[0]["supersedes"] == ""
    assert n2.clusters()[plan["moved"]] == n2.clusters()[plan["mover"]] == n1.clusters()[plan["mover"]]


def test_decisions_are_emitted_once(week):
    emitted = [d["decision_id"] for night in week.nights for d in night.decisions()]
    assert len(emitted) == len(set(emitted))
    assert week.nights[4].decisions() == []  # the same night twice: nothing new
    assert week.nights[4].summary["decisions_emitted"] == {}
    # Night 2 re-emits nothing of night 1 that still holds.
    first = {(d["action"], d["archive_id"], d["survivor_archive_id"], d["to_region"])
             for d in week.nights[0].decisions()}
    second = {(d["action"], d["archive_id"], d["survivor_archive_id"], d["to_region"])
              for d in week.nights[1].decisions()}
    assert not (first & second) or all(d["supersedes"] for d in week.nights[1].decisions()
                                       if (d["action"], d["archive_id"], d["survivor_archive_id"],
                                           d["to_region"]) in first)


def test_carried_out_merges_are_not_corrected(week):
    n3 = week.nights[2].decisions()
    corrected = {d["archive_id"] for d in n3 if d["action"] in ("unmerge", "correct")}
    assert not corrected & set(week.plan["carried_out"])
    assert week.nights[2].summary["person_ids"]["retired"] >= 1  # the singleton that left


def test_reviewer_different_emits_an_unmerge_of_the_old_decision(week):
    reviewed = week.plan["reviewed"]
    n3 = week.nights[2]
    rows = [d for d in n3.decisions() if d["action"] == "unmerge"
            and d["archive_id"] == reviewed["archive_id"]]
    assert len(rows) == 1
    assert rows[0]["supersedes"] == reviewed["decision_id"]
    assert rows[0]["survivor_archive_id"] == reviewed["survivor_archive_id"]
    assert rows[0]["decided_by"] == "reviewer"
    clusters = n3.clusters()
    assert clusters[reviewed["archive_id"]] != clusters[reviewed["survivor_archive_id"]]
    # The pair split 1:1; the part with the smaller archive_id kept the ID.
    old_person = week.nights[1].clusters()[reviewed["archive_id"]]
    smaller = min(reviewed["archive_id"], reviewed["survivor_archive_id"])
    assert clusters[smaller] == old_person
    assert n3.summary["person_ids"]["split"] >= 1


def test_reviewer_same_joins_the_pair_and_is_emitted_once(week):
    confirmed = week.plan["confirmed"]
    pair = {confirmed["archive_id"], confirmed["survivor_archive_id"]}
    n3, n4 = week.nights[2], week.nights[3]
    clusters = n3.clusters()
    assert clusters[confirmed["archive_id"]] == clusters[confirmed["survivor_archive_id"]]
    rows = [d for d in n3.decisions() if d["action"] in ("merge", "migrate")
            and d["archive_id"] in pair]
    assert len(rows) == 1 and rows[0]["decided_by"] == "reviewer"
    assert not [d for d in n4.decisions() if d["archive_id"] in pair]


def test_operator_unmerge_sticks_and_is_corrected_next_night(week):
    unmerged, result = week.plan["unmerged"], week.plan["unmerge_result"]
    assert result.links == 1
    n4 = week.nights[3]
    rows = [d for d in n4.decisions() if d["action"] == "unmerge"]
    assert [r["archive_id"] for r in rows] == [unmerged["archive_id"]]
    assert rows[0]["supersedes"] == unmerged["decision_id"]
    assert rows[0]["decided_by"] == "operator"
    assert rows[0]["reason"] == "un-merged by operator1: different mothers"
    clusters4, clusters5 = n4.clusters(), week.nights[4].clusters()
    old_person = week.nights[2].clusters()[unmerged["survivor_archive_id"]]
    for clusters in (clusters4, clusters5):
        assert clusters[unmerged["archive_id"]] != clusters[unmerged["survivor_archive_id"]]
        # The un-merged archive leaves with a new ID; the survivor keeps the old one.
        assert clusters[unmerged["survivor_archive_id"]] == old_person
        assert clusters[unmerged["archive_id"]] != old_person
    # Recorded as a reviewer-visible cannot-link too.
    with ReviewStore(store_path(week.out)) as store:
        standing = store.standing()
    pair = tuple(sorted((unmerged["archive_id"], unmerged["survivor_archive_id"])))
    assert standing[pair].verdict == "different" and standing[pair].reviewer == "operator1"


def test_decision_log_replays_every_night(week):
    log = read_csv(week.out / "decision_log.csv")
    emitted = [d["decision_id"] for night in week.nights for d in night.decisions()]
    assert [d["decision_id"] for d in log] == emitted
    assert [int(d["run_id"]) for d in log] == sorted(int(d["run_id"]) for d in log)
