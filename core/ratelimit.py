"""A client-side sliding-window rate limiter, so the bot stays under Segmind's per-key request limit.

Segmind counts requests per API key per minute (Free 5, Pro 50); going over costs a 429 round trip
and a wait. The limiter keeps the last `rate` counted requests and makes a caller wait until the
oldest one has left the window. Waiters are served strictly in arrival order.

When is a request counted? Segmind counts it when it *arrives*, which is some time after the
client decided to send it. If the client's window opens at the moment it decided, two requests
`rate` apart can arrive less than `period` apart when the first one was slower on the wire: a
429 with the limiter "obeyed". So there are three ways in:

- `acquire()`: counted from the moment it returns (the historical behaviour; exact on paper).
  With `trace_config()` installed on the aiohttp session that sends the request, it is counted
  like `slot()` instead: from the end of the task's next request, i.e. when its answer arrived.
- `slot()`: an async context manager around the request. The request counts as "still arriving"
  until the block exits (its answer came back), and is then stamped with that time. Since a
  request arrives before its answer does, the client's window always contains the server's:
  no 429 whatever the network does.
- `reserve()` + `Token.hold()`: the scheduler takes a place in the window *before* it decides
  which guild's job runs next (see core/scheduler.py), and hands it to that job's task. The
  job's own `acquire()`/`slot()` then uses it instead of queueing again. A token used by a plain
  `acquire()` is stamped `transit` seconds late, to cover the time on the wire it cannot see.
"""

from __future__ import annotations

import asyncio
import bisect
import contextvars
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp

_OPEN = math.inf  # a counted request whose answer has not come back: it never leaves the window


