"""Reviewer labels as training data: reading them, m from 'same', the prior from all."""

from __future__ import annotations

import duckdb
import pytest

from linkage.errors import InputError
from linkage.model.labels import LABELS_TABLE, load_labels
from linkage.review.store import ReviewStore, store_path


def labels_of(con) -> list[tuple]:
    return con.execute(f"SELECT * FROM {LABELS_TABLE} ORDER BY ALL").fetchall()


# -- reading ------------------------------------------------------------------------------------


def test_csv_labels_are_ordered_deduplicated_and_skips_ignored(tmp_path):
    path = tmp_path / "decisions.csv"
    path.write_text(
        "archive_id_l,archive_id_r,verdict,reviewer\n"
        "B2,A1,same,r1\nC1,C2,different,r1\nC1,C2,same,r2\nD1,D2,skip,r1\n",
        encoding="utf-8-sig",
    )
    con = duckdb.connect()
    assert load_labels(con, path) == LABELS_TABLE
    assert labels_of(con) == [("A1", "B2", 1.0), ("C1", "C2", 1.0)]


def test_csv_with_clerical_match_score_and_bad_rows(tmp_path):
    con = duckdb.connect()
    good = tmp_path / "scores.csv"
    good.write_text("archive_id_l,archive_id_r,clerical_match_score\nA,B,0.9\nC,D,0\n", encoding="utf-8")
    load_labels(con, good)
    assert labels_of(con) == [("A", "B", 1.0), ("C", "D", 0.0)]
    bad = tmp_path / "bad.csv"
    bad.write_text("archive_id_l,archive_id_r,verdict\nA,B,same\nC,D,maybe\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 3: verdict must be same or different"):
        load_labels(con, bad)
    with pytest.raises(InputError, match="columns"):
        (tmp_path / "cols.csv").write_text("x,y\n1,2\n", encoding="utf-8")
        load_labels(con, tmp_path / "cols.csv")
    with pytest.raises(InputError, match="labels not found"):
        load_labels(con, tmp_path / "empty_dir_or_missing")


def test_store_labels_are_the_standing_verdicts(tmp_path):
    with ReviewStore(store_path(tmp_path)) as store:
        store.decide(("A1", "A2"), "same", "r1")
        undone = store.decide(("B1", "B2"), "same", "r1")
        store.undo(undone.decision_id, "r1")
        store.decide(("C1", "C2"), "same", "r1")
        store.decide(("C1", "C2"), "different", "r2")
        store.decide(("D1", "D2"), "skip", "r1")
    con = duckdb.connect()
    load_labels(con, tmp_path)  # the run folder
    expected = [("A1", "A2", 1.0), ("C1", "C2", 0.0)]
    assert labels_of(con) == expected
    load_labels(con, store_path(tmp_path))  # the file itself
    assert labels_of(con) == expected


def test_a_runs_decisions_csv_is_refused_saying_which_file_is_expected(tmp_path):
    """Acceptance: the README's `--labels ... | decisions.csv` sent users to the run's own
    decisions.csv, refused as "labels need columns archive_id_l…".  It is not labels (a
    "different" leaves no row in it): the error says so and names the files accepted."""
    runs = tmp_path / "decisions.csv"
    runs.write_text("action,archive_id,survivor_archive_id,from_region,to_region,match_probability,"
                    "match_weight,evidence,person_id,decided_by,reason,decision_id,supersedes,note\n"
                    "merge,A2,A1,,,0.9999,12.0,name=一致,P1,reviewer,,d1,,\n", encoding="utf-8")
    con = duckdb.connect()
    with pytest.raises(InputError) as error:
        load_labels(con, runs)
    message = str(error.value)
    assert "this is a run's decisions.csv, not reviewers' verdicts" in message
    assert "review.db" in message and "`linkage review export`" in message
    other = tmp_path / "other.csv"
    other.write_text("x,y\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="give --labels the run's review.db .*`linkage review export`"):
        load_labels(con, other)


def test_an_export_read_back_as_labels_keeps_archive_numbers_as_the_run_wrote_them(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("archive_id_l,archive_id_r,verdict\n'-5113,A2,different\n", encoding="utf-8")
    con = duckdb.connect()
    load_labels(con, path)
    assert labels_of(con) == [("-5113", "A2", 0.0)]
