"""A signature of the code a result depends on: derived, not a hand-kept list of files.

Why: the nightly state keeps features, pairs and decisions from earlier nights, and must
rebuild them when the code that made them changes — but not when only a comment or a
docstring did (every site would rebuild a million archives for a typo).  So the signature
covers the modules a few entry points import, followed through the package's own imports
(the closure is computed, so a new helper module counts the day it is imported), each
hashed as its syntax tree without docstrings (comments never reach the tree).
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE = PACKAGE_DIR.name


def module_path(module: str) -> Path | None:
    """The file of a ``linkage.…`` module, or None if there is no such module."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path) -> set[str]:
    """``linkage.…`` modules a file imports anywhere in it (function-level imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == PACKAGE}


def module_closure(roots: Iterable[str]) -> list[Path]:
    """The files of ``roots`` and of every package module they import, transitively
    (a package's ``__init__`` counts when a module inside it is imported)."""
    seen: dict[Path, None] = {}
    pending = list(roots)
    while pending:
        module = pending.pop()
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):  # linkage, linkage.state, linkage.state.db
            path = module_path(".".join(parts[:depth]))
            if path is not None and path not in seen:
                seen[path] = None
                pending.extend(_imported_modules(path))
    return sorted(seen)


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


@lru_cache(maxsize=None)
def file_code_hash(path: Path) -> str:
    """The hash of a file's code: its syntax tree, docstrings and comments left out."""
    tree = _without_docstrings(ast.parse(path.read_bytes()))
    return hashlib.sha256(ast.dump(tree, annotate_fields=False).encode("utf-8")).hexdigest()


def code_signature(roots: Iterable[str]) -> str:
    """One hash over the code of ``roots`` and everything of ours they import."""
    digest = hashlib.sha256()
    for path in module_closure(roots):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(file_code_hash(path).encode())
    return digest.hexdigest()
