"""Posting a batch: once every job of it is final, all its images in one message.

Nothing paid is lost on the way: each job was captured or refunded on its own before the batch is
claimed; a failed post is retried like a single result (core/delivery.py) and, once retrying
cannot help, each paid image is marked undeliverable (kept on disk, `/owner redeliver` posts it
alone) and each refund is marked told.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from core.batches import Batch, BatchStore
from core.delivery import Delivery, DeliveryFailed, Posting
from core.events import JobPosted, JobUndeliverable
from core.jobs import Job, JobState

log = logging.getLogger(__name__)

# Far beyond one delivery attempt (each request is bounded by its timeout) and the creation of four
# jobs, so a batch this old in "creating" or "delivering" belongs to a process that died.
STALE_BATCH_SECONDS = 600.0

# What a batch shows, per job id: the stored file and its type (only jobs that made an image).
Images = dict[int, tuple[Path, str]]


class BatchDelivery(Posting):
    def __init__(self, *, store: BatchStore, **posting: Any) -> None:
        super().__init__(**posting)
        self.store = store

    async def takes(self, job: Job) -> bool:
        """True when `job`'s outcome is shown by its batch (then the batch is settled, if it can be).
        False for a job of no batch, or of a batch already posted or given up (e.g. an owner
        redelivering one of its images): that job is shown on its own."""
        member = await self.store.member(job.id)
        if member is None or await self.store.state(member.batch_id) in ("posted", "undeliverable", "abandoned"):
            return False
        await self._end_progress(job.id)
        await self.settle(member.batch_id)
        if await self.store.state(member.batch_id) in ("creating", "open"):
            await self._show_part(job)
        return True

    async def _show_part(self, job: Job) -> None:
        """Best effort, like all progress: the batch's message says this image is done."""
        show = getattr(self._presenter(), "show_batch_part", None)
        if show is None:
            return
        try:
            await show(job)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("could not show job %d's part of its batch: %r", job.id, exc)

    async def settle(self, batch_id: int) -> None:
        batch = await self.store.claim(batch_id)
        if batch is None:
            return  # not every job is final yet, or another delivery has it
        for job in batch.jobs:
            await self._end_progress(job.id)
        presenter = self._presenter()
        deliver = getattr(presenter, "deliver_batch", None)
        if deliver is None:
            await self.store.delivery_failed(batch.id, give_up=False)  # reopened: a resume settles it
            return
        images: Images = {
            j.id: (self._blobs.path(j.result_blob), j.result_mime or "image/png") for j in batch.jobs if batch.made(j)
        }
        balance = (await self._ledger.balance(batch.jobs[0].guild_id)).balance
        try:
            delivery = await deliver(batch, images, balance)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(batch, exc)
            return
        await self._posted(batch, delivery)

    async def _posted(self, batch: Batch, delivery: Delivery) -> None:
        # The jobs first: a crash before the batch is marked posts the same message again (an edit,
        # or found by its nonce), never a second one.
        for job in batch.jobs:
            if job.state is JobState.SUCCEEDED:
                if await self._jobs.mark_posted(job.id, channel_id=delivery.channel_id, message_id=delivery.message_id):
                    await self._events.publish(JobPosted(await self._jobs.get(job.id)))
            elif job.state is JobState.REFUNDED and not job.notified:
                await self._jobs.mark_notified(job.id)
        await self.store.mark_posted(batch.id, channel_id=delivery.channel_id, message_id=delivery.message_id)

    async def _failed(self, batch: Batch, exc: Exception) -> None:
        permanent = isinstance(exc, DeliveryFailed) and exc.permanent
        give_up = permanent or batch.attempts >= len(self._retry_delays)
        log.warning("posting batch %d failed (attempt %d, give up: %s): %r", batch.id, batch.attempts + 1, give_up, exc)
        if not give_up:
            await self.store.delivery_failed(batch.id, give_up=False)
            self._spawn(self._retry(batch.id, self._retry_delays[batch.attempts]))
            return
        for job in batch.jobs:
            if job.state is JobState.SUCCEEDED:
                await self._jobs.mark_delivery_failed(job.id, give_up=True, detail=repr(exc))
                await self._events.publish(JobUndeliverable(await self._jobs.get(job.id), repr(exc)))
            elif job.state is JobState.REFUNDED and not job.notified:
                await self._jobs.mark_notified(job.id)
        await self.store.delivery_failed(batch.id, give_up=True)

    async def _retry(self, batch_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.settle(batch_id)

    async def recover(self, *, shared: bool = False) -> None:
        """After a start: settle every batch a crash left open (core/batches.py `recover`). With
        several processes on the database, a batch another live process is creating or posting is
        left to it: only one untouched for STALE_BATCH_SECONDS is taken back."""
        for batch_id in await self.store.recover(older_than=STALE_BATCH_SECONDS if shared else 0.0):
            self._spawn(self.settle(batch_id))
