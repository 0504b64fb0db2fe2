"""A client-side sliding-window rate limiter, so the bot stays under Segmind's per-key request limit.

Segmind counts requests per API key per minute (Free 5, Pro 50); going over costs a 429 round trip
and a wait. The limiter keeps the timestamps of the last `rate` acquisitions and makes a caller wait
until the oldest one has left the window. Waiters are served strictly in arrival order.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable


class SlidingWindowLimiter:
    """At most `rate` acquisitions in any half-open window [t, t + period); `rate <= 0` = unlimited.

    `clock` and `sleep` are injectable so tests can drive time by hand. `penalize(until)` (a time
    on `clock`) holds every caller back until then, e.g. when Segmind answers 429 with a reset time.
    """

    def __init__(
        self,
        rate: int,
        period: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if period <= 0:
            raise ValueError("period must be positive")
        self.rate = rate
        self.period = period
        self.clock = clock
        self._sleep = sleep
        self._stamps: collections.deque[float] = collections.deque()
        self._blocked_until = float("-inf")
        # asyncio.Lock wakes its waiters in FIFO order, which is what makes the limiter fair:
        # only the head of the line looks at the window, everyone else queues behind the lock.
        self._lock = asyncio.Lock()

    def penalize(self, until: float) -> None:
        """No acquisition completes before `until` (same time base as `clock`). Never shortens a penalty."""
        if until > self._blocked_until:
            self._blocked_until = until

    def _wait_needed(self, now: float) -> float:
        if now < self._blocked_until:
            return self._blocked_until - now
        if self.rate <= 0:
            return 0.0
        while self._stamps and self._stamps[0] + self.period <= now:
            self._stamps.popleft()
        if len(self._stamps) < self.rate:
            return 0.0
        return self._stamps[0] + self.period - now

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self.clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    if self.rate > 0:
                        self._stamps.append(now)
                    return
                await self._sleep(wait)

    @property
    def in_window(self) -> int:
        """How many acquisitions the current window holds (for logs and tests)."""
        now = self.clock()
        return sum(1 for stamp in self._stamps if stamp + self.period > now)
