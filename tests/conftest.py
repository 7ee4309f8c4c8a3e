"""Fixtures shared by the tests that run the whole engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkage.pipeline import default_model_path


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The shipped model: the tests run the engine exactly as `linkage run` does."""
    path = default_model_path()
    assert path.is_file(), f"the shipped model {path} is missing"
    return path
