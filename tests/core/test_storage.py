"""The storage layer: nothing on the event loop, whole transactions serialised, migrations guarded."""

from __future__ import annotations

import ast
import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from core import db as db_module
from core.db import MIGRATIONS, Database, DatabaseTooNew
from core.ledger import Ledger

ROOT = Path(__file__).resolve().parents[2]
BACKEND = {"core/db.py", "core/db_thread.py"}


class StatementRecorder:
    """Wraps sqlite3.connect (which aiosqlite's own connector calls too): every connection opened
    records, through SQLite's trace callback, the thread each statement actually runs on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.loop_thread = threading.get_ident()
        self.statements: list[tuple[int, str]] = []
        real_connect = sqlite3.connect

        def connect(*args, **kwargs):
            self.statements.append((threading.get_ident(), "<connect>"))
            conn = real_connect(*args, **kwargs)
            conn.set_trace_callback(lambda sql: self.statements.append((threading.get_ident(), sql)))
            return conn

        monkeypatch.setattr(sqlite3, "connect", connect)

    def on_loop(self) -> list[str]:
        return [sql for thread, sql in self.statements if thread == self.loop_thread]


async def test_no_sqlite_call_runs_on_the_event_loop(tmp_path, monkeypatch):
    recorder = StatementRecorder(monkeypatch)
    # The recorder catches a statement run on the loop (else the check below could not fail).
    probe = sqlite3.connect(tmp_path / "probe.db")
    probe.execute("SELECT 1").fetchall()
    probe.close()
    assert recorder.on_loop() == ["<connect>", "SELECT 1"]
    recorder.statements.clear()

    database = await Database.open(tmp_path / "bot.db")
    try:
        ledger = Ledger(database)
        await ledger.grant(1, 50, user_id=7, reason="test")
        job_id = 1
        async with database.transaction() as tx:
            await ledger.reserve_in(tx, job_id=job_id, guild_id=1, user_id=7, amount=5)
        async with database.transaction() as tx:
            await ledger.capture_in(tx, job_id)
        await database.set_meta("k", "v")
        assert await database.get_meta("k") == "v"
        assert (await ledger.balance(1)).balance == 45
        assert len(await database.fetchall_in_thread("SELECT job_id FROM reservations")) == 1
        await database.backup(tmp_path / "copy.db")
        await database._checkpoint()
    finally:
        await database.close()

    ran = [sql for _, sql in recorder.statements]
    assert any(sql.startswith("INSERT INTO ledger_entries") for sql in ran)
    assert any("wal_checkpoint" in sql for sql in ran) and "COMMIT" in ran
    assert recorder.on_loop() == []


def _module_tree(relative: str) -> ast.Module:
    return ast.parse((ROOT / relative).read_text(encoding="utf-8"))


def test_only_the_storage_backend_imports_sqlite():
    offenders = []
    for path in sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "cogs").rglob("*.py"), ROOT / "bot.py"]):
        relative = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            )
            if any(n.split(".")[0] in {"sqlite3", "aiosqlite"} for n in names) and relative not in BACKEND:
                offenders.append(relative)
    assert offenders == []


def test_the_interface_module_hands_every_sqlite_call_to_a_thread():
    """core/db.py runs on the loop: it may name sqlite3 types and errors but never call sqlite3,
    and it may call a db_thread function only by handing it to `on_thread` or `asyncio.to_thread`."""
    tree = _module_tree("core/db.py")
    handed_over: set[int] = set()
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            if func in {"sq.on_thread", "asyncio.to_thread"}:
                handed_over.update(id(arg) for arg in node.args[1:2] if func == "sq.on_thread")
                handed_over.update(id(arg) for arg in node.args[:1] if func == "asyncio.to_thread")
            elif func.startswith("sqlite3."):
                problems.append(f"line {node.lineno}: {func}() on the event loop")
            elif func.startswith("sq.") or (".execute" in func and func != "tx.execute") or func.endswith(".backup"):
                problems.append(f"line {node.lineno}: {func}() called directly")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "sq" and node.attr not in {"on_thread"}:
            if id(node) not in handed_over:
                problems.append(f"line {node.lineno}: sq.{node.attr} not handed to a thread")
    assert problems == []


async def test_concurrent_transactions_never_interleave(db):
    """50 tasks read-modify-write one value, each awaiting between the read and the write (every
    statement is a hop to the writer's thread): only whole-transaction serialisation keeps all 50."""
    await db.set_meta("counter", "0")

    async def bump() -> None:
        async with db.transaction() as tx:
            row = await tx.fetchone("SELECT value FROM meta WHERE key = 'counter'")
            await asyncio.sleep(0)
            await tx.execute("UPDATE meta SET value = ? WHERE key = 'counter'", (str(int(row["value"]) + 1),))

    await asyncio.gather(*(bump() for _ in range(50)))
    assert await db.get_meta("counter") == "50"


async def test_a_failed_transaction_leaves_nothing_and_the_next_one_works(db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
            raise RuntimeError("boom")
    assert await db.get_meta("a") is None
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('b', '1')")
            await tx.execute("INSERT INTO meta (key, value) VALUES ('b', '2')")
    assert await db.get_meta("b") is None
    written = None
    async with db.transaction() as tx:
        written = await tx.execute("INSERT INTO meta (key, value) VALUES ('c', '1')")
    assert written.rowcount == 1 and await db.get_meta("c") == "1"


async def test_a_cancelled_transaction_is_rolled_back(db):
    inside = asyncio.Event()

    async def doomed() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('x', '1')")
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(doomed())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await db.set_meta("y", "2")
    assert await db.get_meta("x") is None and await db.get_meta("y") == "2"


async def test_durable_settings_on_the_writer(db):
    async with db.transaction() as tx:
        journal = (await tx.fetchone("PRAGMA journal_mode"))[0]
        autocheckpoint = (await tx.fetchone("PRAGMA wal_autocheckpoint"))[0]
    assert journal == "wal" and autocheckpoint == 0  # checkpoints never run inside a COMMIT


async def test_a_transaction_returns_only_once_its_commit_is_fsynced(tmp_path, monkeypatch):
    """Each fsync of the WAL records (in its worker thread, just before the real fsync) which commits
    it makes durable: what a fresh connection sees then is in the page cache the fsync writes out.
    Every transaction must return only after an fsync that covered it, however many run at once,
    and a read outside a transaction must not return a commit the disk does not have yet."""
    database = await Database.open(tmp_path / "bot.db")
    durable: list[set[str]] = []
    real_fsync = db_module.sq.fsync_path

    def fsync_path(path: Path) -> None:
        if path.name.endswith("-wal"):
            probe = sqlite3.connect(tmp_path / "bot.db")
            seen = {row[0] for row in probe.execute("SELECT key FROM meta")}
            probe.close()
            real_fsync(path)
            durable.append(seen)
        else:
            real_fsync(path)

    monkeypatch.setattr(db_module.sq, "fsync_path", fsync_path)
    uncovered = []

    async def write(n: int) -> None:
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (f"k{n}",))
        if not any(f"k{n}" in snapshot for snapshot in durable):
            uncovered.append(f"k{n}")

    async def read() -> None:
        # A read may see other tasks' commits; it must not return one before it is on disk.
        for _ in range(20):
            for row in await database.fetchall("SELECT key FROM meta"):
                if not any(row["key"] in snapshot for snapshot in durable):
                    uncovered.append(f"read {row['key']}")
            await asyncio.sleep(0)

    try:
        await asyncio.gather(*(write(n) for n in range(40)), read(), read())
    finally:
        await database.close()
    assert uncovered == []
    assert len(durable) >= 1 and {f"k{n}" for n in range(40)} <= durable[-1]


async def test_a_newer_database_is_refused(tmp_path):
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(DatabaseTooNew):
        await Database.open(path)


async def test_a_pending_migration_backs_up_the_database_first(tmp_path, monkeypatch):
    path = tmp_path / "bot.db"
    monkeypatch.setattr(db_module, "MIGRATIONS", MIGRATIONS[:-1])
    old = await Database.open(path)
    await Ledger(old).grant(3, 11, user_id=1, reason="before the upgrade")
    await old.close()
    assert list(tmp_path.glob("*.bak")) == []  # a fresh database has nothing to back up

    monkeypatch.setattr(db_module, "MIGRATIONS", MIGRATIONS)
    upgraded = await Database.open(path)
    await upgraded.close()
    (copy,) = tmp_path.glob("bot.db.v*.bak")
    assert copy.name.startswith(f"bot.db.v{len(MIGRATIONS) - 1}-")
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) - 1
        assert conn.execute("SELECT balance FROM guild_credits WHERE guild_id = 3").fetchone()[0] == 11
    finally:
        conn.close()

    again = await Database.open(path)  # nothing pending: no second copy
    await again.close()
    assert len(list(tmp_path.glob("*.bak"))) == 1


