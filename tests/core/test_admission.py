"""Admission without Discord: one pass from request facts and a spec to what happens next (table tests)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from core.admission import Admission, Admitted, NeedsQuote, NeedsReview, Request
from core.credit_rules import Allowance, CreditRules
from core.errors import AllowanceExceeded, InsufficientCredits, InvalidRequest, PolicyDenied
from core.gate import Gate
from core.jobs import _MEMBER_USAGE, JobKind, JobStore, _member_usage_params
from core.ledger import Ledger
from core.models import GenerationSpec, ModelId
from core.moderation import ModerationStore
from core.policy import PaceLimits, ReviewMode
from core.pricing import PriceList
from core.prompt_filter import SafetyLists

ROOT = Path(__file__).resolve().parents[2]
SAFETY = SafetyLists.load(ROOT / "data" / "safety_terms.json")
GUILD, CHANNEL, REVIEWED, HELD, ME, BOT = 100, 200, 201, 202, 2, 1
EXEMPT = 10
NOW = 1_750_000_000.0

ME_HERE = Request(
    guild_id=GUILD,
    channel_id=CHANNEL,
    user_id=ME,
    role_ids=frozenset(),
    is_moderator=False,
    channel_nsfw=False,
    bot_user_id=BOT,
    now=NOW,
)
KLEIN = GenerationSpec(prompt="a castle")
PRO = GenerationSpec(prompt="a castle", model=ModelId.PRO)


@pytest.fixture
async def admission(db):
    moderation = ModerationStore(db)
    jobs, ledger = JobStore(db), Ledger(db)
    gate = Gate(moderation, jobs, ledger, SAFETY)
    built = Admission(gate=gate, ledger=ledger, credit_rules=CreditRules(db), prices=PriceList.load(ROOT / "data" / "prices.json"))
    await ledger.grant(GUILD, 20, user_id=None, reason=None)
    await moderation.update_policy(
        GUILD,
        0,
        lambda p: p.model_copy(
            update={
                "modlog_channel": 300,
                "review": {REVIEWED: ReviewMode.REQUESTS, HELD: ReviewMode.RESULTS},
                "exempt_roles": [EXEMPT],
                "cooldown_seconds": 60,
                "safety_tolerance": 1,
                "nsfw_safety_tolerance": 4,
            }
        ),
    )
    return built


OUTCOMES = [
    # (id, request, spec, approved, outcome type, safety tolerance, review hold)
    ("ordinary channel", ME_HERE, KLEIN, False, Admitted, 1, False),
    ("age-restricted channel", replace(ME_HERE, channel_nsfw=True), PRO, False, Admitted, 4, False),
    ("requests review", replace(ME_HERE, channel_id=REVIEWED), KLEIN, False, NeedsReview, 1, False),
    ("approved request skips review", replace(ME_HERE, channel_id=REVIEWED), KLEIN, True, Admitted, 1, False),
    ("results review holds the image", replace(ME_HERE, channel_id=HELD), KLEIN, False, Admitted, 1, True),
]


@pytest.mark.parametrize(("request_", "spec", "approved", "kind", "tolerance", "hold"), [c[1:] for c in OUTCOMES], ids=[c[0] for c in OUTCOMES])
async def test_outcomes(admission, request_, spec, approved, kind, tolerance, hold):
    outcome = await admission.evaluate(request_, spec, approved=approved)
    assert type(outcome) is kind
    assert outcome.price == (2 if spec.model is ModelId.KLEIN else 8)
    assert (outcome.spec.safety_tolerance, outcome.spec.hold_for_review) == (tolerance, hold)


PACE = [
    ("member", ME_HERE, PaceLimits(cooldown_seconds=60)),
    ("exempt role", replace(ME_HERE, role_ids=frozenset({EXEMPT})), None),
    ("moderator", replace(ME_HERE, is_moderator=True), None),
]


@pytest.mark.parametrize(("request_", "pace"), [c[1:] for c in PACE], ids=[c[0] for c in PACE])
async def test_pace_limits_travel_with_the_admitted_request(admission, request_, pace):
    outcome = await admission.evaluate(request_, KLEIN)
    assert outcome.limits.pace == pace


REFUSALS = [
    ("invalid option", ME_HERE, KLEIN.model_copy(update={"width": 1024}), InvalidRequest),
    ("balance too small", replace(ME_HERE, guild_id=GUILD + 1), KLEIN, InsufficientCredits),
    ("safety filter", ME_HERE, GenerationSpec(prompt="a naked child"), PolicyDenied),
    ("foreign reference", replace(ME_HERE, reference_authors=frozenset({99})), KLEIN, PolicyDenied),
]


@pytest.mark.parametrize(("request_", "spec", "error"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
async def test_refusals_raise_the_typed_error_and_the_listener_hears_policy_ones(admission, request_, spec, error):
    heard = []

    async def listener(facts, decision):
        heard.append(decision.reason)

    admission.gate.listeners.append(listener)
    with pytest.raises(error):
        await admission.evaluate(request_, spec)
    assert bool(heard) == (error is PolicyDenied)


async def test_quote_offers_klein_and_the_allowance_left(admission):
    await admission.credit_rules.update_settings(GUILD, quote_above=5)
    await admission.credit_rules.set_allowance(GUILD, Allowance("member", ME, daily=10, monthly=None))
    quote = await admission.evaluate(ME_HERE, PRO)
    assert isinstance(quote, NeedsQuote)
    assert (quote.price, quote.available, quote.remaining, quote.klein_price) == (8, 20, {"today": 10}, 2)
    assert isinstance(quote.chosen, Admitted) and quote.chosen.spec.model is ModelId.PRO
    assert quote.klein.spec.model is ModelId.KLEIN and quote.chosen.limits.spend.daily == 10
    assert isinstance(await admission.evaluate(ME_HERE, KLEIN), Admitted), "2 credits is under the threshold"
    assert isinstance(await admission.evaluate(ME_HERE, PRO, approved=True), Admitted), "approved: no quote"


async def test_allowance_and_daily_credits_count_held_reservations(admission, db):
    await admission.credit_rules.set_allowance(GUILD, Allowance("member", ME, daily=9, monthly=None))
    jobs, ledger = admission.gate.jobs, admission.ledger
    async with db.transaction() as tx:  # a Pro job still generating: held, not captured
        job_id = await jobs.insert_in(
            tx, guild_id=GUILD, channel_id=CHANNEL, user_id=ME, kind=JobKind.IMAGINE, spec=PRO, price=8,
            parent_job_id=None, interaction=None,
        )
        await ledger.reserve_in(tx, job_id=job_id, guild_id=GUILD, user_id=ME, amount=8)
    later = replace(ME_HERE, now=time.time() + 61)  # past the cooldown (the job was written at wall-clock time)
    with pytest.raises(AllowanceExceeded):
        await admission.evaluate(later, KLEIN)
    usage = await admission.gate.usage(GUILD, ME, later.now)
    assert (usage.running, usage.jobs_today, usage.credits_today) == (1, 1, 8)


async def test_member_usage_reads_only_indexes(db, backend):
    if backend == "postgres":
        pytest.skip("SQLite's plan (its planner has no statistics); PostgreSQL plans from its own")
    rows = await db.fetchall("EXPLAIN QUERY PLAN " + _MEMBER_USAGE, _member_usage_params(GUILD, ME, NOW))
    plan = [r["detail"] for r in rows]
    assert not [d for d in plan if d.startswith("SCAN") and "CONSTANT ROW" not in d], plan
    searches = [d for d in plan if d.startswith("SEARCH jobs")]
    assert len(searches) == 3 and "jobs_member_running" in searches[0], plan
    assert "created_at>?" in searches[2].replace(" ", ""), "today's jobs are a range, not the member's history"
