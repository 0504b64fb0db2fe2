"""The credit ledger: reserve → capture | release, idempotent per job, never negative."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.credit_rules import Allowance, SpendLimits, effective_limits
from core.db import Database
from core.errors import AllowanceExceeded, InsufficientCredits, InvalidAmount, NotRefundable
from core.ledger import Ledger

GUILD = 111


async def reserve(
    db: Database, ledger: Ledger, job_id: int, amount: int, guild: int = GUILD, limits=None, user=5
):
    async with db.transaction() as tx:
        return await ledger.reserve_in(
            tx, job_id=job_id, guild_id=guild, user_id=user, amount=amount, limits=limits
        )


async def capture(db: Database, ledger: Ledger, job_id: int) -> bool:
    async with db.transaction() as tx:
        return await ledger.capture_in(tx, job_id)


async def release(db: Database, ledger: Ledger, job_id: int) -> bool:
    async with db.transaction() as tx:
        return await ledger.release_in(tx, job_id)


async def test_new_guild_starts_with_starting_credits(db):
    ledger = Ledger(db, starting_credits=7)
    assert (await ledger.balance(GUILD)).balance == 7
    await reserve(db, ledger, 1, 2)
    assert await ledger.totals(GUILD) == {"grant": 7, "reserve": 2}


async def test_reserve_then_capture_charges_once(db):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 10, user_id=1, reason="test")
    await reserve(db, ledger, 1, 8)
    assert (await ledger.balance(GUILD)).available == 2
    assert await capture(db, ledger, 1) is True
    assert await capture(db, ledger, 1) is False, "a second capture of the same job must do nothing"
    balance = await ledger.balance(GUILD)
    assert (balance.balance, balance.reserved) == (2, 0)


async def test_release_gives_everything_back_and_blocks_capture(db):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 10, user_id=1, reason=None)
    await reserve(db, ledger, 1, 8)
    assert await release(db, ledger, 1) is True
    assert await capture(db, ledger, 1) is False, "a released job cannot be charged afterwards"
    assert await release(db, ledger, 1) is False
    balance = await ledger.balance(GUILD)
    assert (balance.balance, balance.reserved) == (10, 0)


async def test_reserve_is_idempotent_per_job(db):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 10, user_id=1, reason=None)
    await reserve(db, ledger, 1, 4)
    await reserve(db, ledger, 1, 4)
    assert (await ledger.balance(GUILD)).reserved == 4


async def test_reserve_beyond_available_is_refused_with_the_numbers(db):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 5, user_id=1, reason=None)
    await reserve(db, ledger, 1, 4)
    with pytest.raises(InsufficientCredits) as info:
        await reserve(db, ledger, 2, 2)
    assert (info.value.balance, info.value.cost) == (1, 2)
    assert await ledger.totals(GUILD) == {"grant": 5, "reserve": 4}, "a refused reservation writes nothing"


@pytest.mark.parametrize("amount", [0, -3, 10**9 + 1])
async def test_grant_rejects_bad_amounts(db, amount):
    ledger = Ledger(db)
    with pytest.raises(InvalidAmount):
        await ledger.grant(GUILD, amount, user_id=1, reason=None)
    assert (await ledger.balance(GUILD)).balance == 0


async def test_ledger_entries_are_append_only(db, integrity_error):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 5, user_id=1, reason=None)
    with pytest.raises(integrity_error):
        async with db.transaction() as tx:
            await tx.execute("UPDATE ledger_entries SET amount = 500")
    with pytest.raises(integrity_error):
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM ledger_entries")


async def test_200_concurrent_requests_against_a_small_balance(db):
    """The acceptance test: no overspend, no double charge, balance = grants − captures."""
    ledger = Ledger(db)
    await ledger.grant(GUILD, 50, user_id=1, reason="seed")
    price = 3
    accepted: list[int] = []
    refused = 0

    async def request(job_id: int) -> None:
        nonlocal refused
        try:
            await reserve(db, ledger, job_id, price)
        except InsufficientCredits:
            refused += 1
            return
        accepted.append(job_id)
        await asyncio.sleep(0)
        # Every third job fails and is released; the others are captured, some twice (a replay).
        if job_id % 3 == 0:
            await release(db, ledger, job_id)
        else:
            await capture(db, ledger, job_id)
            await capture(db, ledger, job_id)

    await asyncio.gather(*(request(i) for i in range(1, 201)))
    totals = await ledger.totals(GUILD)
    balance = await ledger.balance(GUILD)
    captured = [j for j in accepted if j % 3 != 0]
    assert refused + len(accepted) == 200
    assert totals["capture"] == price * len(captured), "each captured job is charged exactly once"
    assert balance.balance == totals["grant"] - totals["capture"] >= 0
    assert balance.reserved == 0
    # Released credits are reusable, so more than 50 // 3 jobs may have run, but never overspent.
    assert totals["capture"] <= 50


async def test_refund_happens_once_and_only_for_charged_jobs(db):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 10, user_id=1, reason=None)
    await reserve(db, ledger, 1, 4)
    with pytest.raises(NotRefundable) as held:
        await ledger.refund(1, guild_id=GUILD, by=9, reason="x")
    assert held.value.why == "not_charged"
    await capture(db, ledger, 1)
    assert (await ledger.refund(1, guild_id=GUILD, by=9, reason="bad image")).balance == 10
    with pytest.raises(NotRefundable) as again:
        await ledger.refund(1, guild_id=GUILD, by=9, reason="again")
    assert again.value.why == "already_refunded"
    with pytest.raises(NotRefundable):
        await ledger.refund(1, guild_id=GUILD + 1, by=9, reason="other guild")
    totals = await ledger.totals(GUILD)
    assert (
        (await ledger.balance(GUILD)).balance == totals["grant"] - totals["capture"] + totals["refund"] == 10
    )


async def test_allowance_holds_under_concurrent_requests_from_one_member(db):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 1000, user_id=1, reason=None)
    limits = SpendLimits(daily=10, monthly=None, day_start=0.0, month_start=0.0)
    outcomes: list[str] = []

    async def request(job_id: int) -> None:
        try:
            await reserve(db, ledger, job_id, 3, limits=limits, user=77)
            outcomes.append("ok")
        except AllowanceExceeded:
            outcomes.append("refused")

    await asyncio.gather(*(request(i) for i in range(1, 51)))
    assert outcomes.count("ok") == 3, "3 × 3 = 9 fits in 10; a fourth would make 12"
    assert await ledger.allowance_used(GUILD, 77, 0.0) == 9
    # Another member is not affected by this member's allowance.
    await reserve(db, ledger, 999, 3, limits=limits, user=78)


async def test_released_and_refunded_jobs_give_the_allowance_back(db):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 100, user_id=1, reason=None)
    limits = SpendLimits(daily=6, day_start=0.0)
    await reserve(db, ledger, 1, 3, limits=limits, user=7)
    await reserve(db, ledger, 2, 3, limits=limits, user=7)
    with pytest.raises(AllowanceExceeded):
        await reserve(db, ledger, 3, 3, limits=limits, user=7)
    await release(db, ledger, 1)
    await capture(db, ledger, 2)
    await ledger.refund(2, guild_id=GUILD, by=1, reason=None)
    await reserve(db, ledger, 3, 3, limits=limits, user=7)
    await reserve(db, ledger, 4, 3, limits=limits, user=7)


@pytest.mark.parametrize(
    ("allowances", "roles", "daily", "monthly"),
    [
        ([], set(), None, None),
        ([Allowance("role", GUILD, 10, 100)], set(), 10, 100),  # @everyone
        ([Allowance("role", GUILD, 10, 100), Allowance("role", 5, 4, None)], {5}, 4, 100),  # tightest wins
        (
            [Allowance("role", GUILD, 10, 100), Allowance("role", 6, None, None, unlimited=True)],
            {6},
            None,
            None,
        ),
        ([Allowance("role", 6, None, None, unlimited=True), Allowance("member", 42, 2, None)], {6}, 2, None),
        ([Allowance("member", 43, 2, None)], set(), None, None),  # someone else's
    ],
)
def test_effective_limits(allowances, roles, daily, monthly):
    limits = effective_limits(
        allowances, user_id=42, role_ids=frozenset(roles), guild_id=GUILD, now=1_700_000_000
    )
    assert (limits.daily, limits.monthly) == (daily, monthly)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["grant", "reserve", "capture", "release", "refund"]),
            st.integers(1, 12),
            st.integers(0, 9),
        ),
        max_size=60,
    )
)
def test_ledger_invariant_over_random_interleavings(tmp_path_factory, ops):
    async def scenario() -> None:
        db = await Database.open(tmp_path_factory.mktemp("ledger") / "p.db")
        ledger = Ledger(db)
        try:

            async def apply(op: str, job: int, amount: int) -> None:
                try:
                    if op == "grant":
                        await ledger.grant(GUILD, amount + 1, user_id=1, reason=None)
                    elif op == "reserve":
                        await reserve(db, ledger, job, amount)
                    elif op == "capture":
                        await capture(db, ledger, job)
                    elif op == "refund":
                        await ledger.refund(job, guild_id=GUILD, by=1, reason=None)
                    else:
                        await release(db, ledger, job)
                except (InsufficientCredits, InvalidAmount, NotRefundable):
                    pass

            # Run the operations concurrently so their transactions interleave.
            await asyncio.gather(*(apply(op, job, amount) for op, job, amount in ops))
            totals = await ledger.totals(GUILD)
            balance = await ledger.balance(GUILD)
            assert balance.balance == totals.get("grant", 0) - totals.get("capture", 0) + totals.get(
                "refund", 0
            )
            assert 0 <= balance.reserved <= balance.balance
            held = totals.get("reserve", 0) - totals.get("capture", 0) - totals.get("release", 0)
            assert held == balance.reserved
            rows = await db.fetchall(
                "SELECT job_id, kind, COUNT(*) AS n FROM ledger_entries WHERE job_id IS NOT NULL GROUP BY job_id, kind"
            )
            assert all(r["n"] == 1 for r in rows), "no job is reserved, captured, released or refunded twice"
            refunded = await db.fetchall(
                "SELECT e.job_id FROM ledger_entries e JOIN reservations r ON r.job_id = e.job_id"
                " WHERE e.kind = 'refund' AND r.state != 'captured'"
            )
            assert refunded == [], "only charged jobs are refunded"
        finally:
            await db.close()

    asyncio.run(scenario())


async def test_every_entry_records_the_balance_it_left(db):
    """Captures and releases write their entry's balance in SQL (from the row the same COMMIT
    updated), grants and reservations from what the transaction read: both must be the balance
    after the entry."""
    ledger = Ledger(db, starting_credits=3)
    await ledger.grant(GUILD, 10, user_id=1, reason=None)
    await reserve(db, ledger, 1, 4)
    await capture(db, ledger, 1)
    await reserve(db, ledger, 2, 5)
    await release(db, ledger, 2)
    await ledger.refund(1, guild_id=GUILD, by=1, reason=None)
    rows = await db.fetchall(
        "SELECT kind, amount, balance_after FROM ledger_entries WHERE guild_id = ? ORDER BY id", (GUILD,)
    )
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in rows] == [
        ("grant", 3, 3),
        ("grant", 10, 13),
        ("reserve", 4, 13),
        ("capture", 4, 9),
        ("reserve", 5, 9),
        ("release", 5, 9),
        ("refund", 4, 13),
    ]
