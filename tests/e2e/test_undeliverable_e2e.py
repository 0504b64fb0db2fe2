"""A paid image that reaches no one: the owners are told, it is listed, and /owner redeliver sends it."""

from __future__ import annotations

import pytest

from core.version import __version__
from tests.e2e.conftest import ALICE, ART, GENERAL, GUILD

pytestmark = pytest.mark.e2e


async def test_an_undeliverable_image_is_announced_listed_and_redelivered(world):
    await world.start_bot()
    await world.grant(10)
    world.segmind.slow("lost lighthouse", 3.0)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a lost lighthouse"})
    await world.discord.wait_for(lambda: world.jobs() and world.jobs()[0]["state"] == "submitted", timeout=15)
    # Every way to the requester closes while Segmind works: the token, the channel, her DMs.
    world.discord.expire_interaction(interaction)
    world.discord.delete_channel(GENERAL)
    world.discord.block_dms(ALICE)
    await world.discord.wait_for(lambda: world.jobs()[0]["state"] == "undeliverable", timeout=30)
    job_id = world.jobs()[0]["id"]

    owner = world.discord.owner_id
    alert = await world.discord.wait_for(
        lambda: [m for m in world.discord.dms_to(owner) if f"job #{job_id}" in m.get("content", "")], timeout=15
    )
    assert "could not be delivered" in alert[0]["content"] and "Requester told: no" in alert[0]["content"]
    assert world.totals()["capture"] == 2, "charged: the image exists and is kept"

    listing = await world.reply(await world.discord.slash(GUILD, ART, owner, "owner", {}, subcommand="undeliverable"))
    assert f"#{job_id}" in listing["embeds"][0]["description"]

    world.discord.unblock_dms(ALICE)  # she opens her DMs
    answer = await world.reply(
        await world.discord.slash(GUILD, ART, owner, "owner", {"job_id": job_id}, subcommand="redeliver"), timeout=20
    )
    assert answer["content"].startswith(f"Job #{job_id} delivered")
    dms = [m for m in world.discord.dms_to(ALICE) if m.get("attachments")]
    assert len(dms) == 1 and world.discord.attachment_bytes(dms[0]["attachments"][0]).startswith(b"\x89PNG")
    assert world.jobs()[0]["state"] == "posted"
    assert world.totals()["capture"] == 2, "redelivery charges nothing more"

    again = await world.reply(
        await world.discord.slash(GUILD, ART, owner, "owner", {"job_id": job_id}, subcommand="redeliver")
    )
    assert "not an undeliverable job" in again["content"]


async def test_the_requester_is_told_by_dm_when_only_the_image_cannot_reach_them(world):
    await world.start_bot()
    await world.grant(10)
    world.segmind.slow("harbour", 3.0)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a harbour"})
    await world.discord.wait_for(lambda: world.jobs() and world.jobs()[0]["state"] == "submitted", timeout=15)
    world.discord.expire_interaction(interaction)
    world.discord.delete_channel(GENERAL)
    # The DM with the image is refused (as Discord does for a member who closed DMs meanwhile);
    # the text notice that follows gets through.
    world.discord.fail_next(
        "POST", r"/channels/\d+/messages$", 403, {"code": 50007, "message": "Cannot send messages to this user"}
    )
    await world.discord.wait_for(lambda: world.jobs()[0]["state"] == "undeliverable", timeout=30)
    job_id = world.jobs()[0]["id"]
    notice = await world.discord.wait_for(
        lambda: [m for m in world.discord.dms_to(ALICE) if f"job #{job_id}" in m.get("content", "")], timeout=15
    )
    assert "could not be posted" in notice[0]["content"] and not notice[0].get("attachments")
    await world.discord.wait_for(
        lambda: any("Requester told: yes" in m.get("content", "") for m in world.discord.dms_to(world.discord.owner_id))
    )


async def test_an_image_its_requester_had_forgotten_is_not_redelivered(world):
    await world.start_bot()
    await world.grant(10)
    world.segmind.slow("forgotten", 3.0)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a forgotten pier"})
    await world.discord.wait_for(lambda: world.jobs() and world.jobs()[0]["state"] == "submitted", timeout=15)
    world.discord.expire_interaction(interaction)
    world.discord.delete_channel(GENERAL)
    world.discord.block_dms(ALICE)
    await world.discord.wait_for(lambda: world.jobs()[0]["state"] == "undeliverable", timeout=30)
    job_id = world.jobs()[0]["id"]

    ask = await world.discord.slash(GUILD, ART, ALICE, "privacy", {}, subcommand="forget")
    question = await world.reply(ask)
    confirm = next(
        c["custom_id"] for row in question["components"] for c in row["components"] if c["label"] == "Forget my data"
    )
    await world.discord.click(GUILD, ART, ALICE, question, confirm)
    await world.discord.wait_for(lambda: (world.discord.original_response(ask) or {}).get("content", "").startswith("Done:"))

    owner = world.discord.owner_id
    answer = await world.reply(
        await world.discord.slash(GUILD, ART, owner, "owner", {"job_id": job_id}, subcommand="redeliver")
    )
    assert "no longer stored" in answer["content"]
    assert world.jobs()[0]["state"] == "undeliverable", "nothing changed"


async def test_owner_guilds_shows_the_version(world):
    await world.start_bot()
    owner = world.discord.owner_id
    listing = await world.reply(await world.discord.slash(GUILD, GENERAL, owner, "owner", {}, subcommand="guilds"))
    assert listing["embeds"][0]["footer"]["text"].startswith(f"flux-bot {__version__} ·")
