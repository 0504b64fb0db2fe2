"""The PostgreSQL backend (asyncpg): the same interface as core/db.py's `Database`, for a bot
that runs as several processes on one database. Selected by DATABASE_URL=postgresql://...

Transactions. SQLite serialises every write transaction (`BEGIN IMMEDIATE` takes the one write
lock), and the stores are written for that: a transaction reads a balance, a member's pace or a
job's state and writes from what it read. PostgreSQL's default READ COMMITTED does not serialise
such a read-then-write. Two ways keep the stores' code as it is:
- SERIALIZABLE with a retry on serialization failures: a retry must run the transaction's body
  again, and `async with db.transaction() as tx:` cannot re-run its body (the callers would have to
  become retryable callables, and effects between statements, such as a log line, would repeat);
- one transaction-level advisory lock, taken with the BEGIN, so every write transaction of every
  process runs one at a time, as on SQLite. Reads outside transactions do not take it (they see
  the committed state, as SQLite's reader connection does).
This backend does the second: correct for every store as written, at one lock per transaction (in
the same round trip as the BEGIN). Within one process an asyncio lock queues transactions before
they take a connection, so a process holds at most one connection waiting on the advisory lock.
Finer locks (the guild's credit row `FOR UPDATE`, `SKIP LOCKED` job claims) are the next step
when one lock is the bottleneck; they too belong here, not in the stores' callers.

Durability (group commit). Holding the lock through a COMMIT's WAL flush would allow one flush at
a time, whatever the number of processes. So a transaction commits with synchronous_commit off
(PostgreSQL keeps the commit order in its WAL; a crash can lose only a tail of commits, never a
middle one) and `transaction()` returns once a flush that began after its COMMIT has finished: one
flush, outside the lock, serves every transaction that committed before it began (`_WalFlush`).
That is what synchronous_commit=on promises for each caller, with the flushes shared.

Migrations (core/pg_migrations.py, derived from core/migrations.py's) run under a session advisory
lock: processes starting together apply them once, one at a time; the version is in
`schema_version`. Both locks are keyed by the schema (search_path), so databases in separate
schemas (the tests give each test its own) do not wait on each other.

Statements are the stores' SQLite dialect, translated once each by core/pg_sql.py.
"""

from __future__ import annotations

import asyncio
import decimal
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from core.db import DatabaseTooNew
from core.db_shared import DeferredWrites, GroupCommit, MetaTable
from core.db_thread import Written
from core.pg_migrations import MIGRATIONS
from core.pg_sql import translate

log = logging.getLogger(__name__)

# Advisory lock keys: (namespace, hashtext(current_schema())); the namespaces are "flux" in ASCII
# (0x666C7578) and the next number. The BEGIN and the lock travel in one message (simple protocol).
# synchronous_commit is off for the transaction so its COMMIT does not wait for the disk while
# holding the lock; `transaction()` waits for the disk afterwards (group commit, see _WalFlush).
_BEGIN_LOCKED = (
    "BEGIN; SET LOCAL synchronous_commit = off;"
    " SELECT pg_advisory_xact_lock(1718384248, hashtext(current_schema()))"
)
# A commit that wrote WAL, with synchronous_commit on, flushes the WAL up to its own record, so every
# commit made before it is on disk once it returns. (A transaction that only took an id writes no
# WAL before its commit and is not flushed; a transactional logical message is a write that needs
# no table and no privilege.)
_FLUSH = (
    "BEGIN; SET LOCAL synchronous_commit = on; SELECT pg_logical_emit_message(true, 'flux-bot', ''); COMMIT"
)
_MIGRATE_LOCK = 1718384249
_INSTANCE_LOCK = 1718384250
_SHARD_LOCK = 1718384251
# Shard locks of shards 0 … n-1 (this schema) that another session holds: a bigint advisory key shows
# in pg_locks as its high and low 32 bits (classid, objid) with objsubid 1.
_SHARDS_HELD = (
    "SELECT COUNT(*) AS n FROM pg_locks l, generate_series(0, CAST(? AS bigint) - 1) AS s(i)"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> ?"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND ((CAST(l.classid AS bigint) << 32) | CAST(l.objid AS bigint))"
    " = hashtextextended(current_schema() || '/shard/' || CAST(s.i AS bigint), ?)"
)

# What start-up reports as "the database cannot be used".
StorageError = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
IntegrityError = asyncpg.IntegrityConstraintViolationError

