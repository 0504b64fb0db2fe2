"""The key's window and the guild round-robin shared by every process (both backends; on PostgreSQL
each "process" has its own connections to the database)."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.db_postgres import PgDatabase
from core.jobs import JobKind, JobState
from core.leases import JobLeases
from core.ledger import Ledger
from core.models import GenerationSpec, ModelId
from core.ratelimit import _OPEN
from core.shared_queue import SharedQueue
from core.shared_window import OPEN_CAP, SharedWindowLimiter
from tests.core.test_generation import CHANNEL, USER, segmind, settle, world  # noqa: F401 - fixtures

SPEC = GenerationSpec(model=ModelId.KLEIN, prompt="a red fox", seed=1)
FLOOD, SMALL = 100, 200


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
async def second_db(db, backend):
    """Another process's handle on the same database."""
    if backend == "sqlite":
        yield db
        return
    other = await PgDatabase.open(db.url)
    yield other
    await other.close()


async def test_two_processes_never_exceed_the_window_together(db, second_db):
    clock = Clock()
    first = SharedWindowLimiter(db, 2, 10.0, clock=clock, sleep=clock.sleep)
    second = SharedWindowLimiter(second_db, 2, 10.0, clock=clock, sleep=clock.sleep)
    sent = []
    for limiter in (first, second, first, second, first, second):
        await limiter.acquire()
        sent.append(clock.now)
    for index in range(2, len(sent)):
        assert sent[index] - sent[index - 2] >= 10.0, f"3 requests within one window: {sent}"
    assert sent[2] < 1010.0 + 1.0, "a place is given as soon as the window has room"


async def test_a_request_counts_until_its_answer_then_from_it(db, second_db):
    clock = Clock()
    first = SharedWindowLimiter(db, 1, 10.0, clock=clock, sleep=clock.sleep)
    second = SharedWindowLimiter(second_db, 1, 10.0, clock=clock, sleep=clock.sleep)
    token = await first.reserve()  # open: its request may still be on its way
    clock.now += OPEN_CAP - 1  # longer than the window: only being open keeps it counted
    assert (await second._try_take(None))[0] is None, "an open request still counts"
    first._settle(token._entry, clock.now - 5)  # answered 5 s ago
    await first.flush()
    assert (await second._try_take(None))[0] is None, "counted from its answer"
    clock.now += 5
    assert (await second._try_take(None))[0] is not None


async def test_a_place_left_open_by_a_dead_process_frees_after_the_cap(db, second_db):
    clock = Clock()
    dead = SharedWindowLimiter(db, 1, 10.0, clock=clock, sleep=clock.sleep)
    alive = SharedWindowLimiter(second_db, 1, 10.0, clock=clock, sleep=clock.sleep)
    await dead.reserve()
    clock.now += OPEN_CAP
    assert (await alive._try_take(_OPEN))[0] is None
    clock.now += 10.0
    assert (await alive._try_take(_OPEN))[0] is not None


async def test_a_returned_place_is_free_at_once(db, second_db):
    clock = Clock()
    first = SharedWindowLimiter(db, 1, 10.0, clock=clock, sleep=clock.sleep)
    second = SharedWindowLimiter(second_db, 1, 10.0, clock=clock, sleep=clock.sleep)
    token = await first.reserve()
    token.give_back()
    await first.flush()
    assert (await second._try_take(None))[0] is not None


def sharing(world, db, name: str, **limits):  # noqa: F811 - the fixture's builder
    service, presenter = world(limiter=limits.get("gate"))
    service.leases = JobLeases(db, name, lease_seconds=30)
    service.scheduler = SharedQueue(service.scheduler.run, db=db, leases=service.leases, poll=0.02, **limits)
    return service, presenter


async def test_a_small_guild_waits_at_most_one_round_behind_a_flood_across_processes(
    world, segmind, db, second_db  # noqa: F811
):
    ledger = Ledger(db)
    for guild in (FLOOD, SMALL):
        await ledger.grant(guild, 100, user_id=USER, reason="test")
    segmind.latency = 0.3
    flooding, _ = sharing(world, db, "a", global_limit=1, per_guild_limit=8)
    small, _ = sharing(world, second_db, "b", global_limit=1, per_guild_limit=8)
    await flooding.resume()
    await small.resume()
    flood = [
        await flooding.create_job(guild_id=FLOOD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC)
        for _ in range(8)
    ]
    mine = await small.create_job(guild_id=SMALL, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC)
    for job in [*flood, mine]:
        await settle(flooding, job.id, JobState.POSTED)
    rows = await db.fetchall("SELECT id, guild_id FROM jobs ORDER BY dispatched_at, id")
    order = [int(r["id"]) for r in rows]
    ahead = order.index(mine.id)
    assert ahead <= 3, f"{ahead} flood jobs started before the small guild's, which came after 8: {order}"
    assert len(segmind.submits) == 9, "each job submitted once, by one process"
    fences = await db.fetchall("SELECT fence FROM jobs")
    assert {int(r["fence"]) for r in fences} == {1}, "each job claimed once"


