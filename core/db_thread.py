"""What runs on an SQLite connection's own thread (never on the event loop).

core/db.py sends each of these to a connection's aiosqlite thread with `on_thread` (one hop per
call), or to a worker thread with `asyncio.to_thread`. Nothing else in the bot imports sqlite3.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import aiosqlite

from core.files import fsync_path

BUSY_TIMEOUT_MS = 5000

T = TypeVar("T")


# Writes queued on a transaction handle (`Transaction.defer`): (statement, parameters), in order.
Deferred = tuple[tuple[str, tuple[Any, ...]], ...]


class Written(NamedTuple):
    """What a write statement reports back (the part of a cursor the stores use)."""

    rowcount: int
    lastrowid: int | None


# --- what runs on a connection's own thread ------------------------------------------------------


def on_thread(conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> Coroutine[Any, Any, T]:
    """Run `fn(sqlite3_connection, *args)` on `conn`'s thread: one hop for a whole execute-fetch-close.
    aiosqlite (pinned in requirements.txt) queues work for that thread through `_execute`."""
    return conn._execute(lambda: fn(conn._conn, *args))


def setup(conn: sqlite3.Connection, *pragmas: str) -> None:
    conn.row_factory = sqlite3.Row
    for pragma in (f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}", *pragmas):
        conn.execute(pragma).close()


def _statement(
    conn: sqlite3.Connection,
    sql: str,
    params: tuple[Any, ...],
    begin: bool,
    take: Callable[[sqlite3.Cursor], T],
    deferred: Deferred = (),
) -> T:
    _start(conn, begin, deferred)
    cursor = conn.execute(sql, params)
    try:
        return take(cursor)
    finally:
        cursor.close()  # an unfinished statement would pin the connection to an old snapshot


def _start(conn: sqlite3.Connection, begin: bool, deferred: Deferred) -> None:
    """The BEGIN (with a transaction's first hop), then the writes queued before this hop's statement."""
    if begin:
        conn.execute("BEGIN IMMEDIATE")
    for sql, params in deferred:
        conn.execute(sql, params).close()


def fetchone(
    conn: sqlite3.Connection, sql: str, params: tuple[Any, ...], begin: bool = False, deferred: Deferred = ()
) -> sqlite3.Row | None:
    return _statement(conn, sql, params, begin, sqlite3.Cursor.fetchone, deferred)


def fetchall(
    conn: sqlite3.Connection, sql: str, params: tuple[Any, ...], begin: bool = False, deferred: Deferred = ()
) -> list[sqlite3.Row]:
    return _statement(conn, sql, params, begin, sqlite3.Cursor.fetchall, deferred)


def write(
    conn: sqlite3.Connection, sql: str, params: tuple[Any, ...], begin: bool = False, deferred: Deferred = ()
) -> Written:
    return _statement(conn, sql, params, begin, _written, deferred)


def _written(cursor: sqlite3.Cursor) -> Written:
    return Written(cursor.rowcount, cursor.lastrowid)


def finish(conn: sqlite3.Connection, statement: str) -> None:
    if conn.in_transaction:  # a BEGIN that failed (busy) left nothing to end
        conn.execute(statement)


def commit(conn: sqlite3.Connection, begin: bool, deferred: Deferred) -> None:
    """A transaction's last hop: its queued writes, then COMMIT, which is never reached if one fails
    (the caller then rolls back)."""
    _start(conn, begin, deferred)
    finish(conn, "COMMIT")


def user_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def apply_migration(conn: sqlite3.Connection, number: int, statements: tuple[str, ...]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in statements:
            conn.execute(statement)
        # PRAGMA cannot take bound parameters; `number` is our own integer.
        conn.execute(f"PRAGMA user_version = {int(number)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def backup_into(conn: sqlite3.Connection, dest: Path) -> None:
    """A consistent copy through SQLite's online backup: one step, so one read snapshot, whatever
    commits meanwhile. Written beside `dest` and renamed into place once fsynced (the copy's own
    journal mode is the default rollback journal with synchronous=FULL)."""
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    target = sqlite3.connect(partial)
    try:
        conn.backup(target)
    finally:
        target.close()
    fsync_path(partial)
    partial.replace(dest)
    fsync_path(dest.parent)


def fetchall_once(path: Path, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        setup(conn, "PRAGMA query_only=ON")
        return fetchall(conn, sql, params)
    finally:
        conn.close()


def scan_once(
    path: Path, sql: str, params: tuple[Any, ...], each_batch: Callable[[list[Any]], None], size: int
) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        setup(conn, "PRAGMA query_only=ON")
        conn.row_factory = None  # plain tuples: see Database.scan_in_thread
        cursor = conn.execute(sql, params)
        try:
            while rows := cursor.fetchmany(size):
                each_batch(rows)
        finally:
            cursor.close()
    finally:
        conn.close()


def in_batches(rows: list[T], each_batch: Callable[[list[T]], None], size: int) -> None:
    for start in range(0, len(rows), size):
        each_batch(rows[start:start + size])


def checkpoint(path: Path) -> None:
    """Copy the WAL into the database file (PASSIVE: never waits for, or blocks, the writer)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        setup(conn)
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
    finally:
        conn.close()


def finish_checkpoint(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
