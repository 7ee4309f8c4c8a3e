"""Atomic outputs: owner-only files; a run that dies leaves the old set or the new set."""

from __future__ import annotations

import stat

from linkage.outputs import StagedOutputs, csv_bytes, recover_staged_outputs, write_bytes_atomic


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


def _publish(out, tag: str) -> None:
    staged = StagedOutputs(out)
    staged.add("clusters.csv", tag.encode())
    staged.add("summary.json", tag.encode())
    staged.publish()


def test_crash_before_publish_keeps_previous_outputs(tmp_path):
    _publish(tmp_path, "run1")
    staged = StagedOutputs(tmp_path)
    staged.add("clusters.csv", b"run2")  # the run dies here, before publish()
    assert (tmp_path / "clusters.csv").read_bytes() == b"run1"
    _publish(tmp_path, "run3")  # the next run discards the unfinished staging
    assert (tmp_path / "clusters.csv").read_bytes() == b"run3"
    assert (tmp_path / "summary.json").read_bytes() == b"run3"
    assert not (tmp_path / ".staging").exists()


def test_crash_while_moving_is_rolled_forward(tmp_path):
    _publish(tmp_path, "run1")
    staged = StagedOutputs(tmp_path)
    staged.add("clusters.csv", b"run2")
    staged.add("summary.json", b"run2")
    # Simulate dying after the marker was written but before any file moved.
    (tmp_path / ".staging" / "COMPLETE").write_text("clusters.csv\nsummary.json")
    recover_staged_outputs(tmp_path)
    assert (tmp_path / "clusters.csv").read_bytes() == b"run2"
    assert (tmp_path / "summary.json").read_bytes() == b"run2"
    assert _mode(tmp_path / "clusters.csv") == 0o600


def test_a_new_output_folder_is_owner_only(tmp_path):
    out = tmp_path / "nested" / "out"
    staged = StagedOutputs(out)
    staged.add("clusters.csv", b"x")
    staged.publish()
    assert _mode(out) == 0o700 and _mode(out / "clusters.csv") == 0o600
