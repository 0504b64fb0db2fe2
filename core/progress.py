"""What a waiting or running job shows before its outcome: "queued", then "running for N s".

Best effort and cheap: per job, only the latest edit waiting is sent, one at a time, and none
after the job's result or failure notice (core/generation.py owns one of these).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from core.jobs import Job

Present = Callable[[str, Job, object], Coroutine[Any, Any, None]]
Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


@dataclass
class _ProgressLane:
    pending: tuple[str, object] | None = None
    sender: asyncio.Task[None] | None = None


class ProgressDisplay:
    def __init__(
        self,
        *,
        present: Present,
        spawn: Spawn,
        position: Callable[[int], int | None],
        clock: Callable[[], float],
        interval: float,
        queue_notice_delay: float,
    ) -> None:
        self._present = present
        self._spawn = spawn
        self._position = position
        self._clock = clock
        self._interval = interval
        self._queue_notice_delay = queue_notice_delay
        # Progress edits, per job: latest wins, one at a time, and none after the job's outcome.
        self._lanes: dict[int, _ProgressLane] = {}
        # Jobs created here whose message still shows Discord's own "thinking…" (never announced as
        # queued): it says all there is to say, so their first progress edit waits one interval.
        self._quiet_start: set[int] = set()

    def start_quiet(self, job_id: int) -> None:
        self._quiet_start.add(job_id)

    async def announce_queue(self, job: Job, position: int) -> None:
        """Say "queued" only to a job that is still waiting after `queue_notice_delay`: most jobs
        start within moments (the scheduler admits them asynchronously), and an edit they would
        overwrite at once is one more request for nothing."""
        await asyncio.sleep(self._queue_notice_delay)
        if self._position(job.id) is not None and job.id in self._quiet_start:
            self._quiet_start.discard(job.id)
            self.show(job, "show_queued", position)

    async def tick(self, job: Job) -> None:
        started = self._clock()
        if job.id in self._quiet_start:
            self._quiet_start.discard(job.id)
            await asyncio.sleep(self._interval)
        while True:
            self.show(job, "show_running", self._clock() - started)
            await asyncio.sleep(self._interval)

    def show(self, job: Job, method: str, arg) -> None:
        """Ask for a progress edit. Only the latest one waiting is sent, one at a time per job, so
        a burst never queues stale edits and a slow Discord never gets more than one per job."""
        lane = self._lanes.get(job.id)
        if lane is None:
            lane = self._lanes[job.id] = _ProgressLane()
        lane.pending = (method, arg)
        if lane.sender is None:
            lane.sender = self._spawn(self._send(job, lane))

    async def _send(self, job: Job, lane: _ProgressLane) -> None:
        try:
            while lane.pending is not None:
                method, arg = lane.pending
                lane.pending = None
                await self._present(method, job, arg)
        finally:
            lane.sender = None

    async def end(self, job_id: int) -> None:
        """No more progress for this job: drop what waits, let an edit already sent finish (so it
        cannot land after the result or the failure notice)."""
        self._quiet_start.discard(job_id)
        lane = self._lanes.pop(job_id, None)
        if lane is None:
            return
        lane.pending = None
        if lane.sender is not None:
            await asyncio.shield(lane.sender)