POOL_SIZE = 8
# A process stopped (SIGSTOP, a VM pause) inside a transaction would hold the advisory lock, and with it
# every other process's writes, until it wakes: the server ends such a session after this long idle in
# its transaction (the lock goes with it; the stopped process finds its connection gone and its jobs'
# fences moved on). Every transaction here is a few statements with no other I/O inside.
STALLED_TRANSACTION_SECONDS = 5.0
CONNECT_TIMEOUT = 10.0  # seconds; asyncpg's default (60) would hold start-up that long on a dead host


def redacted(url: str) -> str:
    """The URL without its password (for logs and messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc[-1]}"))


def _numeric(text: str) -> int | float:
    # SUM over BIGINT is NUMERIC in PostgreSQL; SQLite gives an int. The stores expect SQLite's types.
    value = decimal.Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


async def _setup(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text")


def _written(status: str) -> Written:
    # "INSERT 0 1", "UPDATE 3", "DELETE 0": the count is the last word.
    last = status.rsplit(" ", 1)[-1]
    return Written(int(last) if last.isdigit() else -1, None)


class PgDatabase(MetaTable):
    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self._lock = asyncio.Lock()
        self.url = url
        # Shown where the SQLite backend shows its file (start-up, health): never the password.
        self.path = redacted(url)
        self._instance: asyncpg.Connection | None = None
        self._flush = _WalFlush(pool)

    @classmethod
    async def open(cls, url: str, *, stalled_transaction_seconds: float = STALLED_TRANSACTION_SECONDS) -> PgDatabase:
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=POOL_SIZE, init=_setup, timeout=CONNECT_TIMEOUT,
            server_settings={"idle_in_transaction_session_timeout": str(int(stalled_transaction_seconds * 1000))},
        )
        db = cls(pool, url)
        try:
            await db._migrate()
        except BaseException:
            await pool.close()
            raise
        return db

    async def close(self) -> None:
        if self._instance is not None:
            await self._instance.close()
        await self._pool.close()

    async def hold_instance_lock(self) -> bool:
        """Take the database's one-process lock for the life of this process (or of `close`); False
        if another process holds it. A session lock on a connection of its own: the server lets go
        when the connection ends, however the process ends, as the kernel does with SQLite's lock
        file. Until jobs are claimed with leases, two processes would resume the same jobs."""
        conn = await asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT)
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1, hashtext(current_schema()))", _INSTANCE_LOCK):
            await conn.close()
            return False
        self._instance = conn
        return True

    async def hold_shard_locks(self, shard_ids: Iterable[int]) -> int | None:
        """With shard ranges (SHARD_IDS), one process per shard instead of one per database: the
        database lock is taken shared (so a process without shard ranges, which takes it exclusively,
        cannot join) and each shard's lock exclusively, on one connection of their own, for the life
        of the process. None when all are held; otherwise the first shard another process runs
        (-1: a process without shard ranges runs the whole database), and nothing is held."""
        conn = await asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT)
        try:
            if not await conn.fetchval(
                "SELECT pg_try_advisory_lock_shared($1, hashtext(current_schema()))", _INSTANCE_LOCK
            ):
                await conn.close()
                return -1
            for shard in shard_ids:
                if not await conn.fetchval(
                    "SELECT pg_try_advisory_lock(hashtextextended(current_schema() || '/shard/' || CAST($1 AS bigint), $2))",
                    shard, _SHARD_LOCK,
                ):
                    await conn.close()
                    return shard
        except BaseException:
            conn.terminate()
            raise
        self._instance = conn
        return None

    async def check_shard_count(self, count: int) -> int | None:
        """Record SHARD_COUNT for the processes to come; if the processes running now (holding shard
        locks) use another count, return it and record nothing: with different counts two processes
        would both receive some guilds' events. (Call after `hold_shard_locks`.)"""
        mine = self._instance.get_server_pid() if self._instance is not None else 0
        async with self.transaction() as tx:
            value = await self.get_meta_in(tx, "shard_count")
            stored = int(value) if value is not None else None
            if stored is not None and stored != count:
                held = await tx.fetchone(_SHARDS_HELD, (stored, mine, _SHARD_LOCK))
                if held["n"]:
                    return stored
            await self.set_meta_in(tx, "shard_count", str(count))
        return None

    async def _migrate(self) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1, hashtext(current_schema()))", _MIGRATE_LOCK)
            try:
                await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                version = await conn.fetchval("SELECT version FROM schema_version")
                if version is None:
                    await conn.execute("INSERT INTO schema_version (version) VALUES (0)")
                    version = 0
                if version > len(MIGRATIONS):
                    raise DatabaseTooNew(
                        f"{self.path} has schema version {version}, newer than this code ({len(MIGRATIONS)})"
                    )
                for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
                    async with conn.transaction():
                        for statement in statements:
                            await conn.execute(statement)
                        await conn.execute("UPDATE schema_version SET version = $1", number)
                    log.info("database migrated to schema version %d", number)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1, hashtext(current_schema()))", _MIGRATE_LOCK)

    async def schema_version(self) -> int:
        return int(await self._pool.fetchval("SELECT version FROM schema_version"))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgTransaction]:
        """One transaction under the database-wide advisory lock; rolled back on any exception."""
        async with self._lock, self._pool.acquire() as conn:
            tx = PgTransaction(conn)
            try:
                yield tx
                if tx.failed is not None:
                    raise tx.failed  # a queued write failed and the caller carried on (DeferredWrites)
            except BaseException:
                if tx._begun:
                    await asyncio.shield(_end(conn, "ROLLBACK"))
                raise
            if not tx._begun and not tx._deferred:
                return
            seq = self._flush.sending()
            commit = asyncio.ensure_future(tx._commit())
            try:
                await asyncio.shield(commit)
            except BaseException:
                # Cancelled while the COMMIT is on its way: its outcome stands, and the connection
                # must be idle before it goes back to the pool (a ROLLBACK now would race it).
                if not commit.done():
                    await asyncio.wait([commit])
                if commit.cancelled() or commit.exception() is not None:
                    # (A queued write that failed stopped the COMMIT from being sent.)
                    await asyncio.shield(_end(conn, "ROLLBACK"))
                raise
            finally:
                self._flush.committed()
        # Outside the locks: the next transaction runs while this one waits for the disk.
        await self._flush.durable(seq)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[asyncpg.Record]:
        rows = await self._pool.fetch(translate(sql), *params)
        await self._flush.durable()  # nothing read is acted on before it is on disk
        return rows

    async def fetchall_in_thread(self, sql: str, params: Iterable[Any] = ()) -> list[asyncpg.Record]:
        """The SQLite backend moves long scans off its reader's thread; here a scan is one more
        pooled connection, and the loop only decodes the rows."""
        return await self.fetchall(sql, params)

    async def scan_in_thread(
        self, sql: str, params: Iterable[Any], each_batch: Callable[[list[asyncpg.Record]], None], size: int = 2000
    ) -> None:
        """Like the SQLite backend's: a server-side cursor in one read-only snapshot; the loop decodes
        `size` rows at a time and `each_batch` runs in a worker thread."""
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            cursor = await conn.cursor(translate(sql), *params)
            while rows := await cursor.fetch(size):
                await asyncio.to_thread(each_batch, rows)
        await self._flush.durable()

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> asyncpg.Record | None:
        row = await self._pool.fetchrow(translate(sql), *params)
        await self._flush.durable()
        return row

    async def backup(self, dest: Path) -> None:
        raise NotImplementedError(
            "a PostgreSQL database is backed up with PostgreSQL's own tools (pg_dump), not `bot.py backup`"
        )


