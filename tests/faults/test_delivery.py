"""One fault at a time, the delivery bugs the fault suite found, as regression tests.

Each runs the real bot against the fakes (tests/e2e/conftest.py's `world`).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ALICE, GENERAL, GUILD
from tests.fakes import discord_payloads as dp

pytestmark = pytest.mark.e2e


def results(world) -> list[dict]:
    """Every result message the bot ever made (deleted ones too), in any channel or DM."""
    return [
        data
        for data, _ in world.discord.all_messages()
        if data.get("attachments") and data.get("embeds") and data["embeds"][0].get("footer")
    ]


async def started(world, prompt: str, *, slow: float = 1.0):
    """An /imagine whose generation takes `slow` seconds, once Discord has its acknowledgement."""
    world.segmind.slow(prompt, slow)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": prompt})
    await world.discord.wait_for(lambda: interaction.callback_type is not None)
    return interaction


async def final(world, states=("posted", "undeliverable", "refunded"), timeout: float = 30) -> dict:
    await world.discord.wait_for(lambda: world.jobs() and world.jobs()[-1]["state"] in states, timeout=timeout)
    return world.jobs()[-1]


async def test_channel_deleted_while_running_sends_the_image_by_dm(world):
    await world.start_bot()
    await world.grant(10)
    await started(world, "a fox")
    await world.discord.wait_for(lambda: world.jobs() and world.jobs()[0]["state"] == "submitted")
    world.discord.delete_channel(GENERAL)
    job = await final(world)
    assert job["state"] == "posted", "a channel that went away used to mean retries for 40 minutes"
    (dm,) = world.discord.dms_to(ALICE)
    assert dm["attachments"] and "could not be posted there" in dm["content"]
    assert job["result_message_id"] == int(dm["id"])
    assert world.balance() == (8, 0) and len(results(world)) == 1


async def test_no_permission_and_an_expired_token_send_the_image_by_dm(world):
    await world.start_bot()
    await world.grant(10)
    interaction = await started(world, "a fox")
    world.discord.expire_interaction(interaction)
    world.discord.set_permission_overwrite(GENERAL, world.discord.application_id, deny=dp.SEND_MESSAGES)
    job = await final(world)
    assert job["state"] == "posted"
    assert len(world.discord.dms_to(ALICE)) == 1 and len(results(world)) == 1


async def test_nowhere_to_post_keeps_the_paid_image(world):
    await world.start_bot()
    await world.grant(10)
    await started(world, "a fox")
    world.discord.block_dms(ALICE)
    await world.discord.wait_for(lambda: world.jobs() and world.jobs()[0]["state"] == "submitted")
    world.discord.delete_channel(GENERAL)
    job = await final(world)
    assert job["state"] == "undeliverable" and world.balance() == (8, 0)
    blob = job["result_blob"]
    assert (world.db_path.parent / "blobs" / blob[:2] / blob).exists(), "the paid image must stay on disk"
    assert results(world) == []


async def test_a_channel_post_whose_answer_was_lost_is_not_posted_twice(world):
    await world.start_bot()
    await world.grant(10)
    interaction = await started(world, "a fox")
    world.discord.expire_interaction(interaction)
    # Discord stores the message, then a proxy answers 502: discord.py sends the same request again.
    world.discord.fail_next("POST", rf"^/channels/{GENERAL}/messages$", 502, process=True)
    job = await final(world)
    assert job["state"] == "posted"
    assert len(results(world)) == 1, "the retry after a lost answer posted a second copy"
    assert world.balance() == (8, 0)


async def test_killed_after_discord_took_the_channel_post_posts_it_once(world):
    await world.start_bot()
    await world.grant(10)
    interaction = await started(world, "a fox")
    world.discord.expire_interaction(interaction)
    world.discord.fail_next("POST", rf"^/channels/{GENERAL}/messages$", 502, process=True, delay=10)
    await world.discord.wait_for(lambda: results(world), timeout=20)
    assert world.jobs()[0]["state"] == "succeeded", "the bot has not heard back yet"
    await world.restart_bot()  # SIGKILL while Discord holds the answer
    job = await final(world)
    assert job["state"] == "posted"
    assert len(results(world)) == 1, "the image was posted again after the restart"
    assert job["result_message_id"] == int(results(world)[0]["id"])
    assert world.balance() == (8, 0)


async def test_progress_stops_using_a_token_discord_refused(world):
    await world.start_bot(PROGRESS_INTERVAL="0.2")
    await world.grant(10)
    interaction = await started(world, "a fox", slow=2.0)
    world.discord.expire_interaction(interaction)
    await final(world)
    refused = [
        r for r in world.discord.requests if r.method == "PATCH" and interaction.token in r.path and r.status == 401
    ]
    assert len(refused) <= 2, f"{len(refused)} edits with a token Discord had refused (each counts toward a ban)"


async def test_failure_notice_reaches_the_requester_when_the_channel_is_gone(world):
    await world.start_bot()
    await world.grant(10)
    world.segmind.fail_job("moderated", prompt="a fox")
    await started(world, "a fox")
    world.discord.delete_channel(GENERAL)
    await final(world, states=("refunded",))
    await world.discord.wait_for(lambda: world.discord.dms_to(ALICE), timeout=10)
    assert "safety filter" in world.discord.dms_to(ALICE)[0]["content"]
    await world.discord.wait_for(lambda: world.jobs()[0]["notified"] == 1)
    assert world.balance() == (10, 0)
