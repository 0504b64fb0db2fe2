"""Batches (count 2-4): each job charged on its own, all shown in one message once every job is final."""

from __future__ import annotations

import asyncio

import pytest

from core.batch_delivery import STALE_BATCH_SECONDS
from core.delivery import Delivery, DeliveryFailed
from core.errors import InsufficientCredits
from core.jobs import JobKind, JobState
from core.models import GenerationSpec
from tests.core.test_generation import (  # noqa: F401 - fixtures
    CHANNEL,
    GUILD,
    USER,
    RecordingPresenter,
    segmind,
    world,
)


class BatchPresenter(RecordingPresenter):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[tuple[int, list[int], set[int]]] = []
        self.parts: list[int] = []
        self.fail_batches = 0
        self.posted = asyncio.Event()

    async def deliver_batch(self, batch, images, balance_after):
        await asyncio.sleep(0)  # a real post yields: a second delivery would get its chance here
        if self.fail_batches:
            self.fail_batches -= 1
            raise DeliveryFailed("discord is down", permanent=self.permanent)
        self.batches.append((batch.id, [j.id for j in batch.jobs], set(images)))
        self.posted.set()
        return Delivery(CHANNEL, 5000 + batch.id)

    async def show_batch_part(self, job):
        self.parts.append(job.id)


async def make_batch(service, count: int, prompt: str = "a lighthouse at dusk", *, close: bool = True):
    batch_id = await service.open_batch(count)
    jobs = []
    note = None
    for n in range(1, count + 1):
        try:
            jobs.append(
                await service.create_job(
                    guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE,
                    spec=GenerationSpec(prompt=prompt), batch=(batch_id, n),
                )
            )
        except InsufficientCredits as error:
            note = str(error)
            break
    if close:
        await service.close_batch(batch_id, stop_note=note)
    return batch_id, jobs


async def posted(service, batch_id: int) -> None:
    for _ in range(500):
        if await service.batches.state(batch_id) in ("posted", "undeliverable"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"batch {batch_id} is {await service.batches.state(batch_id)}")


async def every_job_made(service, batch_id: int) -> None:
    """Wait until every job of the batch has its image (succeeded, not yet posted)."""
    for _ in range(500):
        batch = await service.batches.get(batch_id)
        if all(j.state is JobState.SUCCEEDED for j in batch.jobs):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"batch {batch_id}'s jobs did not all succeed")


@pytest.fixture
def batch_world(world):  # noqa: F811
    def build(**options):
        service, _ = world(**options)
        presenter = service.presenter = BatchPresenter()
        return service, presenter

    return build


async def test_one_message_for_the_batch_once_every_job_is_final_each_charged_on_its_own(batch_world, segmind):  # noqa: F811
    service, presenter = batch_world()
    await service.ledger.grant(GUILD, 100, user_id=1, reason=None)
    segmind.fail_job("moderated")  # one of the three fails and is refunded
    batch_id, jobs = await make_batch(service, 3)
    await posted(service, batch_id)
    [(shown_id, shown_jobs, with_images)] = presenter.batches
    assert shown_id == batch_id and shown_jobs == [j.id for j in jobs]
    states = {j.id: (await service.jobs.get(j.id)) for j in jobs}
    made = {i for i, j in states.items() if j.state is JobState.POSTED}
    refunded = {i for i, j in states.items() if j.state is JobState.REFUNDED}
    assert len(made) == 2 and len(refunded) == 1 and with_images == made
    assert {states[i].result_message_id for i in made} == {5000 + batch_id}
    assert all(states[i].notified for i in refunded), "the batch's message told the requester"
    assert presenter.delivered == [] and presenter.failed == [], "no job of a batch is shown on its own"
    captures = await service.db.fetchall("SELECT job_id FROM ledger_entries WHERE kind = 'capture' ORDER BY job_id")
    releases = await service.db.fetchall("SELECT job_id FROM ledger_entries WHERE kind = 'release'")
    assert [c["job_id"] for c in captures] == sorted(made) and [r["job_id"] for r in releases] == list(refunded)
    assert (await service.ledger.balance(GUILD)).balance == 100 - sum(states[i].price for i in made)


async def test_a_batch_is_claimed_once_however_many_deliveries_race(batch_world):
    service, presenter = batch_world()
    await service.ledger.grant(GUILD, 100, user_id=1, reason=None)
    batch_id, jobs = await make_batch(service, 2, close=False)
    for job in jobs:
        for _ in range(500):
            if (await service.jobs.get(job.id)).state is JobState.SUCCEEDED:
                break
            await asyncio.sleep(0.01)
    assert await service.batches.claim(batch_id) is None, "a batch still being created is not delivered"
    assert await service.batches.close(batch_id)
    claims = await asyncio.gather(*(service.batches.claim(batch_id) for _ in range(5)))
    assert sum(c is not None for c in claims) == 1
    await service.batches.delivery_failed(batch_id, give_up=False)  # back to open, as a failed post leaves it
    await asyncio.gather(*(service.batch_delivery.settle(batch_id) for _ in range(5)))
    assert len(presenter.batches) == 1, "two deliveries never both post"


