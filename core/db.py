"""The SQLite database: one writer, whole transactions serialised, forward-only migrations.

Statements run on the event loop's own thread. They touch pages the OS already caches and a commit
in WAL mode with `synchronous=NORMAL` is a write() into the WAL file, not an fsync, so one costs
microseconds; sending each one to a worker thread (aiosqlite) cost more than the statement itself
in thread hand-offs and GIL contention, and serialised every request of the bot behind them. The
one slow operation, the checkpoint that copies the WAL into the database file and fsyncs it, is
taken off the loop: automatic checkpoints are off and `_checkpoint` runs in a worker thread.

Two tasks sharing the writer would interleave inside each other's transactions, so
`Database.transaction()` holds a lock for the whole `BEGIN IMMEDIATE ... COMMIT`. Reads outside a
transaction go through a second connection: in WAL mode it sees exactly the committed state, so
reads never wait for a writer's lock. The schema of each table is owned by the module named
after it (ledger.py, jobs.py); this module only applies the numbered migrations and keeps a small
key/value table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

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
    (
        # 4: a member's pace (core/jobs.py member_usage_in), read inside the job-creating transaction
        "CREATE INDEX jobs_by_member ON jobs (guild_id, user_id, created_at, state)",
        "CREATE INDEX jobs_member_running ON jobs (guild_id, user_id)"
        " WHERE state IN ('queued', 'submitting', 'submitted', 'succeeded')",
    ),
    (
        # 5: members' own things: server styles (core/styles.py), personal defaults
        # (core/preferences.py), and /mine's keyset pages over a member's results (core/jobs.py)
        """CREATE TABLE guild_styles (
            guild_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            template TEXT NOT NULL CHECK (instr(template, '{prompt}') > 0),
            created_by INTEGER NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (guild_id, name)
        )""",
        """CREATE TABLE member_preferences (
            guild_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            prefs TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (guild_id, user_id)
        )""",
        "CREATE INDEX jobs_member_results ON jobs (guild_id, user_id, id) WHERE result_blob IS NOT NULL",
        # quotes waiting for the member's answer (core/quotes.py): the buttons work after a restart
        """CREATE TABLE quotes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            count INTEGER NOT NULL CHECK (count BETWEEN 1 AND 4),
            spec TEXT NOT NULL,
            parent_job_id INTEGER,
            reference_authors TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('open', 'answered')),
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE guild_presentation (
            guild_id INTEGER PRIMARY KEY,
            png_metadata INTEGER NOT NULL DEFAULT 1,
            spoiler_age_restricted INTEGER NOT NULL DEFAULT 0,
            private_results INTEGER NOT NULL DEFAULT 0,
            updated_at REAL NOT NULL
        )""",
    ),
]


class DatabaseTooNew(RuntimeError):
    pass


# Checkpoint (off the loop) after this many commits; SQLite's own default is every 1000 pages.
CHECKPOINT_EVERY = 500


def _connect(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def _fetchone(conn: sqlite3.Connection, sql: str, params: Iterable[Any]) -> sqlite3.Row | None:
    cursor = conn.execute(sql, tuple(params))
    try:
        return cursor.fetchone()
    finally:
        cursor.close()  # an unfinished statement would pin the connection to an old snapshot


def _fetchall(conn: sqlite3.Connection, sql: str, params: Iterable[Any]) -> list[sqlite3.Row]:
    cursor = conn.execute(sql, tuple(params))
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


class Database:
    def __init__(self, conn: sqlite3.Connection, path: Path, reader: sqlite3.Connection | None = None) -> None:
        self._conn = conn
        # Without a second connection (":memory:"), reads share the writer and so its lock.
        self._reader = reader
        self._lock = asyncio.Lock()
        self.path = path
        self._commits = 0
        self._checkpointer: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path) -> Database:
        path = Path(path)
        memory = str(path) == ":memory:"
        if not memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # see _checkpoint
        db = cls(conn, path)
        try:
            await db._migrate()
        except BaseException:
            conn.close()
            raise
        if not memory:
            reader = _connect(path)
            reader.execute("PRAGMA busy_timeout=5000")
            reader.execute("PRAGMA query_only=ON")
            db._reader = reader
        return db

    async def close(self) -> None:
        if self._checkpointer is not None:
            with contextlib.suppress(Exception):
                await self._checkpointer
        if self._reader is not None:
            self._reader.close()
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.close()

    async def _migrate(self) -> None:
        async with self._lock:
            (version,) = _fetchone(self._conn, "PRAGMA user_version", ())
            if version > len(MIGRATIONS):
                raise DatabaseTooNew(
                    f"{self.path} has schema version {version}, newer than this code ({len(MIGRATIONS)})"
                )
            for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in statements:
                        self._conn.execute(statement)
                    # PRAGMA cannot take bound parameters; `number` is our own integer.
                    self._conn.execute(f"PRAGMA user_version = {int(number)}")
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                log.info("database migrated to schema version %d", number)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One `BEGIN IMMEDIATE ... COMMIT`; rolled back on any exception."""
        async with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self._commits += 1
            if self._commits >= CHECKPOINT_EVERY and self._reader is not None:
                self._start_checkpoint()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        if self._reader is not None:
            return _fetchall(self._reader, sql, params)
        async with self._lock:
            return _fetchall(self._conn, sql, params)

    async def fetchall_in_thread(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """A read that scans much (housekeeping over months of rows): on its own read-only connection
        in a worker thread, so the event loop keeps answering Discord meanwhile. It sees the last
        committed state, like `fetchall`."""
        if self._reader is None:  # ":memory:" has no second connection to read through
            return await self.fetchall(sql, params)
        return await asyncio.to_thread(_fetchall_once, self.path, sql, tuple(params))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        if self._reader is not None:
            return _fetchone(self._reader, sql, params)
        async with self._lock:
            return _fetchone(self._conn, sql, params)

    async def get_meta(self, key: str) -> str | None:
        row = await self.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row["value"]

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # --- checkpoints, off the event loop ---------------------------------------------------------

    def _start_checkpoint(self) -> None:
        if self._checkpointer is not None and not self._checkpointer.done():
            return
        self._commits = 0
        self._checkpointer = asyncio.get_running_loop().create_task(self._checkpoint(), name="sqlite-checkpoint")

    async def _checkpoint(self) -> None:
        try:
            await asyncio.to_thread(_checkpoint, self.path)
        except sqlite3.Error as exc:
            log.warning("WAL checkpoint failed (will retry after more commits): %r", exc)


def _fetchall_once(path: Path, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
    conn = _connect(path)
    try:
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        return _fetchall(conn, sql, params)
    finally:
        conn.close()


def _checkpoint(path: Path) -> None:
    """Copy the WAL into the database file (PASSIVE: never waits for, or blocks, the writer)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
    finally:
        conn.close()


class Transaction:
    """The handle a unit of work writes through; only valid inside `Database.transaction()`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.now = time.time()

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, tuple(params))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        return _fetchone(self._conn, sql, params)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return _fetchall(self._conn, sql, params)
