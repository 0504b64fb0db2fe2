"""PostgreSQL for the tests: reachability, and a fresh schema per test (much faster than a database
per test). The cluster itself comes from .ci/postgres.sh (CI starts it in .ci/run)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import asyncpg


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


@asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """A new empty schema; yields the URL whose connections use it, drops it afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    try:
        yield with_search_path(url, schema)
    finally:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await conn.close()