async def test_no_guild_has_more_jobs_out_than_its_cap_across_processes(world, segmind, db, second_db):  # noqa: F811
    await Ledger(db).grant(FLOOD, 100, user_id=USER, reason="test")
    segmind.latency = 0.2
    first, _ = sharing(world, db, "a", global_limit=4, per_guild_limit=1)
    second, _ = sharing(world, second_db, "b", global_limit=4, per_guild_limit=1)
    await first.resume()
    await second.resume()
    jobs = [
        await first.create_job(guild_id=FLOOD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC)
        for _ in range(4)
    ]
    for job in jobs:
        await settle(first, job.id, JobState.POSTED)
    spans = sorted(
        (r["dispatched_at"], r["finished_at"])
        for r in await db.fetchall("SELECT dispatched_at, finished_at FROM jobs")
    )
    for (_, finished), (started, _) in zip(spans, spans[1:], strict=False):
        assert started >= finished - 1e-6, f"two jobs of one guild out at once with a cap of 1: {spans}"


async def test_a_job_claimed_by_a_process_that_died_before_starting_it_goes_back_to_the_queue(
    world, segmind, db, second_db  # noqa: F811
):
    await Ledger(db).grant(FLOOD, 100, user_id=USER, reason="test")
    dead, _ = sharing(world, db, "dead", global_limit=1, per_guild_limit=1)
    job = await dead.create_job(guild_id=FLOOD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC)
    await dead.scheduler.close()  # its loop never ran: the claim below is all it did before dying
    assert (await dead.scheduler._claim())[:2] == (FLOOD, job.id)
    alive, shown = sharing(world, second_db, "alive", global_limit=1, per_guild_limit=1)
    alive.leases._clock = lambda: time.time() + 31  # the dead process's lease has run out
    await alive.resume()  # takes the job over, puts it back in the queue, claims and runs it
    await settle(alive, job.id, JobState.POSTED)
    assert [d[0] for d in shown.delivered] == [job.id]
    assert len(segmind.submits) == 1
    row = await db.fetchone("SELECT owner, fence FROM jobs WHERE id = ?", (job.id,))
    assert row["owner"] == "alive" and int(row["fence"]) == 3, "claimed, taken over, claimed again"


async def test_a_place_reserved_too_long_ago_is_exchanged_for_a_fresh_one(db):
    """A row left open by a dead process counts only OPEN_CAP: a job that holds its reserved place
    longer than half of that before sending gets a new place, so its request cannot arrive uncounted."""
    clock = Clock()
    limiter = SharedWindowLimiter(db, 5, 10.0, clock=clock, sleep=clock.sleep)
    token = await limiter.reserve()
    clock.now += OPEN_CAP / 2 + 1

    async def send() -> None:
        token.hold()
        await limiter.acquire()

    await asyncio.create_task(send())
    await limiter.flush()
    rows = await db.fetchall("SELECT taken_at FROM rate_slots")
    assert [r["taken_at"] for r in rows] == [clock.now], "the old place given back, a new one taken now"


async def test_with_the_shared_window_a_place_is_taken_only_for_a_job_claimed(world, segmind, db):  # noqa: F811
    await Ledger(db).grant(FLOOD, 100, user_id=USER, reason="test")
    gate = SharedWindowLimiter(db, 100, 60.0)
    service, _ = sharing(world, db, "a", global_limit=2, per_guild_limit=2, gate=gate)
    await service.resume()
    jobs = [
        await service.create_job(guild_id=FLOOD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC)
        for _ in range(3)
    ]
    for job in jobs:
        await settle(service, job.id, JobState.POSTED)
    await gate.flush()
    rows = await db.fetchall("SELECT answered_at FROM rate_slots")
    assert len(rows) == 3 and all(r["answered_at"] is not None for r in rows), "one place per job, each answered"


async def test_the_lease_keeper_does_not_take_a_job_slot(world, segmind, db):  # noqa: F811
    """With room for one job in flight, the keeper running beside the queue must not use that room."""
    await Ledger(db).grant(FLOOD, 100, user_id=USER, reason="test")
    service, shown = sharing(world, db, "a", global_limit=1, per_guild_limit=1)
    service.scheduler._keep = lambda: service.leases.keep(service.resume)
    await service.resume()  # starts the keeper and the admission
    job = await service.create_job(guild_id=FLOOD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=SPEC)
    await settle(service, job.id, JobState.POSTED)
    assert [d[0] for d in shown.delivered] == [job.id]
