"""Privacy through the real bot: /privacy forget, and a server's data after the bot leaves it."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import ALICE, BOB, EVERYONE_PERMS, GENERAL, GUILD, OTHER_CHANNEL, OTHER_GUILD

pytestmark = pytest.mark.e2e


def button(message: dict, label: str) -> str:
    for row in message.get("components", []):
        for component in row.get("components", []):
            if component.get("label") == label:
                return component["custom_id"]
    raise AssertionError(f"no {label!r} button on {message}")


def prompt_of(row) -> str:
    return json.loads(row["spec"])["prompt"]


def blob_exists(world, digest: str) -> bool:
    return (world.tmp / "blobs" / digest[:2] / digest).exists()


def books(world, guild_id: int) -> list[tuple]:
    return [tuple(r) for r in world.query(
        "SELECT kind, SUM(amount), COUNT(*) FROM ledger_entries WHERE guild_id = ? GROUP BY kind ORDER BY kind",
        (guild_id,),
    )]


async def imagine(world, guild_id: int, channel_id: int, user_id: int, prompt: str) -> None:
    await world.result(await world.discord.slash(guild_id, channel_id, user_id, "imagine", {"prompt": prompt}))


async def test_forget_removes_a_members_prompts_and_images_and_keeps_the_books(world):
    await world.start_bot()
    await world.grant(20)
    await imagine(world, GUILD, GENERAL, ALICE, "alice's secret garden")
    await imagine(world, GUILD, GENERAL, BOB, "bob's boat")
    await world.discord.wait_for(lambda: all(j["state"] == "posted" for j in world.jobs()) and len(world.jobs()) == 2)
    alice_job, bob_job = world.jobs()
    before = books(world, GUILD)
    assert blob_exists(world, alice_job["result_blob"])

    ask = await world.discord.slash(GUILD, GENERAL, ALICE, "privacy", {}, subcommand="forget")
    question = await world.reply(ask)
    assert "cannot be undone" in question["content"]
    await world.discord.click(GUILD, GENERAL, ALICE, question, button(question, "Forget my data"))

    def done():
        message = world.discord.original_response(ask)
        return message if message and message["content"].startswith("Done:") else None

    answer = await world.discord.wait_for(done, timeout=15)
    assert "1 prompt(s) and 1 stored image(s) removed" in answer["content"]

    alice_job, bob_job = world.jobs()
    assert prompt_of(alice_job) == "[removed]" and prompt_of(bob_job) == "bob's boat"
    assert not blob_exists(world, alice_job["result_blob"]) and blob_exists(world, bob_job["result_blob"])
    assert books(world, GUILD) == before, "the credits moved stay on the books"


async def test_cancel_removes_nothing(world):
    await world.start_bot()
    await world.grant(20)
    await imagine(world, GUILD, GENERAL, ALICE, "a quiet harbour")
    ask = await world.discord.slash(GUILD, GENERAL, ALICE, "privacy", {}, subcommand="forget")
    question = await world.reply(ask)
    await world.discord.click(GUILD, GENERAL, ALICE, question, button(question, "Cancel"))
    await world.discord.wait_for(
        lambda: (world.discord.original_response(ask) or {}).get("content") == "Nothing was removed."
    )
    (job,) = world.jobs()
    assert prompt_of(job) == "a quiet harbour" and blob_exists(world, job["result_blob"])


async def test_a_servers_data_goes_after_the_grace_period_unless_the_bot_returns(world):
    # 0.00005 days = 4.3 s of grace.
    await world.start_bot(GUILD_DATA_GRACE_DAYS="0.00005")
    await world.grant(20)
    await world.grant(20, guild_id=OTHER_GUILD)
    await imagine(world, GUILD, GENERAL, ALICE, "a castle")
    await imagine(world, OTHER_GUILD, OTHER_CHANNEL, BOB, "a canal")
    await world.discord.wait_for(lambda: all(j["state"] == "posted" for j in world.jobs()) and len(world.jobs()) == 2)
    before = books(world, GUILD)

    world.discord.remove_guild(GUILD)
    world.discord.remove_guild(OTHER_GUILD)
    await world.discord.wait_for(lambda: len(world.query("SELECT * FROM guild_departures")) == 2)
    world.discord.add_guild(
        OTHER_GUILD, "Beta", roles=[world.discord.make_role(OTHER_GUILD, "@everyone", EVERYONE_PERMS)],
        channels=[world.discord.make_channel(OTHER_CHANNEL, "other")], members=[BOB],
    )
    await world.discord.wait_for(
        lambda: [r["guild_id"] for r in world.query("SELECT guild_id FROM guild_departures")] == [GUILD]
    )

    def purged():
        return not world.query("SELECT 1 FROM guild_departures")

    await world.discord.wait_for(purged, timeout=30)
    castle, canal = world.jobs()
    assert (prompt_of(castle), castle["user_id"]) == ("[removed]", 0)
    assert not blob_exists(world, castle["result_blob"])
    assert world.query("SELECT 1 FROM ledger_entries WHERE guild_id = ? AND user_id IS NOT NULL", (GUILD,)) == []
    assert books(world, GUILD) == before, "amounts are kept for the books, anonymised"
    assert prompt_of(canal) == "a canal" and canal["user_id"] == BOB and blob_exists(world, canal["result_blob"])
    assert "removed the data of guild" in world.log()


async def test_a_server_that_removed_the_bot_while_it_was_offline_is_purged_too(world):
    await world.start_bot()
    await world.grant(20, guild_id=OTHER_GUILD)
    await imagine(world, OTHER_GUILD, OTHER_CHANNEL, BOB, "a windmill")
    await world.discord.wait_for(lambda: world.jobs() and world.jobs()[0]["state"] == "posted")
    await world.bot.stop()
    world.discord.remove_guild(OTHER_GUILD)  # nobody is connected to hear GUILD_DELETE

    await world.start_bot(GUILD_DATA_GRACE_DAYS="0.00005")
    await world.discord.wait_for(lambda: "removed the bot while it was offline" in world.log(), timeout=15)
    await world.discord.wait_for(lambda: prompt_of(world.jobs()[0]) == "[removed]", timeout=30)
    (windmill,) = world.jobs()
    assert windmill["user_id"] == 0 and not blob_exists(world, windmill["result_blob"])
    assert world.balance(OTHER_GUILD)[0] == 20 - windmill["price"], "the balance stays for the books"
    assert world.query("SELECT 1 FROM guild_departures") == []
