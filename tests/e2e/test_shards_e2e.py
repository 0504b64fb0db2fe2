"""The real bot as an auto-sharded process (SHARD_COUNT / SHARD_IDS) on PostgreSQL: it IDENTIFYs with
its shard, announces `ready shards=... process=...`, generates, and a second process claiming the
same shard exits at once with one line."""

from __future__ import annotations

import asyncio
import signal
import sys

import asyncpg
import pytest

from tests.e2e.conftest import ALICE, BOB, CAROL, GENERAL, GUILD, MOD, ROOT
from tests.e2e.test_postgres_e2e import books

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.backend_only("postgres", reason="several bot processes on one database need PostgreSQL"),
]


async def test_a_sharded_process_generates_and_owns_its_shard(world):
    url = world.database_url
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


async def test_a_process_paused_past_its_lease_loses_its_job_to_another(world):
    """Two processes over two shards. The one running a job is paused (SIGSTOP) past its lease; the
    other takes the job over, follows Segmind's request (never a second submit), charges and posts it.
    The paused one, woken up, learns it lost the job and neither captures nor posts it."""
    url = world.database_url
    world.env.update(DATABASE_URL=url, SHARD_COUNT="2", JOB_LEASE_SECONDS="2")
    first = await world.start_bot(SHARD_IDS="1", PROCESS_NAME="first")
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
        second = await world.start_bot(SHARD_IDS="0", PROCESS_NAME="second")
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


async def test_two_processes_share_one_queue_and_each_job_runs_once(world):
    """Interactions reach one process; the jobs they create wait in the database's queue and both
    processes claim from it (each may run one at a time here): every job submitted, charged and
    posted once, and both processes did some of the work."""
    url = world.database_url
    world.env.update(DATABASE_URL=url, SHARD_COUNT="2", MAX_CONCURRENT_JOBS="1")
    first = await world.start_bot(SHARD_IDS="0", PROCESS_NAME="first")
    second = await world.start_bot(SHARD_IDS="1", PROCESS_NAME="second")
    try:
        await world.grant(20)
        world.segmind.latency = 1.0
        interactions = [
            await world.discord.slash(GUILD, GENERAL, user, "imagine", {"prompt": f"a boat {n}"})
            for n, user in enumerate((ALICE, BOB, CAROL, MOD))
        ]
        for interaction in interactions:
            await world.result(interaction, timeout=60)
        assert len(world.segmind.submits) == 4 and world.segmind.billed == 4
        seen = await books(url)
        for _ in range(300):
            if seen["states"] == ["posted"] * 4:
                break
            await asyncio.sleep(0.05)
            seen = await books(url)
        assert seen["totals"] == {"grant": 20, "reserve": 8, "capture": 8}, seen
        conn = await asyncpg.connect(url)
        try:
            owners = {r["owner"].split("/")[0] for r in await conn.fetch("SELECT owner FROM jobs")}
            fences = {r["fence"] for r in await conn.fetch("SELECT fence FROM jobs")}
        finally:
            await conn.close()
        assert owners == {"first", "second"}, owners
        assert fences == {1}, "each job claimed once"
    finally:
        await first.stop()
        await second.stop()
