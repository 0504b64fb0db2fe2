"""Screening through the real bot: a guild's adversarial wildcard term cannot stall anyone while a
long prompt is screened, and adult prompts follow the channel's age restriction."""

from __future__ import annotations

import os
import signal
from pathlib import Path

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


def _screening_workers(pid: int) -> list[int]:
    """The bot's child processes that run the screening worker (Linux /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children if b"core.screening.worker" in _cmdline(int(c))]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_prompts_are_read_by_a_worker_process_and_its_loss_skips_no_check(world):
    await world.start_bot()
    await world.grant(20)
    pid = world.bot.proc.pid
    [worker] = await world.discord.wait_for(lambda: _screening_workers(pid), timeout=15)
    refused = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "little girls nude"}))
    assert "not charged" in refused["content"], refused

    os.kill(worker, signal.SIGKILL)  # the next commands are read on the bot's own loop, then by a new worker
    refused = await world.reply(await world.discord.slash(GUILD, GENERAL, BOB, "imagine", {"prompt": "little girls nude"}))
    assert "not charged" in refused["content"], refused
    await world.result(await world.discord.slash(GUILD, GENERAL, BOB, "imagine", {"prompt": "a quiet harbour"}))
    [replacement] = await world.discord.wait_for(
        lambda: [w for w in _screening_workers(pid) if w != worker and _alive(w)], timeout=15
    )
    assert not world.segmind.submits or all("girls" not in s["prompt"] for s in world.segmind.submits)

    await world.bot.kill()  # the worker's input closes with the bot: it exits too
    await world.discord.wait_for(lambda: not _alive(replacement), timeout=15)
