"""Fair scheduling: caps and round-robin, checked on order and counts (never on time)."""

from __future__ import annotations

import asyncio

from core.scheduler import FairScheduler


async def run_all(submissions: list[tuple[int, int]], *, global_limit: int, per_guild_limit: int):
    release = asyncio.Event()
    running: dict[int, int] = {}
    peak_total = 0
    peak_per_guild: dict[int, int] = {}
    guild_of = dict((job, guild) for guild, job in submissions)
    done = asyncio.Event()
    finished: list[int] = []

    async def run(job_id: int) -> None:
        nonlocal peak_total
        guild = guild_of[job_id]
        running[guild] = running.get(guild, 0) + 1
        peak_total = max(peak_total, sum(running.values()))
        peak_per_guild[guild] = max(peak_per_guild.get(guild, 0), running[guild])
        await release.wait()
        await asyncio.sleep(0)
        running[guild] -= 1
        finished.append(job_id)
        if len(finished) == len(submissions):
            done.set()

    scheduler = FairScheduler(run, global_limit=global_limit, per_guild_limit=per_guild_limit)
    for guild, job in submissions:
        scheduler.submit(guild, job)
    release.set()
    await asyncio.wait_for(done.wait(), 10)
    return scheduler, peak_total, peak_per_guild


async def test_caps_are_never_exceeded():
    subs = [(g, g * 100 + i) for g in range(1, 6) for i in range(10)]
    _, peak_total, peak_per_guild = await run_all(subs, global_limit=4, per_guild_limit=2)
    assert peak_total <= 4
    assert max(peak_per_guild.values()) <= 2


async def test_small_guilds_are_not_starved_by_a_flood():
    flood = [(1, 1000 + i) for i in range(200)]
    small = [(g, g * 10) for g in range(2, 31)]  # 29 small guilds, one job each, submitted after the flood
    scheduler, _, _ = await run_all(flood + small, global_limit=4, per_guild_limit=2)
    order = scheduler.started_order
    small_ids = {job for _, job in small}
    last_small = max(order.index(job) for job in small_ids)
    flood_before = sum(1 for job in order[:last_small] if job >= 1000)
    # Round-robin: the flooding guild gets one turn per round, so while the 29 small jobs start
    # at most ~one flood job runs per small job (plus the initial slots).
    assert flood_before <= len(small_ids) + 2, f"{flood_before} flood jobs started before the last small one"


async def test_position_counts_round_robin_turns():
    gate = asyncio.Event()

    async def run(job_id: int) -> None:
        await gate.wait()

    scheduler = FairScheduler(run, global_limit=1, per_guild_limit=1)
    scheduler.submit(1, 1)  # starts at once
    for job in (2, 3, 4):
        scheduler.submit(1, job)
    assert scheduler.position(4) == 2
    ahead = scheduler.submit(2, 50)
    assert ahead == 1, "a new guild's first job waits one turn, not behind the whole backlog"
    assert scheduler.position(3) == 2
    gate.set()
    await scheduler.close()


async def test_a_dropped_job_never_starts_and_a_started_one_cannot_be_dropped():
    release = asyncio.Event()
    started: list[int] = []

    async def run(job_id: int) -> None:
        started.append(job_id)
        await release.wait()

    scheduler = FairScheduler(run, global_limit=1, per_guild_limit=1)
    for job in (1, 2, 3):
        scheduler.submit(7, job)
    assert scheduler.drop(1) is False, "job 1 is running"
    assert scheduler.drop(2) is True and scheduler.position(2) is None
    assert scheduler.position(3) == 0, "the job behind moves up"
    release.set()
    while len(started) < 2:
        await asyncio.sleep(0)
    assert started == [1, 3]
    await scheduler.close()
