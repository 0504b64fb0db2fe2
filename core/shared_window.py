"""The Segmind key's rate limit shared by every process on the database (owner of `rate_slots`).

The same limiter as core/ratelimit.py (FIFO within the process, tokens the scheduler reserves, a
request counted from when its answer arrived), except that the window itself is a table: a request
takes a row under the database's write lock only when fewer than `rate` rows are in the window,
so all processes together never send more than `rate` billed requests per `period`.

A row is *open* (`answered_at` NULL) from the moment its place is taken until the request's answer
is back, and then stamped with that time: Segmind counts a request when it arrives, which is before
its answer, so a window of stamped rows always contains the server's. A row left open by a process
that died counts until `taken_at + OPEN_CAP`; so that no request arrives later than that, a place
reserved ahead for a job (core/shared_queue.py) and not used within half of it is given back and a
fresh one taken (a job that uploaded its reference images first, a process that was paused).
Clocks: rows carry wall-clock times, so processes on several machines need synchronised clocks.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.db import Database, Transaction
from core.ratelimit import _OPEN, SlidingWindowLimiter, Token, _Entry, _held

log = logging.getLogger(__name__)

T = TypeVar("T")
Pick = Callable[[Transaction, float], Awaitable[T | None]]


class _NothingPicked(Exception):
    pass

OPEN_CAP = 10.0
POLL = 0.2  # how often a full window is looked at again (open rows close at unknown times)

_RECENT = (
    "SELECT COALESCE(answered_at, taken_at + ?) AS at, answered_at IS NULL AS open FROM rate_slots"
    " ORDER BY COALESCE(answered_at, taken_at + ?) DESC LIMIT ?"
)
_TAKE = "INSERT INTO rate_slots (taken_at, answered_at) VALUES (?, ?) RETURNING id"
_EXPIRE = "DELETE FROM rate_slots WHERE COALESCE(answered_at, taken_at + ?) <= ?"
_STAMP = "UPDATE rate_slots SET answered_at = ? WHERE id = ?"
_FORGET = "DELETE FROM rate_slots WHERE id = ?"


class SharedWindowLimiter(SlidingWindowLimiter):
    def __init__(
        self,
        db: Database,
        rate: int,
        period: float = 60.0,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        super().__init__(rate, period, clock=clock, sleep=sleep)
        self._db = db
        self._rows: dict[_Entry, int] = {}
        self._taken: dict[_Entry, float] = {}  # when each open row was taken
        self._writes: set[asyncio.Task[None]] = set()

    async def _take(self, at: float | None) -> _Entry | None:
        return (await self._take_picking(at, None))[0]

    async def reserve_for(self, pick: Pick[T]) -> tuple[Token, T] | None:
        """`reserve()` and `pick` (what the place is for: core/shared_queue.py claims a job) in one
        transaction, once the window has room; None, and no place taken, when `pick` finds nothing."""
        if self.rate <= 0:
            async with self._db.transaction() as tx:
                picked = await pick(tx, self.clock())
            return None if picked is None else (Token(self, None), picked)
        entry, picked = await self._take_picking(_OPEN, pick)
        return None if picked is None else (Token(self, entry), picked)

    async def _take_picking(self, at: float | None, pick: Pick[T] | None) -> tuple[_Entry | None, T | None]:
        async with self._lock:  # FIFO among this process's callers; the table orders the processes
            while True:
                now = self.clock()
                if now < self._blocked_until:  # a 429's reset time (this process's)
                    await self._sleep(self._blocked_until - now)
                    continue
                row_id, when, picked = await self._try_take(at, pick)
                if row_id is None and when < 0:
                    return None, None  # room, but nothing to use it for
                if row_id is None:
                    await self._sleep(when)  # until a place frees (or a look again)
                    continue
                self._wait_needed(self.clock())  # drops this process's entries that left the window
                entry = _Entry(when if at is None else at)
                bisect.insort(self._entries, entry)
                if at == _OPEN:  # stamped (or forgotten) later; a closed row is final
                    self._rows[entry] = row_id
                    self._taken[entry] = when
                return entry, picked

    async def _try_take(self, at: float | None, pick: Pick[T] | None = None) -> tuple[int | None, float, T | None]:
        """(row id, time taken, what `pick` found) if the window has room (one transaction: count,
        clean up, insert, pick), the row open when `at` is _OPEN, else counted from now (None) or
        `at`; else (None, how long to wait: until the place frees, or POLL while it is held by a
        request still open, None); (None, -1, None) when `pick` found nothing (no row is kept)."""
        try:
            async with self._db.transaction() as tx:
                recent = await tx.fetchall(_RECENT, (OPEN_CAP, OPEN_CAP, self.rate))
                now = self.clock()  # read once the transaction runs alone: the wait for it must not age `now`
                if len(recent) >= self.rate and recent[-1]["at"] + self.period > now:
                    frees = recent[-1]["at"] + self.period - now
                    return None, min(frees, POLL) if recent[-1]["open"] else frees, None
                await tx.execute(_EXPIRE, (OPEN_CAP, now - self.period))
                answered = None if at == _OPEN else (now if at is None else at)
                row = await tx.fetchone(_TAKE, (now, answered))
                picked = None if pick is None else await pick(tx, now)
                if pick is not None and picked is None:
                    raise _NothingPicked  # rolls the row back
                return int(row["id"]), now, picked
        except _NothingPicked:
            return None, -1.0, None

    async def acquire(self) -> None:
        token = _held.get()
        if token is not None and token.limiter is self and not token.used:
            taken = self._taken.get(token._entry)  # type: ignore[arg-type]
            if taken is not None and self.clock() - taken > OPEN_CAP / 2:
                _held.set(None)
                token.give_back()  # its row may stop counting before this request arrives
        await super().acquire()

    def _settle(self, entry: _Entry | None, at: float) -> None:
        super()._settle(entry, at)
        if entry is not None and at != _OPEN and entry in self._rows:
            self._taken.pop(entry, None)
            self._write(self._stamp(at, self._rows.pop(entry)))

    def _forget(self, entry: _Entry | None) -> None:
        super()._forget(entry)
        if entry is not None and entry in self._rows:
            self._taken.pop(entry, None)
            self._write(self._forget_row(self._rows.pop(entry)))

    def _write(self, write: Awaitable[None]) -> None:
        # Called from synchronous hooks (aiohttp's trace, Token.give_back): the row is written a
        # moment later; until then it stays open, i.e. counted, which only errs on the safe side.
        task = asyncio.get_running_loop().create_task(self._logged(write))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _stamp(self, at: float, row_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(_STAMP, (at, row_id))

    async def _forget_row(self, row_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(_FORGET, (row_id,))

    @staticmethod
    async def _logged(write: Awaitable[None]) -> None:
        try:
            await write
        except Exception as exc:  # the row then counts until OPEN_CAP: safe, only slower
            log.warning("could not update the shared rate window: %r", exc)

    async def flush(self) -> None:
        """Wait for the pending row writes (tests; a clean stop)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)
