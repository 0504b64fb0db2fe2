"""Chores that must run in one process at a time when several share a database (owner of the
`chore_leases` table): the command sync, the daily retention sweep, the Segmind balance poll.

A process runs a chore only while it holds the chore's unexpired lease, taken or renewed in one
transaction (`hold`), so a process that dies or stalls lets another take over once the lease runs
out. A one-process bot (`shared=False`: SQLite, whose lock file already keeps a second process out)
always holds every lease and never touches the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from core.db import Database

log = logging.getLogger(__name__)

_TAKE = (
    "INSERT INTO chore_leases (name, owner, until) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
    " SET owner = excluded.owner, until = excluded.until WHERE chore_leases.until <= ?"
)
_TAKE_OR_RENEW = (
    "INSERT INTO chore_leases (name, owner, until) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
    " SET owner = excluded.owner, until = excluded.until"
    " WHERE chore_leases.owner = excluded.owner OR chore_leases.until <= ?"
)


class Chores:
    def __init__(
        self,
        db: Database,
        owner: str,
        *,
        shared: bool,
        lease_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._db = db
        self.owner = owner
        self.shared = shared
        self.lease_seconds = lease_seconds
        self._clock = clock
        self._sleep = sleep

    async def hold(self, name: str, seconds: float | None = None) -> bool:
        """Take the chore's lease if it is free or expired, or renew it if this process holds it;
        True while this process holds it (for `seconds`, default the lease length)."""
        if not self.shared:
            return True
        return await self._take(name, seconds or self.lease_seconds, renew=True)

    async def claim_due(self, name: str, every: float) -> bool:
        """For a chore that runs every `every` seconds in one process of all: True (and the lease is
        this process's for `every` seconds) only when the last run's lease has run out, whoever
        held it. The one process of a one-process bot runs it every time it asks."""
        if not self.shared:
            return True
        return await self._take(name, every, renew=False)

    def tick(self, every: float) -> float:
        """How often a process asks `claim_due` for a chore due every `every` seconds: each time
        with one process, more often with several, so a chore whose holder died is not late by more
        than a fraction of its period."""
        return every if not self.shared else max(1.0, every / 24)

    async def _take(self, name: str, seconds: float, *, renew: bool) -> bool:
        async with self._db.transaction() as tx:
            now = self._clock()
            params = (name, self.owner, now + seconds, now)
            if renew:
                written = await tx.execute(_TAKE_OR_RENEW, params)
            else:
                written = await tx.execute(_TAKE, params)
        return written.rowcount == 1

    async def release(self, name: str) -> None:
        """Let another process take the chore at once (a clean stop), if this one holds it."""
        if self.shared:
            async with self._db.transaction() as tx:
                await tx.execute("DELETE FROM chore_leases WHERE name = ? AND owner = ?", (name, self.owner))

    async def while_held(self, name: str, work: Callable[[], Awaitable[object]]) -> None:
        """Run `work` (a loop that runs until cancelled) only while holding `name`: wait for the
        lease, run, renew it every third of its length, and stop the work at once if a renewal
        fails (another process has it now). Runs until cancelled."""
        if not self.shared:
            await work()
            return
        every = self.lease_seconds / 3
        try:
            while True:
                if not await self._safe_hold(name):
                    await self._sleep(every)
                    continue
                log.info("running the chore %r in this process (%s)", name, self.owner)
                task = asyncio.ensure_future(work())
                try:
                    while not task.done():
                        await asyncio.wait([task], timeout=every)
                        if not task.done() and not await self._safe_hold(name):
                            log.warning("the chore %r moved to another process", name)
                            break
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                if task.cancelled():
                    continue  # lost the lease: wait to hold it again
                if task.exception() is None:
                    return  # the work ended by itself
                log.error("the chore %r failed: %r", name, task.exception())
                await self._sleep(every)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.release(name))

    async def _safe_hold(self, name: str) -> bool:
        try:
            return await self.hold(name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database is away: not holding is the safe answer
            log.warning("could not renew the chore lease %r: %r", name, exc)
            return False
