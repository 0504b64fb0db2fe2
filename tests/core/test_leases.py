"""Job leases with fencing (both backends): a process that lost a job (dead, or paused past its lease)
can neither submit, capture, refund nor post it; the process that took it over finishes it once."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.jobs import JobKind, JobState, JobStore
from core.leases import JobLeases, LeaseLost, fenced_as
from core.ledger import Ledger
from core.models import GenerationSpec, ModelId
from core.shared_queue import SharedQueue
from tests.core.test_generation import CHANNEL, GUILD, USER, segmind, settle, world  # noqa: F401 - fixtures
from tests.fakes.segmind_server import Fault

SPEC = GenerationSpec(model=ModelId.KLEIN, prompt="a red fox", seed=1)


class Clock:
    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def __call__(self) -> float:
        return time.time() + self.offset


async def new_job(db, leases: JobLeases | None) -> int:
    async with db.transaction() as tx:
        job_id = await JobStore(db).insert_in(
            tx, guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC, price=1,
            parent_job_id=None, interaction=None,
        )
        if leases is not None:
            await leases.own_in(tx, job_id)
    return job_id


async def test_an_expired_lease_is_taken_over_with_a_new_fence(db):
    first = JobLeases(db, "a", lease_seconds=30, clock=Clock())
    second = JobLeases(db, "b", lease_seconds=30, clock=Clock(offset=31))  # sees a's lease as run out
    job_id = await new_job(db, first)
    assert first.held == {job_id: 1}
    assert await JobLeases(db, "c", lease_seconds=30, clock=Clock()).take_expired() == [], "not expired yet"
    assert await second.take_expired() == [job_id]
    assert second.held == {job_id: 2}
    assert await first.renew() == {job_id}, "the old owner learns it lost the job"
    assert first.held == {}
    assert await second.renew() == set(), "the new owner keeps it"


async def test_a_lost_job_changes_nothing(db):
    jobs = JobStore(db)
    first = JobLeases(db, "a", lease_seconds=30, clock=Clock())
    second = JobLeases(db, "b", lease_seconds=30, clock=Clock(offset=31))
    job_id = await new_job(db, first)
    await second.take_expired()
    with fenced_as(first.fence_of(job_id)):
        assert not await jobs.mark_submitting(job_id, time.time()), "the old fence cannot submit"
        async with db.transaction() as tx:
            assert not await jobs.refund_in(tx, job_id, error_kind="X", error_detail="x")
            assert not await jobs.succeed_in(tx, job_id, blob="b", mime="image/png", seed=1, cost_usd=0.01)
    assert (await jobs.get(job_id)).state is JobState.QUEUED
    with fenced_as(second.fence_of(job_id)):
        assert await jobs.mark_submitting(job_id, time.time())
        assert await jobs.mark_submitted(job_id, "req-1")
        async with db.transaction() as tx:
            assert await jobs.succeed_in(tx, job_id, blob="b", mime="image/png", seed=1, cost_usd=0.01)
    with fenced_as(first.fence_of(job_id)):
        assert not await jobs.mark_posted(job_id, channel_id=CHANNEL, message_id=5), "the old fence cannot post"
    with fenced_as(second.fence_of(job_id)):
        assert await jobs.mark_posted(job_id, channel_id=CHANNEL, message_id=6)
    assert (await jobs.get(job_id)).result_message_id == 6


async def test_a_paused_process_checks_its_lease_before_sending(db):
    clock = Clock()
    first = JobLeases(db, "a", lease_seconds=30, clock=clock)
    job_id = await new_job(db, first)
    await first.check(job_id)  # fresh: nothing to do
    clock.offset = 29  # paused: less than the margin left by its own clock, nobody took the job
    await first.check(job_id)  # renewed, still its own
    assert first.fresh(job_id)
    clock.offset = 100  # paused past the lease, and another process took the job over meanwhile
    assert await JobLeases(db, "b", lease_seconds=30, clock=Clock(offset=100)).take_expired() == [job_id]
    with pytest.raises(LeaseLost):
        await first.check(job_id)


async def test_alone_on_the_database_every_unfinished_job_is_claimed_at_start(db):
    earlier = JobLeases(db, "before-restart", lease_seconds=30, clock=Clock())
    ids = [await new_job(db, earlier), await new_job(db, None)]
    restarted = JobLeases(db, "after-restart", lease_seconds=30, clock=Clock(), shared=False)
    assert await restarted.take_expired(everything=True) == ids
    assert restarted.held == {ids[0]: 2, ids[1]: 1}


async def with_leases(world, name: str, offset: float, global_limit: int = 8):  # noqa: F811 - the fixture's builder
    """A process of several: jobs in the shared queue, claimed with leases (its clock `offset` ahead)."""
    service, presenter = world()
    service.leases = leases = JobLeases(service.db, name, lease_seconds=30, clock=Clock(offset))
    service.scheduler = SharedQueue(
        service.scheduler.run, db=service.db, leases=leases, global_limit=global_limit, per_guild_limit=8,
        keep=lambda: leases.keep(service.resume), poll=0.02,
    )
    return service, presenter


def wake(service) -> None:
    """The paused process wakes up: its own clock says its lease has run out too."""
    service.leases._clock.offset = 31


async def test_a_submitted_job_taken_over_is_charged_and_posted_once(world, segmind, db):  # noqa: F811
    await Ledger(db).grant(GUILD, 10, user_id=USER, reason="test")
    segmind.latency = 1.5  # long enough for the takeover to happen while the first process polls
    first, first_shown = await with_leases(world, "a", 0)
    second, second_shown = await with_leases(world, "b", 31)
    job = await first.create_job(guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC)
    await settle(first, job.id, JobState.SUBMITTED, JobState.SUCCEEDED, JobState.POSTED)
    assert (await first.jobs.get(job.id)).state is JobState.SUBMITTED, "the takeover must come mid-flight"
    await second.resume()  # the first process is "paused": its lease has run out for everyone else
    wake(first)
    await settle(second, job.id, JobState.POSTED)
    await asyncio.wait_for(second_shown.done.wait(), 10)
    for _ in range(300):  # the first process's poll ends too; its capture must be fenced out
        if not first.scheduler.in_flight:
            break
        await asyncio.sleep(0.02)
    assert not first.scheduler.in_flight
    assert len(segmind.submits) == 1, "submitted once"
    assert [d[0] for d in second_shown.delivered] == [job.id] and first_shown.delivered == []
    captures = await db.fetchall("SELECT kind FROM ledger_entries WHERE job_id = ? AND kind = 'capture'", (job.id,))
    assert len(captures) == 1
    assert (await Ledger(db).balance(GUILD)).balance == 10 - job.price


async def test_a_queued_job_taken_over_is_never_submitted_by_the_old_owner(world, segmind, db):  # noqa: F811
    await Ledger(db).grant(GUILD, 10, user_id=USER, reason="test")
    segmind.latency = 0.5
    first, _ = await with_leases(world, "a", 0, global_limit=1)
    second, second_shown = await with_leases(world, "b", 31)
    running = await first.create_job(guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC)
    waiting = await first.create_job(guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC)
    await settle(first, running.id, JobState.SUBMITTED)
    await second.resume()  # takes both over; the queued one runs there
    wake(first)
    await settle(second, waiting.id, JobState.POSTED)
    await settle(second, running.id, JobState.POSTED)
    for _ in range(300):
        if not first.scheduler.in_flight:
            break
        await asyncio.sleep(0.02)
    assert len(segmind.submits) == 2, "each job submitted once, the queued one only by its new owner"
    assert sorted(d[0] for d in second_shown.delivered) == sorted([running.id, waiting.id])


async def test_a_result_reopened_by_an_owner_is_posted_by_the_process_asked(world, segmind, db):  # noqa: F811
    await Ledger(db).grant(GUILD, 10, user_id=USER, reason="test")
    first, first_shown = await with_leases(world, "a", 0)
    job = await first.create_job(guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC)
    await settle(first, job.id, JobState.POSTED)
    await db.fetchall("SELECT 1")
    async with db.transaction() as tx:  # as if every delivery had failed: undeliverable, then reopened
        await tx.execute("UPDATE jobs SET state = 'undeliverable' WHERE id = ?", (job.id,))
    assert await first.jobs.reopen_undeliverable(job.id)
    second, second_shown = await with_leases(world, "b", 0)
    assert (await second.redeliver(job.id)).state is JobState.POSTED, "posted by the process the owner asked"
    assert [d[0] for d in second_shown.delivered] == [job.id]
    assert first.leases.fence_of(job.id) is not None and await first.leases.renew() == {job.id}, "taken"


async def test_a_finished_job_is_forgotten_not_lost(db):
    leases = JobLeases(db, "a", lease_seconds=30, clock=Clock())
    job_id = await new_job(db, leases)
    async with db.transaction() as tx:
        await tx.execute("UPDATE jobs SET state = 'posted' WHERE id = ?", (job_id,))
    assert await leases.renew() == set()
    assert leases.held == {}


async def test_a_lost_job_is_not_submitted_again_after_a_retryable_answer(world, segmind, db):  # noqa: F811
    """The first POST is answered 503 (not accepted) slowly; meanwhile the job is taken over. The retry
    checks the lease before it goes: nothing reaches Segmind from the process that lost the job."""
    await Ledger(db).grant(GUILD, 10, user_id=USER, reason="test")
    segmind.script("submit", Fault(status=503, delay=0.5))
    first, _ = await with_leases(world, "a", 0)
    second, _ = await with_leases(world, "b", 31)
    job = await first.create_job(guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC)
    await settle(first, job.id, JobState.SUBMITTING, JobState.SUBMITTED)
    assert (await first.jobs.get(job.id)).state is JobState.SUBMITTING, "taken over while the POST is out"
    await second.resume()  # refunds it: the POST may have reached Segmind
    wake(first)
    await settle(second, job.id, JobState.REFUNDED)
    for _ in range(300):
        if not first.scheduler.in_flight:
            break
        await asyncio.sleep(0.02)
    assert not first.scheduler.in_flight
    assert segmind.billed == 0 and not segmind.submits, "the retry never went out"
