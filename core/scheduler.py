"""Fair scheduling of jobs: a global cap on jobs in flight, a per-guild cap, round-robin between guilds.

A guild that queues two hundred jobs gets one slot per turn like every other guild with work,
so a small server's job waits at most one round behind a flooding one. Without a gate, dispatch is
synchronous (on submit and on completion), so there is no polling loop and no idle cost.

With a `gate` (the Segmind key's rate limiter), round-robin alone is not enough: jobs that have
started but wait inside the limiter are served in the limiter's FIFO order, so two hundred
started jobs of one guild would all go before a small guild's job submitted a moment later. The
gated scheduler therefore takes the rate-limit place *first* and only then picks whose job runs,
by round-robin at that moment, and hands the place to that job (`Token.hold`). Every job that is
in flight has already been admitted by the limiter; the queue in front of the key is this
scheduler's round-robin, nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

from core.ratelimit import SlidingWindowLimiter, Token

log = logging.getLogger(__name__)


async def run_with_place(run: Callable[[int], Awaitable[None]], job_id: int, token: Token | None) -> None:
    """Run one job holding the rate-limit place taken for it: its (first) billed request uses the
    place; a job that sent nothing billed gives it back. A crash is logged, never raised: the job's
    row stays, and a restart or a takeover resumes it."""
    if token is not None:
        token.hold()
    try:
        await run(job_id)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("job %d crashed in the runner", job_id)
    finally:
        if token is not None:
            token.give_back()  # no-op when the job used it


class FairScheduler:
    def __init__(
        self,
        run: Callable[[int], Awaitable[None]],
        *,
        global_limit: int,
        per_guild_limit: int,
        gate: SlidingWindowLimiter | None = None,
    ) -> None:
        self._run = run
        self._global_limit = global_limit
        self._per_guild_limit = per_guild_limit
        self._queues: OrderedDict[int, deque[int]] = OrderedDict()  # round-robin order of guilds
        self._guild_of: dict[int, int] = {}  # queued job id -> its guild
        self._running: dict[int, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._gate = gate
        self._dispatcher: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        self.started_order: list[int] = []  # job ids in the order they started (kept short; for tests/benchmarks)

    @property
    def gate(self) -> SlidingWindowLimiter | None:
        return self._gate

    def use_gate(self, gate: SlidingWindowLimiter | None) -> None:
        """Admit jobs through `gate` from now on (set it before the first submit)."""
        if self._tasks or self._dispatcher is not None:
            raise RuntimeError("set the gate before any job is submitted")
        self._gate = gate

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    @property
    def run(self) -> Callable[[int], Awaitable[None]]:
        return self._run

    def start(self) -> None:
        """Nothing to start: jobs are dispatched as they are submitted (core/shared_queue.py needs it)."""

    def queued(self, guild_id: int | None = None) -> int:
        if guild_id is None:
            return sum(len(q) for q in self._queues.values())
        return len(self._queues.get(guild_id, ()))

    def submit(self, guild_id: int, job_id: int) -> int:
        """Queue a job; returns how many queued jobs will start before it (0 = next)."""
        if self._closed:
            raise RuntimeError("scheduler closed")
        self._queues.setdefault(guild_id, deque()).append(job_id)
        self._guild_of[job_id] = guild_id
        ahead = self.position(job_id)
        self._dispatch()
        return ahead if job_id in self._guild_of else 0

    def drop(self, job_id: int) -> bool:
        """Take a job that has not started out of the queue (a cancel); False once it has started.
        Synchronous, so no dispatch can start the job between this check and its removal."""
        guild_id = self._guild_of.pop(job_id, None)
        if guild_id is None:
            return False
        queue = self._queues[guild_id]
        queue.remove(job_id)
        if not queue:
            del self._queues[guild_id]
        return True

    def position(self, job_id: int) -> int | None:
        """Jobs that start before `job_id` under round-robin (ignoring caps), or None if not queued."""
        guild_id = self._guild_of.get(job_id)
        if guild_id is None:
            return None
        index = self._queues[guild_id].index(job_id)
        full_rounds = 0
        earlier_this_round = 0
        before = True
        for other, queue in self._queues.items():
            full_rounds += min(len(queue), index)
            if other == guild_id:
                before = False
            elif before and len(queue) > index:
                earlier_this_round += 1
        return full_rounds + earlier_this_round

    def _dispatch(self) -> None:
        if self._gate is not None:
            self._kick()
            return
        while len(self._tasks) < self._global_limit and not self._closed:
            guild_id = self._next_guild()
            if guild_id is None:
                return
            self._start(guild_id, None)

    def _start(self, guild_id: int, token: Token | None) -> None:
        queue = self._queues[guild_id]
        job_id = queue.popleft()
        del self._guild_of[job_id]
        # Move the served guild to the back of the ring.
        self._queues.move_to_end(guild_id)
        if not queue:
            del self._queues[guild_id]
        self._running[guild_id] = self._running.get(guild_id, 0) + 1
        self.started_order.append(job_id)
        if len(self.started_order) > 10_000:
            del self.started_order[:5_000]
        task = asyncio.create_task(self._guarded(guild_id, job_id, token), name=f"job-{job_id}")
        self._tasks.add(task)

    # --- gated dispatch ----------------------------------------------------------------------

    def _can_start(self) -> bool:
        return len(self._tasks) < self._global_limit and self._next_guild() is not None

    def _kick(self) -> None:
        if self._closed:
            return
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._admit_loop(), name="scheduler-admission")
        self._wakeup.set()

    async def _admit_loop(self) -> None:
        """Take a place in the key's window, then start the round-robin's next job with it."""
        assert self._gate is not None
        while not self._closed:
            if not self._can_start():
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            token = await self._gate.reserve()
            # While we waited for the window, other guilds may have queued work: the choice is
            # made now, so they are next in the ring. Only this loop starts jobs, so the
            # capacity seen above is still there, and queued work only grows.
            guild_id = self._next_guild()
            if guild_id is None or len(self._tasks) >= self._global_limit:
                token.give_back()
                continue
            self._start(guild_id, token)

    def _next_guild(self) -> int | None:
        for guild_id in self._queues:
            if self._running.get(guild_id, 0) < self._per_guild_limit:
                return guild_id
        return None

    async def _guarded(self, guild_id: int, job_id: int, token: Token | None) -> None:
        try:
            await run_with_place(self._run, job_id, token)
        finally:
            self._running[guild_id] -= 1
            if not self._running[guild_id]:
                del self._running[guild_id]
            self._tasks.discard(asyncio.current_task())  # type: ignore[arg-type]
            self._dispatch()

    async def close(self) -> None:
        """Stop starting jobs and cancel those in flight (their rows stay; a restart resumes them)."""
        self._closed = True
        tasks = list(self._tasks)
        if self._dispatcher is not None:
            tasks.append(self._dispatcher)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
