"""What the two database backends (core/db.py for SQLite, core/db_postgres.py) share: the group
commit that makes a returned transaction durable, the queue of deferred writes on a transaction
handle, and the small key/value table."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator
from typing import Any


class GroupCommit:
    """Group commit: `durable(seq)` returns once a write-out of the log (SQLite's WAL fsync,
    PostgreSQL's WAL flush: `_write_out`) that began after commit number `seq` returned has
    finished, so one write-out serves every commit that came before it."""

    _task_name = "wal-write-out"

    def __init__(self) -> None:
        self.sent = 0  # COMMITs sent (a reader may see one as soon as it is sent)
        self._committed = 0  # COMMITs that returned (a write-out now covers them)
        self._written = 0
        self._flight: asyncio.Task[None] | None = None

    def sending(self) -> int:
        self.sent += 1
        return self.sent

    def committed(self) -> None:
        self._committed += 1  # a failed COMMIT counts too: it has nothing left to make durable

    async def durable(self, seq: int | None = None) -> None:
        """By default: every commit a read may have seen."""
        seq = self.sent if seq is None else seq
        # A COMMIT still on its way (a reader saw it early) takes another round.
        while self._written < seq:
            if self._flight is None:
                self._flight = asyncio.get_running_loop().create_task(self._run(), name=self._task_name)
            # Shielded: a waiter's cancellation must not cancel a write-out others wait for.
            await asyncio.shield(self._flight)

    async def _run(self) -> None:
        covers = self._committed
        try:
            await self._write_out()
            self._written = max(self._written, covers)
        finally:
            self._flight = None

    async def _write_out(self) -> None:
        raise NotImplementedError


class DeferredWrites:
    """The part of a transaction handle both backends share: `defer`.

    A write whose result nobody reads (no RETURNING, no row count) needs no round trip of its own:
    `defer` queues it on the handle, and it goes to the database with the transaction's next
    statement (before it, in order) or with the COMMIT, in the same hop on SQLite. A hop that
    carried queued writes and failed loses the transaction: `transaction()` rolls it back and
    raises that error even if the caller caught it, since the caller cannot tell a queued write's
    failure from its own statement's."""

    def __init__(self) -> None:
        self._deferred: list[tuple[str, tuple[Any, ...]]] = []
        self.failed: BaseException | None = None

    def defer(self, sql: str, params: Iterable[Any] = ()) -> None:
        self._deferred.append((sql, tuple(params)))

    @contextlib.contextmanager
    def _sending(self) -> Iterator[tuple[tuple[str, tuple[Any, ...]], ...]]:
        """The queued writes, handed over (once) to the hop made inside this block."""
        deferred, self._deferred = tuple(self._deferred), []
        try:
            yield deferred
        except BaseException as exc:
            if deferred:
                self.failed = exc
            raise


class MetaTable:
    """The `meta` key/value table, through the backend's own `fetchone` and `transaction`."""

    fetchone: Any
    transaction: Any

    async def get_meta(self, key: str) -> str | None:
        row = await self.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row["value"]

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as tx:
            await self.set_meta_in(tx, key, value)

    @staticmethod
    async def get_meta_in(tx: Any, key: str) -> str | None:
        """Inside a transaction that decides from the value (core/db_postgres.py's shard count)."""
        row = await tx.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row["value"]

    @staticmethod
    async def set_meta_in(tx: Any, key: str, value: str) -> None:
        await tx.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
