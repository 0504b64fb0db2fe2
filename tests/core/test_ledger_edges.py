"""The ledger's edges, each written to kill a mutant the mutation run found alive (tests/mutation.py):
the grant caps at their exact boundary, the data errors carry, the starting-credits entry, and a
monthly allowance without a daily one."""

from __future__ import annotations

import pytest

from core.credit_rules import SpendLimits
from core.errors import AllowanceExceeded, InvalidAmount, NotRefundable
from core.ledger import MAX_GRANT, GuildBalance, Ledger

GUILD = 111


async def reserve(db, ledger, job_id, amount, *, limits=None, user=5):
    async with db.transaction() as tx:
        return await ledger.reserve_in(tx, job_id=job_id, guild_id=GUILD, user_id=user, amount=amount, limits=limits)


async def test_a_grant_of_exactly_the_maximum_is_accepted(db):
    assert MAX_GRANT == 10**9  # the documented cap of one /credits-admin grant
    ledger = Ledger(db)
    assert await ledger.grant(GUILD, 10**9, user_id=1, reason=None) == GuildBalance(GUILD, 10**9, 0)
    with pytest.raises(InvalidAmount) as info:
        await ledger.grant(GUILD, 10**9 + 1, user_id=1, reason=None)
    assert info.value.amount == 10**9 + 1


async def test_a_balance_may_reach_two_to_the_62_and_not_pass_it(db):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 1, user_id=1, reason=None)
    async with db.transaction() as tx:  # no grant gets this far in a test's lifetime: set it directly
        await tx.execute("UPDATE guild_credits SET balance = ? WHERE guild_id = ?", (2**62 - 5, GUILD))
    assert (await ledger.grant(GUILD, 5, user_id=1, reason=None)).balance == 2**62
    with pytest.raises(InvalidAmount) as info:
        await ledger.grant(GUILD, 1, user_id=1, reason=None)
    assert info.value.amount == 1
    assert (await ledger.balance(GUILD)).balance == 2**62


async def test_a_negative_reservation_is_refused_with_its_amount(db):
    ledger = Ledger(db)
    with pytest.raises(InvalidAmount) as info:
        await reserve(db, ledger, 1, -2)
    assert info.value.amount == -2


async def test_starting_credits_are_a_grant_entry_with_its_reason(db):
    ledger = Ledger(db, starting_credits=7)
    assert await ledger.balance(GUILD) == GuildBalance(GUILD, 7, 0), "an unknown guild already shows them"
    assert await reserve(db, ledger, 1, 2) == GuildBalance(GUILD, 7, 2)
    row = await db.fetchone("SELECT * FROM ledger_entries WHERE kind = 'grant'")
    assert (row["amount"], row["balance_after"], row["reason"], row["job_id"]) == (7, 7, "starting credits", None)


@pytest.mark.parametrize(
    ("limits", "period", "limit"),
    [
        (SpendLimits(daily=5, monthly=100), "day", 5),
        (SpendLimits(daily=None, monthly=5), "month", 5),  # no daily limit: the monthly one still applies
        (SpendLimits(daily=100, monthly=5), "month", 5),
    ],
)
async def test_an_allowance_refusal_names_its_period_and_numbers(db, limits, period, limit):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 1000, user_id=1, reason=None)
    await reserve(db, ledger, 1, 3, limits=limits, user=7)
    with pytest.raises(AllowanceExceeded) as info:
        await reserve(db, ledger, 2, 3, limits=limits, user=7)
    refused = info.value
    assert (refused.period, refused.limit, refused.used, refused.cost) == (period, limit, 3, 3)


async def charge(db, ledger, job_id, amount, *, user, guild=GUILD):
    async with db.transaction() as tx:
        await ledger.reserve_in(tx, job_id=job_id, guild_id=guild, user_id=user, amount=amount)
        await ledger.capture_in(tx, job_id)


async def test_spent_counts_one_members_captures_in_one_guild_since_a_time(db):
    ledger = Ledger(db)
    for guild in (GUILD, 222):
        await ledger.grant(guild, 100, user_id=1, reason=None)
    await charge(db, ledger, 1, 3, user=7)
    await charge(db, ledger, 2, 4, user=8)
    await charge(db, ledger, 3, 5, user=7, guild=222)
    async with db.transaction() as tx:
        await ledger.reserve_in(tx, job_id=4, guild_id=GUILD, user_id=7, amount=6)  # held, not spent
    captured_at = (await db.fetchone("SELECT created_at FROM ledger_entries WHERE job_id = 1 AND kind = 'capture'"))[0]
    assert await ledger.spent_since(GUILD, 7, captured_at) == 3
    assert await ledger.spent_since(GUILD, 7, captured_at + 1) == 0
    assert await ledger.spent_today(GUILD, 7, captured_at) == 3
    assert await ledger.spent_today(GUILD, 7, captured_at + 2 * 86_400) == 0, "yesterday's spending is not today's"
    assert await ledger.spent_today(GUILD, 9, captured_at) == 0


async def test_guild_summaries_are_richest_first_with_spending_net_of_refunds(db):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 50, user_id=1, reason=None)
    await ledger.grant(222, 80, user_id=1, reason=None)
    await ledger.grant(333, 50, user_id=1, reason=None)
    await charge(db, ledger, 1, 10, user=7)
    await charge(db, ledger, 2, 4, user=7)
    await ledger.refund(2, guild_id=GUILD, by=1, reason=None)
    await charge(db, ledger, 3, 30, user=7, guild=222)
    assert await ledger.guild_summaries() == [(222, 50, 30), (333, 50, 0), (GUILD, 40, 10)]  # ties by id


async def test_a_second_refund_names_the_job(db):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 10, user_id=1, reason=None)
    await charge(db, ledger, 4, 3, user=7)
    await ledger.refund(4, guild_id=GUILD, by=1, reason=None)
    with pytest.raises(NotRefundable) as info:
        await ledger.refund(4, guild_id=GUILD, by=1, reason=None)
    assert (info.value.job_id, info.value.why) == (4, "already_refunded")


async def test_the_day_starts_at_midnight_utc(db, monkeypatch):
    midnight = 19_676 * 86_400.0  # 2023-11-15 00:00:00 UTC
    ledger = Ledger(db)
    await ledger.grant(GUILD, 10, user_id=1, reason=None)
    monkeypatch.setattr("core.db.time.time", lambda: midnight)  # the capture lands on the day's first instant
    await charge(db, ledger, 1, 3, user=7)
    monkeypatch.undo()
    later = midnight + 5 * 3600 + 7 * 60 + 9.000011  # 05:07:09.000011: every field of the time is set
    assert await ledger.spent_today(GUILD, 7, later) == 3
    assert await ledger.spent_today(GUILD, 7, midnight + 86_400) == 0, "the next day starts afresh"
