"""SlidingWindowLimiter driven by a fake clock: counts and order, never wall-clock time."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from core.ratelimit import SlidingWindowLimiter


class FakeTime:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def max_in_any_window(stamps: list[float], period: float) -> int:
    """The largest number of stamps inside one half-open window [t, t + period)."""
    stamps = sorted(stamps)
    return max((sum(1 for s in stamps if t <= s < t + period) for t in stamps), default=0)


def limiter(rate: int, period: float = 60.0) -> tuple[SlidingWindowLimiter, FakeTime]:
    fake = FakeTime()
    return SlidingWindowLimiter(rate, period, clock=fake.clock, sleep=fake.sleep), fake


async def test_sequential_acquisitions_never_exceed_the_rate_in_any_window():
    lim, fake = limiter(50)
    stamps = []
    for _ in range(120):
        await lim.acquire()
        stamps.append(fake.now)
    assert max_in_any_window(stamps, 60.0) == 50
    # 50 at once, 50 when the first window slides out, then the last 20.
    assert stamps.count(0.0) == 50
    assert sorted(set(stamps)) == [0.0, 60.0, 120.0]


async def test_concurrent_acquisitions_never_exceed_the_rate_in_any_window():
    lim, fake = limiter(50)
    stamps: list[float] = []

    async def one() -> None:
        await lim.acquire()
        stamps.append(fake.now)

    await asyncio.gather(*(one() for _ in range(120)))
    assert len(stamps) == 120
    assert max_in_any_window(stamps, 60.0) <= 50


async def test_waiters_are_served_in_arrival_order():
    lim, _ = limiter(1, period=10.0)
    served: list[int] = []

    async def waiter(index: int) -> None:
        await lim.acquire()
        served.append(index)

    tasks = []
    for index in range(8):
        tasks.append(asyncio.create_task(waiter(index)))
        await asyncio.sleep(0)  # make arrival order explicit
    await asyncio.gather(*tasks)
    assert served == list(range(8))


async def test_rate_zero_or_negative_is_unlimited():
    for rate in (0, -1):
        lim, fake = limiter(rate)
        for _ in range(1000):
            await lim.acquire()
        assert fake.sleeps == [], f"rate={rate} made a caller wait"


async def test_penalize_holds_every_caller_back_until_the_given_time():
    lim, fake = limiter(100)
    await lim.acquire()
    lim.penalize(30.0)
    lim.penalize(5.0)  # a shorter penalty never shortens the longer one
    await lim.acquire()
    assert fake.now == 30.0
    await lim.acquire()
    assert fake.now == 30.0, "after the penalty, acquisitions flow again"


async def test_penalize_applies_even_when_unlimited():
    lim, fake = limiter(0)
    lim.penalize(12.5)
    await lim.acquire()
    assert fake.now == 12.5


async def test_a_cancelled_waiter_does_not_block_the_line():
    lim, fake = limiter(1, period=10.0)
    await lim.acquire()
    gate = asyncio.Event()

    async def slow_sleep(seconds: float) -> None:
        await gate.wait()
        fake.now += seconds

    lim._sleep = slow_sleep  # the head waiter parks until the gate opens
    first = asyncio.create_task(lim.acquire())
    await asyncio.sleep(0)
    second = asyncio.create_task(lim.acquire())
    await asyncio.sleep(0)
    first.cancel()
    gate.set()
    await asyncio.wait_for(second, 1.0)
    assert first.cancelled()
    assert lim.in_window == 1


@settings(max_examples=60, deadline=None)
@given(
    rate=st.integers(min_value=1, max_value=10),
    period=st.sampled_from([1.0, 7.5, 60.0]),
    gaps=st.lists(st.floats(min_value=0.0, max_value=20.0, allow_nan=False), min_size=1, max_size=40),
)
def test_property_no_window_holds_more_than_rate(rate: int, period: float, gaps: list[float]):
    async def run() -> list[float]:
        lim, fake = limiter(rate, period)
        stamps = []
        for gap in gaps:
            fake.now += gap
            await lim.acquire()
            stamps.append(fake.now)
        return stamps

    stamps = asyncio.run(run())
    assert len(stamps) == len(gaps)
    assert max_in_any_window(stamps, period) <= rate
