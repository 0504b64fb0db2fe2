"""Segmind account incidents: one alert per incident, kept across restarts, and no job admitted
(or charged) while the account is out of credit. Real SQLite throughout."""

from __future__ import annotations

import asyncio

import pytest

from core.account import AccountWatch, incident_meta_key
from core.errors import AccountExhausted, ProviderAccountEmpty, ProviderAuthError, ProviderOutOfCredits
from core.events import (
    Event,
    EventBus,
    JobFailed,
    ProviderBalanceLow,
    ProviderCreditRestored,
    ProviderKeyAccepted,
    ProviderKeyRefused,
    ProviderOutOfCredit,
)
from core.jobs import JobState
from tests.core.test_generation import GUILD, new_job, segmind, settle, world  # noqa: F401 - fixtures


class Recorder:
    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        bus.subscribe(Event, self.record)

    async def record(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]


def watch_on(db, bus: EventBus, fetch=None) -> AccountWatch:
    return AccountWatch(low_threshold_usd=0.0, fetch=fetch, events=bus, meta=db)


async def test_out_of_credit_alerts_once_refuses_jobs_and_ends_on_a_positive_read(db):
    bus = EventBus()
    seen = Recorder(bus)
    watch = watch_on(db, bus)
    await watch.observe(40.0)
    watch.ensure_can_cover(0.0, 0.073)

    failures = [ProviderOutOfCredits("Insufficient credits", status=406) for _ in range(3)]
    await asyncio.gather(*(watch.note_failure(f) for f in failures))
    assert len(seen.of(ProviderOutOfCredit)) == 1, "three 406s at once are one incident, one alert"
    with pytest.raises(ProviderAccountEmpty):
        watch.ensure_can_cover(0.0, 0.073)  # the stale $40 reading does not let jobs through
    assert await db.get_meta(incident_meta_key("credit")) == "open"

    await watch.observe(0.0)
    assert len(seen.of(ProviderOutOfCredit)) == 1, "reading nothing left during the incident says nothing new"
    await watch.observe(12.5)
    assert [e.balance_usd for e in seen.of(ProviderCreditRestored)] == [12.5]
    watch.ensure_can_cover(0.0, 0.073)
    assert await db.get_meta(incident_meta_key("credit")) == ""

    await watch.note_failure(ProviderOutOfCredits("again", status=406))
    assert len(seen.of(ProviderOutOfCredit)) == 2, "a new incident after the recovery is told again"


async def test_a_restart_keeps_refusing_without_telling_again(db):
    first_bus = EventBus()
    first = watch_on(db, first_bus)
    first_seen = Recorder(first_bus)
    await first.note_failure(ProviderOutOfCredits("Insufficient credits", status=406))
    assert len(first_seen.of(ProviderOutOfCredit)) == 1

    bus = EventBus()
    seen = Recorder(bus)
    restarted = watch_on(db, bus)
    await restarted.restore()
    with pytest.raises(ProviderAccountEmpty):
        restarted.ensure_can_cover(0.0, 0.015)
    await restarted.note_failure(ProviderOutOfCredits("still", status=406))
    assert seen.of(ProviderOutOfCredit) == [], "the owners were told before the restart"
    await restarted.observe(3.0)
    assert len(seen.of(ProviderCreditRestored)) == 1
    restarted.ensure_can_cover(0.0, 0.015)


async def test_a_positive_balance_that_cannot_cover_a_job_still_refuses(db):
    watch = watch_on(db, EventBus())
    await watch.observe(0.01)
    with pytest.raises(AccountExhausted):
        watch.ensure_can_cover(0.0, 0.073)


async def test_key_refused_alerts_once_until_a_generation_succeeds(db):
    bus = EventBus()
    seen = Recorder(bus)
    calls = []

    async def fetch() -> float:
        calls.append(1)
        return 20.0

    watch = watch_on(db, bus, fetch)
    for _ in range(2):
        await watch.note_failure(ProviderAuthError("Invalid or missing API key", status=401))
    assert [(e.status, e.detail) for e in seen.of(ProviderKeyRefused)] == [(401, "Invalid or missing API key")]
    assert watch.key_refused and await db.get_meta(incident_meta_key("key")) == "open"

    await watch.refresh(force=True)
    assert calls and watch.key_refused, "a balance read is not a generation: a 403 for the model may persist"
    watch.ensure_can_cover(0.0, 0.073)  # a refused key does not block admission: jobs fail uncharged

    await watch.note_success()
    await watch.note_success()
    assert len(seen.of(ProviderKeyAccepted)) == 1
    assert await db.get_meta(incident_meta_key("key")) == ""
    await watch.note_failure(ProviderAuthError("revoked", status=403))
    assert len(seen.of(ProviderKeyRefused)) == 2


