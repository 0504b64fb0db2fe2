"""Moderated group use, end to end: each policy field, both review modes, reports, server-side checks."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    ALICE,
    ART,
    ARTIST_ROLE,
    BOB,
    CAROL,
    GENERAL,
    GUILD,
    MOD,
    MODLOG,
    NSFW,
    PRO_ROLE,
    REVIEW,
    TRUSTED_ROLE,
    png,
)
from tests.e2e.test_bot_e2e import buttons, text_input_ids

pytestmark = pytest.mark.e2e


async def imagine(world, user=ALICE, channel=GENERAL, **options):
    return await world.discord.slash(GUILD, channel, user, "imagine", {"prompt": "a quiet harbour", **options})


async def test_policy_cannot_be_changed_without_manage_server(world):
    await world.start_bot()
    assert all(
        str(c.get("default_member_permissions")) == str(1 << 5) for c in world.discord.commands if c["name"] in ("config", "mod")
    ), "hidden from members by default"
    reply = await world.config("channels", {"action": "add", "channel": ART}, user=ALICE)
    assert "Manage Server" in reply["content"] and reply["flags"] & 64
    shown = await world.config("show", user=ALICE)
    assert "Manage Server" in shown["content"]
    assert world.query("SELECT * FROM guild_policies") == [], "nothing was stored"
    blocked = await world.reply(
        await world.discord.slash(GUILD, GENERAL, ALICE, "mod", {"member": BOB}, subcommand="block")
    )
    assert "Manage Server" in blocked["content"]
    assert world.query("SELECT * FROM member_blocks") == []


async def test_channels_and_modlog(world):
    await world.start_bot()
    await world.grant(20)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("channels", {"action": "add", "channel": ART})
    denied = await world.reply(await imagine(world))
    assert "this channel" in denied["content"] and "not charged" in denied["content"] and denied["flags"] & 64
    await world.result(await imagine(world, channel=ART))
    assert world.balance() == (18, 0)

    def titles() -> list[str]:
        return [m["embeds"][0].get("title") or "" for m in world.modlog() if m.get("embeds")]

    await world.discord.wait_for(lambda: any(t.startswith("Generated") for t in titles()))
    assert "Denied" in titles()
    shown = await world.config("show")
    assert f"<#{ART}>" in str(shown["embeds"][0])


async def test_roles_and_pro_roles(world):
    await world.start_bot()
    await world.grant(40)
    await world.config("roles", {"action": "add", "role": ARTIST_ROLE})
    await world.config("pro_roles", {"action": "add", "role": PRO_ROLE})
    assert "needs one of these roles" in (await world.reply(await imagine(world, user=BOB)))["content"]
    carol_pro = await imagine(world, user=CAROL, model="flux-2-pro")
    await world.result(carol_pro)
    world.discord.add_member(GUILD, ALICE, roles=[ARTIST_ROLE])
    alice_pro = await world.reply(await imagine(world, user=ALICE, model="flux-2-pro"))
    assert "FLUX.2 Pro is limited" in alice_pro["content"]
    await world.result(await imagine(world, user=ALICE))
    assert world.balance() == (40 - 8 - 2, 0)
    assert len(world.segmind.submits) == 2


async def test_blocked_member_and_unblock(world):
    await world.start_bot()
    await world.grant(10)
    await world.reply(
        await world.discord.slash(GUILD, GENERAL, MOD, "mod", {"member": BOB, "reason": "spam"}, subcommand="block")
    )
    denied = await world.reply(await imagine(world, user=BOB))
    assert "blocked you" in denied["content"] and "spam" in denied["content"]
    await world.reply(await world.discord.slash(GUILD, GENERAL, MOD, "mod", {"member": BOB}, subcommand="unblock"))
    await world.result(await imagine(world, user=BOB))


@pytest.mark.parametrize("prompt", ["g o r e in the hall", "GÖRE", "a bloodbath", "a naked child"])
async def test_prompt_filter_denies_without_charge(world, prompt):
    await world.start_bot()
    await world.grant(10)
    await world.config("filter", {"action": "add", "terms": "gore, blood*"})
    denied = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": prompt}))
    assert "not charged" in denied["content"] and denied["flags"] & 64
    assert world.generation_calls() == [] and world.balance() == (10, 0)


async def test_safety_tolerance_follows_policy_and_age_restriction(world):
    await world.start_bot()
    await world.grant(40)
    await world.result(await imagine(world, model="flux-2-pro"))
    await world.config("safety", {"ordinary": 1, "age_restricted": 4})
    await world.result(await imagine(world, model="flux-2-pro"))
    await world.result(await imagine(world, channel=NSFW, model="flux-2-pro"))
    assert [s["safety_tolerance"] for s in world.segmind.submits] == [2, 1, 4]
    assert "safety_tolerance" not in str(world.discord.commands), "no requester can set it"


async def test_editing_others_images_needs_the_policy(world):
    await world.start_bot()
    await world.grant(10)
    photo = world.discord.add_attachment("bob.png", png(), "image/png", width=64, height=48)
    target = world.discord.add_message(GENERAL, BOB, "my photo", attachments=[photo])

    async def edit_as_alice():
        opened = await world.discord.message_command(GUILD, GENERAL, ALICE, "Edit with FLUX", target)
        modal = await world.discord.wait_for(lambda: world.discord.callbacks(opened))
        return await world.discord.submit_modal(
            GUILD, GENERAL, ALICE, modal[0]["data"]["custom_id"], {text_input_ids(modal[0]["data"])[0]: "night"}
        )

    denied = await world.reply(await edit_as_alice())
    assert "your own images" in denied["content"]
    await world.config("references", {"others_allowed": True})
    await world.result(await edit_as_alice())


async def test_pace_limits_and_exempt_roles(world):
    await world.start_bot()
    await world.grant(40)
    await world.config("pace", {"cooldown_seconds": 600, "daily_images": 5})
    await world.result(await imagine(world))
    cooldown = await world.reply(await imagine(world))
    assert "again in" in cooldown["content"]
    await world.config("exempt", {"action": "add", "role": ARTIST_ROLE})
    await world.result(await imagine(world, user=CAROL))
    await world.result(await imagine(world, user=CAROL))
    await world.config("pace", {"cooldown_seconds": 0, "daily_images": 1})
    daily = await world.reply(await imagine(world))
    assert "per day" in daily["content"]
    assert world.balance() == (34, 0)


async def test_review_requests_approved_and_rejected(world):
    await world.start_bot()
    await world.grant(10)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "requests"})
    waiting = await imagine(world, channel=REVIEW, prompt="approve me")
    pending = await world.reply(waiting)
    assert "waiting for a moderator" in pending["content"]
    assert world.generation_calls() == [] and world.balance() == (10, 0)
    request = await world.discord.wait_for(
        lambda: next((m for m in world.modlog() if "Approve request" in buttons(m)), None)
    )
    denied = await world.discord.click(GUILD, MODLOG, ALICE, request, buttons(request)["Approve request"])
    assert "not allowed" in (await world.reply(denied))["content"]
    await world.discord.click(GUILD, MODLOG, MOD, request, buttons(request)["Approve request"])
    await world.result(waiting)
    assert world.balance() == (8, 0)

    rejected = await imagine(world, channel=REVIEW, prompt="reject me")
    await world.reply(rejected)
    second = await world.discord.wait_for(
        lambda: next((m for m in world.modlog() if "Approve request" in buttons(m) and m["id"] != request["id"]), None)
    )
    await world.discord.click(GUILD, MODLOG, MOD, second, buttons(second)["Reject request"])
    await world.discord.wait_for(
        lambda: "rejected" in (world.discord.original_response(rejected) or {}).get("content", "")
    )
    assert [s["prompt"] for s in world.segmind.submits] == ["approve me"]
    assert world.balance() == (8, 0)
    trusted = await imagine(world, user=CAROL, channel=REVIEW)
    # Before the role is trusted the request waits for review; the reply proves it was decided first.
    assert "waiting for a moderator" in (await world.reply(trusted))["content"]
    await world.config("trusted", {"action": "add", "role": TRUSTED_ROLE})
    await world.result(await imagine(world, user=CAROL, channel=REVIEW))


async def test_review_results_held_then_released_or_rejected(world):
    await world.start_bot()
    await world.grant(10)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("review", {"channel": REVIEW, "mode": "results"})
    asked = await imagine(world, channel=REVIEW, prompt="hold me")
    held = await world.discord.wait_for(
        lambda: next((m for m in world.modlog() if "Approve" in buttons(m) and m.get("attachments")), None)
    )
    await world.discord.wait_for(
        lambda: "waiting for a moderator" in (world.discord.original_response(asked) or {}).get("content", "")
    )
    assert not [m for m in world.discord.messages_in(REVIEW) if m.get("attachments")], "nothing public yet"
    await world.discord.click(GUILD, MODLOG, MOD, held, buttons(held)["Approve"])
    released = await world.result_in_channel(REVIEW, 1)
    assert world.discord.attachment_bytes(released[0]["attachments"][0]).startswith(b"\x89PNG")
    assert world.balance() == (8, 0), "the generated image is paid whether or not it is released"

    second = await imagine(world, channel=REVIEW, prompt="reject me")
    held2 = await world.discord.wait_for(
        lambda: next((m for m in world.modlog() if "Reject" in buttons(m) and m["id"] != held["id"]), None)
    )
    await world.discord.click(GUILD, MODLOG, MOD, held2, buttons(held2)["Reject"])
    await world.discord.wait_for(
        lambda: "did not approve" in (world.discord.original_response(second) or {}).get("content", "")
    )
    assert len([m for m in world.discord.messages_in(REVIEW) if m.get("attachments")]) == 1


async def test_reports_hide_a_result_after_the_threshold(world):
    await world.start_bot()
    await world.grant(10)
    await world.config("modlog", {"channel": MODLOG})
    await world.config("reports", {"threshold": 2})
    result = await world.result(await imagine(world))
    await world.reply(await world.discord.click(GUILD, GENERAL, BOB, result, buttons(result)["Report"]))
    again = await world.reply(await world.discord.click(GUILD, GENERAL, BOB, result, buttons(result)["Report"]))
    assert "already reported" in again["content"]
    assert world.discord.message(result["id"])["attachments"], "one report does not hide it"
    await world.reply(await world.discord.click(GUILD, GENERAL, CAROL, result, buttons(result)["Report"]))
    hidden = await world.discord.wait_for(
        lambda: (m := world.discord.message(result["id"])) and not m["attachments"] and m
    )
    assert "hidden" in hidden["content"]
    report = await world.discord.wait_for(
        lambda: next((m for m in reversed(world.modlog()) if "Dismiss" in buttons(m)), None)
    )
    denied = await world.discord.click(GUILD, MODLOG, BOB, report, buttons(report)["Dismiss"])
    assert "not allowed" in (await world.reply(denied))["content"]
    await world.discord.click(GUILD, MODLOG, MOD, report, buttons(report)["Dismiss"])
    restored = await world.discord.wait_for(lambda: (m := world.discord.message(result["id"])) and m["attachments"] and m)
    assert restored["embeds"]
    assert world.totals()["capture"] == 2, "reports do not change what was charged"
