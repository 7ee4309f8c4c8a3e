"""The review store: owner-only file, append-only history, queue publishing, leases, replay."""

from __future__ import annotations

import sqlite3
import stat
import threading
from datetime import datetime, timedelta, timezone

import pytest

from linkage.errors import ReviewError
from linkage.human import HumanDecisions
from linkage.review.store import (
    QueueFilter, ReviewStore, load_human_decisions, new_token, publish_queue, store_path,
)

# Synthetic people only: invented names, IDs built for tests.
SIDE = {
    "name": "测试甲", "name_py": "ceshijia", "sex": "男", "birth_date": "1950-03-04",
    "id_number": "110105195003040011", "id_status": "valid", "region_code": "110105001201",
    "address": "测试路1号", "phone": "13900001111", "created_date": "2015-01-01",
    "last_service_date": "2023-01-01", "county": "110105", "township": "110105001",
}


def item(a: str, b: str, p: float = 0.8, county: str = "110105", township: str = "110105001") -> dict:
    out = {"archive_id_l": a, "archive_id_r": b, "match_probability": p, "match_weight": 1.5,
           "evidence": "name=一致 +8.0; id=空 0", "reason": "score between review and automatic thresholds"}
    for side in ("l", "r"):
        out.update({f"{side}_{k}": v for k, v in SIDE.items()})
        out[f"{side}_county"], out[f"{side}_township"] = county, township
    return out


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_store_is_owner_only_and_wal(tmp_path):
    publish_queue(tmp_path, [item("A1", "A2")])
    path = store_path(tmp_path)
    with ReviewStore(path) as store:
        store.decide(("A1", "A2"), "same", "r1")
        files = sorted(f.name for f in tmp_path.iterdir() if f.name.startswith("review.db"))
        assert files == ["review.db", "review.db-shm", "review.db-wal"]
        for name in files:
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_decisions_and_audit_are_append_only(tmp_path):
    publish_queue(tmp_path, [item("A1", "A2")])
    with ReviewStore(store_path(tmp_path)) as store:
        store.decide(("A1", "A2"), "same", "r1")
        store.log_access("r1", "reveal", ("A1", "A2"))
    con = sqlite3.connect(store_path(tmp_path))
    for sql in ("UPDATE decisions SET verdict = 'different'", "DELETE FROM decisions",
                "UPDATE audit SET reviewer = 'x'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    con.close()


def test_no_store_means_no_human_decisions_and_no_file(tmp_path):
    assert load_human_decisions(tmp_path) == HumanDecisions()
    assert not store_path(tmp_path).exists()


def test_latest_decision_wins_skip_is_not_a_verdict_and_pairs_are_ordered(tmp_path):
    publish_queue(tmp_path, [item("B9", "A1"), item("C1", "C2")])
    with ReviewStore(store_path(tmp_path)) as store:
        store.decide(("B9", "A1"), "same", "r1")
        store.decide(("A1", "B9"), "different", "r2", note="changed mind")
        store.decide(("C1", "C2"), "skip", "r1")
        assert [d.verdict for d in store.history(("A1", "B9"))] == ["same", "different"]
        assert store.history(("A1", "B9"))[1].supersedes == store.history(("A1", "B9"))[0].decision_id
    human = load_human_decisions(tmp_path)
    assert human.cannot_links == {("A1", "B9")}
    assert human.must_links == frozenset()
    assert not human.decided("C1", "C2")


def test_undo_restores_what_stood_before(tmp_path):
    publish_queue(tmp_path, [item("A1", "A2")])
    with ReviewStore(store_path(tmp_path)) as store:
        first = store.decide(("A1", "A2"), "same", "r1")
        second = store.decide(("A1", "A2"), "different", "r1")
        undone, _ = store.undo(second.decision_id, "r1")
        assert undone.verdict == "undone" and undone.supersedes == second.decision_id
        assert store.standing()[("A1", "A2")].decision_id == first.decision_id
        assert load_human_decisions(tmp_path).must_links == {("A1", "A2")}
        with pytest.raises(ReviewError, match="no longer stands"):
            store.undo(second.decision_id, "r1")
        store.undo(first.decision_id, "r1")
        assert store.standing() == {}
        assert store.replay_verdicts() == {}
        assert len(store.history()) == 4  # nothing rewritten


def test_replay_of_history_matches_current_table(tmp_path):
    pairs = [(f"A{i}", f"B{i}") for i in range(6)]
    publish_queue(tmp_path, [item(a, b) for a, b in pairs])
    with ReviewStore(store_path(tmp_path)) as store:
        for i, pair in enumerate(pairs):
            d = store.decide(pair, "same" if i % 2 else "different", "r1")
            if i % 3 == 0:
                store.undo(d.decision_id, "r1")
            if i == 4:
                store.decide(pair, "different", "r2")
        assert store.replay_verdicts() == store.standing()


def test_publish_upserts_marks_stale_and_never_requeues_decided(tmp_path):
    publish_queue(tmp_path, [item("A1", "A2", 0.6), item("A3", "A4", 0.7), item("A5", "A6", 0.8)])
    with ReviewStore(store_path(tmp_path)) as store:
        store.decide(("A1", "A2"), "different", "r1")
    # Next night: A1/A2 comes back (the pipeline would not send it; the store refuses anyway),
    # A3/A4 is re-scored, A5/A6 is gone, A7/A8 is new.
    publish_queue(tmp_path, [item("A1", "A2", 0.6), item("A3", "A4", 0.9), item("A7", "A8", 0.5)])
    with ReviewStore(store_path(tmp_path)) as store:
        open_pairs = {i.pair: i for i in store.list_queue(status="open")}
        assert set(open_pairs) == {("A3", "A4"), ("A7", "A8")}
        assert open_pairs[("A3", "A4")].match_probability == 0.9
        assert [i.pair for i in store.list_queue(status="stale")] == [("A5", "A6")]
        assert [i.pair for i in store.list_queue(status="decided")] == [("A1", "A2")]
        assert store.counts().left == 2


def test_publish_orders_sides_and_takes_cluster_sizes(tmp_path):
    flipped = item("Z9", "A1")
    flipped["l_name"], flipped["r_name"] = "左", "右"
    publish_queue(tmp_path, [flipped, item("A1", "A2")], {"A1": 1, "A2": 3, "Z9": 1})
    with ReviewStore(store_path(tmp_path)) as store:
        items = {i.pair: i for i in store.list_queue()}
    assert items[("A1", "Z9")].side("l")["name"] == "右"  # l is the smaller archive number
    assert items[("A1", "Z9")].cluster_size == 2
    assert items[("A1", "A2")].cluster_size == 4


def test_order_and_filters(tmp_path):
    publish_queue(tmp_path, [
        item("A1", "A2", 0.95, county="110105", township="110105001"),
        item("B1", "B2", 0.52, county="110106", township="110106002"),
        item("C1", "C2", 0.70, county="110105", township="110105003"),
    ])
    with ReviewStore(store_path(tmp_path)) as store:
        assert [i.pair[0] for i in store.list_queue()] == ["B1", "C1", "A1"]
        assert [i.pair[0] for i in store.list_queue(QueueFilter(counties=("110105",)))] == ["C1", "A1"]
        assert [i.pair[0] for i in store.list_queue(QueueFilter(townships=("110105001",)))] == ["A1"]
        token = new_token()
        assert store.claim_next("r1", token, QueueFilter(counties=("110105",))).pair == ("C1", "C2")


def test_leases_keep_reviewers_apart_and_expire(tmp_path):
    clock = Clock()
    publish_queue(tmp_path, [item("A1", "A2", 0.5), item("B1", "B2", 0.6)])
    path = store_path(tmp_path)
    with ReviewStore(path, clock=clock) as one, ReviewStore(path, clock=clock) as two:
        t1, t2 = new_token(), new_token()
        assert one.claim_next("r1", t1).pair == ("A1", "A2")
        assert two.claim_next("r2", t2).pair == ("B1", "B2")
        assert two.counts(t2).held_by_others == 1
        t3 = new_token()
        assert two.claim_next("r3", t3) is None  # everything is leased
        clock.now += timedelta(minutes=11)  # r1 walked away: the lease lapses
        assert two.claim_next("r3", t3).pair == ("A1", "A2")
        # r1 comes back and still decides: recorded, never lost.
        decision = one.decide(("A1", "A2"), "same", "r1", token=t1)
        assert one.standing()[("A1", "A2")].decision_id == decision.decision_id


def test_two_reviewers_concurrently_never_share_a_pair(tmp_path):
    pairs = [(f"A{i:03d}", f"B{i:03d}") for i in range(60)]
    publish_queue(tmp_path, [item(a, b, 0.5 + i / 200) for i, (a, b) in enumerate(pairs)])
    path = store_path(tmp_path)
    seen: dict[str, list[tuple[str, str]]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def reviewer(name: str) -> None:
        try:
            with ReviewStore(path) as store:
                token, mine = new_token(), []
                start.wait()
                while (claimed := store.claim_next(name, token)) is not None:
                    mine.append(claimed.pair)
                    store.decide(claimed.pair, "same" if len(mine) % 2 else "different", name,
                                 source="session", token=token)
                seen[name] = mine
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reviewer, args=(n,)) for n in ("r1", "r2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert not set(seen["r1"]) & set(seen["r2"])
    assert sorted(seen["r1"] + seen["r2"]) == pairs
    with ReviewStore(path) as store:
        history = store.history()
        assert len(history) == len(pairs)
        assert {d.pair for d in history} == set(pairs)
        assert {d.reviewer for d in history} <= {"r1", "r2"}


def test_decision_records_engine_score_time_and_reviewer(tmp_path):
    publish_queue(tmp_path, [item("A1", "A2", 0.8123)])
    with ReviewStore(store_path(tmp_path)) as store:
        d = store.decide(("A1", "A2"), "same", "r1", note="same phone")
        assert (d.match_probability, d.reviewer, d.note, d.source) == (0.8123, "r1", "same phone", "cli")
        assert datetime.fromisoformat(d.decided_at).tzinfo is not None
        with pytest.raises(ReviewError, match="verdict"):
            store.decide(("A1", "A2"), "maybe", "r1")
        with pytest.raises(ReviewError, match="itself"):
            store.decide(("A1", "A1"), "same", "r1")
        with pytest.raises(ReviewError, match="reviewer"):
            store.decide(("A1", "A2"), "same", "  ")


def test_import_is_idempotent_and_all_or_nothing(tmp_path):
    publish_queue(tmp_path, [item("A1", "A2", 0.9)])
    rows = [{"archive_id_l": "A2", "archive_id_r": "A1", "verdict": "different", "note": "twins"},
            {"archive_id_l": "C1", "archive_id_r": "C2", "verdict": "same", "reviewer": "r9"}]
    with ReviewStore(store_path(tmp_path)) as store:
        result = store.import_decisions(rows, "r1")
        assert (result.recorded, result.unchanged) == (2, 0)
        assert store.import_decisions(rows, "r1").unchanged == 2
        with pytest.raises(ReviewError, match="row 3"):
            store.import_decisions([rows[0], {"archive_id_l": "X", "archive_id_r": "Y", "verdict": "?"}], "r1")
        standing = store.standing()
        assert standing[("A1", "A2")].match_probability == 0.9
        assert standing[("C1", "C2")].reviewer == "r9"
        assert len(store.history()) == 2
        assert [a[2] for a in store.audit_log()] == ["import", "import"]
        with pytest.raises(ReviewError, match="row 2: archive Z9 is not in this run"):
            store.import_decisions([{"archive_id_l": "A1", "archive_id_r": "Z9", "verdict": "same"}],
                                   "r1", known={"A1", "A2", "C1", "C2"})
        assert len(store.history()) == 2


def test_public_names():
    import linkage.review
    from linkage.review.commands import review_group

    assert linkage.review.__all__ == ["load_human_decisions", "publish_queue"]
    assert review_group.name == "review"


def test_same_reviewer_reopening_reclaims_their_pair_at_once(tmp_path):
    publish_queue(tmp_path, [item("A1", "A2", 0.5), item("B1", "B2", 0.9)])
    with ReviewStore(store_path(tmp_path)) as store:
        dead = new_token()
        assert store.claim_next("wang", dead).pair == ("A1", "A2")  # then the process dies
        # Someone else still may not have it during the lease...
        assert store.claim_next("li", new_token()).pair == ("B1", "B2")
        # ...but the same reviewer reopening gets it back at once, not after 10 minutes.
        assert store.claim_next("wang", new_token()).pair == ("A1", "A2")


def test_blind_decisions_are_recorded_as_blind_and_numbering_skips_skips(tmp_path):
    publish_queue(tmp_path, [item("A1", "A2"), item("B1", "B2")])
    with ReviewStore(store_path(tmp_path)) as store:
        skip = store.decide(("A1", "A2"), "skip", "r1", source="session")
        blind = store.decide(("A1", "A2"), "same", "r1", source="session", blind=True)
        sighted = store.decide(("B1", "B2"), "different", "r1", source="session")
        assert (blind.blind, sighted.blind) == (True, False)
        assert [store.decision_number(d.decision_id) for d in (blind, sighted)] == [1, 2]
        assert skip.decision_id == 1 and store.standing()[("A1", "A2")].blind is True
        undone, _ = store.undo(blind.decision_id, "r1")
        assert undone.blind is True and store.decision_number(undone.decision_id) == 2


def test_audit_events_join_the_audit_table_and_the_history(tmp_path):
    clock = Clock()
    publish_queue(tmp_path, [item("A1", "A2"), item("B1", "B2")])
    with ReviewStore(store_path(tmp_path), clock=clock) as store:
        store.log_access("wang", "reveal", ("A1", "A2"))
        clock.now += timedelta(days=2)
        store.decide(("A1", "A2"), "same", "wang", note="姓名 not for the audit", blind=True)
        clock.now += timedelta(minutes=1)
        store.log_access("li", "export")
        events = store.audit_events()
        assert [(e.reviewer, e.action, e.archive_id_l, e.detail) for e in events] == [
            ("wang", "reveal", "A1", ""), ("wang", "same", "A1", "cli, blind"), ("li", "export", None, "")]
        assert "not for the audit" not in repr(events)
        assert [e.action for e in store.audit_events(since="2026-01-02")] == ["same", "export"]
        assert [e.action for e in store.audit_events(reviewer="li")] == ["export"]


def test_near_never_match_classes_are_queued_last_and_counted(tmp_path):
    surname_only = {**item("A1", "A2", 0.5), "evidence": "name=仅同姓 -3.0; id=空 0"}
    publish_queue(tmp_path, [surname_only, item("B1", "B2", 0.95)])
    with ReviewStore(store_path(tmp_path)) as store:
        assert [i.pair for i in store.list_queue()] == [("B1", "B2"), ("A1", "A2")]
        assert store.list_queue()[1].triage == "surname_only_no_id"
        assert {(c.triage, c.open) for c in store.composition()} == {
            ("other", 1), ("surname_only_no_id", 1)}


def test_a_version_1_store_is_upgraded_in_place_keeping_its_history(tmp_path):
    path = store_path(tmp_path)
    publish_queue(tmp_path, [item("A1", "A2")])
    with ReviewStore(path) as store:
        store.decide(("A1", "A2"), "same", "old")
    con = sqlite3.connect(path)  # rebuild as a version-1 file: without the new columns
    con.executescript("""
        DROP TRIGGER decisions_no_update; DROP TRIGGER decisions_no_delete;
        ALTER TABLE decisions DROP COLUMN blind; ALTER TABLE queue DROP COLUMN triage;
        ALTER TABLE queue DROP COLUMN triage_rank;
        UPDATE meta SET value = '1' WHERE key = 'schema_version';
        CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are append-only: record a new decision instead'); END;
    """)
    con.close()
    with ReviewStore(path) as store:
        assert store.standing()[("A1", "A2")].verdict == "same"
        assert store.standing()[("A1", "A2")].blind is False
        assert store.list_queue(status="all")[0].triage == ""
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store._con.execute("UPDATE decisions SET verdict = 'different'")
