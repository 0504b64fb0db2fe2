"""The real bot process on PostgreSQL (DATABASE_URL), end to end: an image generated, charged once
and posted, the books balanced in the database itself, and a second process on the same database
refused (one process per database until jobs are claimed with leases). The rest of the e2e suite
runs on PostgreSQL too (tests/conftest.py `database_url`); these check what only PostgreSQL has."""

from __future__ import annotations

import asyncio
import sys

import asyncpg
import pytest

from tests.e2e.conftest import ALICE, GENERAL, GUILD, ROOT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.backend_only("postgres", reason="the bot with DATABASE_URL: its books read in PostgreSQL itself"),
]


async def books(url: str) -> dict:
    conn = await asyncpg.connect(url)
    try:
        credits = await conn.fetchrow(
            "SELECT balance, reserved FROM guild_credits WHERE guild_id = $1", GUILD
        )
        totals = {
            r["kind"]: int(r["total"])
            for r in await conn.fetch(
                "SELECT kind, SUM(amount) AS total FROM ledger_entries WHERE guild_id = $1 GROUP BY kind",
                GUILD,
            )
        }
        held = await conn.fetchval(
            "SELECT COALESCE(SUM(amount), 0) FROM reservations WHERE guild_id = $1 AND state = 'held'", GUILD
        )
        states = [r["state"] for r in await conn.fetch("SELECT state FROM jobs ORDER BY id")]
        return {"credits": tuple(credits), "totals": totals, "held": int(held), "states": states}
    finally:
        await conn.close()


async def test_the_bot_generates_charges_and_posts_on_postgresql(world):
    url = world.database_url
    await world.start_bot()
    try:
        await world.grant(10)
        interaction = await world.discord.slash(
            GUILD, GENERAL, ALICE, "imagine", {"prompt": "a fox in the snow"}
        )
        result = await world.result(interaction)
        assert world.discord.attachment_bytes(result["attachments"][0]).startswith(b"\x89PNG")
        assert world.segmind.billed == 1
        seen = await books(url)
        for _ in range(300):  # the posted state is written after the post the fake saw
            if seen["states"] == ["posted"]:
                break
            await asyncio.sleep(0.05)
            seen = await books(url)
        assert seen["states"] == ["posted"], seen
        # Charged once: granted 10, captured 2, nothing held; the balance is what the ledger says.
        assert seen["totals"] == {"grant": 10, "reserve": 2, "capture": 2}, seen
        assert seen["credits"] == (8, 0) and seen["held"] == 0
        assert seen["credits"][0] == seen["totals"]["grant"] - seen["totals"]["capture"]

        # A second process on the same database is refused, with one line saying why.
        second = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bot.py"),
            cwd=ROOT,
            env=world.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 1, output.decode(errors="replace")
        assert b"Another bot process is already using" in output
    finally:
        await world.bot.stop()
    assert not world.db_path.exists(), "with DATABASE_URL the SQLite file is never created"


async def test_killed_while_submitted_resumes_on_postgresql_and_charges_once(world):
    """SIGKILL mid-job: the database's lock goes with the dead process's connection, the next process
    starts at once, resumes the job from PostgreSQL without a second submit, and charges it once."""
    url = world.database_url
    await world.start_bot()
    await world.grant(10)
    world.segmind.latency = 3.0
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a castle"})

    async def submitted() -> None:
        while (await books(url))["states"] != ["submitted"]:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(submitted(), 15)
    await world.bot.kill()
    assert (await books(url))["credits"] == (10, 2), "the price is held while the job is in flight"
    await world.start_bot()
    await world.result(interaction)
    assert len(world.segmind.submits) == 1, "the submit is never sent twice"
    assert world.segmind.billed == 1
    seen = await books(url)
    assert seen["totals"]["capture"] == 2 and seen["credits"] == (8, 0) and seen["held"] == 0, seen
    await world.bot.stop()
