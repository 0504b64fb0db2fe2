"""What a denial carries (the Discord layer words the answer from it), and the cooldown's edges.

Written to kill the mutants the mutation run found alive in core/policy.py (tests/mutation.py):
test_policy.py checks which rule denies, these check the data each denial hands on.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.models import ModelId
from core.policy import DenyReason, GuildPolicy, MemberUsage, RequestFacts, ReviewMode, decide
from core.prompt_filter import SafetyLists

SAFETY = SafetyLists.load(Path(__file__).resolve().parents[2] / "data" / "safety_terms.json")
ME, ROLE_ART, ROLE_PRO, ROLE_VIP = 2, 10, 11, 12
NOW = 1_000_000.0
BASE = RequestFacts(
    guild_id=100, channel_id=200, user_id=ME, role_ids=frozenset(), is_moderator=False, channel_nsfw=False,
    model=ModelId.KLEIN, texts=("a castle",), cost=2, bot_user_id=1, now=NOW,
)


def req(**changes) -> RequestFacts:
    return replace(BASE, **changes)


@pytest.mark.parametrize(
    ("policy", "request_", "usage", "reason", "data"),
    [
        (GuildPolicy(), req(), MemberUsage(blocked=True, block_reason="spam"), DenyReason.BLOCKED_MEMBER, {"why": "spam"}),
        (GuildPolicy(channels=[201, 202]), req(), MemberUsage(), DenyReason.CHANNEL, {"channels": [201, 202]}),
        (GuildPolicy(generator_roles=[ROLE_ART]), req(), MemberUsage(), DenyReason.ROLE, {"roles": [ROLE_ART]}),
        (
            GuildPolicy(pro_roles=[ROLE_PRO]), req(model=ModelId.PRO), MemberUsage(), DenyReason.PRO_ROLE,
            {"roles": [ROLE_PRO]},
        ),
        (GuildPolicy(blocked_terms=["gore"]), req(texts=("gore",)), MemberUsage(), DenyReason.GUILD_FILTER, {"term": "gore"}),
        (
            GuildPolicy(cooldown_seconds=60), req(), MemberUsage(last_job_at=NOW - 10), DenyReason.COOLDOWN,
            {"seconds": 51},
        ),
        (GuildPolicy(max_running_per_member=2), req(), MemberUsage(running=2), DenyReason.RUNNING, {"limit": 2}),
        (GuildPolicy(daily_jobs_per_member=5), req(), MemberUsage(jobs_today=5), DenyReason.DAILY_JOBS, {"limit": 5}),
        (
            GuildPolicy(daily_credits_per_member=10), req(cost=2), MemberUsage(credits_today=9),
            DenyReason.DAILY_CREDITS, {"limit": 10, "used": 9},
        ),
    ],
)
def test_a_denial_carries_what_the_answer_needs(policy, request_, usage, reason, data):
    decision = decide(policy, request_, usage, SAFETY)
    assert (decision.allowed, decision.reason, decision.data) == (False, reason, data)


def test_the_safety_filter_names_no_term_but_says_why():
    decision = decide(GuildPolicy(), req(texts=("a naked child",)), MemberUsage(), SAFETY)
    assert decision.reason == DenyReason.SAFETY_FILTER and decision.data == {"term": "sexual content involving minors"}


@pytest.mark.parametrize(
    ("since_last", "seconds"),
    [(60.0, None), (59.5, 1), (59.0, 2), (0.0, 61), (70.0, None)],
)
def test_the_cooldown_counts_whole_seconds_up_and_ends_exactly(since_last, seconds):
    decision = decide(GuildPolicy(cooldown_seconds=60), req(), MemberUsage(last_job_at=NOW - since_last), SAFETY)
    assert decision.data.get("seconds") == seconds and decision.allowed is (seconds is None)


def test_no_cooldown_means_none_even_with_a_clock_that_ran_backwards():
    assert decide(GuildPolicy(), req(), MemberUsage(last_job_at=NOW + 30), SAFETY).allowed


def test_only_the_exempt_roles_exempt():
    policy = GuildPolicy(cooldown_seconds=60, exempt_roles=[ROLE_VIP])
    usage = MemberUsage(last_job_at=NOW - 1)
    assert decide(policy, req(role_ids=frozenset({ROLE_ART})), usage, SAFETY).reason == DenyReason.COOLDOWN
    assert decide(policy, req(role_ids=frozenset({ROLE_VIP})), usage, SAFETY).allowed


def test_no_review_unless_the_channel_has_one():
    assert GuildPolicy().review_mode(200) is ReviewMode.OFF
    assert decide(GuildPolicy(review={201: ReviewMode.RESULTS}), req(), MemberUsage(), SAFETY).review is ReviewMode.OFF
