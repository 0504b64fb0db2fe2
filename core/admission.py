"""Admission: may this request run, what does it cost, and what happens next, decided in one pass.

    evaluate(request, spec) -> Admitted | NeedsReview | NeedsQuote      (or raises a refusal)

It validates and prices the spec once, checks the guild's balance and the member's allowance, runs
the guild's policy (core/gate.py → core/policy.py `decide`) and says what the Discord layer does
next: create the job (`Admitted`, whose limits travel into the transaction that creates it), hold
the request for a moderator (`NeedsReview`), or show a quote first (`NeedsQuote`, whose outcomes
Confirm / "Use Klein instead" start without another pass). A refusal raises the typed error the
edge renders (InvalidRequest, InsufficientCredits, AllowanceExceeded, PolicyDenied); the gate tells
its listeners (the mod log) about policy refusals first.

Everything here runs before the interaction is acknowledged, so refusals are private and
instant; nothing is written. `GenerationService.create_job` re-checks balance, allowance and pace
atomically: that, not this, is what concurrent requests cannot get past.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core.credit_rules import CreditRules, SpendLimits, start_of_day
from core.errors import AllowanceExceeded, InsufficientCredits, InvalidRequest
from core.gate import Gate
from core.ledger import Ledger
from core.models import GenerationSpec, ModelId, switch_to_klein
from core.policy import Decision, GuildPolicy, MemberUsage, PaceLimits, RequestFacts, ReviewMode, decide
from core.pricing import PriceList
from core.screening import Reading


@dataclass(frozen=True)
class Request:
    """Who asks, and where, as plain data (the Discord layer builds it from the interaction)."""

    guild_id: int
    channel_id: int  # for a thread or forum post: its parent, where channel policy is set
    user_id: int
    role_ids: frozenset[int]
    is_moderator: bool  # Manage Server
    channel_nsfw: bool  # for a thread or forum post: its parent's flag
    reference_authors: frozenset[int] = frozenset()  # authors of images used as references
    bot_user_id: int = 0
    now: float = 0.0


@dataclass(frozen=True)
class Limits:
    """What `create_job` enforces inside its transaction: the allowance and the pace limits."""

    spend: SpendLimits = field(default_factory=SpendLimits)
    pace: PaceLimits | None = None


@dataclass(frozen=True)
class Admitted:
    """Create the job now. `spec` carries the safety tolerance and review hold the policy chose."""

    spec: GenerationSpec
    price: int
    limits: Limits


@dataclass(frozen=True)
class NeedsReview:
    """A moderator approves the request before anything is generated or charged."""

    spec: GenerationSpec
    price: int


Outcome = Admitted | NeedsReview


@dataclass(frozen=True)
class NeedsQuote:
    """The guild asks members to confirm this price first; nothing is reserved until they do."""

    price: int  # for all `count` images
    available: int
    remaining: dict[str, int]  # allowance left, by period ("today", "this month")
    chosen: Outcome
    klein: Outcome | None = None  # the same request on FLUX.2 Klein 9B, when the member asked for Pro
    count: int = 1  # images asked for at once: each one is its own job, the quote is for them all

    @property
    def klein_price(self) -> int | None:
        return self.klein.price * self.count if self.klein is not None else None


class Admission:
    def __init__(self, *, gate: Gate, ledger: Ledger, credit_rules: CreditRules, prices: PriceList) -> None:
        self.gate = gate
        self.ledger = ledger
        self.credit_rules = credit_rules
        self.prices = prices

    async def evaluate(
        self, request: Request, spec: GenerationSpec, *, approved: bool = False, count: int = 1
    ) -> Admitted | NeedsReview | NeedsQuote:
        """One pass over a request. `approved`: a moderator already approved it (no quote, no
        review), but it still meets the policy, the balance, the allowance and the pace limits.
        `count`: that many images of this spec, each its own job; the balance, the allowance and
        the quote are judged on their total (each job is still reserved and checked on its own)."""
        price = self.price(spec)
        total = price * count
        # The balance and the member's usage in one read; the guild's settings come from memory, or
        # (the guild's first request since the start) are read alongside, not one after another.
        self.gate.moderation.prefetch_policy(request.guild_id)
        self.credit_rules.prefetch(request.guild_id)
        snapshot = await self.ledger.member_snapshot(request.guild_id, request.user_id, start_of_day(request.now))
        available = snapshot.balance.available
        if available < total:
            raise InsufficientCredits(available, total)
        facts = self._facts(request, spec, price)
        usage = snapshot.usage
        reading = await self.gate.read(facts.texts, request.guild_id)
        decision = await self.gate.check(facts, usage, reading)
        spend = await self.credit_rules.limits_for(request.guild_id, request.user_id, request.role_ids, request.now)
        remaining = await self._allowance_left(request, spend, total, usage)
        policy = await self.gate.moderation.policy(request.guild_id)
        limits = Limits(spend, PaceLimits.of(policy, facts))
        chosen = _outcome(spec, price, decision, limits, approved=approved)
        if approved or not (await self.credit_rules.settings(request.guild_id)).needs_quote(total):
            return chosen
        klein = self._klein(request, spec, usage, remaining, limits, policy, count, reading)
        return NeedsQuote(total, available, remaining, chosen, klein, count)

    def price(self, spec: GenerationSpec) -> int:
        """Validate the options for the model and price them (raises InvalidRequest)."""
        spec.validate_for_model()
        return self.prices.price_for(spec)

    def _klein(
        self,
        request: Request,
        spec: GenerationSpec,
        usage: MemberUsage,
        remaining: dict[str, int],
        limits: Limits,
        policy: GuildPolicy,
        count: int = 1,
        reading: Reading | None = None,
    ) -> Outcome | None:
        """The cheaper alternative a quote offers for a Pro request, or None when it is not open.
        Decided with the pure policy on the usage already read: no second round of queries."""
        if spec.model is not ModelId.PRO:
            return None
        klein = switch_to_klein(spec)
        try:
            price = self.price(klein)
        except InvalidRequest:
            return None
        decision = decide(policy, self._facts(request, klein, price), usage, self.gate.safety, reading)
        if not decision.allowed or any(price * count > left for left in remaining.values()):
            return None
        return _outcome(klein, price, decision, limits, approved=False)

    async def _allowance_left(
        self, request: Request, spend: SpendLimits, price: int, usage: MemberUsage
    ) -> dict[str, int]:
        """Credits left in each allowance period; raises AllowanceExceeded when `price` does not fit.
        The day's spend is the usage's (read since the same midnight): only a month needs a read."""
        left: dict[str, int] = {}
        for period, label, limit, since in (
            ("day", "today", spend.daily, spend.day_start),
            ("month", "this month", spend.monthly, spend.month_start),
        ):
            if limit is None:
                continue
            if period == "day":
                used = usage.credits_today
            else:
                used = await self.ledger.allowance_used(request.guild_id, request.user_id, since)
            if used + price > limit:
                raise AllowanceExceeded(period, limit, used, price)
            left[label] = max(0, limit - used)
        return left

    @staticmethod
    def _facts(request: Request, spec: GenerationSpec, price: int) -> RequestFacts:
        return RequestFacts(
            guild_id=request.guild_id,
            channel_id=request.channel_id,
            user_id=request.user_id,
            role_ids=request.role_ids,
            is_moderator=request.is_moderator,
            channel_nsfw=request.channel_nsfw,
            model=spec.model,
            texts=(spec.prompt, spec.negative_prompt or ""),
            cost=price,
            reference_authors=request.reference_authors,
            bot_user_id=request.bot_user_id,
            now=request.now,
        )


def _outcome(spec: GenerationSpec, price: int, decision: Decision, limits: Limits, *, approved: bool) -> Outcome:
    review = ReviewMode.OFF if approved else decision.review
    spec = spec.model_copy(
        update={"safety_tolerance": decision.safety_tolerance, "hold_for_review": review is ReviewMode.RESULTS}
    )
    if review is ReviewMode.REQUESTS:
        return NeedsReview(spec, price)
    return Admitted(spec, price, limits)


def with_references(outcome: Outcome, references: list[str], size: tuple[int, int] | None) -> Outcome:
    """The outcome once the attachments are stored (admission priced a draft with their count)."""
    return replace(outcome, spec=outcome.spec.model_copy(update={"references": references, "reference_size": size}))
