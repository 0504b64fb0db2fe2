"""The real bot as an auto-sharded process (SHARD_COUNT / SHARD_IDS) on PostgreSQL: it IDENTIFYs with
its shard, announces `ready shards=... process=...`, generates, and a second process claiming the
same shard exits at once with one line."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.e2e.conftest import ALICE, GENERAL, GUILD, ROOT
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
