"""The stores the other modules' tests reach only through the bot (moderation, spending rules,
undeliverable results, a job's life), called directly, on SQLite and on PostgreSQL alike: each
statement they send runs on both backends and gives the same answers."""

from __future__ import annotations

import pytest

from core.credit_rules import Allowance, CreditRules
from core.jobs import JobKind, JobNotFound, JobState, JobStore
from core.models import GenerationSpec, ModelId
from core.moderation import ModerationStore, NewRequest

GUILD, OTHER, CHANNEL, ALICE, BOB, MOD = 1_200_000_000_000_000_001, 2, 3, 1_200_000_000_000_000_021, 5, 6


async def new_job(db, jobs: JobStore, *, user=ALICE, guild=GUILD, model=ModelId.KLEIN) -> int:
    spec = GenerationSpec(prompt="a fox", model=model, references=["ab" * 32])
    async with db.transaction() as tx:
        return await jobs.insert_in(
            tx, guild_id=guild, channel_id=CHANNEL, user_id=user, kind=JobKind.IMAGINE, spec=spec, price=2,
            parent_job_id=None, interaction=None,
        )


async def test_a_job_through_its_life(db):
    jobs = JobStore(db)
    first, second = await new_job(db, jobs), await new_job(db, jobs, model=ModelId.PRO)
    assert second > first and (await jobs.get(first)).user_id == ALICE
    assert await jobs.count_waiting(GUILD) == 2
    assert await jobs.in_flight_by_model() == {ModelId.KLEIN: 1, ModelId.PRO: 1}
    running, last_at, recent = await jobs.member_usage(GUILD, ALICE, 0)
    assert (running, recent) == (2, 2) and last_at is not None
    assert await jobs.mark_submitting(first, 10.0) and not await jobs.mark_submitting(first, 11.0)
    assert await jobs.mark_submitted(first, "req-1")
    async with db.transaction() as tx:
        assert await jobs.succeed_in(tx, first, blob="cd" * 32, mime="image/png", seed=7, cost_usd=0.25)
        assert await jobs.refund_in(tx, second, error_kind="upstream", error_detail="boom")
    assert await jobs.usd_by_guild() == {GUILD: 0.25}
    assert await jobs.mark_posted(first, channel_id=CHANNEL, message_id=99)
    assert not await jobs.mark_posted(first, channel_id=CHANNEL, message_id=98), "posted once"
    assert (await jobs.by_result_message(99)).id == first
    assert [j.id for j in await jobs.unfinished()] == [second], "a refund not yet told stays unfinished"
    await jobs.mark_notified(second)
    assert await jobs.unfinished() == []
    assert await jobs.blobs_in_use(since=0) == {"ab" * 32, "cd" * 32}
    with pytest.raises(JobNotFound):
        await jobs.get(second + 100)


async def test_undeliverable_results_can_be_reopened_once(db):
    jobs = JobStore(db)
    job = await new_job(db, jobs)
    async with db.transaction() as tx:
        await jobs.succeed_in(tx, job, blob="cd" * 32, mime="image/png", seed=None, cost_usd=None, request_id="r")
    await jobs.mark_delivery_failed(job, give_up=False, detail="503")
    assert (await jobs.get(job)).state == JobState.SUCCEEDED
    await jobs.mark_delivery_failed(job, give_up=True, detail="gone")
    [item] = await jobs.undeliverable()
    assert (item.job_id, item.user_id, item.detail) == (job, ALICE, "gone")
    assert await jobs.undeliverable_image(job) == "cd" * 32
    assert await jobs.reopen_undeliverable(job) and not await jobs.reopen_undeliverable(job)
    assert await jobs.undeliverable() == [] and await jobs.undeliverable_image(job) is None


async def test_moderation_policy_blocks_reports_and_reviews(db):
    jobs, moderation = JobStore(db), ModerationStore(db)
    job = await new_job(db, jobs)

    def stricter(policy):
        policy.blocked_terms = ["dragon"]
        return policy

    await moderation.update_policy(GUILD, MOD, stricter)
    assert (await ModerationStore(db).policy(GUILD)).blocked_terms == ["dragon"], "read back, not the cache"
    await moderation.block(GUILD, BOB, by=MOD, reason="spam")
    await moderation.block(GUILD, BOB, by=MOD, reason="still spam")
    assert await moderation.block_of(GUILD, BOB) == (True, "still spam")
    assert await moderation.blocked_members(GUILD) == [BOB]
    assert await moderation.unblock(GUILD, BOB) and not await moderation.unblock(GUILD, BOB)
    assert await moderation.add_report(GUILD, job, BOB) == 1
    assert await moderation.add_report(GUILD, job, BOB) is None, "one report per member"
    assert await moderation.add_report(GUILD, job, MOD) == 2
    assert await moderation.result_status(job) == "visible"
    assert await moderation.set_result_status(GUILD, job, "hidden", by=MOD)
    assert not await moderation.set_result_status(GUILD, job, "removed", by=MOD, only_from=("visible",))
    assert await moderation.result_status(job) == "hidden"
    request = await moderation.create_request(
        NewRequest(
            guild_id=GUILD, channel_id=CHANNEL, user_id=ALICE, kind=JobKind.IMAGINE,
            spec=GenerationSpec(prompt="a fox", references=["ef" * 32]), interaction=None,
        )
    )
    assert await moderation.blobs_in_use() == ({"ef" * 32}, {job})
    assert (await moderation.request(request)).status == "pending"
    assert await moderation.decide_request(request, "approved", by=MOD)
    assert not await moderation.decide_request(request, "rejected", by=MOD), "decided once"
    await moderation.link_request_job(request, job)
    await moderation.fail_request(request)
    stored = await moderation.request(request)
    assert (stored.status, stored.job_id) == ("rejected", job)


async def test_spending_rules_and_the_low_balance_alert(db):
    rules = CreditRules(db)
    await rules.set_allowance(GUILD, Allowance("member", ALICE, 5, None))
    await rules.set_allowance(GUILD, Allowance("member", ALICE, 6, 50))
    await rules.set_allowance(GUILD, Allowance("role", 77, None, None, unlimited=True))
    assert sorted(await rules.allowances(GUILD), key=lambda a: a.scope) == [
        Allowance("member", ALICE, 6, 50), Allowance("role", 77, None, None, True),
    ]
    assert await rules.clear_allowance(GUILD, "role", 77) and not await rules.clear_allowance(GUILD, "role", 77)
    await rules.update_settings(GUILD, quote_above=10, confirm_all=True, low_balance_below=20)
    settings = await rules.settings(GUILD)
    assert (settings.quote_above, settings.confirm_all, settings.low_balance_below) == (10, True, 20)
    assert [await rules.note_balance(GUILD, b) for b in (25, 19, 18, 30, 5)] == [False, True, False, False, True]
    assert await rules.note_balance(OTHER, 0) is False, "no threshold, no alert"
