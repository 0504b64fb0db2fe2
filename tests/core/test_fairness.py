"""Fairness and rate adherence of the scheduler + Segmind-key limiter, on order and counts.

Time is a fake clock that moves only when the limiter sleeps, so nothing here depends on how fast
the machine is. "A slot" is one place in the key's rate-limit window: one billed request.
"""

from __future__ import annotations

import asyncio
import math

from core.ratelimit import SlidingWindowLimiter
from core.scheduler import FairScheduler

FLOOD = 1
FLOOD_JOBS = 200


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def max_in_any_window(stamps: list[float], period: float) -> int:
    stamps = sorted(stamps)
    return max((sum(1 for s in stamps if t <= s < t + period) for t in stamps), default=0)


class Crowd:
    """200 jobs of one guild at once, then, while its backlog is long, a few jobs of 29 others."""

    def __init__(
        self,
        *,
        gate: bool,
        rate: int = 5,
        period: float = 60.0,
        global_limit: int = 50,
        per_guild_limit: int = 50,
    ) -> None:
        self.time = FakeTime()
        self.limiter = SlidingWindowLimiter(rate, period, clock=self.time.clock, sleep=self.time.sleep)
        self.sent: list[tuple[int, float]] = []  # (job id, time its billed request went out)
        self.guild_of: dict[int, int] = {}
        self.submitted_at_send_count: dict[int, int] = {}
        self.done = asyncio.Event()
        self.total = 0
        self.scheduler = FairScheduler(
            self.run,
            global_limit=global_limit,
            per_guild_limit=per_guild_limit,
            gate=self.limiter if gate else None,
        )

    async def run(self, job_id: int) -> None:
        await self.limiter.acquire()  # what SegmindClient does before its billed POST
        self.sent.append((job_id, self.time.now))
        if len(self.sent) == self.total:
            self.done.set()

    def submit(self, guild: int, job: int) -> None:
        self.guild_of[job] = guild
        self.submitted_at_send_count[job] = len(self.sent)
        self.total += 1
        self.scheduler.submit(guild, job)

    async def play(self, *, small_after: int = 12) -> list[int]:
        for i in range(FLOOD_JOBS):
            self.submit(FLOOD, 10_000 + i)
        while len(self.sent) < small_after:
            await asyncio.sleep(0)
        small = []
        for guild in range(2, 31):
            for k in range(1 + guild % 3):  # one to three jobs each
                job = guild * 100 + k
                small.append(job)
                self.submit(guild, job)
        await asyncio.wait_for(self.done.wait(), 30)
        await self.scheduler.close()
        return small

    def flood_sent_between_submit_and_send(self, job: int) -> int:
        order = [j for j, _ in self.sent]
        start = self.submitted_at_send_count[job]
        end = order.index(job)
        return sum(1 for j in order[start:end] if self.guild_of[j] == FLOOD)


async def test_a_small_guild_waits_at_most_two_slots_behind_a_flood():
    crowd = Crowd(gate=True)
    small = await crowd.play()
    # Only each guild's first job is promised "at most two flood slots"; its later jobs take
    # their turns in the same ring, one per round.
    firsts = [job for job in small if job % 100 == 0]
    waits = {job: crowd.flood_sent_between_submit_and_send(job) for job in firsts}
    assert max(waits.values()) <= 2, f"flood requests sent ahead of small guilds' first jobs: {waits}"
    # And every later small job overtakes the flood's backlog: all small jobs go before the
    # flood's last 100.
    order = [j for j, _ in crowd.sent]
    assert max(order.index(j) for j in small) < len(order) - 100


async def test_without_the_gate_the_limiters_line_defeats_round_robin():
    """Why the gate exists: started jobs wait in the limiter's FIFO, in the order they started."""
    crowd = Crowd(gate=False)
    small = await crowd.play()
    firsts = [job for job in small if job % 100 == 0]
    worst = max(crowd.flood_sent_between_submit_and_send(job) for job in firsts)
    assert worst > 2, "expected the ungated limiter line to put flood jobs ahead"


async def test_the_key_rate_is_never_exceeded_and_fully_used():
    rate, period = 5, 60.0
    crowd = Crowd(gate=True, rate=rate, period=period)
    await crowd.play()
    times = [t for _, t in crowd.sent]
    assert len(times) == crowd.total
    assert max_in_any_window(times, period) <= rate
    # Fully used: every window but the last is full, i.e. N requests need ceil(N / rate) windows.
    windows = math.ceil(crowd.total / rate)
    per_window = period + crowd.limiter.transit
    assert times[-1] < windows * per_window, "requests left unused room in the window"
    counts = [sum(1 for t in times if w * per_window <= t < (w + 1) * per_window) for w in range(windows)]
    assert all(c == rate for c in counts[:-1]), counts


