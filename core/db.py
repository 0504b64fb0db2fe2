"""The SQLite database: one connection, whole transactions serialised, forward-only migrations.

aiosqlite runs every call of a connection on one thread, so two tasks sharing it would interleave
inside each other's transactions. `Database.transaction()` holds a lock for the whole
`BEGIN IMMEDIATE ... COMMIT`, and reads go through the same lock, so every unit of work sees a
consistent state. The schema of each table is owned by the module named after it (ledger.py,
jobs.py); this module only applies the numbered migrations and keeps a small key/value table.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

# Forward-only. Each entry is applied in one transaction together with its user_version bump.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        # 1: credits (owned by core/ledger.py)
        """CREATE TABLE guild_credits (
            guild_id INTEGER PRIMARY KEY,
            balance INTEGER NOT NULL CHECK (balance >= 0),
            reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
            created_at REAL NOT NULL,
            CHECK (reserved <= balance)
        )""",
        """CREATE TABLE reservations (
            job_id INTEGER PRIMARY KEY,
            guild_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            amount INTEGER NOT NULL CHECK (amount >= 0),
            state TEXT NOT NULL CHECK (state IN ('held', 'captured', 'released')),
            created_at REAL NOT NULL,
            settled_at REAL
        )""",
        """CREATE TABLE ledger_entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'capture', 'release', 'refund')),
            amount INTEGER NOT NULL,
            balance_after INTEGER NOT NULL,
            job_id INTEGER,
            user_id INTEGER,
            reason TEXT,
            created_at REAL NOT NULL
        )""",
        # A job can be reserved, captured, released and refunded at most once each.
        "CREATE UNIQUE INDEX ledger_once_per_job ON ledger_entries (job_id, kind) WHERE job_id IS NOT NULL",
        "CREATE INDEX ledger_by_guild ON ledger_entries (guild_id, id)",
        "CREATE INDEX ledger_by_user ON ledger_entries (guild_id, user_id, kind, created_at)",
        # Append-only: the database itself refuses edits and deletions of ledger entries.
        """CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger_entries
           BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
        """CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger_entries
           BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
        # jobs (owned by core/jobs.py)
        """CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            parent_job_id INTEGER REFERENCES jobs(id),
            model TEXT NOT NULL,
            spec TEXT NOT NULL,
            price INTEGER NOT NULL,
            state TEXT NOT NULL,
            request_id TEXT,
            application_id INTEGER,
            interaction_token TEXT,
            interaction_at REAL,
            upload_limit INTEGER,
            progress_message_id INTEGER,
            result_blob TEXT,
            result_mime TEXT,
            result_seed INTEGER,
            cost_usd REAL,
            result_channel_id INTEGER,
            result_message_id INTEGER,
            error_kind TEXT,
            error_detail TEXT,
            notified INTEGER NOT NULL DEFAULT 0,
            delivery_attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX jobs_unfinished ON jobs (state) WHERE state NOT IN ('posted', 'refunded', 'undeliverable')",
        "CREATE INDEX jobs_by_guild ON jobs (guild_id, id)",
        # small key/value store (owned by this module)
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    (
        # 2: moderation (owned by core/moderation.py)
        """CREATE TABLE guild_policies (
            guild_id INTEGER PRIMARY KEY,
            policy TEXT NOT NULL,
            updated_by INTEGER,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE member_blocks (
            guild_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            reason TEXT,
            blocked_by INTEGER NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (guild_id, user_id)
        )""",
        """CREATE TABLE reports (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id INTEGER NOT NULL,
            job_id INTEGER NOT NULL,
            reporter_id INTEGER NOT NULL,
            created_at REAL NOT NULL,
            UNIQUE (job_id, reporter_id)
        )""",
        """CREATE TABLE result_reviews (
            job_id INTEGER PRIMARY KEY,
            guild_id INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('visible', 'hidden', 'removed', 'held', 'approved', 'rejected')),
            decided_by INTEGER,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE review_requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            spec TEXT NOT NULL,
            application_id INTEGER,
            interaction_token TEXT,
            interaction_at REAL,
            progress_message_id INTEGER,
            upload_limit INTEGER,
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
            decided_by INTEGER,
            job_id INTEGER,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX reports_by_job ON reports (job_id)",
    ),
    (
        # 3: spending rules (owned by core/credit_rules.py)
        """CREATE TABLE allowances (
            guild_id INTEGER NOT NULL,
            scope TEXT NOT NULL CHECK (scope IN ('member', 'role')),
            target_id INTEGER NOT NULL,
            daily INTEGER CHECK (daily >= 0),
            monthly INTEGER CHECK (monthly >= 0),
            unlimited INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (guild_id, scope, target_id)
        )""",
        """CREATE TABLE credit_settings (
            guild_id INTEGER PRIMARY KEY,
            quote_above INTEGER,
            confirm_all INTEGER NOT NULL DEFAULT 0,
            low_balance_below INTEGER,
            low_balance_alerted INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX reservations_by_member ON reservations (guild_id, user_id, created_at)",
    ),
]


class DatabaseTooNew(RuntimeError):
    pass


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> Database:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("PRAGMA synchronous=NORMAL")
        db = cls(conn, path)
        await db._migrate()
        return db

    async def close(self) -> None:
        await self._conn.close()

    async def _migrate(self) -> None:
        async with self._lock:
            (version,) = await (await self._conn.execute("PRAGMA user_version")).fetchone()
            if version > len(MIGRATIONS):
                raise DatabaseTooNew(
                    f"{self.path} has schema version {version}, newer than this code ({len(MIGRATIONS)})"
                )
            for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in statements:
                        await self._conn.execute(statement)
                    # PRAGMA cannot take bound parameters; `number` is our own integer.
                    await self._conn.execute(f"PRAGMA user_version = {int(number)}")
                    await self._conn.execute("COMMIT")
                except BaseException:
                    await self._conn.execute("ROLLBACK")
                    raise
                log.info("database migrated to schema version %d", number)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One `BEGIN IMMEDIATE ... COMMIT`; rolled back on any exception."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self._lock:
            return list(await (await self._conn.execute(sql, tuple(params))).fetchall())

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async with self._lock:
            return await (await self._conn.execute(sql, tuple(params))).fetchone()

    async def get_meta(self, key: str) -> str | None:
        row = await self.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row["value"]

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


class Transaction:
    """The handle a unit of work writes through; only valid inside `Database.transaction()`."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.now = time.time()

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Cursor:
        return await self._conn.execute(sql, tuple(params))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        return await (await self._conn.execute(sql, tuple(params))).fetchone()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        return list(await (await self._conn.execute(sql, tuple(params))).fetchall())
