"""The real bot as an auto-sharded process (SHARD_COUNT / SHARD_IDS) on PostgreSQL: it IDENTIFYs with
its shard, announces `ready shards=... process=...`, generates, and a second process claiming the
same shard exits at once with one line."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from tests.e2e.conftest import ALICE, GENERAL, GUILD, ROOT
from tests.e2e.test_postgres_e2e import books
from tests.pg import fresh_schema

pytestmark = pytest.mark.e2e


async def test_a_sharded_process_generates_and_owns_its_shard(world, pg_url):
    async with fresh_schema(pg_url) as url:
        world.env.update(DATABASE_URL=url, SHARD_COUNT="1", SHARD_IDS="0", PROCESS_NAME="p0")
        await world.start_bot()
        try:
            await world.discord.wait_for(lambda: "ready shards=0 process=p0" in world.log(), timeout=15)
            shards = [s.shard for s in world.discord._sessions.values()]
            assert shards == [[0, 1]], "IDENTIFY names the process's shard of SHARD_COUNT"
            await world.grant(10)
            interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a lighthouse"})
            await world.result(interaction)
            assert world.segmind.billed == 1

            second = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bot.py"), cwd=ROOT, env={**world.env, "PROCESS_NAME": "p1"},
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )
            output, _ = await asyncio.wait_for(second.communicate(), 60)
            assert second.returncode == 1, output.decode(errors="replace")
            lines = [line for line in output.decode().splitlines() if "Shard 0 is already run" in line]
            assert len(lines) == 1, output.decode(errors="replace")
        finally:
            await world.bot.stop()


async def test_a_process_paused_past_its_lease_loses_its_job_to_another(world, pg_url):
    """Two processes over two shards. The one running a job is paused (SIGSTOP) past its lease; the
    other takes the job over, follows Segmind's request (never a second submit), charges and posts it.
    The paused one, woken up, learns it lost the job and neither captures nor posts it."""
    async with fresh_schema(pg_url) as url:
        world.env.update(DATABASE_URL=url, SHARD_COUNT="2", JOB_LEASE_SECONDS="2")
        first = await world.start_bot(SHARD_IDS="0", PROCESS_NAME="first")
        second = None
        try:
            await world.grant(10)
            world.segmind.latency = 8.0
            interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a harbour"})

            async def submitted() -> None:  # Segmind has it and the database says so
                while (await books(url))["states"] != ["submitted"]:
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(submitted(), 15)
            first.proc.send_signal(signal.SIGSTOP)
            second = await world.start_bot(SHARD_IDS="1", PROCESS_NAME="second")
            await world.discord.wait_for(lambda: "took over jobs=1 process=second/" in world.log(), timeout=20)
            await world.result(interaction, timeout=30)
            first.proc.send_signal(signal.SIGCONT)
            # The woken process finds out at its next renewal, then its own poll of the request ends.
            await world.discord.wait_for(lambda: "lost jobs=1 process=first/" in world.log(), timeout=20)
            await world.discord.wait_for(
                lambda: "job 1 was no longer running when its image arrived" in world.log(), timeout=30
            )
            assert len(world.segmind.submits) == 1, "never submitted twice"
            assert world.segmind.billed == 1
            uploads = [r for r in world.discord.requests if r.files and r.method in ("POST", "PATCH")]
            assert len(uploads) == 1, f"the image is posted once: {[(r.method, r.path) for r in uploads]}"
            seen = await books(url)
            assert seen["totals"] == {"grant": 10, "reserve": 2, "capture": 2}, seen
            assert seen["credits"] == (8, 0) and seen["states"] == ["posted"], seen
        finally:
            first.proc.send_signal(signal.SIGCONT)
            await first.stop()
            if second is not None:
                await second.stop()
