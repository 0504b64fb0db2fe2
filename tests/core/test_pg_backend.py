"""The PostgreSQL backend itself: its schema kept in step with SQLite's, the SQL it translates, and
what several processes on one database rely on (migrations applied once, transactions that never
interleave across processes). Each "process" here is a PgDatabase with a pool of its own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from core import db as sqlite_db
from core import pg_migrations
from core.db_postgres import POOL_SIZE, DatabaseTooNew, PgDatabase, redacted
from core.pg_sql import translate
from tests.pg import fresh_schema

ROOT = Path(__file__).resolve().parents[2]


def test_both_backends_have_the_same_migrations():
    assert len(pg_migrations.MIGRATIONS) == len(sqlite_db.MIGRATIONS)


def test_placeholders_outside_literals_are_numbered():
    sql = "SELECT '?', \"a?b\" FROM t WHERE a = ? AND b = 'it''s ?' AND c IN (?, ?)"
    assert translate(sql) == "SELECT '?', \"a?b\" FROM t WHERE a = $1 AND b = 'it''s ?' AND c IN ($2, $3)"


def test_sqlite_only_forms_are_translated():
    assert translate("SELECT 1 FROM jobs INDEXED BY jobs_member_running WHERE a = ?") == (
        "SELECT 1 FROM jobs WHERE a = $1"
    )
    assert "json_each" not in translate("DELETE FROM t WHERE id IN (SELECT value FROM json_each(?))")
    assert "json_set" not in translate(
        "UPDATE jobs SET spec = json_set(json_remove(spec, '$.negative_prompt'), '$.prompt', '[removed]')"
    )


def test_the_password_never_shows():
    assert redacted("postgresql://bot:s3cret@db:5432/flux") == "postgresql://bot:***@db:5432/flux"
    assert redacted("postgresql://bot@db/flux") == "postgresql://bot@db/flux"


@pytest.fixture
async def schema_url(pg_url):
    async with fresh_schema(pg_url) as url:
        yield url


async def test_processes_starting_together_migrate_once(schema_url):
    first, second, third = await asyncio.gather(*(PgDatabase.open(schema_url) for _ in range(3)))
    try:
        assert await first.schema_version() == len(pg_migrations.MIGRATIONS)
        rows = await second.fetchall("SELECT version FROM schema_version")
        assert [r["version"] for r in rows] == [len(pg_migrations.MIGRATIONS)]
    finally:
        for database in (first, second, third):
            await database.close()


async def test_a_newer_schema_is_refused(schema_url):
    database = await PgDatabase.open(schema_url)
    async with database.transaction() as tx:
        await tx.execute("UPDATE schema_version SET version = ?", (len(pg_migrations.MIGRATIONS) + 1,))
    await database.close()
    with pytest.raises(DatabaseTooNew):
        await PgDatabase.open(schema_url)


async def test_read_then_write_transactions_never_interleave_across_processes(schema_url):
    """Two processes each read-modify-write one value 40 times, awaiting between the read and the
    write. READ COMMITTED alone would lose updates; the backend's lock must keep every one."""
    processes = [await PgDatabase.open(schema_url) for _ in range(2)]
    try:
        await processes[0].set_meta("counter", "0")

        async def bump(database: PgDatabase) -> None:
            async with database.transaction() as tx:
                row = await tx.fetchone("SELECT value FROM meta WHERE key = ?", ("counter",))
                await asyncio.sleep(0)
                await tx.execute(
                    "UPDATE meta SET value = ? WHERE key = ?", (str(int(row["value"]) + 1), "counter")
                )

        await asyncio.gather(*(bump(processes[i % 2]) for i in range(80)))
        assert await processes[1].get_meta("counter") == "80"
    finally:
        for database in processes:
            await database.close()


async def test_a_failed_or_cancelled_transaction_leaves_nothing(schema_url):
    database = await PgDatabase.open(schema_url)
    try:
        with pytest.raises(RuntimeError):
            async with database.transaction() as tx:
                await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("a", "1"))
                raise RuntimeError("boom")

        entered = asyncio.Event()

        async def cancelled() -> None:
            async with database.transaction() as tx:
                await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("b", "1"))
                entered.set()
                await asyncio.Event().wait()

        task = asyncio.create_task(cancelled())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await database.fetchall("SELECT key FROM meta") == []
        await database.set_meta("c", "1")  # the connections are usable again
        assert await database.get_meta("c") == "1"
    finally:
        await database.close()


async def test_sums_and_counts_come_back_as_sqlite_types(schema_url):
    database = await PgDatabase.open(schema_url)
    try:
        async with database.transaction() as tx:
            for job_id, amount in ((1, 3), (2, 4)):
                await tx.execute(
                    "INSERT INTO reservations (job_id, guild_id, user_id, amount, state, created_at)"
                    " VALUES (?, 1, 1, ?, 'held', 0)",
                    (job_id, amount),
                )
            written = await tx.execute("UPDATE reservations SET state = 'released' WHERE guild_id = ?", (1,))
        assert written.rowcount == 2
        row = await database.fetchone("SELECT SUM(amount) AS total, COUNT(*) AS n FROM reservations")
        assert (row["total"], row["n"]) == (7, 2) and type(row["total"]) is int
    finally:
        await database.close()


def test_in_ci_a_missing_postgresql_fails_the_run(tmp_path):
    """CI must never pass by skipping the PostgreSQL half: with CI=true and no cluster, the run fails."""
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"} | {"CI": "true"}
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "postgres and once",
            "tests/core/test_ledger.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode != 0 and "TEST_DATABASE_URL is not set" in ran.stdout, ran.stdout[-2000:]
    env.pop("CI")
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rs",
            "-k",
            "postgres and once",
            "tests/core/test_ledger.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0 and "skipped" in ran.stdout and "TEST_DATABASE_URL" in ran.stdout, ran.stdout[
        -2000:
    ]


