"""PostgreSQL for the tests: reachability, a fresh schema per test (much faster than a database
per test), and plain reads of a schema for the e2e checks. The cluster itself comes from
.ci/postgres.sh (CI starts it in .ci/run)."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import asyncpg

from core.db_postgres import _setup
from core.pg_sql import translate

BACKENDS = ("sqlite", "postgres")


def e2e_backends() -> list[str]:
    """The backends the bot runs on in the e2e and fault tests: both, unless E2E_BACKEND names one."""
    asked = os.environ.get("E2E_BACKEND", "").strip().lower()
    if not asked:
        return list(BACKENDS)
    if asked not in BACKENDS:
        raise ValueError(f"E2E_BACKEND must be one of {', '.join(BACKENDS)} (or unset for both), not {asked!r}")
    return [asked]


# What a read of the bot's books raises when they are not there (yet): no SQLite file, no table in
# the schema, or a server going away.
DB_ERRORS = (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


def reachable(url: str) -> str | None:
    """None if a connection to `url` works, else why not. (On a thread of its own: the fixture that
    asks may be running inside the test's event loop.)"""

    async def probe() -> None:
        conn = await asyncpg.connect(url, timeout=10)
        await conn.close()

    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, probe()).result()
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def with_search_path(url: str, schema: str) -> str:
    # asyncpg passes unknown query parameters to the server as settings.
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"


async def new_schema(url: str) -> tuple[str, str]:
    """A new empty schema: its name, and the URL whose connections use it."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    return schema, with_search_path(url, schema)


@asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """A new empty schema; yields the URL whose connections use it, drops it afterwards."""
    schema, schema_url = await new_schema(url)
    try:
        yield schema_url
    finally:
        await drop_schema(url, schema)


async def drop_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


# The tests' own reads use one SQLite form the stores never write (so core/pg_sql.py does not
# translate it): a text field of a JSON column.
_JSON_TEXT = re.compile(r"json_extract\(([\w.]+), '\$\.(\w+)'\)")


def as_postgres(sql: str) -> str:
    """A test's SQLite-dialect read as PostgreSQL runs it: the stores' translation, plus the JSON
    text field (`json_extract(col, '$.key')`, always text in these reads)."""
    return translate(_JSON_TEXT.sub(r"(CAST(\1 AS json) ->> '\2')", sql))


class Reader:
    """Plain (synchronous) reads of the bot's PostgreSQL schema, for checks that are plain functions
    (the e2e World's `query`, polled inside `wait_for` predicates), as the SQLite side reads the
    file with sqlite3. asyncpg runs on a thread with a loop of its own, so a read never needs the
    test's loop, which may be the one asking. Rows are asyncpg Records: `row["col"]`, `row[0]`,
    `dict(row)`, with SQLite's types for sums (the backend's numeric codec)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pg-reader", daemon=True)
        self._thread.start()
        self._conn: asyncpg.Connection | None = None

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=60)

    async def _fetch(self, sql: str, params: tuple) -> list[asyncpg.Record]:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self.url, timeout=10)
            await _setup(self._conn)
        return await self._conn.fetch(as_postgres(sql), *params)

    def query(self, sql: str, params: tuple = ()) -> list[asyncpg.Record]:
        return self._run(self._fetch(sql, tuple(params)))

    def close(self) -> None:
        async def close() -> None:
            if self._conn is not None:
                await self._conn.close()

        try:
            self._run(close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
