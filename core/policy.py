"""Per-guild policy and the one pure function that decides whether a request may run.

`decide(policy, request, usage, safety)` looks only at plain data (the request, the member's
roles, whether Discord marks the channel age-restricted, the guild's policy, the member's recent
usage) and returns allow — with the safety tolerance and review mode to use — or deny with a
reason code and its data. The Discord layer gathers the data and renders the answer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from core.models import ModelId
from core.safety import DEFAULT_SAFETY_TOLERANCE, MOST_PERMISSIVE, STRICTEST, tolerance_for_channel
from core.screening import Reading, SafetyLists, check_prompt

MAX_GUILD_TERMS = 5000


class ReviewMode(enum.StrEnum):
    OFF = "off"
    REQUESTS = "requests"  # a moderator approves before anything is generated or charged
    RESULTS = "results"  # the image is held in the mod log until a moderator approves it


class GuildPolicy(BaseModel):
    """Stored as JSON per guild (core/moderation.py). Empty lists mean "no restriction"."""

    model_config = ConfigDict(extra="ignore")

    channels: list[int] = Field(default_factory=list)
    generator_roles: list[int] = Field(default_factory=list)
    pro_roles: list[int] = Field(default_factory=list)
    blocked_terms: list[str] = Field(default_factory=list, max_length=MAX_GUILD_TERMS)
    safety_tolerance: int = Field(default=DEFAULT_SAFETY_TOLERANCE, ge=STRICTEST, le=MOST_PERMISSIVE)
    nsfw_safety_tolerance: int = Field(default=DEFAULT_SAFETY_TOLERANCE, ge=STRICTEST, le=MOST_PERMISSIVE)
    edit_others_images: bool = False
    cooldown_seconds: int = Field(default=0, ge=0, le=86_400)
    max_running_per_member: int = Field(default=0, ge=0, le=100)
    daily_jobs_per_member: int = Field(default=0, ge=0, le=100_000)
    daily_credits_per_member: int = Field(default=0, ge=0, le=10**9)
    exempt_roles: list[int] = Field(default_factory=list)
    trusted_roles: list[int] = Field(default_factory=list)
    review: dict[int, ReviewMode] = Field(default_factory=dict)
    modlog_channel: int | None = None
    report_threshold: int = Field(default=3, ge=1, le=100)
    # Explicit sexual/nudity terms are refused outside age-restricted channels; inside them only if True.
    adult_filter_in_nsfw: bool = False

    def review_mode(self, channel_id: int) -> ReviewMode:
        return self.review.get(channel_id, ReviewMode.OFF)


@dataclass(frozen=True)
class RequestFacts:
    """What the Discord layer knows about one request, as plain data."""

    guild_id: int
    channel_id: int
    user_id: int
    role_ids: frozenset[int]
    is_moderator: bool  # Manage Server
    channel_nsfw: bool
    model: ModelId
    texts: tuple[str, ...]  # prompt and negative prompt
    cost: int
    # Authors of the images used as references (empty for /imagine and /edit uploads).
    reference_authors: frozenset[int] = frozenset()
    bot_user_id: int = 0
    now: float = 0.0


@dataclass(frozen=True)
class MemberUsage:
    """What a member has going: unfinished jobs, their latest job, today's jobs and the credits
    held or charged for them today (net of refunds)."""

    running: int = 0
    last_job_at: float | None = None
    jobs_today: int = 0
    credits_today: int = 0
    blocked: bool = False
    block_reason: str | None = None


class DenyReason(enum.StrEnum):
    BLOCKED_MEMBER = "blocked_member"
    CHANNEL = "channel"
    ROLE = "role"
    PRO_ROLE = "pro_role"
    SAFETY_FILTER = "safety_filter"
    ADULT_CONTENT = "adult_content"
    GUILD_FILTER = "guild_filter"
    FOREIGN_REFERENCE = "foreign_reference"
    COOLDOWN = "cooldown"
    RUNNING = "running"
    DAILY_JOBS = "daily_jobs"
    DAILY_CREDITS = "daily_credits"


@dataclass(frozen=True)
class PaceLimits:
    """A member's pace limits (0 = no limit). Checked once before the acknowledgement, for an
    instant private refusal, and again inside the transaction that creates the job and reserves
    its credits (core/generation.py), which is the check concurrent requests cannot slip past."""

    cooldown_seconds: int = 0
    max_running: int = 0
    daily_jobs: int = 0
    daily_credits: int = 0

    @classmethod
    def of(cls, policy: GuildPolicy, request: RequestFacts) -> PaceLimits | None:
        """The limits for this member; None when they are exempt or the guild sets none."""
        if request.is_moderator or request.role_ids & set(policy.exempt_roles):
            return None
        pace = cls(
            policy.cooldown_seconds,
            policy.max_running_per_member,
            policy.daily_jobs_per_member,
            policy.daily_credits_per_member,
        )
        return pace if pace != cls() else None

    def denial(self, usage: MemberUsage, cost: int, now: float) -> Decision | None:
        """The first limit `usage` plus one more job of `cost` would break, or None."""
        if self.cooldown_seconds and usage.last_job_at is not None:
            left = usage.last_job_at + self.cooldown_seconds - now
            if left > 0:
                return Decision.deny(DenyReason.COOLDOWN, seconds=int(left) + 1)
        if self.max_running and usage.running >= self.max_running:
            return Decision.deny(DenyReason.RUNNING, limit=self.max_running)
        if self.daily_jobs and usage.jobs_today >= self.daily_jobs:
            return Decision.deny(DenyReason.DAILY_JOBS, limit=self.daily_jobs)
        if self.daily_credits and usage.credits_today + cost > self.daily_credits:
            return Decision.deny(DenyReason.DAILY_CREDITS, limit=self.daily_credits, used=usage.credits_today)
        return None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: DenyReason | None = None
    data: dict = field(default_factory=dict)
    safety_tolerance: int = DEFAULT_SAFETY_TOLERANCE
    review: ReviewMode = ReviewMode.OFF

    @classmethod
    def deny(cls, reason: DenyReason, **data) -> Decision:
        return cls(False, reason, data)


def decide(
    policy: GuildPolicy, request: RequestFacts, usage: MemberUsage, safety: SafetyLists, reading: Reading | None = None
) -> Decision:
    """Allow or deny `request`; the first rule that fails gives the reason. Pure: no I/O.
    `reading`: the request's texts already read by the screening worker (core/screening/worker.py)."""
    roles = request.role_ids
    if usage.blocked:
        return Decision.deny(DenyReason.BLOCKED_MEMBER, why=usage.block_reason)
    if policy.channels and request.channel_id not in policy.channels and not request.is_moderator:
        return Decision.deny(DenyReason.CHANNEL, channels=list(policy.channels))
    if policy.generator_roles and not roles & set(policy.generator_roles) and not request.is_moderator:
        return Decision.deny(DenyReason.ROLE, roles=list(policy.generator_roles))
    if (
        request.model is ModelId.PRO
        and policy.pro_roles
        and not roles & set(policy.pro_roles)
        and not request.is_moderator
    ):
        return Decision.deny(DenyReason.PRO_ROLE, roles=list(policy.pro_roles))
    adult_screen = not request.channel_nsfw or policy.adult_filter_in_nsfw
    verdict = check_prompt(list(request.texts), safety, tuple(policy.blocked_terms), adult=adult_screen, reading=reading)
    if verdict.blocked:
        if verdict.reason == "adult":
            return Decision.deny(DenyReason.ADULT_CONTENT, channel_nsfw=request.channel_nsfw)
        reason = DenyReason.SAFETY_FILTER if verdict.reason == "safety" else DenyReason.GUILD_FILTER
        return Decision.deny(reason, term=verdict.detail)
    foreign = request.reference_authors - {request.user_id, request.bot_user_id}
    if foreign and not policy.edit_others_images and not request.is_moderator:
        return Decision.deny(DenyReason.FOREIGN_REFERENCE)
    pace = PaceLimits.of(policy, request)
    if pace is not None and (over := pace.denial(usage, request.cost, request.now)) is not None:
        return over
    trusted = request.is_moderator or bool(roles & set(policy.trusted_roles))
    mode = policy.review_mode(request.channel_id)
    return Decision(
        True,
        safety_tolerance=tolerance_for_channel(
            ordinary=policy.safety_tolerance,
            age_restricted=policy.nsfw_safety_tolerance,
            channel_is_nsfw=request.channel_nsfw,
        ),
        review=ReviewMode.OFF if trusted else mode,
    )