async def test_an_unreachable_postgresql_is_one_line_naming_the_setting(tmp_path, pg_url):
    from cogs.ui import startup

    with pytest.raises(startup.StartupFailure) as failure:
        await startup.open_database(tmp_path / "unused.db", "postgresql://bot:hunter2@127.0.0.1:1/flux")
    line = str(failure.value)
    # Not a setting to fix but a server not up (yet): the exit code systemd restarts on.
    assert failure.value.exit_code == startup.EXIT_UNREACHABLE and "DATABASE_URL" in line and "hunter2" not in line
    assert not (tmp_path / "unused.db").exists()
    # A server that answers but has no such database: a setting to fix (not restarted).
    missing = urlunsplit(urlsplit(pg_url)._replace(path="/no_such_database", query=""))
    with pytest.raises(startup.StartupFailure) as failure:
        await startup.open_database(tmp_path / "unused.db", missing)
    assert failure.value.exit_code == startup.EXIT_CONFIG and "no_such_database" in str(failure.value)


def test_database_url_must_be_postgresql(monkeypatch):
    from core.config import load_settings
    from core.errors import ConfigError

    monkeypatch.setenv("ENV_FILE", "")
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("SEGMIND_API_KEY", "k")
    monkeypatch.setenv("DATABASE_URL", "mysql://bot@db/flux")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings()
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:pw@db/flux")
    settings = load_settings()
    assert settings.database_url.get_secret_value() == "postgresql://bot:pw@db/flux"
    assert "pw" not in repr(settings.database_url)


async def test_a_transaction_returns_only_once_its_commit_is_flushed(schema_url):
    """The COMMIT itself does not wait for the disk (synchronous_commit off under the lock): the
    backend's own flush must have covered it before `transaction()` returns."""
    database = await PgDatabase.open(schema_url)
    probe = await asyncpg.connect(schema_url)
    try:
        for n in range(20):
            async with database.transaction() as tx:
                await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"k{n}", "v"))
                row = await tx.fetchone("SELECT pg_current_wal_insert_lsn() - CAST('0/0' AS pg_lsn) AS lsn")
            flushed = await probe.fetchval("SELECT pg_current_wal_flush_lsn() - CAST('0/0' AS pg_lsn)")
            assert flushed >= row["lsn"], f"commit {n} returned before the WAL up to it was flushed"
    finally:
        await probe.close()
        await database.close()


async def test_cancelled_during_its_commit_the_commit_stands_and_the_connection_stays_sound(schema_url):
    """A task cancelled while its COMMIT runs (made slow by a deferred trigger) must let the COMMIT
    finish rather than race a ROLLBACK on the same connection."""
    import gc

    database = await PgDatabase.open(schema_url)
    probe = await asyncpg.connect(schema_url)
    problems: list[dict] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: problems.append(context))
    try:
        await probe.execute(
            "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$;"
            " CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON meta DEFERRABLE INITIALLY DEFERRED"
            " FOR EACH ROW EXECUTE FUNCTION slow_commit()"
        )

        async def write() -> None:
            async with database.transaction() as tx:
                await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("slow", "1"))

        task = asyncio.create_task(write())
        while not await probe.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'COMMIT' AND state = 'active'"
        ):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await probe.fetchval("SELECT value FROM meta WHERE key = 'slow'") == "1", "the COMMIT stands"
        await probe.execute("DROP TRIGGER slow ON meta")
        for n in range(POOL_SIZE + 1):  # every pooled connection still works
            await database.set_meta(f"after{n}", "ok")
        gc.collect()
        assert problems == []
    finally:
        loop.set_exception_handler(None)
        await probe.close()
        await database.close()


async def test_cancelled_during_a_statement_the_transaction_rolls_back_and_the_connection_stays_sound(
    schema_url,
):
    import gc

    database = await PgDatabase.open(schema_url)
    probe = await asyncpg.connect(schema_url)
    problems: list[dict] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: problems.append(context))
    try:

        async def write() -> None:
            async with database.transaction() as tx:
                await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("slow", "1"))
                await tx.execute("SELECT pg_sleep(5)")

        task = asyncio.create_task(write())
        active = (
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'"
        )
        while not await probe.fetchval(active):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await probe.fetchval("SELECT value FROM meta WHERE key = 'slow'") is None
        for n in range(POOL_SIZE + 1):
            await database.set_meta(f"after{n}", "ok")
        assert await probe.fetchval(active) == 0, "the sleeping statement was cancelled at the server too"
        gc.collect()
        assert problems == []
    finally:
        loop.set_exception_handler(None)
        await probe.close()
        await database.close()


async def test_a_process_stopped_inside_a_transaction_does_not_hold_the_others(schema_url):
    """The stopped process's session is ended by the server after its idle-in-transaction limit: the
    database-wide lock is released, the other process's transaction runs, the stopped one's fails."""
    stopped = await PgDatabase.open(schema_url, stalled_transaction_seconds=0.5)
    other = await PgDatabase.open(schema_url)
    try:
        async with other.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'before')")
        # The woken process's connection is gone (asyncpg reports it in one of these ways).
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)):
            async with stopped.transaction() as tx:
                await tx.execute("UPDATE meta SET value = 'stopped' WHERE key = 'k'")  # holds the lock
                await asyncio.wait_for(other.set_meta("k", "other"), 30)  # runs once the session is ended
                await tx.execute("UPDATE meta SET value = 'woke' WHERE key = 'k'")
        assert await other.get_meta("k") == "other"
    finally:
        await stopped.close()
        await other.close()
