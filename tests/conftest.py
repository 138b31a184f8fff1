"""Shared fixtures: the knowledge is loaded once per test session, as in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from pharma_service.service import Engine

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load()


def reference_file(*parts: str) -> Path:
    """A file of ../shared/reference, or skip the test when the folder is absent."""
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference file {path} not present")
    return path
