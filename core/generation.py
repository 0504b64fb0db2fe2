"""The generation pipeline: validate → price → job row + reservation → Segmind → capture or release → post.

This is the one place that strings the domain together. The Discord side plugs in a
`JobPresenter` (how progress, results and failures are shown); everything here is plain data
and testable without Discord. What a job shows while it waits or runs is core/progress.py; posting
the result, with its retries, is core/delivery.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable

from core.account import AccountWatch
from core.batch_delivery import BatchDelivery
from core.batches import BatchStore
from core.blobs import BlobStore
from core.credit_rules import CreditRules, SpendLimits, start_of_day
from core.db import Database
from core.delivery import Delivery, DeliveryFailed, JobPresenter, ResultDelivery
from core.errors import (
    BotError,
    InvalidRequest,
    JobAlreadyStarted,
    PaceExceeded,
    ProviderError,
    ProviderSubmitUncertain,
    QueueFull,
)
from core.events import EventBus, GuildBalanceLow, JobFailed
from core.jobs import InteractionRef, Job, JobKind, JobState, JobStore
from core.leases import JobLeases, LeaseLost, fenced_as, unless_lost
from core.ledger import Ledger
from core.models import SEED_MAX, GenerationSpec, ModelId, build_request, request_body
from core.policy import MemberUsage, PaceLimits
from core.pricing import PriceList
from core.progress import ProgressDisplay
from core.references import ReferenceImages
from core.safety import DEFAULT_SAFETY_TOLERANCE
from core.scheduler import FairScheduler
from core.segmind import SegmindClient

log = logging.getLogger(__name__)

# Re-exported: the Discord side and the tests import these from here.
__all__ = ["Delivery", "DeliveryFailed", "GenerationService", "JobPresenter", "spec_for_finalize"]


class GenerationService:
    def __init__(
        self,
        *,
        db: Database,
        jobs: JobStore,
        ledger: Ledger,
        blobs: BlobStore,
        prices: PriceList,
        client: SegmindClient,
        global_limit: int = 8,
        per_guild_limit: int = 2,
        queue_limit_per_guild: int = 50,
        progress_interval: float = 5.0,
        queue_notice_delay: float = 1.0,
        result_concurrency: int = 16,
        delivery_retry_delays: tuple[float, ...] = (5, 30, 120, 600, 1800),
        follow_delays: tuple[float, ...] = (10, 30, 60, 120, 300, 600),
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.db = db
        self.jobs = jobs
        self.ledger = ledger
        self.blobs = blobs
        self.prices = prices
        self.client = client
        self.presenter: JobPresenter | None = None
        # Optional collaborators: spending rules (low-balance alerts) and the Segmind account watch.
        self.credit_rules: CreditRules | None = None
        self.account: AccountWatch | None = None
        self.leases: JobLeases | None = None  # several processes on one database (core/leases.py)
        # What happened to jobs (posted, failed, a guild's balance low), for whoever bot.py subscribed.
        self.events = events or EventBus()
        self.references = ReferenceImages(blobs)  # bot.py sets one with the configured bounds
        self._queue_limit = queue_limit_per_guild
        self._follow_delays = follow_delays
        self._clock = clock
        self._rng = rng or random.Random()
        self._background: set[asyncio.Task[None]] = set()
        # Results being fetched, stored and posted at once. A result streams through the bot in
        # 64-256 KiB pieces (download into the blob store, upload from the file), so this bounds
        # concurrent disk and upload work when many jobs finish together, not memory.
        self._result_slots = asyncio.Semaphore(result_concurrency)
        # The key's rate limiter admits jobs, so round-robin decides who goes next (core/scheduler.py).
        self.scheduler = FairScheduler(
            self._run,
            global_limit=global_limit,
            per_guild_limit=per_guild_limit,
            gate=getattr(client, "limiter", None),
        )
        self.progress = ProgressDisplay(
            present=self._present,
            spawn=self._spawn,
            position=self.scheduler.position,
            clock=clock,
            interval=progress_interval,
            queue_notice_delay=queue_notice_delay,
        )
        self.batches = BatchStore(db, jobs)  # count 2-4: the images of one command in one message
        posting = dict(
            jobs=jobs,
            ledger=ledger,
            blobs=blobs,
            events=self.events,
            presenter=lambda: self.presenter if self.leases is None else self.leases.guard(self.presenter),
            end_progress=self.progress.end,
            spawn=self._spawn,
            retry_delays=delivery_retry_delays,
        )
        # A batch is fenced by its claim in the database (core/batches.py), not by one job's lease.
        self.batch_delivery = BatchDelivery(store=self.batches, **(posting | {"presenter": lambda: self.presenter}))
        self.delivery = ResultDelivery(batched=self.batch_delivery.takes, **posting)

    # --- creating jobs ------------------------------------------------------------------------

    def new_seed(self) -> int:
        return self._rng.randint(0, SEED_MAX)

    async def create_job(
        self,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        kind: JobKind,
        spec: GenerationSpec,
        parent_job_id: int | None = None,
        interaction: InteractionRef | None = None,
        limits: SpendLimits | None = None,
        pace: PaceLimits | None = None,
        batch: tuple[int, int] | None = None,
    ) -> Job:
        """Validate, write the job and reserve its price in one transaction, then queue it.

        The member's pace limits and allowance are checked in that same transaction, so requests
        racing each other cannot slip past them (core/admission.py checks them earlier only to
        refuse privately and at once). Raises InvalidRequest / InsufficientCredits /
        AllowanceExceeded / PolicyDenied / QueueFull before anything is charged. `batch`: (batch id,
        image number) of an open batch (`open_batch`), joined in that same transaction.
        """
        spec.validate_for_model()
        if spec.seed is None:
            # Fix the seed now, so the result can say it and a reroll or "finalize" can reuse it.
            spec = spec.model_copy(update={"seed": self.new_seed()})
        for ref in spec.references:
            if not self.blobs.exists(ref):
                raise InvalidRequest("image", "the reference image is no longer available")
        price = self.prices.price_for(spec)
        if self.account is not None:
            committed = sum(
                self.prices.usd_estimate(model) * count for model, count in (await self.jobs.in_flight_by_model()).items()
            )
            self.account.ensure_can_cover(committed, self.prices.usd_estimate(spec.model))
        if self.scheduler.queued(guild_id) >= self._queue_limit:
            raise QueueFull(self._queue_limit)
        async with self.db.transaction() as tx:
            if pace is not None:
                await self._check_pace_in(tx, guild_id, user_id, pace, price)
            job_id = await self.jobs.insert_in(
                tx,
                guild_id=guild_id,
                channel_id=channel_id,
                user_id=user_id,
                kind=kind,
                spec=spec,
                price=price,
                parent_job_id=parent_job_id,
                interaction=interaction,
            )
            await self.ledger.reserve_in(
                tx, job_id=job_id, guild_id=guild_id, user_id=user_id, amount=price, limits=limits
            )
            if batch is not None:
                await self.batches.add_in(tx, batch[0], job_id, batch[1])
            job = await self.jobs.get_in(tx, job_id)
        position = self.scheduler.submit(guild_id, job.id)
        self.progress.start_quiet(job.id)
        if self.scheduler.position(job.id) is not None:
            self._spawn(self.progress.announce_queue(job, position))
        return job

    async def open_batch(self, size: int) -> int:
        """A batch of `size` images, shown in one message once all its jobs are final."""
        return await self.batches.open(size)

    async def close_batch(self, batch_id: int, *, stop_note: str | None = None) -> None:
        """No more jobs join the batch (`stop_note`: why the rest were not made); settled if done."""
        if await self.batches.close(batch_id, stop_note=stop_note):
            await self.batch_delivery.settle(batch_id)

    async def _check_pace_in(self, tx, guild_id: int, user_id: int, pace: PaceLimits, price: int) -> None:
        since = start_of_day(tx.now)
        running, last_at, jobs_today = await self.jobs.member_usage_in(tx, guild_id, user_id, since)
        credits_today = await self.ledger.member_spend_in(tx, guild_id, user_id, since) if pace.daily_credits else 0
        usage = MemberUsage(running, last_at, jobs_today, credits_today)
        over = pace.denial(usage, price, tx.now)
        if over is not None:
            raise PaceExceeded(over.reason.value, over.data)

    async def cancel(self, job_id: int) -> Job:
        """Cancel a job that has not started: out of the queue, then refunded with its reservation
        released in one transaction. Raises JobAlreadyStarted once the scheduler has started it
        (from then on the billed request may be on its way to Segmind)."""
        if not self.scheduler.drop(job_id):
            raise JobAlreadyStarted(job_id)
        async with self.db.transaction() as tx:
            if await self.jobs.cancel_in(tx, job_id):
                await self.ledger.release_in(tx, job_id)
            job = await self.jobs.get_in(tx, job_id)
        await self.progress.end(job_id)
        await self.batch_delivery.takes(job)
        return job

    def place(self, job_id: int) -> int | None:
        """How many queued jobs start before this one (None: not waiting in the queue)."""
        return self.scheduler.position(job_id)

    # --- running jobs -------------------------------------------------------------------------

    async def _run(self, job_id: int) -> None:
        if self.leases is not None and not self.leases.enter(job_id):
            return  # taken over by another process while it waited here
        holding = False

        async def result_slot() -> None:
            nonlocal holding
            if not holding:
                await self._result_slots.acquire()
                holding = True

        try:
            await unless_lost(self._run_holding(job_id, result_slot))
        finally:
            if holding:
                self._result_slots.release()

    async def _run_holding(self, job_id: int, result_slot) -> None:
        job = await self.jobs.get(job_id)
        if job.state is JobState.SUCCEEDED:
            await result_slot()
            await self.delivery.deliver(job)
            return
        if job.state.final:
            return
        try:
            image = await self._generate(job, result_slot)
        except asyncio.CancelledError:
            raise
        except BotError as error:
            await self._refund(job, error)
            return
        except Exception as error:  # a bug must not keep the guild's credits held
            log.exception("job %d failed unexpectedly", job.id)
            await self._refund(job, ProviderError(type(error).__name__))
            return
        await result_slot()  # sync mode: the image came with the answer
        balance = await self._capture(job, image)
        if balance is not None:
            await self.delivery.deliver(await self.jobs.get(job.id))

    async def _generate(self, job: Job, result_slot=None):
        ticker = asyncio.create_task(self.progress.tick(job))
        try:
            if job.state is JobState.SUBMITTING:
                # The billed POST may have reached Segmind before the crash: never post it again.
                raise ProviderSubmitUncertain("interrupted while submitting")
            if job.state is JobState.SUBMITTED and job.request_id:
                return await self._follow(job.request_id, job.model, result_slot)
            urls: list[str] = []
            if job.spec.references:
                urls = await self.references.upload(self.client, job.spec.references)
            body = request_body(build_request(job.spec, urls, safety_tolerance=_tolerance(job.spec)))
            if not await self.jobs.mark_submitting(job.id, self._clock()):
                raise LeaseLost(job.id)  # cancelled, or taken over by another process

            accepted: list[str] = []

            async def submitted(request_id: str) -> None:
                await self.jobs.mark_submitted(job.id, request_id)
                accepted.append(request_id)

            try:
                return await self.client.generate(
                    job.model, body, on_submitted=submitted, before_result=result_slot
                )
            except ProviderError as error:
                if not (error.retryable and accepted):
                    raise
                # Segmind has the job (and will bill it): keep following it, never submit again.
                return await self._follow(accepted[0], job.model, result_slot)
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    async def _follow(self, request_id: str, model: ModelId, result_slot=None):
        """Poll an accepted request through passing outages until it ends or Segmind forgets it."""
        for delay in (*self._follow_delays, None):
            try:
                return await self.client.generate(model, {}, request_id=request_id, before_result=result_slot)
            except ProviderError as error:
                if not error.retryable or delay is None:
                    raise
                log.warning("request %s: %r; polling again in %.0f s", request_id, error, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _capture(self, job: Job, image) -> int | None:
        # The Segmind client has already stored the image (durably) in the blob store.
        async with self.db.transaction() as tx:
            moved = await self.jobs.succeed_in(
                tx,
                job.id,
                blob=image.blob,
                mime=image.mime,
                seed=image.seed or job.spec.seed,
                cost_usd=image.cost_usd,
                request_id=image.request_id,
            )
            if not moved:
                log.warning("job %d was no longer running when its image arrived", job.id)
                return None
            await self.ledger.capture_in(tx, job.id)
        balance = (await self.ledger.balance(job.guild_id)).balance
        if self.credit_rules is not None and await self.credit_rules.note_balance(job.guild_id, balance):
            await self.events.publish(GuildBalanceLow(job.guild_id, balance))
        if self.account is not None:
            await self.account.note_success()
            await self.account.observe(image.remaining_credits_usd)
        return balance

    async def _refund(self, job: Job, error: BotError) -> None:
        if isinstance(error, ProviderError) and error.operator_alert:
            log.error("Segmind needs the operator's attention (job %d): %r", job.id, error)
        else:
            log.info("job %d failed: %r", job.id, error)
        async with self.db.transaction() as tx:
            moved = await self.jobs.refund_in(
                tx, job.id, error_kind=type(error).__name__, error_detail=getattr(error, "message", "") or str(error)
            )
            if moved:
                await self.ledger.release_in(tx, job.id)
        if not moved and self.leases is not None:
            await self.leases.check(job.id)  # fenced out: the process that holds the job tells the member
        if self.account is not None:
            await self.account.note_failure(error)
        await self._notify_failure(await self.jobs.get(job.id), error)

    async def _notify_failure(self, job: Job, error: BotError) -> None:
        await self.progress.end(job.id)
        await self.events.publish(
            JobFailed(job, type(error).__name__, getattr(error, "message", "") or str(error), job.price)
        )
        if await self.batch_delivery.takes(job):
            return  # its batch's message says it, and marks it told
        await self._present("show_failed", job, error)
        await self.jobs.mark_notified(job.id)

    async def redeliver(self, job_id: int) -> Job:
        """Deliver a reopened job now, through the same paths as any result (an owner asked)."""
        job = await self.jobs.get(job_id)
        if job.state is JobState.SUCCEEDED:
            with fenced_as(None if self.leases is None else await self.leases.claim(job_id)):  # this process posts it
                await self.delivery.deliver(job)
        return await self.jobs.get(job_id)

    async def _present(self, method: str, job: Job, arg) -> None:
        """Progress and failure notices are best effort: a Discord error must not fail the job."""
        if self.presenter is None:
            return
        try:
            await getattr(self.presenter if self.leases is None else self.leases.guard(self.presenter), method)(job, arg)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("could not show %s for job %d: %r", method, job.id, exc)

    def _spawn(self, coro) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # --- lifecycle ----------------------------------------------------------------------------

    async def resume(self, job_ids: list[int] | None = None) -> dict[str, int]:
        """Pick up every unfinished job after a start (with leases: those whose lease ran out), or
        `job_ids` just taken over: run, poll, post, or refund and tell."""
        jobs = await self.jobs.unfinished()
        if self.leases is not None:
            jobs = await self.leases.resumable(jobs, job_ids)
        counts: dict[str, int] = {}
        if job_ids is None:
            await self.batch_delivery.recover(shared=self.leases is not None and self.leases.shared)
        for job in jobs:
            counts[job.state.value] = counts.get(job.state.value, 0) + 1
            with fenced_as(None if self.leases is None else self.leases.fence_of(job.id)):  # for the tasks spawned
                if job.state is JobState.REFUNDED:
                    error_cls = ProviderSubmitUncertain if job.error_kind == "ProviderSubmitUncertain" else ProviderError
                    self._spawn(unless_lost(self._notify_failure(job, error_cls(job.error_detail or ""))))
                elif job.state is JobState.SUCCEEDED:
                    self._spawn(unless_lost(self.delivery.deliver(job)))
                else:
                    self.scheduler.submit(job.guild_id, job.id)
        if counts:
            log.info("resumed unfinished jobs: %s", counts)
        if job_ids is None:
            self.scheduler.start()  # the shared queue's admission and lease keeper, now that the presenter is there
        return counts

    async def close(self) -> None:
        await self.scheduler.close()
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _tolerance(spec: GenerationSpec) -> int:
    return DEFAULT_SAFETY_TOLERANCE if spec.safety_tolerance is None else spec.safety_tolerance


def spec_for_finalize(spec: GenerationSpec) -> GenerationSpec:
    """The same prompt, seed and references on Pro (Klein-only options dropped)."""
    return spec.model_copy(
        update={
            "model": ModelId.PRO,
            "negative_prompt": None,
            "steps": None,
            "cfg": None,
            "sampler": None,
            "go_fast": None,
            "quality": None,
            "image_format": spec.image_format if spec.image_format in (None, "png", "jpeg") else "png",
        }
    )