async def test_backup_while_a_writer_commits_is_one_consistent_snapshot(tmp_path):
    """A writer moves credit between two rows in a loop (their sum never changes) while both backup
    paths copy the database: each copy passes integrity_check, holds the sum, and has every row
    committed before the backup began."""
    database = await Database.open(tmp_path / "bot.db")
    await database.set_meta("a", "1000")
    await database.set_meta("b", "0")
    moves = 0
    stop = asyncio.Event()

    async def move() -> None:
        nonlocal moves
        while not stop.is_set():
            async with database.transaction() as tx:
                await tx.execute("UPDATE meta SET value = CAST(value AS INTEGER) - 1 WHERE key = 'a'")
                await tx.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'b'")
                await tx.execute("INSERT INTO meta (key, value) VALUES (?, 'moved')", (f"m{moves}",))
            moves += 1

    writer = asyncio.create_task(move())
    try:
        copies = []
        for n, copy_with in enumerate((database.backup, lambda dest: db_module.backup_file(database.path, dest))):
            while moves < 20 * (n + 1):
                await asyncio.sleep(0.001)
            before = moves
            dest = tmp_path / f"copy-{n}.db"
            await copy_with(dest)
            copies.append((dest, before))
    finally:
        stop.set()
        await writer
        await database.close()
    assert moves > 40
    for dest, before in copies:
        conn = sqlite3.connect(dest)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            values = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('a', 'b')").fetchall())
            moved = conn.execute("SELECT COUNT(*) FROM meta WHERE value = 'moved'").fetchone()[0]
        finally:
            conn.close()
        assert int(values["a"]) + int(values["b"]) == 1000 and int(values["b"]) == moved
        assert moved >= before
