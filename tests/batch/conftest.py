"""Batch fixtures: the knowledge tables are derived once per session (a few seconds)."""

from __future__ import annotations

import pytest

from pharma_service.batch.tables import KnowledgeTables, build_tables
from pharma_service.service import Engine


@pytest.fixture(scope="session")
def tables(engine: Engine) -> KnowledgeTables:
    return build_tables(engine.kb)
