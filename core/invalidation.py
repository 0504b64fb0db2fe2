"""Caches kept right across processes: a store that caches rows (core/moderation.py's guild policies)
announces each change in the transaction that makes it, and every process drops its copy.

One process (SQLite, or PostgreSQL without shard ranges) needs nothing: `Invalidations` does nothing.
On PostgreSQL `PgInvalidations` sends `pg_notify` inside the writing transaction (delivered only if it
commits, after it commits) and listens on a connection of its own (asyncpg `add_listener`). A
process whose listening connection drops empties its caches and listens again, since it may have
missed announcements meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from core.db import Transaction

log = logging.getLogger(__name__)

CHANNEL = "flux_bot_cache"


class Invalidations:
    """Alone on the database: nothing to tell anyone."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[[str | None], None]]] = {}

    def on(self, kind: str, drop: Callable[[str | None], None]) -> None:
        """`drop(key)` when another process changed `kind` row `key` (None: drop everything)."""
        self._handlers.setdefault(kind, []).append(drop)

    async def announce_in(self, tx: Transaction, kind: str, key: str) -> None:
        """In the transaction that changes the row."""

    @property
    def reliable(self) -> bool:
        """False while announcements may be missed: a store then caches nothing."""
        return True

    def _heard(self, kind: str, key: str | None) -> None:
        for drop in self._handlers.get(kind, []) if kind else [h for hs in self._handlers.values() for h in hs]:
            drop(key)

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass


class PgInvalidations(Invalidations):
    def __init__(self, url: str, *, retry_seconds: float = 2.0) -> None:
        super().__init__()
        self._url = url
        self._retry = retry_seconds
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def announce_in(self, tx: Transaction, kind: str, key: str) -> None:
        await tx.execute("SELECT pg_notify(?, ?)", (CHANNEL, f"{kind}:{key}"))

    @property
    def reliable(self) -> bool:
        return self.connected.is_set() and self._conn is not None and not self._conn.is_closed()

    def _on_notify(self, conn: object, pid: int, channel: str, payload: str) -> None:
        kind, _, key = payload.partition(":")
        self._heard(kind, key)

    async def start(self) -> None:
        await self._listen()
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="cache-invalidations")

    async def _listen(self) -> None:
        import asyncpg  # only a bot configured for PostgreSQL loads its driver

        self._conn = await asyncpg.connect(self._url, timeout=10)
        await self._conn.add_listener(CHANNEL, self._on_notify)
        self.connected.set()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._retry)
            if self._conn is not None and not self._conn.is_closed():
                continue
            self.connected.clear()
            self._heard("", None)  # announcements may have been missed: forget every cached row
            try:
                await self._listen()
                log.info("listening for cache changes again")
            except Exception as exc:  # the server away: nothing is cached until it is back
                log.warning("cannot listen for cache changes (%r); caching nothing until it can", exc)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
