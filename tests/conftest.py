"""Shared fixtures: a real SQLite database in a temporary directory (never a mock); the run summary
names the e2e property seed and says loudly when the OpenAPI spec check did not run."""

from __future__ import annotations

import sys

import pytest

from core.db import Database


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "test.db")
    yield database
    await database.close()


def pytest_terminal_summary(terminalreporter):
    seeds = sys.modules.get("tests.seeds")
    if seeds is not None:
        terminalreporter.write_line(
            f"e2e hypothesis seed: {seeds.E2E_SEED} (replay with E2E_HYPOTHESIS_SEED={seeds.E2E_SEED})"
        )
    _spec_skips(terminalreporter)


def _spec_skips(terminalreporter) -> None:
    """Say it loudly when Discord's OpenAPI spec was missing (under CI=true that fails instead)."""
    from tests.fakes.openapi_check import SPEC_SKIPS

    if not SPEC_SKIPS:
        return
    where = sorted(set(SPEC_SKIPS))
    terminalreporter.section("DISCORD OPENAPI SPEC CHECK DID NOT RUN", sep="!", red=True, bold=True)
    terminalreporter.write_line(
        f"{len(SPEC_SKIPS)} fake Discord(s) ran WITHOUT checking requests against Discord's OpenAPI spec "
        f"(no spec at ../shared/discord-api-spec/openapi.json or $DISCORD_OPENAPI_SPEC): {', '.join(where)}. "
        "Requests real Discord would reject with 400 passed unchecked. CI=true makes this a failure.",
        red=True,
        bold=True,
    )
