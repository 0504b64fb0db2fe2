"""The mod log hears about failures, refunds and grants; the owners hear about Segmind refusing the
key or the account running dry, once per incident; after a 406 jobs are refused until it recovers."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ALICE, GENERAL, GUILD, MOD, MODLOG
from tests.fakes.segmind_server import Fault

pytestmark = pytest.mark.e2e


async def imagine(world, prompt: str, user: int = ALICE):
    return await world.discord.slash(GUILD, GENERAL, user, "imagine", {"prompt": prompt})


def modlog_embeds(world) -> list[dict]:
    return [m["embeds"][0] for m in world.modlog() if m.get("embeds")]


def owner_dms(world) -> list[str]:
    return [m.get("content") or "" for m in world.discord.dms_to(world.discord.owner_id)]


async def test_failed_and_refunded_jobs_and_grants_reach_the_mod_log(world):
    await world.start_bot()
    await world.config("modlog", {"channel": MODLOG})
    broke = await world.reply(await imagine(world, "before any credits"))
    assert "does not have enough credits" in broke["content"]
    refused = await world.discord.wait_for(
        lambda: next((e for e in modlog_embeds(world) if e.get("title") == "Refused"), None)
    )
    assert "does not have enough credits" in refused["description"]
    assert {f["name"]: f["value"] for f in refused["fields"]}["Who"] == f"<@{ALICE}>"
    await world.grant(10)
    granted = await world.discord.wait_for(
        lambda: next((e for e in modlog_embeds(world) if "granted 10 credits" in e.get("description", "")), None)
    )
    assert f"<@{world.discord.owner_id}>" in granted["description"] and "balance is now 10" in granted["description"]

    world.segmind.fail_job("error", "Prediction failed: out of GPUs", prompt="doomed lighthouse")
    failed = await world.reply(await imagine(world, "a doomed lighthouse"))
    assert "not charged" in failed["content"]
    entry = await world.discord.wait_for(
        lambda: next((e for e in modlog_embeds(world) if e.get("title", "").startswith("Failed · refunded")), None)
    )
    fields = {f["name"]: f["value"] for f in entry["fields"]}
    assert fields["Who"] == f"<@{ALICE}>" and fields["Refunded"] == "2 credits"
    assert "out of GPUs" in fields["Why"] and "doomed lighthouse" in entry["description"]
    assert world.balance() == (10, 0), "the failed job cost nothing"

    await world.reply(
        await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {"member": ALICE, "daily": 4}, subcommand="allowance")
    )
    await world.reply(
        await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {"quote_above": 6}, subcommand="settings")
    )
    lines = await world.discord.wait_for(
        lambda: (lambda d: d if any("credit settings" in x for x in d) else None)(
            [e.get("description", "") for e in modlog_embeds(world)]
        )
    )
    assert any(f"<@{MOD}> set an allowance" in x and "4 per day" in x for x in lines), lines
    assert any("jobs over 6 credits" in x for x in lines), lines

    owner = world.discord.owner_id
    await world.reply(
        await world.discord.slash(
            GUILD, GENERAL, owner, "owner", {"guild_id": str(GUILD), "amount": 3, "reason": "thanks"}, subcommand="grant"
        )
    )
    by_owner = await world.discord.wait_for(
        lambda: next((e for e in modlog_embeds(world) if "(bot owner) granted 3 credits" in e.get("description", "")), None)
    )
    assert [(f["name"], f["value"]) for f in by_owner["fields"]] == [("Reason", "thanks")]


async def test_a_refused_key_tells_the_owner_once_per_incident(world):
    await world.start_bot()
    await world.grant(20)
    world.segmind.script("submit", Fault(401, {"error": "Invalid API key"}), Fault(401, {"error": "Invalid API key"}))
    for prompt in ("first", "second"):
        refused = await world.reply(await imagine(world, prompt))
        assert "operator has been told" in refused["content"] and "not charged" in refused["content"]
    # Each job's owner alert is sent before its requester is told, so both are counted by now.
    alerts = owner_dms(world)
    assert len(alerts) == 1, f"two failing jobs, one incident, one DM: {alerts}"
    assert "refused the bot's API key (HTTP 401)" in alerts[0]
    assert world.balance() == (20, 0)

    await world.result(await imagine(world, "the key works again"))
    await world.discord.wait_for(lambda: len(owner_dms(world)) == 2)
    assert "accepts the bot's API key again" in owner_dms(world)[1]


async def test_after_a_406_jobs_are_refused_politely_until_the_balance_reads_positive(world):
    world.env["SEGMIND_OUTAGE_CHECK_SECONDS"] = "0.3"  # kept by the restart below
    await world.start_bot()
    await world.grant(20)
    await world.discord.wait_for(lambda: world.segmind.calls("credits"))  # the bot has read $100
    world.segmind.account_credits = 0.0

    failed = await world.reply(await imagine(world, "paid by nobody"))
    assert "out of funds" in failed["content"] and "not charged" in failed["content"]
    dm = await world.discord.wait_for(lambda: owner_dms(world))
    assert "out of credit" in dm[0]
    calls = len(world.generation_calls())

    refused = await world.reply(await imagine(world, "and now?"))
    assert refused["content"] == (
        "The image service's account is out of credit; the bot's operator has been told. "
        "Please try again later. You were not charged."
    )
    assert refused["flags"] & 64, "the refusal is private"
    assert len(world.generation_calls()) == calls, "the refused job never reached Segmind"
    assert world.balance() == (20, 0) and len(world.jobs()) == 1

    await world.restart_bot()
    again = await world.reply(await imagine(world, "after a restart"))
    assert "out of credit" in again["content"], "the incident survived the restart"
    assert len(owner_dms(world)) == 1, "the restart did not tell the owner again"

    status = await world.reply(
        await world.discord.slash(GUILD, GENERAL, world.discord.owner_id, "owner", {}, subcommand="account")
    )
    assert "balance: $0.00" in status["content"] and "Out of credit" in status["content"]

    world.segmind.account_credits = 100.0
    await world.discord.wait_for(lambda: len(owner_dms(world)) == 2, timeout=15)
    assert "reads $100.00 again" in owner_dms(world)[1]
    await world.result(await imagine(world, "paid again"))
    assert world.balance() == (18, 0)
