"""Shared fixtures: a real SQLite database in a temporary directory (never a mock)."""

from __future__ import annotations

import pytest

from core.db import Database


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "test.db")
    yield database
    await database.close()
