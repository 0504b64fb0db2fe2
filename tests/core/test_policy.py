"""decide(): one table row per policy field, plus the safety tolerance and review mode it picks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.models import ModelId
from core.policy import DenyReason, GuildPolicy, MemberUsage, RequestFacts, ReviewMode, decide
from core.prompt_filter import SafetyLists

SAFETY = SafetyLists.load(Path(__file__).resolve().parents[2] / "data" / "safety_terms.json")
BOT, ME, OTHER = 1, 2, 3
ROLE_ART, ROLE_PRO, ROLE_VIP, ROLE_TRUSTED = 10, 11, 12, 13
NOW = 1_000_000.0

BASE = RequestFacts(
    guild_id=100,
    channel_id=200,
    user_id=ME,
    role_ids=frozenset(),
    is_moderator=False,
    channel_nsfw=False,
    model=ModelId.KLEIN,
    texts=("a castle",),
    cost=2,
    bot_user_id=BOT,
    now=NOW,
)


def req(**changes) -> RequestFacts:
    return replace(BASE, **changes)


CASES = [
    # (id, policy, request, usage, expected reason or None)
    ("default allows", GuildPolicy(), req(), MemberUsage(), None),
    ("blocked member", GuildPolicy(), req(), MemberUsage(blocked=True), DenyReason.BLOCKED_MEMBER),
    (
        "blocked even if moderator",
        GuildPolicy(),
        req(is_moderator=True),
        MemberUsage(blocked=True),
        DenyReason.BLOCKED_MEMBER,
    ),
    ("channel not allowed", GuildPolicy(channels=[201]), req(), MemberUsage(), DenyReason.CHANNEL),
    ("channel allowed", GuildPolicy(channels=[200]), req(), MemberUsage(), None),
    ("moderator anywhere", GuildPolicy(channels=[201]), req(is_moderator=True), MemberUsage(), None),
    ("role missing", GuildPolicy(generator_roles=[ROLE_ART]), req(), MemberUsage(), DenyReason.ROLE),
    (
        "role present",
        GuildPolicy(generator_roles=[ROLE_ART]),
        req(role_ids=frozenset({ROLE_ART})),
        MemberUsage(),
        None,
    ),
    (
        "pro without role",
        GuildPolicy(pro_roles=[ROLE_PRO]),
        req(model=ModelId.PRO),
        MemberUsage(),
        DenyReason.PRO_ROLE,
    ),
    ("klein without pro role", GuildPolicy(pro_roles=[ROLE_PRO]), req(), MemberUsage(), None),
    (
        "pro with role",
        GuildPolicy(pro_roles=[ROLE_PRO]),
        req(model=ModelId.PRO, role_ids=frozenset({ROLE_PRO})),
        MemberUsage(),
        None,
    ),
    ("guild term", GuildPolicy(blocked_terms=["castle"]), req(), MemberUsage(), DenyReason.GUILD_FILTER),
    (
        "guild term in negative prompt",
        GuildPolicy(blocked_terms=["moat"]),
        req(texts=("a castle", "moat")),
        MemberUsage(),
        DenyReason.GUILD_FILTER,
    ),
    (
        "safety list for moderators too",
        GuildPolicy(),
        req(texts=("naked child",), is_moderator=True),
        MemberUsage(),
        DenyReason.SAFETY_FILTER,
    ),
    (
        "someone else's image",
        GuildPolicy(),
        req(reference_authors=frozenset({OTHER})),
        MemberUsage(),
        DenyReason.FOREIGN_REFERENCE,
    ),
    (
        "own image and the bot's",
        GuildPolicy(),
        req(reference_authors=frozenset({ME, BOT})),
        MemberUsage(),
        None,
    ),
    (
        "others allowed by policy",
        GuildPolicy(edit_others_images=True),
        req(reference_authors=frozenset({OTHER})),
        MemberUsage(),
        None,
    ),
    (
        "cooldown",
        GuildPolicy(cooldown_seconds=60),
        req(),
        MemberUsage(last_job_at=NOW - 10),
        DenyReason.COOLDOWN,
    ),
    ("cooldown over", GuildPolicy(cooldown_seconds=60), req(), MemberUsage(last_job_at=NOW - 61), None),
    (
        "cooldown exempt role",
        GuildPolicy(cooldown_seconds=60, exempt_roles=[ROLE_VIP]),
        req(role_ids=frozenset({ROLE_VIP})),
        MemberUsage(last_job_at=NOW - 10),
        None,
    ),
    (
        "too many running",
        GuildPolicy(max_running_per_member=2),
        req(),
        MemberUsage(running=2),
        DenyReason.RUNNING,
    ),
    (
        "daily jobs",
        GuildPolicy(daily_jobs_per_member=5),
        req(),
        MemberUsage(jobs_today=5),
        DenyReason.DAILY_JOBS,
    ),
    (
        "daily credits",
        GuildPolicy(daily_credits_per_member=10),
        req(cost=2),
        MemberUsage(credits_today=9),
        DenyReason.DAILY_CREDITS,
    ),
    (
        "daily credits fits",
        GuildPolicy(daily_credits_per_member=10),
        req(cost=2),
        MemberUsage(credits_today=8),
        None,
    ),
]


@pytest.mark.parametrize(
    ("policy", "request_", "usage", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decisions(policy, request_, usage, expected):
    decision = decide(policy, request_, usage, SAFETY)
    assert decision.allowed is (expected is None)
    assert decision.reason == expected


@pytest.mark.parametrize(
    ("ordinary", "nsfw", "channel_nsfw", "expected"),
    [(2, 2, False, 2), (2, 5, False, 2), (2, 5, True, 5), (1, 0, True, 0), (0, 4, False, 0)],
)
def test_safety_tolerance_comes_from_policy_and_channel(ordinary, nsfw, channel_nsfw, expected):
    policy = GuildPolicy(safety_tolerance=ordinary, nsfw_safety_tolerance=nsfw)
    decision = decide(policy, req(channel_nsfw=channel_nsfw), MemberUsage(), SAFETY)
    assert decision.safety_tolerance == expected


@pytest.mark.parametrize(
    ("mode", "roles", "moderator", "expected"),
    [
        (ReviewMode.REQUESTS, frozenset(), False, ReviewMode.REQUESTS),
        (ReviewMode.REQUESTS, frozenset({ROLE_TRUSTED}), False, ReviewMode.OFF),
        (ReviewMode.RESULTS, frozenset(), False, ReviewMode.RESULTS),
        (ReviewMode.RESULTS, frozenset(), True, ReviewMode.OFF),
    ],
)
def test_review_mode_skips_trusted_members(mode, roles, moderator, expected):
    policy = GuildPolicy(review={200: mode}, trusted_roles=[ROLE_TRUSTED])
    decision = decide(policy, req(role_ids=roles, is_moderator=moderator), MemberUsage(), SAFETY)
    assert decision.allowed and decision.review == expected


def test_policy_round_trips_as_json():
    policy = GuildPolicy(review={200: ReviewMode.RESULTS}, blocked_terms=["x*"], channels=[1, 2])
    assert GuildPolicy.model_validate_json(policy.model_dump_json()) == policy
