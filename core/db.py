"""The SQLite database: every call through aiosqlite, whole transactions serialised, forward-only
migrations, durable commits.

No SQLite call runs on the event loop. aiosqlite gives each connection its own thread; a
statement is one hop to it and back (`db_thread.on_thread` runs the whole execute-fetch-close there, where
aiosqlite's public helpers take two or three hops). Two tasks sharing the writer would interleave
inside each other's transactions, so `Database.transaction()` holds a lock for the whole
`BEGIN IMMEDIATE ... COMMIT`; the BEGIN travels with the transaction's first statement, and the
writes queued with `tx.defer` (those whose result nobody reads) with the next statement or the
COMMIT, so a transaction of n statements costs n + 1 hops, however many deferred writes it has.
Reads outside a transaction go through a second connection (and thread): in WAL mode it sees
exactly the committed state and never waits for the writer.

Durability (group commit): `transaction()` returns only once its COMMIT is on disk. The writer
runs with `synchronous=NORMAL`, so a COMMIT is a write() into the WAL; the committing task then
waits for an fsync of the WAL file that started after its COMMIT, and one fsync serves every
transaction that committed before it began (`_WalSync`). That is what `synchronous=FULL` promises,
at a fraction of the fsyncs under concurrency (with FULL each COMMIT fsyncs while holding the
writer). Every state change that makes an outside effect idempotent (the job row before a Segmind
submit, the capture before a post, a grant before its answer) is committed by the task that then
makes the effect, so it survives a power cut, not only a crash of the process. Checkpoints (copying
the WAL into the database file, fsynced) run on a separate connection in a worker thread every
CHECKPOINT_EVERY commits, never inside a COMMIT.

The schema of each table is owned by the module named after it (ledger.py, jobs.py); this module
only applies the numbered migrations (after backing up an existing database); the small key/value
table and the group-commit bookkeeping are shared with the PostgreSQL backend (core/db_shared.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from core import db_thread as sq
from core.db_shared import DeferredWrites, GroupCommit, MetaTable
from core.db_thread import Written
from core.migrations import MIGRATIONS

log = logging.getLogger(__name__)



class DatabaseTooNew(RuntimeError):
    pass


# What the backend raises when the file cannot be used (start-up names it without importing sqlite3).
StorageError = sqlite3.Error


# Checkpoint (off the writer) after this many commits; SQLite's own default is every 1000 pages.
CHECKPOINT_EVERY = 500


async def _connect(path: Path | str, *pragmas: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await sq.on_thread(conn, sq.setup, *pragmas)
    except BaseException:
        await conn.close()
        raise
    return conn


# --- the interface the stores use -----------------------------------------------------------------


class Database(MetaTable):
    def __init__(self, conn: aiosqlite.Connection, path: Path, reader: aiosqlite.Connection | None = None) -> None:
        self._conn = conn
        # Without a second connection (":memory:"), reads share the writer and so its lock.
        self._reader = reader
        self._lock = asyncio.Lock()
        self.path = path
        self._commits = 0
        self._checkpointer: asyncio.Task[None] | None = None
        self._wal_sync = None if str(path) == ":memory:" else _WalSync(Path(f"{path}-wal"))

    @classmethod
    async def open(cls, path: Path) -> Database:
        path = Path(path)
        memory = str(path) == ":memory:"
        if not memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await _connect(
            path,
            "PRAGMA journal_mode=WAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",  # durable through _WalSync: see the module doc
            "PRAGMA wal_autocheckpoint=0",  # see _checkpoint
        )
        db = cls(conn, path)
        try:
            await db._migrate()
            if not memory:
                db._reader = await _connect(path, "PRAGMA query_only=ON")
                # The files may have just been created (make their names durable), and a process that
                # crashed may have left commits the disk does not have yet: this one acts on them.
                for synced in (path, Path(f"{path}-wal"), path.parent):
                    if synced.exists():
                        await asyncio.to_thread(sq.fsync_path, synced)
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        if self._checkpointer is not None:
            with contextlib.suppress(Exception):
                await self._checkpointer
        if self._reader is not None:
            await self._reader.close()
        with contextlib.suppress(sqlite3.Error):
            await sq.on_thread(self._conn, sq.finish_checkpoint)
        await self._conn.close()

    async def _migrate(self) -> None:
        async with self._lock:
            version = await sq.on_thread(self._conn, sq.user_version)
            if version > len(MIGRATIONS):
                raise DatabaseTooNew(
                    f"{self.path} has schema version {version}, newer than this code ({len(MIGRATIONS)})"
                )
            if 0 < version < len(MIGRATIONS) and str(self.path) != ":memory:":
                copy = self.path.with_name(f"{self.path.name}.v{version}-{int(time.time())}.bak")
                await sq.on_thread(self._conn, sq.backup_into, copy)
                log.info("backed up schema version %d to %s before migrating", version, copy)
            for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
                await sq.on_thread(self._conn, sq.apply_migration, number, statements)
                log.info("database migrated to schema version %d", number)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One `BEGIN IMMEDIATE ... COMMIT`; rolled back on any exception."""
        async with self._lock:
            tx = Transaction(self._conn)
            try:
                yield tx
                if tx.failed is not None:
                    raise tx.failed  # a queued write failed and the caller carried on (DeferredWrites)
            except BaseException:
                if tx._begun:
                    # Shielded: a cancelled task must still leave the writer outside a transaction.
                    await asyncio.shield(sq.on_thread(self._conn, sq.finish, "ROLLBACK"))
                raise
            if not tx._begun and not tx._deferred:
                return  # nothing was read or written: no transaction to end
            seq = self._wal_sync.sending() if self._wal_sync is not None else 0
            begin = tx._begin()
            try:
                with tx._sending() as deferred:  # the queued writes, then COMMIT: one hop
                    await asyncio.shield(sq.on_thread(self._conn, sq.commit, begin, deferred))
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    await asyncio.shield(sq.on_thread(self._conn, sq.finish, "ROLLBACK"))
                raise
            finally:
                if self._wal_sync is not None:
                    self._wal_sync.committed()
            self._commits += 1
            if self._commits >= CHECKPOINT_EVERY and self._reader is not None:
                self._start_checkpoint()
        # Outside the lock: the next transaction runs while this one waits for the disk.
        await self._durable(seq)

    async def _durable(self, seq: int | None = None) -> None:
        """Wait until commit `seq` (by default: every commit a read may have seen) is on disk."""
        if self._wal_sync is not None:
            await self._wal_sync.durable(seq)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        if self._reader is not None:
            rows = await sq.on_thread(self._reader, sq.fetchall, sql, tuple(params))
            await self._durable()  # nothing read is acted on before it is on disk
            return rows
        async with self._lock:
            return await sq.on_thread(self._conn, sq.fetchall, sql, tuple(params))

    async def fetchall_in_thread(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """A read that scans much (housekeeping over months of rows): on its own read-only connection
        in a worker thread, so it does not hold up the reads queued on the reader's thread. It sees
        the last committed state, like `fetchall`."""
        if self._reader is None:  # ":memory:" has no second connection to read through
            return await self.fetchall(sql, params)
        rows = await asyncio.to_thread(sq.fetchall_once, self.path, sql, tuple(params))
        await self._durable()
        return rows

    async def scan_in_thread(
        self, sql: str, params: Iterable[Any], each_batch: Callable[[list[Any]], None], size: int = 2000
    ) -> None:
        """A read too long to hold (an export), like `fetchall_in_thread` but handing `each_batch` the
        rows `size` at a time in that worker thread: the loop runs none of the per-row work. Rows
        are sequences in the statement's column order (plain tuples here: no object per row for
        the garbage collector to keep track of)."""
        if self._reader is None:  # ":memory:" has no second connection: read through the writer
            rows = await self.fetchall(sql, params)
            return await asyncio.to_thread(sq.in_batches, rows, each_batch, size)
        await asyncio.to_thread(sq.scan_once, self.path, sql, tuple(params), each_batch, size)
        await self._durable()

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        if self._reader is not None:
            row = await sq.on_thread(self._reader, sq.fetchone, sql, tuple(params))
            await self._durable()
            return row
        async with self._lock:
            return await sq.on_thread(self._conn, sq.fetchone, sql, tuple(params))

    async def backup(self, dest: Path) -> None:
        """Write a consistent copy of the committed state to `dest` (replaced if it exists) while the
        bot keeps running: the reader's snapshot, so writers are not held up."""
        if self._reader is not None:
            await sq.on_thread(self._reader, sq.backup_into, Path(dest))
            return
        async with self._lock:
            await sq.on_thread(self._conn, sq.backup_into, Path(dest))

    # --- checkpoints, off the writer ----------------------------------------------------------------

    def _start_checkpoint(self) -> None:
        if self._checkpointer is not None and not self._checkpointer.done():
            return
        self._commits = 0
        self._checkpointer = asyncio.get_running_loop().create_task(self._checkpoint(), name="sqlite-checkpoint")

    async def _checkpoint(self) -> None:
        try:
            await asyncio.to_thread(sq.checkpoint, self.path)
        except sqlite3.Error as exc:
            log.warning("WAL checkpoint failed (will retry after more commits): %r", exc)


class _WalSync(GroupCommit):
    """Group commit on the WAL file: fsync writes out every dirty page of the file, whichever
    descriptor wrote it, so one fsync on our own descriptor covers all COMMITs that came before."""

    _task_name = "wal-fsync"

    def __init__(self, wal: Path) -> None:
        super().__init__()
        self._wal = wal

    async def _write_out(self) -> None:
        await asyncio.to_thread(sq.fsync_path, self._wal)


async def backup_file(source: Path, dest: Path) -> None:
    """`Database.backup` for a database another process (the running bot) has open."""
    conn = await _connect(Path(source), "PRAGMA query_only=ON")
    try:
        await sq.on_thread(conn, sq.backup_into, Path(dest))
    finally:
        await conn.close()


class Transaction(DeferredWrites):
    """The handle a unit of work writes through; only valid inside `Database.transaction()`.
    The `BEGIN IMMEDIATE` goes with the first statement (one hop fewer per transaction), and the
    writes queued with `defer` with the next statement or the COMMIT."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__()
        self._conn = conn
        self._begun = False
        self.now = time.time()

    def _begin(self) -> bool:
        first, self._begun = not self._begun, True
        return first

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> Written:
        with self._sending() as deferred:
            return await sq.on_thread(self._conn, sq.write, sql, tuple(params), self._begin(), deferred)

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        with self._sending() as deferred:
            return await sq.on_thread(self._conn, sq.fetchone, sql, tuple(params), self._begin(), deferred)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._sending() as deferred:
            return await sq.on_thread(self._conn, sq.fetchall, sql, tuple(params), self._begin(), deferred)