class _Entry:
    """One counted request; `at` is when it counts from (`_OPEN` while it may still be arriving)."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at

    def __lt__(self, other: _Entry) -> bool:
        return self.at < other.at


class Token:
    """A place in the window taken ahead of time for one job; see `SlidingWindowLimiter.reserve`."""

    __slots__ = ("_entry", "limiter", "used")

    def __init__(self, limiter: SlidingWindowLimiter, entry: _Entry | None) -> None:
        self.limiter = limiter
        self._entry = entry
        self.used = False

    def hold(self) -> None:
        """Make the current task (and tasks it starts from now on) use this token for its next request."""
        _held.set(self)

    def give_back(self) -> None:
        """Return an unused token: the request it was taken for was never sent."""
        if not self.used:
            self.used = True
            self.limiter._forget(self._entry)


_held: contextvars.ContextVar[Token | None] = contextvars.ContextVar("ratelimit_held_token", default=None)
_last: contextvars.ContextVar[_Entry | None] = contextvars.ContextVar("ratelimit_last_entry", default=None)


class SlidingWindowLimiter:
    """At most `rate` requests in any half-open window [t, t + period); `rate <= 0` = unlimited.

    `clock` and `sleep` are injectable so tests can drive time by hand. `penalize(until)` (a time
    on `clock`) holds every caller back until then, e.g. when Segmind answers 429 with a reset time.
    `transit` (default: period / 50, at most 1 s) is how late a reserved token used through a plain
    `acquire()` is stamped.
    """

    def __init__(
        self,
        rate: int,
        period: float = 60.0,
        *,
        transit: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if period <= 0:
            raise ValueError("period must be positive")
        self.rate = rate
        self.period = period
        self.transit = min(1.0, period / 50) if transit is None else transit
        self.clock = clock
        self._sleep = sleep
        self._entries: list[_Entry] = []  # sorted by `at`; open entries last
        self._blocked_until = float("-inf")
        # asyncio.Lock wakes its waiters in FIFO order, which is what makes the limiter fair:
        # only the head of the line looks at the window, everyone else queues behind the lock.
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()  # set (and replaced) whenever an open entry closes or leaves
        self._settle_on_answer = False  # see trace_config()

    def penalize(self, until: float) -> None:
        """No acquisition completes before `until` (same time base as `clock`). Never shortens a penalty."""
        if until > self._blocked_until:
            self._blocked_until = until

    # --- the window -----------------------------------------------------------------------------

    def _wait_needed(self, now: float) -> float | None:
        """Seconds until a request may go, 0 = now, None = not before an open request comes back."""
        if now < self._blocked_until:
            return self._blocked_until - now
        if self.rate <= 0:
            return 0.0
        entries = self._entries
        expired = 0
        while expired < len(entries) and entries[expired].at + self.period <= now:
            expired += 1
        if expired:
            del entries[:expired]
        if len(entries) < self.rate:
            return 0.0
        oldest = entries[len(entries) - self.rate].at
        return None if oldest == _OPEN else oldest + self.period - now

    def _settle(self, entry: _Entry | None, at: float) -> None:
        """Move an entry to time `at` (keeping the list sorted) and wake whoever waits on it."""
        if entry is None:
            return
        self._remove(entry)
        entry.at = at
        bisect.insort(self._entries, entry)
        self._notify()

    def _forget(self, entry: _Entry | None) -> None:
        if entry is not None:
            self._remove(entry)
            self._notify()

    def _remove(self, entry: _Entry) -> None:
        for index, candidate in enumerate(self._entries):
            if candidate is entry:
                del self._entries[index]
                return

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _pause(self, wait: float | None) -> None:
        if wait is not None and not (self._entries and self._entries[-1].at == _OPEN):
            await self._sleep(wait)  # nothing open: only time can make room
            return
        # An open request may come back before the timer fires, or the timer is all there is.
        changed = asyncio.ensure_future(self._changed.wait())
        waiters: set[asyncio.Future] = {changed}
        if wait is not None:
            waiters.add(asyncio.ensure_future(self._sleep(wait)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _take(self, at: float | None) -> _Entry | None:
        """Wait in line for room; count the request at `at` (None = now). None when unlimited."""
        async with self._lock:
            while True:
                now = self.clock()
                wait = self._wait_needed(now)
                if wait is not None and wait <= 0:
                    if self.rate <= 0:
                        return None
                    entry = _Entry(now if at is None else at)
                    bisect.insort(self._entries, entry)
                    return entry
                await self._pause(wait)

    # --- the three ways in -------------------------------------------------------------------

    def _use_held(self) -> Token | None:
        token = _held.get()
        if token is None or token.limiter is not self:
            return None
        _held.set(None)
        if token.used:  # already spent (e.g. by a task started while it was held)
            return None
        token.used = True
        return token

    async def acquire(self) -> None:
        token = self._use_held()
        if token is not None:
            entry = token._entry
            if not self._settle_on_answer:
                self._settle(entry, self.clock() + self.transit)
        else:
            entry = await self._take(_OPEN if self._settle_on_answer else None)
        _last.set(entry)
        if self._settle_on_answer and entry is not None:
            # Whatever happens to the request, the entry is closed at the latest with the task.
            task = asyncio.current_task()
            if task is not None:
                task.add_done_callback(lambda _: self._close(entry))

    def _close(self, entry: _Entry) -> None:
        if entry.at == _OPEN and any(candidate is entry for candidate in self._entries):
            self._settle(entry, self.clock())

    def trace_config(self) -> aiohttp.TraceConfig:
        """Hooks for the aiohttp session the limited requests go through: each `acquire()` is
        then counted from the moment the answer to the task's next request arrived."""
        self._settle_on_answer = True
        config = aiohttp.TraceConfig()

        async def answered(session: object, context: object, params: object) -> None:
            entry = _last.get()
            if entry is not None:
                _last.set(None)
                self._close(entry)

        config.on_request_end.append(answered)
        config.on_request_exception.append(answered)
        return config

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wrap one request: it counts from its start until its answer is back, then from then."""
        await self.acquire()
        entry = _last.get()
        _last.set(None)
        if entry is not None and entry.at != _OPEN:
            self._settle(entry, _OPEN)
        try:
            yield
        finally:
            self._settle(entry, self.clock())

    async def reserve(self) -> Token:
        """Wait in line for a place in the window and keep it open until a job uses or returns it."""
        return Token(self, await self._take(_OPEN))

    @property
    def in_window(self) -> int:
        """How many requests the current window holds (for logs and tests)."""
        now = self.clock()
        return sum(1 for entry in self._entries if entry.at + self.period > now)
