"""The rebuild signature follows the code, not a hand list, and ignores comments."""

from __future__ import annotations

from pathlib import Path

from linkage.code_signature import file_code_hash, module_closure
from linkage.state.signatures import DECISION_ROOTS, FEATURE_ROOTS


def _hash_of(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return file_code_hash(path)


def test_comments_and_docstrings_do_not_count(tmp_path):
    plain = _hash_of(tmp_path, "a.py", "def f(x):\n    return x + 1\n")
    commented = _hash_of(tmp_path, "b.py", '"""Module."""\n# why\ndef f(x):\n    """Doc."""\n'
                                           "    return x + 1  # add one\n")
    changed = _hash_of(tmp_path, "c.py", "def f(x):\n    return x + 2\n")
    assert plain == commented
    assert plain != changed


def test_closure_follows_our_imports():
    names = {p.name for p in module_closure(FEATURE_ROOTS)}
    assert {"name_notes.py", "csv_records.py"} <= names  # imported, never listed by hand
    decisions = {p.name for p in module_closure(DECISION_ROOTS)}
    for module in ("decide.py", "cluster.py", "commit.py", "publish.py", "db.py", "scoring.py",
                   "resolve.py", "splink_adapter.py", "levels.py"):
        assert module in decisions
