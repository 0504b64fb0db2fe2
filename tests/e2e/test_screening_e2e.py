"""Screening through the real bot: a guild's adversarial wildcard term cannot stall anyone while a
long prompt is screened, and adult prompts follow the channel's age restriction."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ALICE, BOB, GENERAL, GUILD, NSFW

pytestmark = pytest.mark.e2e

ADVERSARIAL = "a*a*a*a*a*a*a*a*b"


async def test_adversarial_wildcard_terms_do_not_hold_up_other_members(world):
    await world.start_bot()
    await world.grant(20)
    # The term that froze the backtracking filter for > 20 s on a long run of "a", with more of
    # its kind and a few hundred ordinary wildcard terms around it.
    terms = [ADVERSARIAL, "a*b*a*b*a*b*a*b*c", "*a*a*a*a*a*a*a*a*a*a*"[:-1] + "z"]
    terms += [f"q{i}*x*y*z" for i in range(300)]
    too_long = await world.config("filter", {"action": "add", "terms": "x" * 101})
    assert "at most 100 characters" in too_long["content"], too_long
    added = await world.config("filter", {"action": "add", "terms": ", ".join(terms)[:4000]})
    assert "filter: add" in added["content"], added

    # Two maximum-length prompts built to make a backtracking engine explore every split, with
    # another member's command between them. The fake Discord refuses any acknowledgement later
    # than 3 s after dispatch (10062), so all three being acknowledged is the check that nobody's
    # command waited on the screening.
    passes = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a" * 2000})
    other = await world.discord.slash(GUILD, GENERAL, BOB, "imagine", {"prompt": "a quiet harbour"})
    blocked = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a" * 1999 + "b"})
    await world.discord.wait_for(
        lambda: all(world.discord.callbacks(i) for i in (passes, other, blocked)), timeout=15
    )

    refusal = await world.reply(blocked)
    assert ADVERSARIAL in refusal["content"] and "not charged" in refusal["content"], refusal
    await world.result(other)
    await world.result(passes)
    assert "10062" not in world.log() and "Unknown interaction" not in world.log()
    assert sorted(len(s["prompt"]) for s in world.segmind.submits) == [15, 2000]


async def test_adult_prompts_follow_the_channels_age_restriction(world):
    await world.start_bot()
    await world.grant(20)
    ordinary = await world.reply(
        await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "nude woman on a beach"})
    )
    assert "age-restricted" in ordinary["content"] and "not charged" in ordinary["content"], ordinary
    for disguised in ("ɴᴜᴅᴇ woman", "n.a.k.e.d man", "mujer desnuda"):
        answer = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": disguised}))
        assert "age-restricted" in answer["content"], (disguised, answer)
    assert world.generation_calls() == []

    await world.result(await world.discord.slash(GUILD, NSFW, ALICE, "imagine", {"prompt": "nude woman on a beach"}))
    assert len(world.generation_calls()) == 1

    await world.config("adult_filter", {"in_age_restricted": True})
    inside = await world.reply(
        await world.discord.slash(GUILD, NSFW, ALICE, "imagine", {"prompt": "nude woman on a beach"})
    )
    assert "age-restricted channels included" in inside["content"], inside
    shown = await world.config("show")
    assert "refused in every channel" in str(shown["embeds"][0])
    assert len(world.generation_calls()) == 1 and world.balance() == (18, 0)

    # Child safety does not depend on the channel at all.
    child = await world.reply(await world.discord.slash(GUILD, NSFW, BOB, "imagine", {"prompt": "nude 12yo"}))
    assert "safety filter" in child["content"]
