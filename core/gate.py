"""The policy step of admission (core/admission.py): policy facts in, decision out.

It gathers the member's usage (jobs.py, ledger.py, moderation.py own the data), runs the pure
`core.policy.decide`, tells listeners (the mod log) about denials, and raises PolicyDenied.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from core.credit_rules import start_of_day
from core.errors import PolicyDenied
from core.jobs import JobStore
from core.ledger import Ledger
from core.moderation import ModerationStore
from core.policy import Decision, MemberUsage, RequestFacts, decide
from core.prompt_filter import SafetyLists
from core.screening import Reading
from core.screening.worker import ScreeningWorker

log = logging.getLogger(__name__)


class Gate:
    def __init__(
        self, moderation: ModerationStore, jobs: JobStore, ledger: Ledger, safety: SafetyLists,
        screening: ScreeningWorker | None = None,
    ) -> None:
        self.moderation = moderation
        self.jobs = jobs
        self.ledger = ledger
        self.safety = safety
        self.screening = screening  # reads prompts in another process; None: on the loop
        # Called with (facts, decision) for every denial.
        self.listeners: list[Callable[[RequestFacts, Decision], Awaitable[None]]] = []

    async def usage(self, guild_id: int, user_id: int, now: float) -> MemberUsage:
        # One read (core/ledger.py `member_snapshot`); credits held as well as charged: a member's
        # jobs still generating count against the day.
        return (await self.ledger.member_snapshot(guild_id, user_id, start_of_day(now))).usage

    async def read(self, texts: tuple[str, ...], guild_id: int) -> Reading | None:
        """The texts read by the screening worker, or None (then `decide` reads them itself)."""
        if self.screening is None:
            return None
        policy = await self.moderation.policy(guild_id)  # in memory: forms only for the guild's own terms
        return await self.screening.read(texts, forms=bool(policy.blocked_terms))

    async def check(
        self, facts: RequestFacts, usage: MemberUsage | None = None, reading: Reading | None = None
    ) -> Decision:
        policy = await self.moderation.policy(facts.guild_id)
        if usage is None:
            usage = await self.usage(facts.guild_id, facts.user_id, facts.now)
        decision = decide(policy, facts, usage, self.safety, reading)
        if not decision.allowed:
            for listener in self.listeners:
                try:
                    await listener(facts, decision)
                except Exception as exc:  # the mod log must never break a refusal
                    log.warning("denial listener failed: %r", exc)
            raise PolicyDenied(decision.reason.value, decision.data)
        return decision
