"""A damaged state file stops the night with exit 1 and a message that names the file, says
it is damaged and to restore it from its backup (acceptance review: a truncated state gave
"Internal error (IOException)", exit 2)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from linkage.errors import StateError
from linkage.pipeline import run
from linkage.synth import generate_population

DAMAGED = "the state file is damaged"


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> tuple[Path, Path]:
    """A population and the state a first night left."""
    folder = tmp_path_factory.mktemp("night")
    generate_population(300, 11, folder)
    state = folder / "state.duckdb"
    run(folder / "archives.csv", folder / "out", state_path=state, show_progress=False)
    return folder / "archives.csv", state


def _copy(state: Path, tmp_path: Path) -> Path:
    target = tmp_path / "state.duckdb"
    shutil.copyfile(state, target)
    return target


def test_a_truncated_state_is_a_user_error_naming_the_file(night, tmp_path) -> None:
    source, state = night
    damaged = _copy(state, tmp_path)
    with damaged.open("r+b") as handle:
        handle.truncate(damaged.stat().st_size * 2 // 3)
    result = subprocess.run(
        [sys.executable, "-m", "linkage.cli", "run", str(source), "--out", str(tmp_path / "out"),
         "--state", str(damaged)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    message = result.stderr.strip()
    assert message.startswith(f"Error: {damaged}: {DAMAGED} (cut short")
    assert "restore it from its backup" in message and "Traceback" not in message


@pytest.mark.parametrize("damage", ["last_bytes", "garbage", "empty", "header_only"])
def test_every_kind_of_damage_is_named(night, tmp_path, damage: str) -> None:
    source, state = night
    damaged = _copy(state, tmp_path)
    size = damaged.stat().st_size
    if damage == "last_bytes":
        with damaged.open("r+b") as handle:
            handle.truncate(size - 100)
    elif damage == "garbage":
        damaged.write_bytes(bytes((i * 131 + 7) % 251 for i in range(20000)))
    elif damage == "empty":
        damaged.write_bytes(b"")
    else:
        with damaged.open("r+b") as handle:
            handle.truncate(4096)
    with pytest.raises(StateError, match=f"{DAMAGED}.*restore it from its backup"):
        run(source, tmp_path / "out", state_path=damaged, show_progress=False)


def test_a_block_that_fails_its_checksum_is_named(night, tmp_path) -> None:
    """Bytes overwritten inside the data blocks: DuckDB opens the file and fails on the
    first query that reads such a block, deep in the night."""
    source, state = night
    damaged = _copy(state, tmp_path)
    size = damaged.stat().st_size
    with damaged.open("r+b") as handle:
        for offset in range(3 * 4096 + 2 * 262144 + 100, size - 64, 262144):
            handle.seek(offset)
            handle.write(b"\xde\xad\xbe\xef" * 8)
    with pytest.raises(StateError, match=f"{DAMAGED} \\(a block fails its checksum\\).*backup"):
        run(source, tmp_path / "out", state_path=damaged, show_progress=False)


def test_a_healthy_state_passes_the_size_check(night, tmp_path) -> None:
    source, state = night
    summary = run(source, tmp_path / "out", state_path=_copy(state, tmp_path), show_progress=False)
    assert summary.archives > 0