async def test_not_claimed_while_a_job_still_runs(batch_world, segmind):  # noqa: F811
    service, presenter = batch_world()
    await service.ledger.grant(GUILD, 100, user_id=1, reason=None)
    segmind.slow("slow", 0.5)
    batch_id, jobs = await make_batch(service, 2, prompt="slow")
    assert await service.batches.claim(batch_id) is None
    await posted(service, batch_id)
    assert len(presenter.batches) == 1


async def test_images_not_started_are_not_charged_and_the_batch_says_why(batch_world):
    service, presenter = batch_world()
    price = service.prices.price_for(GenerationSpec(prompt="x"))
    await service.ledger.grant(GUILD, 2 * price, user_id=1, reason=None)
    batch_id, jobs = await make_batch(service, 4)
    await posted(service, batch_id)
    assert len(jobs) == 2
    batch = await service.batches.get(batch_id)
    assert batch.size == 4 and len(batch.jobs) == 2 and batch.stop_note
    assert (await service.ledger.balance(GUILD)).balance == 0


async def test_a_failed_post_is_retried_and_a_hopeless_one_keeps_the_images(batch_world):
    service, presenter = batch_world()
    await service.ledger.grant(GUILD, 100, user_id=1, reason=None)
    presenter.fail_batches = 1
    batch_id, jobs = await make_batch(service, 2)
    await posted(service, batch_id)
    assert await service.batches.state(batch_id) == "posted" and len(presenter.batches) == 1

    presenter.fail_batches, presenter.permanent = 1, True
    batch_id, jobs = await make_batch(service, 2)
    await posted(service, batch_id)
    assert await service.batches.state(batch_id) == "undeliverable"
    assert {(await service.jobs.get(j.id)).state for j in jobs} == {JobState.UNDELIVERABLE}


async def test_a_batch_left_by_a_crash_is_delivered_on_resume(batch_world, world):  # noqa: F811
    service, presenter = batch_world()
    await service.ledger.grant(GUILD, 100, user_id=1, reason=None)
    service.presenter = None  # the process dies before anything can be shown
    creating, _ = await make_batch(service, 2, close=False)
    delivering, _ = await make_batch(service, 2)
    for batch_id in (creating, delivering):
        await every_job_made(service, batch_id)
    assert await service.batches.claim(delivering) is not None  # claimed, then the crash
    await service.close()

    restarted, _ = world()
    again = restarted.presenter = BatchPresenter()
    await restarted.resume()
    await posted(restarted, creating)
    await posted(restarted, delivering)
    assert sorted(b for b, _, _ in again.batches) == sorted([creating, delivering])
    assert again.delivered == []


async def test_with_several_processes_a_batch_another_is_posting_is_left_to_it(batch_world):
    """Shared database: a starting process reopens only batches untouched for STALE_BATCH_SECONDS; one
    a live process claimed a moment ago stays claimed (reopening it would let two processes post it)."""
    service, _ = batch_world()
    service.presenter = None  # nothing is shown: the batches stay where the test puts them
    await service.ledger.grant(GUILD, 100, user_id=1, reason=None)
    fresh, _ = await make_batch(service, 2)
    stale, _ = await make_batch(service, 2)
    for batch_id in (fresh, stale):
        await every_job_made(service, batch_id)
        assert await service.batches.claim(batch_id) is not None
    async with service.db.transaction() as tx:
        await tx.execute(
            "UPDATE batches SET updated_at = ? WHERE id = ?", (tx.now - STALE_BATCH_SECONDS - 1, stale)
        )
    assert await service.batches.recover(older_than=STALE_BATCH_SECONDS) == [stale]
    assert await service.batches.state(fresh) == "delivering"
    assert await service.batches.recover() == [fresh, stale], "alone on the database: everything is reopened"


async def test_membership_is_remembered_within_bounds(batch_world, monkeypatch):
    import core.batches

    monkeypatch.setattr(core.batches, "MEMBERS_REMEMBERED", 2)
    service, _ = batch_world()
    await service.ledger.grant(GUILD, 100, user_id=1, reason=None)
    batch_id, jobs = await make_batch(service, 3)
    await posted(service, batch_id)
    store = service.batches
    assert [await store.member(j.id) for j in jobs] == [
        core.batches.Member(batch_id, n, 3) for n in (1, 2, 3)
    ], "each job knows its place, read back from the database once forgotten"
    assert len(store._members) == 2
    assert await store.member(10_000) is None
