"""Atomic outputs: owner-only files; a run's set becomes visible whole or not at all."""

from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkage.csvsafe import csv_cells, neutralise
from linkage.errors import OutputError
from linkage.outputs import (
    CURRENT, GENERATIONS, OutputLock, StagedOutputs, csv_bytes, current_files, current_generation,
    recover_outputs, write_bytes_atomic,
)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_is_owner_only_and_replaces(tmp_path):
    target = tmp_path / "a.csv"
    write_bytes_atomic(target, b"old\n")
    write_bytes_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert _mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]  # no temp file left


def test_csv_bytes_blank_for_none():
    assert csv_bytes(("a", "b"), [(1, None), ("x,y", 2)]) == b'a,b\n1,\n"x,y",2\n'


def _publish(out, tag: str, on_publish=None) -> int:
    staged = StagedOutputs(out)
    staged.add("clusters.csv", tag.encode())
    staged.add("summary.json", tag.encode())
    return staged.publish(on_publish)


def test_files_keep_their_names_and_change_together(tmp_path):
    assert _publish(tmp_path, "run1") == 1
    assert (tmp_path / "clusters.csv").read_bytes() == b"run1"
    assert _publish(tmp_path, "run2") == 2
    assert (tmp_path / "clusters.csv").read_bytes() == b"run2"
    assert (tmp_path / "summary.json").read_bytes() == b"run2"
    assert os.readlink(tmp_path / "clusters.csv") == f"{CURRENT}/clusters.csv"
    assert current_generation(tmp_path) == 2
    assert (current_files(tmp_path) / "summary.json").read_bytes() == b"run2"


def test_crash_before_publish_keeps_previous_outputs(tmp_path):
    _publish(tmp_path, "run1")
    staged = StagedOutputs(tmp_path)
    staged.add("clusters.csv", b"run2")  # the run dies here, before publish()
    assert (tmp_path / "clusters.csv").read_bytes() == b"run1"
    _publish(tmp_path, "run3")  # the next run discards the unfinished staging
    assert (tmp_path / "clusters.csv").read_bytes() == b"run3"
    assert (tmp_path / "summary.json").read_bytes() == b"run3"
    assert not [p for p in (tmp_path / GENERATIONS).iterdir() if p.name.startswith(".staging")]


def test_complete_generation_whose_queue_committed_is_rolled_forward(tmp_path):
    _publish(tmp_path, "run1", on_publish=lambda n: None)
    committed = []

    class Killed(Exception):
        pass

    def queue_then_die(n):
        committed.append(n)
        raise Killed

    with pytest.raises(Killed):
        _publish(tmp_path, "run2", on_publish=queue_then_die)
    assert (tmp_path / "clusters.csv").read_bytes() == b"run1"  # not visible yet
    recover_outputs(tmp_path, lambda: committed[-1])
    assert (tmp_path / "clusters.csv").read_bytes() == b"run2"
    assert (tmp_path / "summary.json").read_bytes() == b"run2"


def test_complete_generation_without_its_queue_is_discarded(tmp_path):
    _publish(tmp_path, "run1", on_publish=lambda n: None)

    def die(n):
        raise RuntimeError("killed before the queue committed")

    with pytest.raises(RuntimeError):
        _publish(tmp_path, "run2", on_publish=die)
    recover_outputs(tmp_path, lambda: 1)
    assert (tmp_path / "clusters.csv").read_bytes() == b"run1"
    assert current_generation(tmp_path) == 1
    assert _publish(tmp_path, "run3") == 2 or current_generation(tmp_path) >= 2


def test_old_generations_are_pruned(tmp_path):
    for i in range(5):
        _publish(tmp_path, f"run{i}")
    kept = sorted(p.name for p in (tmp_path / GENERATIONS).iterdir())
    assert kept == ["g000004", "g000005"]


def test_a_new_output_folder_is_owner_only(tmp_path):
    out = tmp_path / "nested" / "out"
    _publish(out, "x")
    assert _mode(out) == 0o700 and _mode(out / "clusters.csv") == 0o600
    assert _mode(out / GENERATIONS) == 0o700


def test_output_lock_refuses_a_second_writer(tmp_path):
    with OutputLock(tmp_path / "out"):
        with pytest.raises(OutputError, match="another linkage run"):
            OutputLock(tmp_path / "out").acquire()
    with OutputLock(tmp_path / "out"):
        pass  # released with the first


def test_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(OutputError, match="must be a folder"):
        OutputLock(target).acquire()


def test_out_that_cannot_be_created_is_refused(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputError, match="cannot create"):
        OutputLock(tmp_path / "file.txt" / "out").acquire()


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"a\")", "@SUM(A1)", "+1", "-2+3",
                                  "\tx", "\rx"])
def test_formula_text_is_neutralised_in_csv(text):
    body = csv_bytes(("note",), [(text,)]).decode("utf-8").splitlines()[1]
    assert body.lstrip('"').startswith("'")


def test_numbers_and_plain_text_pass_unchanged():
    assert csv_bytes(("a", "b", "c"), [(-1.5, "王芳", "a=b")]) == "a,b,c\n-1.5,王芳,a=b\n".encode()


@given(st.lists(st.one_of(st.none(), st.text(), st.integers(), st.floats(allow_nan=False)), max_size=8))
def test_csv_cells_is_neutralise_per_cell(row):
    """csv_cells is neutralise a row at a time (None as an empty field)."""
    assert csv_cells(row) == ["" if value is None else neutralise(value) for value in row]