async def test_caps_still_hold_with_the_gate():
    crowd = Crowd(gate=True, rate=1000, global_limit=4, per_guild_limit=2)
    running: dict[int, int] = {}
    peak = {"total": 0, "guild": 0}
    release = asyncio.Event()

    async def run(job_id: int) -> None:
        guild = crowd.guild_of[job_id]
        running[guild] = running.get(guild, 0) + 1
        peak["total"] = max(peak["total"], sum(running.values()))
        peak["guild"] = max(peak["guild"], running[guild])
        await crowd.limiter.acquire()
        await release.wait()
        running[guild] -= 1
        crowd.sent.append((job_id, crowd.time.now))
        if len(crowd.sent) == crowd.total:
            crowd.done.set()

    crowd.scheduler._run = run
    for guild in range(1, 6):
        for i in range(10):
            crowd.submit(guild, guild * 100 + i)
    for _ in range(20):
        await asyncio.sleep(0)
    release.set()
    await asyncio.wait_for(crowd.done.wait(), 10)
    assert peak["total"] <= 4 and peak["guild"] <= 2, peak


async def test_a_place_a_job_did_not_use_is_given_back():
    time = FakeTime()
    limiter = SlidingWindowLimiter(1, 60.0, clock=time.clock, sleep=time.sleep)
    sent: list[float] = []
    finished = asyncio.Event()

    async def run(job_id: int) -> None:
        if job_id == 1:
            return  # e.g. a resumed job that only polls: it sends no billed request
        await limiter.acquire()
        sent.append(time.now)
        finished.set()

    scheduler = FairScheduler(run, global_limit=1, per_guild_limit=1, gate=limiter)
    scheduler.submit(7, 1)
    scheduler.submit(7, 2)
    await asyncio.wait_for(finished.wait(), 5)
    await scheduler.close()
    assert sent == [0.0], "job 2 should have used the place job 1 gave back, without waiting a window"


async def test_a_request_counts_until_its_answer_is_back():
    time = FakeTime()
    limiter = SlidingWindowLimiter(1, 10.0, clock=time.clock, sleep=time.sleep)
    answered = asyncio.Event()

    async def slow_request() -> None:
        async with limiter.slot():
            await answered.wait()
            time.now = 3.0  # the answer arrives at t=3: Segmind saw the request at some t <= 3

    first = asyncio.create_task(slow_request())
    await asyncio.sleep(0)
    second = asyncio.create_task(limiter.acquire())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not second.done(), "the window holds the unanswered request"
    answered.set()
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert time.now == 13.0, "the next request waits a full period from the first one's answer"


async def test_a_reserved_place_used_by_acquire_counts_from_send_plus_transit():
    time = FakeTime()
    limiter = SlidingWindowLimiter(1, 10.0, transit=0.5, clock=time.clock, sleep=time.sleep)
    token = await limiter.reserve()

    async def job() -> None:
        token.hold()
        await limiter.acquire()  # uses the token: no wait

    await job()
    assert time.now == 0.0
    await limiter.acquire()
    assert time.now == 10.5


async def test_with_the_session_hook_a_request_counts_from_its_answer():
    time = FakeTime()
    limiter = SlidingWindowLimiter(1, 10.0, clock=time.clock, sleep=time.sleep)
    answered = limiter.trace_config().on_request_end[0]
    sent = asyncio.Event()

    async def request() -> None:
        await limiter.acquire()  # what SegmindClient does right before its billed POST
        sent.set()
        time.now = 3.0  # the answer comes back at t=3
        await answered(None, None, None)  # aiohttp calls this in the same task

    first = asyncio.create_task(request())
    await sent.wait()
    second = asyncio.create_task(limiter.acquire())
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert time.now == 13.0


async def test_with_the_session_hook_a_request_without_answer_is_released_with_its_task():
    time = FakeTime()
    limiter = SlidingWindowLimiter(1, 10.0, clock=time.clock, sleep=time.sleep)
    limiter.trace_config()

    async def lost_request() -> None:
        await limiter.acquire()
        time.now = 2.0
        raise ConnectionError("cancelled before aiohttp reported anything")

    task = asyncio.create_task(lost_request())
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0)  # done callbacks run on the next loop turn
    await asyncio.wait_for(limiter.acquire(), 5)
    assert time.now == 12.0
