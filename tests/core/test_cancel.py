"""Cancelling a queued job: out of the queue, refunded and its reservation released in one go."""

from __future__ import annotations

import pytest

from core.errors import JobAlreadyStarted
from core.jobs import JobState
from core.models import GenerationSpec
from tests.core.test_generation import GUILD, new_job, segmind, settle, world  # noqa: F401 - fixtures


async def test_a_queued_job_is_released_and_never_sent(world, segmind):  # noqa: F811
    service, presenter = world(per_guild_limit=1)
    await service.ledger.grant(GUILD, 100, user_id=1, reason=None)
    segmind.slow("lighthouse", 1.0)  # the first job holds the guild's only slot while the second waits
    running = await new_job(service)
    waiting = await new_job(service, GenerationSpec(prompt="hold on"))
    assert service.place(waiting.id) == 0
    cancelled = await service.cancel(waiting.id)
    assert cancelled.state is JobState.REFUNDED and cancelled.error_kind == "JobCancelled"
    assert (await service.ledger.balance(GUILD)).reserved == running.price, "only the running job holds credits"
    entries = await service.db.fetchall(
        "SELECT kind, amount FROM ledger_entries WHERE job_id = ? ORDER BY id", (waiting.id,)
    )
    assert [(e["kind"], e["amount"]) for e in entries] == [("reserve", waiting.price), ("release", waiting.price)]
    with pytest.raises(JobAlreadyStarted):
        await service.cancel(running.id)
    await settle(service, running.id, JobState.POSTED)
    assert [s["prompt"] for s in segmind.submits] == ["a lighthouse at dusk"], "the cancelled job never reached Segmind"
    assert presenter.failed == [], "a cancel is not reported as a failure"
