"""Shared fixtures: a real database, never a mock. `db` is SQLite in a temporary directory; in the
store modules below it is also PostgreSQL (each test in a fresh schema of the cluster that
TEST_DATABASE_URL names: .ci/postgres.sh starts one). Every test that asks for `database_url` (the
e2e world, the fault suite) runs the bot on both backends, or on the one E2E_BACKEND names
(`sqlite` or `postgres`). The run summary names the e2e property seed and says loudly when the
OpenAPI spec check did not run."""

from __future__ import annotations

import os
import sys

import pytest

from core.db import Database
from tests.pg import BACKENDS, e2e_backends

# The store-level modules: every test in them runs on both backends.
BOTH_BACKENDS = {
    "tests.core.test_ledger",
    "tests.core.test_deferred_writes",
    "tests.core.test_usage",
    "tests.core.test_privacy",
    "tests.core.test_retention",
    "tests.core.test_admission",
    "tests.core.test_credit_alerts",
    "tests.core.test_generation",
    "tests.core.test_account",
    "tests.core.test_stores",
    "tests.core.test_styles",
    "tests.core.test_quotes",
    "tests.core.test_cancel",
    "tests.core.test_shards",
    "tests.core.test_chores",
    "tests.core.test_leases",
    "tests.core.test_shared_queue",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    if metafunc.module.__name__ in BOTH_BACKENDS:
        metafunc.parametrize("backend", list(BACKENDS))
    elif "database_url" in metafunc.fixturenames:
        metafunc.parametrize("backend", e2e_backends())


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL cluster for the tests. In CI (CI=true), or when E2E_BACKEND=postgres asks for it,
    a missing or unreachable one fails the run: the backend must never pass by being skipped.
    Elsewhere it is skipped, visibly."""
    from tests.pg import reachable

    url = os.environ.get("TEST_DATABASE_URL")
    problem = None
    if not url:
        problem = "TEST_DATABASE_URL is not set (start a cluster: export TEST_DATABASE_URL=$(.ci/postgres.sh start))"
    elif (error := reachable(url)) is not None:
        problem = f"PostgreSQL at TEST_DATABASE_URL cannot be reached: {error}"
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true" or e2e_backends() == ["postgres"]:
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    return url


@pytest.fixture
async def db(tmp_path, backend, request):
    if backend == "postgres":
        from core.db_postgres import PgDatabase
        from tests.pg import fresh_schema

        async with fresh_schema(request.getfixturevalue("pg_url")) as url:
            database = await PgDatabase.open(url)
            yield database
            await database.close()
        return
    database = await Database.open(tmp_path / "test.db")
    yield database
    await database.close()


@pytest.fixture
async def database_url(backend, request):
    """Where the bot under test keeps its books: None for SQLite (the World's file), else the URL of
    a fresh PostgreSQL schema, dropped after the test. A test marked
    `backend_only("sqlite", reason=...)` is skipped on the other backend with that reason shown."""
    only = request.node.get_closest_marker("backend_only")
    if only is not None and backend not in only.args:
        pytest.skip(f"{'/'.join(only.args)} only: {only.kwargs['reason']}")
    if backend == "sqlite":
        yield None
        return
    from tests.pg import fresh_schema

    async with fresh_schema(request.getfixturevalue("pg_url")) as url:
        yield url


@pytest.fixture
def integrity_error(backend) -> type[Exception]:
    """What the backend raises when a constraint or the ledger's append-only guard refuses a write."""
    if backend == "postgres":
        from core.db_postgres import IntegrityError

        return IntegrityError
    import sqlite3

    return sqlite3.IntegrityError


def pytest_configure(config) -> None:
    # Under pytest-xdist each worker imports tests.seeds itself: the controller picks the e2e seed
    # once and hands it to the workers (started after this) through their environment.
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        import tests.seeds

        os.environ["E2E_HYPOTHESIS_SEED"] = str(tests.seeds.E2E_SEED)


def pytest_sessionfinish(session) -> None:
    # An xdist worker sends the controller which fakes ran without the spec (for the summary).
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        from tests.fakes.openapi_check import SPEC_SKIPS

        workeroutput["spec_skips"] = list(SPEC_SKIPS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    from tests.fakes.openapi_check import SPEC_SKIPS

    SPEC_SKIPS.extend(getattr(node, "workeroutput", {}).get("spec_skips", []))


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