class _WalFlush(GroupCommit):
    """Group commit, as core/db.py's _WalSync does for SQLite, by a commit that flushes the WAL
    (`_FLUSH`). It covers this process's commits: reads wait for it too, so nothing this process
    read is acted on before it is on disk. (Another process's reads do not wait for this one's
    flush; today one process holds a database, see `hold_instance_lock`.)"""

    _task_name = "pg-wal-flush"

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__()
        self._pool = pool

    async def _write_out(self) -> None:
        await self._pool.execute(_FLUSH)


async def _end(conn: asyncpg.Connection, statement: str) -> None:
    try:
        await conn.execute(statement)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError):
        # A connection that cannot even roll back must not go back to the pool mid-transaction.
        conn.terminate()


class PgTransaction(DeferredWrites):
    """The handle a unit of work writes through; only valid inside `PgDatabase.transaction()`.
    The BEGIN and the advisory lock go with the first statement, as on SQLite. asyncpg sends one
    statement per round trip, so the writes queued with `defer` are sent one by one, in order,
    before the next statement or the COMMIT."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        super().__init__()
        self._conn = conn
        self._begun = False
        self.now = time.time()

    async def _begin(self) -> None:
        """What must reach the server before the next statement: the BEGIN, then the queued writes."""
        if not self._begun:
            self._begun = True
            await self._conn.execute(_BEGIN_LOCKED)
        with self._sending() as deferred:
            for sql, params in deferred:
                await self._conn.execute(translate(sql), *params)

    async def _commit(self) -> None:
        await self._begin()
        await self._conn.execute("COMMIT")

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> Written:
        await self._begin()
        return _written(await self._conn.execute(translate(sql), *params))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> asyncpg.Record | None:
        await self._begin()
        return await self._conn.fetchrow(translate(sql), *params)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[asyncpg.Record]:
        await self._begin()
        return await self._conn.fetch(translate(sql), *params)
