"""Admission at its edges: the exact balance and allowance boundaries, what a refusal reports, whose
usage and which facts the policy sees, and the Klein alternative a quote carries."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.admission import Admission, Admitted, Limits, NeedsQuote, NeedsReview, with_references
from core.credit_rules import Allowance, CreditRules
from core.errors import AllowanceExceeded, InsufficientCredits, PolicyDenied
from core.gate import Gate
from core.jobs import JobKind, JobStore
from core.ledger import Ledger
from core.models import GenerationSpec, ModelId
from core.moderation import ModerationStore
from core.policy import DenyReason, ReviewMode
from core.pricing import PriceList
from tests.core.test_admission import BOT, CHANNEL, GUILD, KLEIN, ME, ME_HERE, PRO, ROOT, SAFETY

REVIEWED = 201
OTHER_GUILD, OTHER_MEMBER = 101, 3


@pytest.fixture
async def admission(db):
    moderation = ModerationStore(db)
    jobs, ledger = JobStore(db), Ledger(db)
    built = Admission(
        gate=Gate(moderation, jobs, ledger, SAFETY),
        ledger=ledger,
        credit_rules=CreditRules(db),
        prices=PriceList.load(ROOT / "data" / "prices.json"),
    )
    await ledger.grant(GUILD, 20, user_id=None, reason=None)
    return built


async def policy(admission: Admission, guild_id: int = GUILD, **update) -> None:
    await admission.gate.moderation.update_policy(guild_id, 0, lambda p: p.model_copy(update=update))


async def held(admission: Admission, db, amount: int, *, guild_id: int = GUILD, user_id: int = ME) -> None:
    """A job of `amount` credits still generating: its credits are held, and it was started just now."""
    async with db.transaction() as tx:
        job_id = await admission.gate.jobs.insert_in(
            tx, guild_id=guild_id, channel_id=CHANNEL, user_id=user_id, kind=JobKind.IMAGINE, spec=PRO,
            price=amount, parent_job_id=None, interaction=None,
        )
        await admission.ledger.reserve_in(tx, job_id=job_id, guild_id=guild_id, user_id=user_id, amount=amount)


# --- money ------------------------------------------------------------------------------------------


async def test_a_balance_of_exactly_the_price_is_enough(admission):
    await admission.ledger.grant(OTHER_GUILD, 2, user_id=None, reason=None)
    assert isinstance(await admission.evaluate(replace(ME_HERE, guild_id=OTHER_GUILD), KLEIN), Admitted)
    with pytest.raises(InsufficientCredits) as refused:
        await admission.evaluate(replace(ME_HERE, guild_id=OTHER_GUILD), PRO)
    assert (refused.value.balance, refused.value.cost) == (2, 8)


async def test_an_allowance_is_spent_to_the_last_credit_and_the_refusal_says_which(admission, db):
    await admission.credit_rules.set_allowance(GUILD, Allowance("member", ME, daily=10, monthly=None))
    await held(admission, db, 8)
    assert isinstance(await admission.evaluate(ME_HERE, KLEIN), Admitted), "8 used + 2 = the daily 10"
    with pytest.raises(AllowanceExceeded) as refused:
        await admission.evaluate(ME_HERE, PRO)
    assert (refused.value.period, refused.value.limit, refused.value.used, refused.value.cost) == ("day", 10, 8, 8)


async def test_a_monthly_allowance_alone_is_still_enforced(admission, db):
    await admission.credit_rules.set_allowance(GUILD, Allowance("member", ME, daily=None, monthly=12))
    await held(admission, db, 8)
    with pytest.raises(AllowanceExceeded) as refused:
        await admission.evaluate(ME_HERE, PRO)
    assert (refused.value.period, refused.value.limit, refused.value.used) == ("month", 12, 8)


async def test_a_quote_shows_what_is_left_of_each_allowance(admission, db):
    await admission.credit_rules.update_settings(GUILD, quote_above=1)
    await admission.credit_rules.set_allowance(GUILD, Allowance("member", ME, daily=15, monthly=40))
    await held(admission, db, 3)
    quote = await admission.evaluate(ME_HERE, PRO)
    assert isinstance(quote, NeedsQuote)
    assert quote.remaining == {"today": 12, "this month": 37}


# --- the facts and the usage the policy sees ------------------------------------------------------------


async def test_the_pace_is_judged_on_this_members_usage_in_this_guild(admission, db):
    await policy(admission, cooldown_seconds=60)
    await held(admission, db, 2, user_id=OTHER_MEMBER)
    assert isinstance(await admission.evaluate(ME_HERE, KLEIN), Admitted), "another member's job"
    await held(admission, db, 2)
    with pytest.raises(PolicyDenied) as refused:
        await admission.evaluate(ME_HERE, KLEIN)  # the job was started just now, at wall-clock time
    assert refused.value.reason == DenyReason.COOLDOWN.value


async def test_the_daily_credit_limit_counts_this_requests_price(admission):
    await policy(admission, daily_credits_per_member=8, cooldown_seconds=0)
    assert isinstance(await admission.evaluate(ME_HERE, PRO), Admitted), "8 of 8"
    await policy(admission, daily_credits_per_member=5)
    with pytest.raises(PolicyDenied) as refused:
        await admission.evaluate(ME_HERE, PRO)
    assert refused.value.reason == DenyReason.DAILY_CREDITS.value
    assert isinstance(await admission.evaluate(ME_HERE, KLEIN), Admitted)


async def test_pro_roles_apply_to_pro_requests_only(admission):
    await policy(admission, pro_roles=[55])
    with pytest.raises(PolicyDenied) as refused:
        await admission.evaluate(ME_HERE, PRO)
    assert refused.value.reason == DenyReason.PRO_ROLE.value
    assert isinstance(await admission.evaluate(ME_HERE, KLEIN), Admitted)
    assert isinstance(await admission.evaluate(replace(ME_HERE, role_ids=frozenset({55})), PRO), Admitted)


@pytest.mark.parametrize("author", [ME, BOT], ids=["the member's own image", "the bot's image"])
async def test_own_and_bot_images_are_not_foreign_references(admission, author):
    outcome = await admission.evaluate(replace(ME_HERE, reference_authors=frozenset({author})), KLEIN)
    assert isinstance(outcome, Admitted)


async def test_the_negative_prompt_is_screened_and_an_absent_one_adds_no_words(admission):
    with pytest.raises(PolicyDenied) as refused:
        await admission.evaluate(ME_HERE, GenerationSpec(prompt="a child at the beach", negative_prompt="clothes, nude"))
    assert refused.value.reason == DenyReason.SAFETY_FILTER.value
    await policy(admission, blocked_terms=["xxxx"])
    assert isinstance(await admission.evaluate(ME_HERE, KLEIN), Admitted)


# --- the Klein alternative of a quote ---------------------------------------------------------------------


async def test_the_klein_alternative_carries_the_same_limits_and_review(admission):
    await admission.credit_rules.update_settings(GUILD, quote_above=5)
    await admission.credit_rules.set_allowance(GUILD, Allowance("member", ME, daily=10, monthly=None))
    await policy(admission, daily_credits_per_member=8, review={REVIEWED: ReviewMode.REQUESTS})
    quote = await admission.evaluate(ME_HERE, PRO)
    assert isinstance(quote.klein, Admitted) and quote.klein.price == 2
    assert quote.klein.limits == quote.chosen.limits and quote.klein.limits.spend.daily == 10
    assert quote.klein.limits.pace.daily_credits == 8
    reviewed = await admission.evaluate(replace(ME_HERE, channel_id=REVIEWED), PRO)
    assert isinstance(reviewed.chosen, NeedsReview) and isinstance(reviewed.klein, NeedsReview)


@pytest.mark.parametrize("outcome", [
    Admitted(KLEIN, 2, Limits()),
    NeedsReview(GenerationSpec(prompt="a castle", model=ModelId.PRO), 8),
], ids=["admitted", "needs review"])
def test_stored_references_join_the_outcome(outcome):
    joined = with_references(outcome, ["ab" * 32], (640, 480))
    assert type(joined) is type(outcome) and joined.price == outcome.price
    assert (joined.spec.references, joined.spec.reference_size) == (["ab" * 32], (640, 480))
    assert joined.spec.model is outcome.spec.model and joined.spec.prompt == "a castle"
    assert outcome.spec.references == [], "the outcome it came from is unchanged"