async def test_the_balance_endpoint_refusing_the_key_opens_the_incident(db):
    bus = EventBus()
    seen = Recorder(bus)

    async def fetch() -> float:
        raise ProviderAuthError("Invalid or missing API key", status=401)

    watch = watch_on(db, bus, fetch)
    await watch.refresh(force=True)
    assert len(seen.of(ProviderKeyRefused)) == 1


async def test_after_a_406_the_next_job_is_refused_uncharged_until_the_balance_reads_positive(world, segmind, db):  # noqa: F811
    service, presenter = world()
    bus = service.events
    seen = Recorder(bus)
    service.account = AccountWatch(
        low_threshold_usd=0.0, fetch=service.client.account_credits, events=bus, meta=db
    )
    await service.account.refresh(force=True)  # reads the fake's $100
    await service.ledger.grant(GUILD, 10, user_id=1, reason=None)

    segmind.account_credits = 0.0  # emptied behind the bot's back: its last reading is stale
    job = await new_job(service)
    await settle(service, job.id, JobState.REFUNDED)
    assert [type(e).__name__ for _, e in presenter.failed] == ["ProviderOutOfCredits"]
    assert [e.job.id for e in seen.of(JobFailed)] == [job.id]
    assert len(seen.of(ProviderOutOfCredit)) == 1
    submits = len(segmind.calls("submit"))

    with pytest.raises(ProviderAccountEmpty):
        await new_job(service)
    assert len(segmind.calls("submit")) == submits, "the refused job never reached Segmind"
    assert (await db.fetchone("SELECT COUNT(*) AS n FROM jobs"))["n"] == 1, "no job row for the refused one"
    balance = await service.ledger.balance(GUILD)
    assert (balance.balance, balance.reserved) == (10, 0), "nothing charged or held"

    await service.account.refresh(force=True)
    with pytest.raises(ProviderAccountEmpty):
        await new_job(service)  # still empty at Segmind

    segmind.account_credits = 50.0
    await service.account.refresh(force=True)
    assert len(seen.of(ProviderCreditRestored)) == 1
    ok = await new_job(service)
    await settle(service, ok.id, JobState.POSTED)
    assert (await service.ledger.balance(GUILD)).balance == 8


async def test_the_low_balance_alert_is_once_per_fall_across_restarts_and_silent_when_empty(db):
    bus = EventBus()
    seen = Recorder(bus)
    watch = AccountWatch(low_threshold_usd=5.0, events=bus, meta=db)
    await watch.observe(4.0)
    assert [e.balance_usd for e in seen.of(ProviderBalanceLow)] == [4.0]

    restarted_bus = EventBus()
    restarted_seen = Recorder(restarted_bus)
    restarted = AccountWatch(low_threshold_usd=5.0, events=restarted_bus, meta=db)
    await restarted.restore()
    await restarted.observe(3.0)
    assert restarted_seen.events == [], "the fall was told before the restart"
    await restarted.observe(9.0)
    await restarted.note_failure(ProviderOutOfCredits("Insufficient credits", status=406))
    await restarted.observe(0.0)
    assert [type(e) for e in restarted_seen.events] == [ProviderOutOfCredit], "empty says it all: no 'low' too"


async def test_a_406_while_the_account_reads_positive_refuses_nobody(db):
    bus = EventBus()
    seen = Recorder(bus)
    reads: list[float] = [0.05]

    async def fetch() -> float:
        return reads[-1]

    watch = watch_on(db, bus, fetch)
    await watch.note_failure(ProviderOutOfCredits("Insufficient credits", status=406))
    assert seen.of(ProviderOutOfCredit) == [] and not watch.out_of_credit
    assert watch.balance_usd == 0.05, "the 406 made the bot read the balance"
    watch.ensure_can_cover(0.0, 0.015)  # a cheap job still fits
    with pytest.raises(AccountExhausted):
        watch.ensure_can_cover(0.0, 0.073)

    reads.append(0.0)
    await watch.note_failure(ProviderOutOfCredits("Insufficient credits", status=406))
    assert [e.balance_usd for e in seen.of(ProviderOutOfCredit)] == [0.0]
    with pytest.raises(ProviderAccountEmpty):
        watch.ensure_can_cover(0.0, 0.015)
