"""What happened, as small typed facts, and the one tiny bus that carries them.

The domain and the cogs publish; bot.py subscribes the listeners (the mod log, the owner alerts),
so nothing finds its audience by name and no constructor registers itself anywhere. A listener's
failure is logged and never reaches the publisher: a job is not failed because Discord refused a
mod-log post.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, dataclass_transform

from core.jobs import Job
from core.policy import Decision, RequestFacts

log = logging.getLogger(__name__)


@dataclass_transform(frozen_default=True)
class Event:
    """Base of every event; subscribing to a base class receives its subclasses too. Every subclass
    is made a frozen dataclass here: one event object reaches every handler, so none may change it."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(frozen=True)(cls)


# --- jobs ---------------------------------------------------------------------------------------


class JobPosted(Event):
    job: Job


class JobFailed(Event):
    """The job ended without an image; what it reserved went back to the guild (`refunded` credits)."""

    job: Job
    error_kind: str
    detail: str
    refunded: int


class JobUndeliverable(Event):
    """A paid image could reach its requester by no way (interaction, channel, DM): it stays stored
    until someone fetches it (/owner redeliver) and the requester and owners are told."""

    job: Job
    detail: str


class GuildBalanceLow(Event):
    guild_id: int
    balance: int


class RequestDenied(Event):
    facts: RequestFacts
    decision: Decision


class RequestRefused(Event):
    """A request was turned away before it cost anything for a reason moderators care about
    (no credits, an allowance, a full queue, the Segmind account); policy denials are RequestDenied."""

    guild_id: int
    channel_id: int | None
    user_id: int
    error: Exception


# --- money and settings --------------------------------------------------------------------------


class CreditsGranted(Event):
    guild_id: int
    by: int
    amount: int
    balance: int
    reason: str | None
    by_owner_command: bool = False  # /owner grant (from anywhere) rather than /credits-admin grant here


class CreditsRefunded(Event):
    """A moderator gave back what a job was charged (/credits-admin refund)."""

    guild_id: int
    by: int
    job_id: int
    balance: int
    reason: str | None


class AllowanceChanged(Event):
    guild_id: int
    by: int
    scope: str  # "member" | "role"
    target_id: int
    daily: int | None
    monthly: int | None
    unlimited: bool
    cleared: bool


class CreditSettingsChanged(Event):
    guild_id: int
    by: int
    quote_above: int | None
    confirm_all: bool
    low_balance_below: int | None


# --- moderation ------------------------------------------------------------------------------------


class ResultDeleted(Event):
    job: Job
    by: int


class ModeratorAction(Event):
    """A moderator did something the log should show (block, approve, a settings change...).

    `summary` is already words: it comes from the Discord edge, which is where words are written."""

    guild_id: int
    by: int | None
    summary: str
    reason: str | None = None


# --- the Segmind account (for the bot's owners) ------------------------------------------------------


class ProviderKeyRefused(Event):
    """Segmind answered 401/403: the key is refused (or the model is not allowed for the account)."""

    status: int | None
    detail: str


class ProviderKeyAccepted(Event):
    """A call succeeded again after ProviderKeyRefused."""


class ProviderOutOfCredit(Event):
    """Segmind answered 406 (or the balance read nothing left): new jobs are refused until it recovers."""

    balance_usd: float | None


class ProviderCreditRestored(Event):
    balance_usd: float


class ProviderBalanceLow(Event):
    balance_usd: float
    threshold_usd: float


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Awaitable[None]]


class EventBus:
    """Typed publish/subscribe. `publish` awaits the handlers one after another, in the order they
    were subscribed, so a publisher that needs its notice out first (the mod log before the
    requester's failure message) gets that order; `emit` does the same in the background."""

    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = {}
        self._background: set[asyncio.Task[None]] = set()

    def subscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        self._handlers.setdefault(event_type, []).append(handler)

    def handlers_for(self, event: Event) -> list[Handler]:
        return [h for cls in type(event).__mro__ for h in self._handlers.get(cls, ())]

    async def publish(self, event: Event) -> None:
        for handler in self.handlers_for(event):
            try:
                await handler(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s handler %r failed", type(event).__name__, handler)

    def emit(self, event: Event) -> None:
        """Publish without waiting (from code that must not wait on Discord)."""
        if not self.handlers_for(event):
            return
        task = asyncio.get_running_loop().create_task(self.publish(event))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for what `emit` started (on shutdown, and in tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
