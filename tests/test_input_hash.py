"""The input's SHA-256 in summary.json may be computed early, on a thread; it must still be
the hash of the file as it is when summary.json is written."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from linkage.summary import file_sha256, hash_in_background


def test_an_early_hash_is_the_files_hash(tmp_path: Path) -> None:
    path = tmp_path / "archives.csv"
    path.write_bytes(b"x" * (3 << 20))
    hash_in_background(path)
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_changed_after_its_early_hash_is_hashed_again(tmp_path: Path) -> None:
    path = tmp_path / "archives.csv"
    path.write_bytes(b"old" * 1000)
    hash_in_background(path)
    path.write_bytes(b"new!" * 1000)
    os.utime(path, ns=(1, 1))  # another modification time, whatever the clock's resolution
    assert file_sha256(path) == hashlib.sha256(b"new!" * 1000).hexdigest()


def test_a_missing_file_is_not_hashed_early(tmp_path: Path) -> None:
    hash_in_background(tmp_path / "gone.csv")  # no error: the run reports a missing input itself
