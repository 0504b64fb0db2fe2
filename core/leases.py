"""Job leases with fencing, for several processes on one database (the lease columns of `jobs`:
`owner`, `lease_until`, `fence`; the rest of the table is core/jobs.py's).

A process owns the jobs it creates or takes over, until `lease_until`; it renews all of them in
one statement every few seconds (`keep`). When a process dies or stalls past its lease, another
takes its unfinished jobs over (`take_expired`), adding one to each job's `fence`, and resumes them
the way a restart does (core/generation.py `resume`).

Fencing: a job's task runs with the fence it was claimed with (`current_fence`, a context
variable, so the delivery and retry tasks it starts carry it too), and every state change of the
job in core/jobs.py matches `fence = ?` in the same statement. A process that lost a job therefore
changes nothing: no submit is marked, no capture, refund or post is written (the ledger moves in
the same transactions, so no money either). Before the billed POST, and before posting a result,
the process also checks that its lease has more than `margin` seconds left by its own clock
(`check`), renewing first if it has not: a process paused past its lease that wakes up must not
send what another process may be sending too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from core.db import Database, Transaction
from core.segmind.transport import before_billed

if TYPE_CHECKING:
    from core.jobs import Job

log = logging.getLogger(__name__)

current_fence: ContextVar[int | None] = ContextVar("job_fence", default=None)

# Each statement's WHERE reads "unfinished" as core/jobs.py `unfinished` does (a refund not told yet
# still has work to do), and uses the partial index jobs_leases (migration 8).
_OWN = "UPDATE jobs SET owner = ?, lease_until = ?, fence = fence + 1 WHERE id = ? RETURNING fence"
_RENEW = (
    "UPDATE jobs SET lease_until = ? WHERE owner = ? AND (state NOT IN ('posted', 'refunded', 'undeliverable')"
    " OR (state = 'refunded' AND notified = 0)) RETURNING id, fence"
)
_TAKE = (
    "UPDATE jobs SET owner = ?, lease_until = ?, fence = fence + 1 WHERE id IN (SELECT id FROM jobs"
    " WHERE (state NOT IN ('posted', 'refunded', 'undeliverable') OR (state = 'refunded' AND notified = 0))"
    " AND (lease_until IS NULL OR lease_until < ?) AND (owner IS NOT NULL OR state <> 'queued')"
    " ORDER BY id LIMIT ?) RETURNING id, fence"
)
_FENCES = "SELECT id, fence FROM jobs WHERE id IN (SELECT value FROM json_each(?))"
_TAKE_ALL = (
    "UPDATE jobs SET owner = ?, lease_until = ?, fence = fence + 1"
    " WHERE state NOT IN ('posted', 'refunded', 'undeliverable') OR (state = 'refunded' AND notified = 0)"
    " RETURNING id, fence"
)


class LeaseLost(BaseException):  # noqa: N818 - a signal like CancelledError, not an error
    """This process no longer holds the job: stop working on it, write nothing, tell no one.
    A BaseException so that it unwinds through the `except Exception` of the delivery and
    provider paths instead of being taken for a failure (which would refund or retry)."""


def fence_params() -> tuple[int | None, int | None]:
    """Parameters for `AND (CAST(? AS BIGINT) IS NULL OR fence = ?)`: no check outside a job's task."""
    fence = current_fence.get()
    return fence, fence


async def unless_lost(work: Awaitable[object]) -> None:
    """Await `work` (a job's delivery or notice); a lost lease ends it quietly: the job's new owner finishes it."""
    with contextlib.suppress(LeaseLost):
        await work


@contextlib.contextmanager
def fenced_as(fence: int | None) -> Iterator[None]:
    """Tasks created inside the block carry `fence` (contextvars are copied at task creation)."""
    token = current_fence.set(fence)
    try:
        yield
    finally:
        current_fence.reset(token)


