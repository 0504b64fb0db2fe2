"""Posting a captured result: through the presenter, retried on a schedule, given up on cleanly.

The image is already stored and paid for when it gets here, so a failed post never refunds: it is
retried (`retry_delays`) and, once retrying cannot help, the job is marked undeliverable and an
event tells whoever watches (core/generation.py owns one of these).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.blobs import BlobStore
from core.errors import BotError
from core.events import EventBus, JobPosted, JobUndeliverable
from core.jobs import Job, JobState, JobStore
from core.ledger import Ledger

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The presenter could not post a finished image. `permanent` = retrying cannot help."""

    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.permanent = permanent


@dataclass(frozen=True)
class Delivery:
    channel_id: int
    message_id: int


class JobPresenter(Protocol):
    async def show_queued(self, job: Job, position: int) -> None: ...
    async def show_running(self, job: Job, elapsed: float) -> None: ...
    async def deliver(self, job: Job, image: Path, mime: str, balance_after: int) -> Delivery:
        """Post the stored result (`image` is its file in the blob store: stream it, never load it)."""
        ...
    async def show_failed(self, job: Job, error: BotError) -> None: ...
    # Optional (core/batch_delivery.py): deliver_batch(batch, images, balance_after) -> Delivery.


class Posting:
    """What posting a result and posting a batch (core/batch_delivery.py) both work with."""

    def __init__(
        self,
        *,
        jobs: JobStore,
        ledger: Ledger,
        blobs: BlobStore,
        events: EventBus,
        presenter: Callable[[], JobPresenter | None],
        end_progress: Callable[[int], Awaitable[None]],
        spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
        retry_delays: tuple[float, ...],
    ) -> None:
        self._jobs = jobs
        self._ledger = ledger
        self._blobs = blobs
        self._events = events
        # A getter: the Discord side plugs its presenter into the service once the bot is up.
        self._presenter = presenter
        self._end_progress = end_progress
        self._spawn = spawn
        self._retry_delays = retry_delays


class ResultDelivery(Posting):
    def __init__(self, *, batched: Callable[[Job], Awaitable[bool]] | None = None, **posting: Any) -> None:
        super().__init__(**posting)
        # True when the job's batch shows it (core/batch_delivery.py): not posted on its own then.
        self._batched = batched

    async def deliver(self, job: Job) -> None:
        if self._batched is not None and await self._batched(job):
            return
        await self._end_progress(job.id)
        presenter = self._presenter()
        if presenter is None or job.result_blob is None:
            return
        balance = (await self._ledger.balance(job.guild_id)).balance
        try:
            delivery = await presenter.deliver(
                job, self._blobs.path(job.result_blob), job.result_mime or "image/png", balance
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            permanent = isinstance(exc, DeliveryFailed) and exc.permanent
            attempt = job.delivery_attempts
            give_up = permanent or attempt >= len(self._retry_delays)
            log.warning("posting job %d failed (attempt %d, give up: %s): %r", job.id, attempt + 1, give_up, exc)
            await self._jobs.mark_delivery_failed(job.id, give_up=give_up, detail=repr(exc))
            if not give_up:
                self._spawn(self._retry(job.id, self._retry_delays[attempt]))
            else:
                await self._events.publish(JobUndeliverable(await self._jobs.get(job.id), repr(exc)))
            return
        await self._jobs.mark_posted(job.id, channel_id=delivery.channel_id, message_id=delivery.message_id)
        await self._events.publish(JobPosted(await self._jobs.get(job.id)))

    async def _retry(self, job_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        job = await self._jobs.get(job_id)
        if job.state is JobState.SUCCEEDED:
            await self.deliver(job)
