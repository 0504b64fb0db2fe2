"""Admission that holds, end to end: limits under racing requests, quotes clicked twice, threads under
their parent's policy, review outcomes that always reach the requester, buttons that cannot be forged."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import ALICE, ARTIST_ROLE, BOB, CAROL, GENERAL, GUILD, MOD, MODLOG, NSFW, REVIEW, png
from tests.e2e.test_bot_e2e import buttons
from tests.fakes import discord_payloads as p

pytestmark = pytest.mark.e2e

THREAD = 1_200_000_000_000_000_091
NSFW_THREAD = 1_200_000_000_000_000_092


async def imagine(world, user=ALICE, channel=GENERAL, **options):
    return await world.discord.slash(GUILD, channel, user, "imagine", {"prompt": "a quiet harbour", **options})


def texts(world, interaction) -> list[str]:
    return [m.get("content") or "" for m in world.discord.interaction_messages(interaction)]


async def outcomes(world, interactions, refusal: str) -> int:
    """Wait until each interaction has a job or a refusal containing `refusal`; returns the refusals."""

    def settled():
        refused = sum(any(refusal in t for t in texts(world, i)) for i in interactions)
        return refused if refused + len(world.jobs()) >= len(interactions) else None

    try:
        return await world.discord.wait_for(settled, timeout=30)
    except AssertionError:
        raise AssertionError(f"{[texts(world, i) for i in interactions]}\n{world.log()}") from None


PACE_RACES = {
    "cooldown": ({"cooldown_seconds": 600}, 1, "again in"),
    "max_running": ({"max_running": 1}, 1, "in progress"),
    "daily_images": ({"daily_images": 1}, 1, "images per day"),
    "daily_credits": ({"daily_credits": 5}, 2, "credits per day"),  # 2 credits an image: 2 fit, not 3
}


@pytest.mark.parametrize("limit", sorted(PACE_RACES))
async def test_six_racing_requests_meet_each_pace_limit_exactly(world, limit):
    options, allowed, refusal = PACE_RACES[limit]
    await world.start_bot()
    await world.grant(100)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("pace", options)
    world.segmind.slow("race", 120)  # every job is still running while the others are decided
    raced = await asyncio.gather(*(imagine(world, prompt="race") for _ in range(6)))
    refused = await outcomes(world, raced, refusal)
    assert len(world.jobs()) == allowed, f"{limit}: {len(world.jobs())} jobs created, {allowed} allowed"
    assert refused == 6 - allowed
    # Each refusal reaches the mod log once, whether the early check or the transaction caught it.
    await world.discord.wait_for(lambda: len(refusals_logged(world)) == 6 - allowed)
    _, reserved = world.balance()
    assert reserved == 2 * allowed, "only the admitted jobs hold credits"


def refusals_logged(world) -> list[dict]:
    return [m for m in world.modlog() for e in m.get("embeds", []) if e.get("title") in ("Denied", "Refused")]


async def test_six_racing_requests_meet_the_allowance_exactly(world):
    await world.start_bot()
    await world.grant(100)
    await world.reply(
        await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {"role": GUILD, "daily": 5}, subcommand="allowance")
    )
    world.segmind.slow("race", 120)
    raced = await asyncio.gather(*(imagine(world, prompt="race") for _ in range(6)))
    refused = await outcomes(world, raced, "allowance")
    assert len(world.jobs()) == 2 and refused == 4
    assert world.balance() == (100, 4)


async def test_the_two_quote_buttons_clicked_together_start_one_job(world):
    await world.start_bot()
    await world.grant(30)
    await world.reply(
        await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {"quote_above": 5}, subcommand="settings")
    )
    asked = await imagine(world, model="flux-2-pro")
    quote = await world.discord.wait_for(
        lambda: next((m for m in world.discord.interaction_messages(asked) if "Confirm" in buttons(m)), None)
    )
    ids = buttons(quote)
    clicks = await asyncio.gather(
        world.discord.click(GUILD, GENERAL, ALICE, quote, ids["Confirm"]),
        world.discord.click(GUILD, GENERAL, ALICE, quote, ids["Use Klein instead"]),
    )
    await world.discord.wait_for(lambda: all(world.discord.interaction_messages(c) for c in clicks))
    await world.discord.wait_for(lambda: world.balance()[1] == 0 and world.totals().get("capture"))
    jobs = world.jobs()
    assert len(jobs) == 1, f"{len(jobs)} jobs from one quote"
    assert any("already been answered" in t for c in clicks for t in texts(world, c)), "the other click is told"
    assert world.totals()["capture"] == jobs[0]["price"] and world.balance() == (30 - jobs[0]["price"], 0)
    assert len(world.segmind.submits) == 1


async def test_a_thread_follows_its_parents_review_and_age_restriction(world):
    await world.start_bot()
    await world.grant(30)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "requests"})
    await world.config("safety", {"ordinary": 1, "age_restricted": 4})
    world.discord.add_thread(GUILD, REVIEW, THREAD, "a side thread", owner_id=ALICE)
    world.discord.add_thread(GUILD, NSFW, NSFW_THREAD, "late", owner_id=ALICE, type=p.PRIVATE_THREAD)
    asked = await imagine(world, channel=THREAD, prompt="in a thread")
    pending = await world.reply(asked)
    assert "waiting for a moderator" in pending["content"], "a thread of a reviewed channel is reviewed"
    assert world.generation_calls() == [] and world.jobs() == []
    assert world.query("SELECT channel_id FROM review_requests")[0]["channel_id"] == THREAD, "answered in the thread"
    await world.result(await imagine(world, channel=NSFW_THREAD, model="flux-2-pro"))
    assert world.segmind.submits[-1]["safety_tolerance"] == 4, "the thread takes its parent's age restriction"


@pytest.mark.parametrize("modlog_fault", ["deleted", "forbidden"])
async def test_results_review_without_a_usable_modlog_holds_the_image(world, modlog_fault):
    await world.start_bot()
    await world.grant(10)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "results"})
    if modlog_fault == "deleted":
        world.discord.delete_channel(MODLOG)
    else:
        world.discord.set_permission_overwrite(MODLOG, world.discord.application_id, deny=p.SEND_MESSAGES)
    asked = await imagine(world, channel=REVIEW, prompt="hold me")
    await world.discord.wait_for(lambda: any("mod log cannot take it" in t for t in texts(world, asked)))
    assert not [m for m in world.discord.messages_in(REVIEW) if m.get("attachments")], "never posted publicly"
    assert not [m for m, _ in world.discord.all_messages() if m.get("attachments")], "nor sent anywhere else"
    job = world.jobs()[0]
    assert world.query("SELECT status FROM result_reviews WHERE job_id = ?", (job["id"],))[0]["status"] == "held"


async def approve_request(world, prompt: str, user: int = ALICE, **options) -> tuple:
    asked = await imagine(world, user=user, channel=REVIEW, prompt=prompt, **options)
    await world.reply(asked)
    request = await world.discord.wait_for(
        lambda: next((m for m in world.modlog() if "Approve request" in buttons(m) and prompt in str(m["embeds"])), None)
    )
    await world.discord.click(GUILD, MODLOG, MOD, request, buttons(request)["Approve request"])
    return asked, request


async def test_approving_when_the_queue_is_full_tells_the_requester(world):
    await world.start_bot(MAX_QUEUED_JOBS_PER_GUILD="1", MAX_CONCURRENT_JOBS_PER_GUILD="1")
    await world.grant(20)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "requests"})
    world.segmind.slow("busy", 120)
    # One running (Segmind has it), then one waiting: the queue is full. The second is sent only once
    # the first has left the queue, or it would find the queue full itself.
    await imagine(world, user=BOB, prompt="busy")
    await world.discord.wait_for(lambda: len(world.segmind.submits) == 1)
    await imagine(world, user=BOB, prompt="busy")
    await world.discord.wait_for(lambda: len(world.jobs()) == 2)
    asked, request = await approve_request(world, "approve me")
    await world.discord.wait_for(lambda: "images waiting" in (world.discord.original_response(asked) or {}).get("content", ""))
    decided = await world.discord.wait_for(lambda: (m := world.discord.message(request["id"])) and "cannot run" in m["content"] and m)
    assert not decided["components"]
    assert len(world.jobs()) == 2 and world.balance()[1] == 4, "nothing reserved for the approved request"
    assert world.query("SELECT status FROM review_requests")[0]["status"] == "rejected"


async def test_approving_when_the_segmind_account_is_empty_tells_the_requester(world):
    world.segmind.account_credits = 0.05  # less than one Pro call
    await world.start_bot(SEGMIND_LOW_BALANCE_USD="1.0")
    await world.grant(20)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "requests"})
    asked, _ = await approve_request(world, "pricey", model="flux-2-pro")
    await world.discord.wait_for(
        lambda: "running out of funds" in (world.discord.original_response(asked) or {}).get("content", "")
    )
    assert world.jobs() == [] and world.balance() == (20, 0)


async def test_delete_acts_only_on_the_message_holding_that_result(world):
    await world.start_bot()
    await world.grant(10)
    first = await world.result(await imagine(world, prompt="first"))
    second = await world.result(await imagine(world, prompt="second"))
    first_job = world.jobs()[0]["id"]
    click = await world.discord.click(GUILD, GENERAL, ALICE, second, f"flux:delete:{first_job}", forge=True)
    refused = await world.reply(click)
    assert "does not hold that image" in refused["content"] and refused["flags"] & 64
    assert world.discord.message(second["id"]) is not None and world.discord.message(first["id"]) is not None
    await world.reply(await world.discord.click(GUILD, GENERAL, ALICE, first, buttons(first)["Delete"]))
    assert world.discord.message(first["id"]) is None, "the real Delete still works"


async def test_buttons_on_another_members_edit_follow_the_own_images_rule(world):
    await world.start_bot()
    await world.grant(20)
    photo = world.discord.add_attachment("alice.png", png(), "image/png", width=64, height=48)
    edited = await world.result(
        await world.discord.slash(GUILD, GENERAL, ALICE, "edit", {"prompt": "at night", "image": photo})
    )
    for label in ("Reroll", "Finalize with Pro"):
        click = await world.discord.click(GUILD, GENERAL, BOB, edited, buttons(edited)[label])
        assert "your own images" in (await world.reply(click))["content"], label
    assert len(world.jobs()) == 1 and len(world.segmind.submits) == 1
    await world.result(await world.discord.click(GUILD, GENERAL, ALICE, edited, buttons(edited)["Reroll"]))
    await world.config("references", {"others_allowed": True})
    await world.result(await world.discord.click(GUILD, GENERAL, BOB, edited, buttons(edited)["Reroll"]))
    assert len(world.jobs()) == 3


@pytest.mark.parametrize("digits", ["²", "١٢"])
async def test_non_ascii_digits_are_refused(world, digits):
    await world.start_bot()
    await world.grant(10)
    forged = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "x", "seed": digits}, forge=True)
    assert "wrong type" in (await world.reply(forged))["content"]
    owner = world.discord.owner_id
    granted = await world.discord.slash(
        GUILD, GENERAL, owner, "owner", {"guild_id": digits, "amount": 5}, subcommand="grant"
    )
    assert "server id" in (await world.reply(granted))["content"]
    assert world.jobs() == [] and world.balance() == (10, 0)


async def test_a_forum_post_takes_its_forums_age_restriction(world):
    forum, post = 1_200_000_000_000_000_093, 1_200_000_000_000_000_094
    await world.start_bot()
    await world.grant(20)
    await world.config("safety", {"ordinary": 1, "age_restricted": 4})
    world.discord.add_channel(GUILD, world.discord.make_channel(forum, "gallery", type=p.GUILD_FORUM, nsfw=True))
    world.discord.add_thread(GUILD, forum, post, "my cat", owner_id=ALICE)
    await world.result(await imagine(world, channel=post, model="flux-2-pro"))
    await world.result(await imagine(world, model="flux-2-pro"))
    assert [s["safety_tolerance"] for s in world.segmind.submits] == [4, 1]
    assert [j["channel_id"] for j in world.jobs()] == [post, GENERAL], "answered where it was asked"


async def test_an_approved_request_meets_the_requesters_allowance(world):
    await world.start_bot()
    await world.grant(20)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "requests"})
    await world.reply(
        await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {"role": GUILD, "daily": 2}, subcommand="allowance")
    )
    asked = await imagine(world, channel=REVIEW, prompt="later")
    await world.reply(asked)
    await world.result(await imagine(world, prompt="meanwhile"))  # spends the day's allowance
    request = await world.discord.wait_for(
        lambda: next((m for m in world.modlog() if "Approve request" in buttons(m)), None)
    )
    await world.discord.click(GUILD, MODLOG, MOD, request, buttons(request)["Approve request"])
    await world.discord.wait_for(
        lambda: "allowance" in (world.discord.original_response(asked) or {}).get("content", "")
    )
    assert len(world.jobs()) == 1 and world.balance() == (18, 0)


async def held_in_modlog(world, prompt: str) -> dict:
    await imagine(world, channel=REVIEW, prompt=prompt)
    return await world.discord.wait_for(
        lambda: next((m for m in world.modlog() if "Approve" in buttons(m) and m.get("attachments")), None)
    )


async def test_an_approved_image_whose_channel_is_gone_goes_by_dm(world):
    await world.start_bot()
    await world.grant(10)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "results"})
    held = await held_in_modlog(world, "hold me")
    world.discord.delete_channel(REVIEW)
    await world.discord.click(GUILD, MODLOG, MOD, held, buttons(held)["Approve"])
    dm = await world.discord.wait_for(lambda: [m for m in world.discord.dms_to(ALICE) if m.get("attachments")])
    assert world.discord.attachment_bytes(dm[0]["attachments"][0]).startswith(b"\x89PNG")
    assert world.query("SELECT status FROM result_reviews")[0]["status"] == "approved"


async def test_an_approved_image_with_nowhere_to_go_stays_held_and_the_moderator_is_told(world):
    await world.start_bot()
    await world.grant(10)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "results"})
    held = await held_in_modlog(world, "hold me")
    world.discord.delete_channel(REVIEW)
    world.discord.block_dms(ALICE)
    await world.discord.click(GUILD, MODLOG, MOD, held, buttons(held)["Approve"])
    told = await world.discord.wait_for(lambda: (m := world.discord.message(held["id"])) and "stays held" in m["content"] and m)
    assert world.query("SELECT status FROM result_reviews")[0]["status"] == "held"
    assert "Approve" in buttons(told), "a moderator can try again"
    world.discord.add_channel(GUILD, world.discord.make_channel(REVIEW, "reviewed"))  # the channel is back
    await world.discord.click(GUILD, MODLOG, MOD, told, buttons(told)["Approve"])
    await world.result_in_channel(REVIEW, 1)
    assert world.query("SELECT status FROM result_reviews")[0]["status"] == "approved"


async def test_a_rejection_reaches_the_requester_by_dm_when_nothing_else_is_left(world):
    await world.start_bot()
    await world.grant(10)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "requests"})
    asked = await imagine(world, channel=REVIEW, prompt="reject me")
    await world.reply(asked)
    request = await world.discord.wait_for(
        lambda: next((m for m in world.modlog() if "Reject request" in buttons(m)), None)
    )
    world.discord.expire_interaction(asked)
    world.discord.delete_channel(REVIEW)
    await world.discord.click(GUILD, MODLOG, MOD, request, buttons(request)["Reject request"])
    dm = await world.discord.wait_for(lambda: world.discord.dms_to(ALICE))
    assert "rejected" in dm[0]["content"] and world.jobs() == []


async def test_a_request_for_review_without_a_usable_modlog_is_closed_not_left_waiting(world):
    await world.start_bot()
    await world.grant(10)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "requests"})
    world.discord.delete_channel(MODLOG)
    asked = await imagine(world, channel=REVIEW, prompt="anyone there?")
    await world.discord.wait_for(lambda: any("mod log cannot take them" in t for t in texts(world, asked)))
    assert world.query("SELECT status FROM review_requests")[0]["status"] == "rejected"
    assert world.jobs() == [] and world.balance() == (10, 0)


async def test_an_approved_request_is_judged_with_the_requesters_current_roles(world):
    await world.start_bot()
    await world.grant(10)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "requests"})
    await world.config("roles", {"action": "add", "role": ARTIST_ROLE})
    asked = await imagine(world, user=CAROL, channel=REVIEW, prompt="while an artist")
    await world.reply(asked)
    request = await world.discord.wait_for(
        lambda: next((m for m in world.modlog() if "Approve request" in buttons(m)), None)
    )
    world.discord.add_member(GUILD, CAROL, roles=[])  # no longer an artist when the moderator decides
    await world.discord.click(GUILD, MODLOG, MOD, request, buttons(request)["Approve request"])
    await world.discord.wait_for(
        lambda: "needs one of these roles" in (world.discord.original_response(asked) or {}).get("content", "")
    )
    assert world.jobs() == [] and world.generation_calls() == []