class JobLeases:
    def __init__(
        self,
        db: Database,
        owner: str,
        *,
        lease_seconds: float = 30.0,
        margin: float | None = None,
        shared: bool = True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._db = db
        self.owner = owner
        self.lease_seconds = lease_seconds
        # Time a submit or a post needs to be on the wire after the check; a third of the lease at most.
        self.margin = min(5.0, lease_seconds / 3) if margin is None else margin
        self.shared = shared
        self._clock = clock
        self._sleep = sleep
        self.held: dict[int, int] = {}  # job id -> the fence this process holds it with
        self._valid_until = float("-inf")  # by this process's clock: the last renewal's start + lease

    # --- claiming ---------------------------------------------------------------------------------

    async def own_in(self, tx: Transaction, job_id: int) -> int:
        """A job this process just created, in the transaction that created it."""
        now = self._clock()
        row = await tx.fetchone(_OWN, (self.owner, now + self.lease_seconds, job_id))
        self.held[job_id] = int(row["fence"])
        self._valid_until = max(self._valid_until, now + self.lease_seconds)
        return self.held[job_id]

    def adopt(self, job_id: int, fence: int, now: float) -> None:
        """A job claimed elsewhere in this process (core/shared_queue.py) with `fence` at `now`."""
        self.held[job_id] = fence
        self._valid_until = max(self._valid_until, now + self.lease_seconds)

    def forget(self, job_id: int) -> None:
        self.held.pop(job_id, None)

    async def claim(self, job_id: int) -> int:
        """Take one job whoever holds it (an owner's /owner redeliver of a reopened result)."""
        async with self._db.transaction() as tx:
            return await self.own_in(tx, job_id)

    async def take_expired(self, *, everything: bool = False, limit: int = 200) -> list[int]:
        """Claim unfinished jobs whose lease ran out (all unfinished jobs with `everything`: a
        process alone on its database, at start). Returns their ids, oldest first."""
        start = self._clock()
        async with self._db.transaction() as tx:
            if everything:
                rows = await tx.fetchall(_TAKE_ALL, (self.owner, start + self.lease_seconds))
            else:
                rows = await tx.fetchall(_TAKE, (self.owner, start + self.lease_seconds, self._clock(), limit))
        for row in rows:
            self.held[int(row["id"])] = int(row["fence"])
        taken = sorted(int(row["id"]) for row in rows)
        if taken:
            self._valid_until = max(self._valid_until, start + self.lease_seconds)
            if not everything:  # tests.scale measures takeovers by this line
                log.info("took over jobs=%s process=%s", _ids(taken), self.owner)
        return taken

    async def renew(self) -> set[int]:
        """Extend the lease of every job this process holds; returns the ids it lost (taken over by
        another process after its lease ran out). Lost and finished jobs are forgotten."""
        start = self._clock()
        before = dict(self.held)  # jobs created while the renewal commits are not in its answer
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(_RENEW, (start + self.lease_seconds, self.owner))
        still = {int(r["id"]): int(r["fence"]) for r in rows}
        gone = {job for job, fence in before.items() if still.get(job) != fence and self.held.get(job) == fence}
        self._valid_until = start + self.lease_seconds
        if not gone:
            return set()
        # Gone from the renewal: finished here (same fence), or taken over (a newer fence).
        rows = await self._db.fetchall(_FENCES, (json.dumps(sorted(gone)),))
        lost = {int(r["id"]) for r in rows if int(r["fence"]) != before[int(r["id"])]}
        for job in gone:
            if self.held.get(job) == before[job]:
                del self.held[job]
        return lost

    # --- while running a job ----------------------------------------------------------------------

    def enter(self, job_id: int) -> bool:
        """In the job's task: carry its fence from here on, and check the lease before every attempt
        of its billed request (a process paused past its lease must not submit). False if this
        process does not hold the job."""
        fence = self.held.get(job_id)
        if fence is None:
            return False
        current_fence.set(fence)
        before_billed.set(functools.partial(self.check, job_id))
        return True

    async def resumable(self, unfinished: list[Job], job_ids: list[int] | None) -> list[Job]:
        """Of the unfinished jobs, those this process resumes: `job_ids` (just taken over), or at start
        those whose lease ran out (all of them when this process is alone on the database)."""
        if job_ids is None:
            job_ids = await self.take_expired(everything=not self.shared)
        wanted = set(job_ids)
        return [job for job in unfinished if job.id in wanted]

    def fence_of(self, job_id: int) -> int | None:
        return self.held.get(job_id)

    def fresh(self, job_id: int) -> bool:
        """Held, with more than `margin` seconds of lease left by this process's clock."""
        return job_id in self.held and self._valid_until - self._clock() > self.margin

    async def check(self, job_id: int) -> None:
        """Before an effect another process could repeat (the billed POST, posting the result):
        raise LeaseLost unless this process holds the job with time to spare, renewing once if the
        lease looks too old (e.g. the process was paused)."""
        if self.fresh(job_id):
            return
        await self.renew()
        if not self.fresh(job_id):
            log.warning("job %d: lease lost (%s); leaving it to the process that took it over", job_id, self.owner)
            raise LeaseLost(job_id)

    def guard(self, presenter: Any) -> Any:
        return None if presenter is None else _GuardedPresenter(presenter, self)

    # --- the keeper -------------------------------------------------------------------------------

    @property
    def interval(self) -> float:
        """How often leases are renewed and expired ones looked for: a quarter of the lease, at most
        2 s, so a dead process's jobs move within the lease plus about 2 s."""
        return min(self.lease_seconds / 4, 2.0)

    async def keep(self, resume: Callable[[list[int]], Awaitable[object]]) -> None:
        """Renew this process's leases and take over expired ones (handed to `resume`); until cancelled."""
        while True:
            await self._sleep(self.interval)
            try:
                lost = await self.renew()
                if lost:
                    log.warning("lost jobs=%s process=%s (taken over after their lease ran out)", _ids(lost), self.owner)
                taken = await self.take_expired()
                if taken:
                    await resume(taken)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database away for a moment: the next round tries again
                log.warning("renewing job leases failed: %r", exc)


def _ids(ids: set[int] | list[int]) -> str:
    return ",".join(str(i) for i in sorted(ids))


class _GuardedPresenter:
    """The presenter, but only the process that holds a job's lease shows anything of it: a result
    posted twice, or a lost job's progress drawn over the result its new owner posted, is what
    this prevents (LeaseLost instead)."""

    def __init__(self, inner: Any, leases: JobLeases) -> None:
        self._inner = inner
        self._leases = leases

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if not callable(method):
            return method

        async def checked(job: Any, *args: Any) -> Any:
            await self._leases.check(job.id)
            return await method(job, *args)

        return checked
