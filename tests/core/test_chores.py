"""Chores run by one process at a time through leases in the database (both backends)."""

from __future__ import annotations

import asyncio

import pytest

from core.chores import Chores


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_one_holder_until_its_lease_runs_out(db):
    clock = Clock()
    first = Chores(db, "a", shared=True, lease_seconds=30, clock=clock)
    second = Chores(db, "b", shared=True, lease_seconds=30, clock=clock)
    assert await first.hold("account-poll")
    assert not await second.hold("account-poll"), "a held lease is not taken"
    clock.now += 20
    assert await first.hold("account-poll"), "the holder renews"
    clock.now += 29
    assert not await second.hold("account-poll"), "the renewal moved the expiry"
    clock.now += 2
    assert await second.hold("account-poll"), "an expired lease is taken over"
    assert not await first.hold("account-poll"), "the old holder lost it"


async def test_a_released_lease_is_free_at_once(db):
    clock = Clock()
    first = Chores(db, "a", shared=True, clock=clock)
    second = Chores(db, "b", shared=True, clock=clock)
    assert await first.hold("command-sync", 60)
    await second.release("command-sync")  # not the holder: changes nothing
    assert not await second.hold("command-sync")
    await first.release("command-sync")
    assert await second.hold("command-sync")


async def test_a_due_chore_runs_once_per_period_among_processes(db):
    clock = Clock()
    processes = [Chores(db, name, shared=True, clock=clock) for name in "abc"]
    runs = []
    for _hour in range(49):  # every process asks every hour for two days
        for chores in processes:
            if await chores.claim_due("retention", 86_400):
                runs.append((clock.now, chores.owner))
        clock.now += 3600
    assert [at for at, _ in runs] == [1000.0, 1000.0 + 86_400, 1000.0 + 2 * 86_400]
    assert not await processes[0].claim_due("retention", 86_400), "even its holder waits for the period"


async def test_alone_every_chore_is_held_without_the_table(db):
    alone = Chores(db, "solo", shared=False)
    assert await alone.hold("account-poll")
    assert await alone.claim_due("retention", 86_400) and await alone.claim_due("retention", 86_400)
    assert alone.tick(86_400) == 86_400
    row = await db.fetchone("SELECT COUNT(*) AS n FROM chore_leases")
    assert row["n"] == 0


async def test_work_stops_when_the_lease_moves_and_restarts_when_it_comes_back(db):
    clock = Clock()
    pauses: list[float] = []
    moved = asyncio.Event()

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        moved.set()
        await asyncio.sleep(0)

    holder = Chores(db, "a", shared=True, lease_seconds=0.06, clock=clock, sleep=sleep)
    rival = Chores(db, "b", shared=True, lease_seconds=0.06, clock=clock)
    started = asyncio.Queue()
    stopped = asyncio.Queue()

    async def work() -> None:
        await started.put(clock.now)
        try:
            await asyncio.Event().wait()
        finally:
            await stopped.put(clock.now)

    runner = asyncio.create_task(holder.while_held("account-poll", work))
    try:
        await asyncio.wait_for(started.get(), 5)
        clock.now += 1  # the holder stalls past its lease; the rival takes it
        assert await rival.hold("account-poll")
        await asyncio.wait_for(stopped.get(), 5)  # the next renewal fails: the work is stopped
        await asyncio.wait_for(moved.wait(), 5)  # and it waits to hold the lease again
        await rival.release("account-poll")
        await asyncio.wait_for(started.get(), 5)  # free again: the work resumes here
    finally:
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
    # Cancelled (the bot closing): the lease is given back for the next process.
    assert await rival.hold("account-poll")
