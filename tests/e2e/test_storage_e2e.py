"""The real bot process and its database: one process per database (a file or a PostgreSQL schema),
backups of the SQLite file while it runs."""

from __future__ import annotations

import asyncio
import sqlite3
import sys

import pytest

from tests.e2e.conftest import ALICE, GENERAL, GUILD, ROOT

pytestmark = pytest.mark.e2e


async def run_bot_command(world, *args: str, timeout: float = 60) -> tuple[int, list[str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), *args, cwd=ROOT, env=world.env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, [line for line in output.decode(errors="replace").splitlines() if line.strip()]


async def test_a_second_bot_on_the_same_database_exits_at_once_with_one_line(world):
    await world.start_bot()
    await world.grant(10)
    code, lines = await run_bot_command(world)
    assert code != 0
    if world.backend == "sqlite":
        assert len(lines) == 1, lines  # the lock file is taken before logging starts
    else:
        assert len(lines) == 2 and "starting" in lines[0], lines  # the lock is the database's: after the start line
    assert "Another bot process is already using" in lines[-1] and world.database_shown in lines[-1]
    assert world.discord.identify_count == 1  # the second never reached Discord
    # The first bot is untouched and still answers.
    await world.grant(5)
    assert world.balance() == (15, 0)
    # Once it is gone the lock goes with it: a new bot starts on the same database.
    await world.restart_bot(kill=True)
    await world.grant(1)
    assert world.balance() == (16, 0)


@pytest.mark.backend_only("sqlite", reason="`bot.py backup` copies the SQLite file; PostgreSQL is backed up with pg_dump")
async def test_backup_while_the_bot_runs_is_consistent_and_complete(world, tmp_path):
    await world.start_bot()
    await world.grant(50)
    result = await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a lighthouse"}))
    assert result["attachments"]
    (job,) = world.jobs()
    assert job["result_blob"]

    granting = True
    granted = 0

    async def keep_granting() -> None:
        nonlocal granted
        while granting:
            await world.grant(1)
            granted += 1

    writer = asyncio.create_task(keep_granting())
    await world.discord.wait_for(lambda: granted >= 2, timeout=30)
    before_backup = granted
    target = tmp_path / "backup"
    code, lines = await run_bot_command(world, "backup", str(target))
    granting = False
    await writer
    assert code == 0, lines
    assert len(lines) == 1 and "Backed up" in lines[0]

    copy = sqlite3.connect(target / world.db_path.name)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        grants = copy.execute("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'grant' AND guild_id = ?", (GUILD,)).fetchone()[0]
        balance, reserved = copy.execute("SELECT balance, reserved FROM guild_credits WHERE guild_id = ?", (GUILD,)).fetchone()
        (blob,) = copy.execute("SELECT result_blob FROM jobs").fetchone()
        entries = copy.execute("SELECT SUM(CASE kind WHEN 'grant' THEN amount WHEN 'capture' THEN -amount ELSE 0 END) FROM ledger_entries WHERE guild_id = ?", (GUILD,)).fetchone()[0]
    finally:
        copy.close()
    # Every grant answered before the backup began is in the copy, and the copy is one snapshot:
    # its balance is exactly what its own ledger entries add up to.
    assert grants >= 1 + before_backup
    assert reserved == 0 and balance == entries
    assert (target / "blobs" / blob[:2] / blob).read_bytes() == (world.tmp / "blobs" / blob[:2] / blob).read_bytes()

    code, lines = await run_bot_command(world, "backup", str(target))
    assert code != 0 and len(lines) == 1 and "not an empty directory" in lines[0]
