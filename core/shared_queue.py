"""One queue for every process on the database (owner of `guild_turns`; writes the dispatch columns of
`jobs`): the round-robin between guilds and the per-guild cap hold across processes.

A job is created `queued` by the process its interaction reached, and waits in the table. Each
process runs an admission loop like core/scheduler.py's gated one: while it has room for one more
job (`global_limit`), it takes a place in the key's shared window (core/shared_window.py) and only
then claims the next job, in one transaction: the guild served longest ago (`guild_turns`, a global
turn counter) among those with a waiting job and fewer than `per_guild_limit` jobs handed out, its
oldest job. The claim stamps `dispatched_at`, makes this process the job's owner with a new fence
(core/leases.py), and gives the guild the next turn. Claims run under the database's write lock
(core/db_postgres.py), which serialises them as `FOR UPDATE SKIP LOCKED` would.

It stands in for FairScheduler (same methods), so core/generation.py runs jobs the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from core.db import Database, Transaction
from core.leases import JobLeases
from core.ratelimit import SlidingWindowLimiter, Token
from core.scheduler import run_with_place
from core.shared_window import SharedWindowLimiter

log = logging.getLogger(__name__)

POLL = 0.2  # an idle process looks for work this often (jobs queued by other processes)

_WAITING = "SELECT guild_id, COUNT(*) AS n FROM jobs WHERE state = 'queued' AND dispatched_at IS NULL GROUP BY guild_id"
_NEXT = (
    "SELECT w.guild_id, w.id FROM (SELECT guild_id, MIN(id) AS id FROM jobs"
    " WHERE state = 'queued' AND dispatched_at IS NULL GROUP BY guild_id) AS w"
    " LEFT JOIN guild_turns t ON t.guild_id = w.guild_id"
    " WHERE (SELECT COUNT(*) FROM jobs r WHERE r.guild_id = w.guild_id"
    " AND r.state IN ('queued', 'submitting', 'submitted') AND r.dispatched_at IS NOT NULL) < ?"
    " ORDER BY COALESCE(t.turn, 0), w.id LIMIT 1"
)
_CLAIM = (
    "UPDATE jobs SET dispatched_at = ?, owner = ?, lease_until = ?, fence = fence + 1"
    " WHERE id = ? AND state = 'queued' AND dispatched_at IS NULL RETURNING fence"
)
_TURN = (
    "INSERT INTO guild_turns (guild_id, turn) VALUES (?, (SELECT COALESCE(MAX(turn), 0) + 1 FROM guild_turns))"
    " ON CONFLICT (guild_id) DO UPDATE SET turn = excluded.turn"
)
_REQUEUE = (
    "UPDATE jobs SET dispatched_at = NULL, owner = NULL, lease_until = NULL"
    " WHERE id = ? AND fence = ? AND state = 'queued'"
)


class SharedQueue:
    def __init__(
        self,
        run: Callable[[int], Awaitable[None]],
        *,
        db: Database,
        leases: JobLeases,
        global_limit: int,
        per_guild_limit: int,
        gate: SlidingWindowLimiter | None = None,
        keep: Callable[[], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
        poll: float = POLL,
    ) -> None:
        self._run = run
        self._keep = keep  # the lease keeper (JobLeases.keep), run from start() until close()
        self._db = db
        self._leases = leases
        self._global_limit = global_limit
        self._per_guild_limit = per_guild_limit
        self._gate = gate
        self._clock = clock
        self._poll = poll
        self._tasks: set[asyncio.Task[None]] = set()  # jobs running here
        self._helpers: set[asyncio.Task[None]] = set()  # the keeper, takeovers: not jobs in flight
        self._waiting: dict[int, int] = {}  # guild -> queued jobs, as last read (for QueueFull)
        self._wakeup = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._closed = False
        self.started_order: list[int] = []

    # --- FairScheduler's interface ----------------------------------------------------------------

    @property
    def gate(self) -> SlidingWindowLimiter | None:
        return self._gate

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def queued(self, guild_id: int | None = None) -> int:
        if guild_id is None:
            return sum(self._waiting.values())
        return self._waiting.get(guild_id, 0)

    def submit(self, guild_id: int, job_id: int) -> int:
        """A job is waiting in the table (just created, or taken over before it started): wake the loop."""
        if self._closed:
            raise RuntimeError("scheduler closed")
        fence = self._leases.fence_of(job_id)
        if fence is not None:  # taken over from a process whose lease ran out
            self._spawn(self._take_over(guild_id, job_id, fence))
        else:
            self._waiting[guild_id] = self._waiting.get(guild_id, 0) + 1
        self._kick()
        return 0

    def drop(self, job_id: int) -> bool:
        """A cancel: the refund's `state = 'queued'` check decides, atomically with the claim (a claimed
        job that is still queued can be cancelled; its claimer's submit is then refused)."""
        return True

    def position(self, job_id: int) -> int | None:
        return None  # the shared queue has no cheap position; the notice just says "queued"

    async def close(self) -> None:
        self._closed = True
        tasks = [*self._tasks, *self._helpers, *([self._loop] if self._loop is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- the admission loop -------------------------------------------------------------------------

    def start(self) -> None:
        if self._keep is not None:
            self._spawn(self._keep())
            self._keep = None
        self._kick()

    def _kick(self) -> None:
        if self._closed:
            return
        if self._loop is None or self._loop.done():
            self._loop = asyncio.get_running_loop().create_task(self._admit_loop(), name="shared-admission")
        self._wakeup.set()

    async def _admit_loop(self) -> None:
        while not self._closed:
            try:
                if len(self._tasks) >= self._global_limit or not await self._work_waiting():
                    await self._idle()
                    continue
                if isinstance(self._gate, SharedWindowLimiter):
                    # The place and the claim in one transaction: no time lost between them.
                    got = await self._gate.reserve_for(self._claim_in)
                    token, claimed = got if got is not None else (None, None)
                else:
                    token = await self._gate.reserve() if self._gate is not None else None
                    claimed = await self._claim()
                if claimed is None:
                    if token is not None:
                        token.give_back()
                    await self._idle()
                    continue
                guild_id, job_id, fence, now = claimed
                self._leases.adopt(job_id, fence, now)
                self._start(guild_id, job_id, token)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database away for a moment: try again shortly
                log.warning("shared admission failed: %r", exc)
                await self._idle()

    async def _idle(self) -> None:
        self._wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), self._poll)

    async def _work_waiting(self) -> bool:
        rows = await self._db.fetchall(_WAITING)
        self._waiting = {int(r["guild_id"]): int(r["n"]) for r in rows}
        return bool(self._waiting)

    async def _claim(self) -> tuple[int, int, int, float] | None:
        async with self._db.transaction() as tx:
            return await self._claim_in(tx, self._clock())

    async def _claim_in(self, tx: Transaction, now: float) -> tuple[int, int, int, float] | None:
        """The round-robin's next job, made this process's: (guild id, job id, fence, when); None if
        none may start."""
        row = await tx.fetchone(_NEXT, (self._per_guild_limit,))
        if row is None:
            return None
        guild_id, job_id = int(row["guild_id"]), int(row["id"])
        claimed = await tx.fetchone(_CLAIM, (now, self._leases.owner, now + self._leases.lease_seconds, job_id))
        if claimed is None:
            return None
        await tx.execute(_TURN, (guild_id,))
        return guild_id, job_id, int(claimed["fence"]), now

    def _start(self, guild_id: int, job_id: int, token: Token | None) -> None:
        self.started_order.append(job_id)
        if len(self.started_order) > 10_000:
            del self.started_order[:5_000]
        task = asyncio.get_running_loop().create_task(self._guarded(job_id, token), name=f"job-{job_id}")
        self._tasks.add(task)

    async def _guarded(self, job_id: int, token: Token | None) -> None:
        try:
            await run_with_place(self._run, job_id, token)
        finally:
            self._tasks.discard(asyncio.current_task())  # type: ignore[arg-type]
            self._kick()

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.get_running_loop().create_task(work)  # type: ignore[arg-type]
        self._helpers.add(task)
        task.add_done_callback(self._helpers.discard)

    async def _take_over(self, guild_id: int, job_id: int, fence: int) -> None:
        """A job that had not started goes back to the queue (its turn comes round again); one that
        Segmind has (or may have) runs here at once: polling or refunding needs no place in the window."""
        try:
            async with self._db.transaction() as tx:
                requeued = (await tx.execute(_REQUEUE, (job_id, fence))).rowcount == 1
        except Exception as exc:  # its lease then runs out and another process takes it over again
            log.warning("could not resume job %d: %r", job_id, exc)
            return
        if requeued:
            self._leases.forget(job_id)
            self._kick()
        elif not self._closed:
            self._start(guild_id, job_id, None)
