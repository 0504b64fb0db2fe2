"""Credits a community can run on, end to end: quotes, allowances, refunds, export, usage, alerts, owners."""

from __future__ import annotations

import csv
import gzip
import io

import pytest
from PIL import Image

from tests.e2e.conftest import ALICE, ARTIST_ROLE, BOB, CAROL, GENERAL, GUILD, MOD, MODLOG, OTHER_GUILD
from tests.e2e.test_bot_e2e import buttons

pytestmark = pytest.mark.e2e


async def credits(world, sub: str, options: dict | None = None, *, user: int = MOD) -> dict:
    command = "credits" if sub == "balance" else "credits-admin"  # members have /credits balance only
    return await world.reply(await world.discord.slash(GUILD, GENERAL, user, command, options or {}, subcommand=sub))


async def quote_of(world, interaction) -> dict:
    return await world.discord.wait_for(
        lambda: next((m for m in world.discord.interaction_messages(interaction) if "Confirm" in buttons(m)), None)
    )


async def test_quote_reserves_nothing_until_confirmed(world):
    await world.start_bot()
    await world.grant(30)
    await credits(world, "settings", {"quote_above": 5})
    asked = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a lighthouse", "model": "flux-2-pro"})
    quote = await quote_of(world, asked)
    assert quote["flags"] & 64 and quote["embeds"][0]["title"] == "FLUX.2 Pro: 8 credits"
    assert set(buttons(quote)) == {"Confirm", "Use Klein instead", "Cancel"}
    assert world.balance() == (30, 0) and world.jobs() == [] and world.generation_calls() == []
    confirmed = await world.discord.click(GUILD, GENERAL, ALICE, quote, buttons(quote)["Confirm"])
    await world.result(confirmed)
    assert world.balance() == (22, 0)

    cheaper = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "again", "model": "flux-2-pro"})
    quote = await quote_of(world, cheaper)
    klein = await world.discord.click(GUILD, GENERAL, ALICE, quote, buttons(quote)["Use Klein instead"])
    result = await world.result(klein)
    assert result["embeds"][0]["title"] == "FLUX.2 Klein 9B" and world.balance() == (20, 0)

    small = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "cheap"})
    await world.result(small)  # 2 credits is under the threshold: no quote
    cancelled = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "no", "model": "flux-2-pro"})
    quote = await quote_of(world, cancelled)
    await world.discord.click(GUILD, GENERAL, ALICE, quote, buttons(quote)["Cancel"])
    await world.discord.wait_for(lambda: "Cancelled" in (world.discord.original_response(cancelled) or {}).get("content", ""))
    assert world.balance() == (18, 0) and len(world.jobs()) == 3


async def test_allowance_limits_a_member_and_roles_can_be_unlimited(world):
    await world.start_bot()
    await world.grant(100)
    await credits(world, "allowance", {"role": GUILD, "daily": 4})  # @everyone: 4 credits a day
    await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "one"}))
    await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "two"}))
    refused = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "three"}))
    assert "allowance" in refused["content"] and "0 left today" in refused["content"]
    balance = await credits(world, "balance", user=ALICE)
    assert "0 of 4 credits left" in balance["content"]
    await credits(world, "allowance", {"role": ARTIST_ROLE, "unlimited": True})
    for i in range(3):
        await world.result(await world.discord.slash(GUILD, GENERAL, CAROL, "imagine", {"prompt": f"carol {i}"}))
    assert world.balance() == (100 - 4 - 6, 0)


async def test_refund_once_and_only_by_moderators(world):
    await world.start_bot()
    await world.grant(10)
    await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "x"}))
    job_id = world.jobs()[0]["id"]
    denied = await credits(world, "refund", {"job_id": job_id}, user=ALICE)
    assert "Manage Server" in denied["content"]
    done = await credits(world, "refund", {"job_id": job_id, "reason": "blurry"})
    assert "balance is now 10" in done["content"]
    again = await credits(world, "refund", {"job_id": job_id})
    assert "already been refunded" in again["content"]
    totals = world.totals()
    assert world.balance()[0] == totals["grant"] - totals["capture"] + totals["refund"] == 10


async def test_admin_subcommands_are_a_group_discord_hides_from_members_and_still_checks(world):
    await world.start_bot()
    registered = {c["name"]: c for c in world.discord.commands}
    member, admin = registered["credits"], registered["credits-admin"]
    assert member.get("default_member_permissions") is None, "every member sees /credits"
    assert [o["name"] for o in member["options"]] == ["balance"]
    assert int(admin["default_member_permissions"]) == 1 << 5, "shown to Manage Server only (MANAGE_GUILD)"
    assert {o["name"] for o in admin["options"]} == {
        "grant", "history", "export", "usage", "refund", "allowance", "settings"
    }
    assert admin["contexts"] == [0]
    described = {s["name"]: {o["name"]: o["description"] for o in s.get("options", [])} for s in admin["options"]}
    assert described["allowance"]["role"] == "Set it for a role (@everyone = everybody)"  # from the docstring
    assert "…" not in [d for name, options in described.items() if name != "refund" for d in options.values()]
    # A server may show it to anyone (Integrations settings): each subcommand still checks.
    refused = await credits(world, "settings", {"quote_above": 1}, user=ALICE)
    assert "Manage Server" in refused["content"]
    assert "not allowed" in (await credits(world, "grant", {"amount": 5}, user=ALICE))["content"]
    assert world.balance() == (0, 0)
    for command, sub in (("credits", "balance"), ("credits-admin", "history")):
        forged_dm = await world.discord.slash(None, None, ALICE, command, {}, subcommand=sub, forge=True)
        assert "only works in a server" in (await world.reply(forged_dm))["content"]


async def test_export_round_trips_and_usage_chart_is_a_real_png(world):
    await world.start_bot()
    await world.grant(30)
    await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a"}))
    await world.result(await world.discord.slash(GUILD, GENERAL, BOB, "imagine", {"prompt": "b", "model": "flux-2-pro"}))
    export = await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {}, subcommand="export")
    message = await world.discord.wait_for(
        lambda: next((m for m in world.discord.interaction_messages(export) if m.get("attachments")), None)
    )
    # Read as a spreadsheet would (the csv module, columns written out here), not with the bot's parser.
    assert message["attachments"][0]["filename"].endswith(".csv.gz")
    data = gzip.decompress(world.discord.attachment_bytes(message["attachments"][0])).decode("utf-8")
    header, *rows = list(csv.reader(io.StringIO(data, newline="")))
    assert header == ["id", "created_at_utc", "kind", "amount", "balance_after", "job_id", "user_id", "model", "reason"]
    sums: dict[str, int] = {}
    for row in rows:
        sums[row[2]] = sums.get(row[2], 0) + int(row[3])
    assert sums == world.totals() and sums["capture"] == 2 + 8
    chart = await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {}, subcommand="usage")
    message = await world.discord.wait_for(
        lambda: next((m for m in world.discord.interaction_messages(chart) if m.get("attachments")), None)
    )
    png = world.discord.attachment_bytes(message["attachments"][0])
    assert png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert len(image.getcolors(maxcolors=1 << 20)) > 10, "the chart has content, not a blank canvas"


async def test_low_balance_alert_once_per_crossing(world):
    await world.start_bot()
    await world.grant(10)
    await world.config("modlog", {"channel": MODLOG})
    await credits(world, "settings", {"low_balance_alert": 7})
    for prompt in ("a", "b", "c"):  # 10 → 8 → 6 (crosses) → 4
        await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": prompt}))

    def alerts() -> list[dict]:
        return [m for m in world.modlog() if "balance is down" in (m.get("content") or "")]

    await world.discord.wait_for(lambda: alerts())
    await world.grant(3)  # 4 → 7: back at the threshold, which re-arms the alert
    await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "d"}))  # 7 → 5
    await world.discord.wait_for(lambda: len(alerts()) == 2)
    assert [m["content"] for m in alerts()] == [
        "⚠️ This server's credit balance is down to 6 (alert threshold 7).",
        "⚠️ This server's credit balance is down to 5 (alert threshold 7).",
    ]


async def test_segmind_account_low_tells_owners_and_refuses_what_it_cannot_pay(world):
    world.segmind.account_credits = 0.05  # less than one Pro call (about $0.073)
    await world.start_bot(SEGMIND_LOW_BALANCE_USD="1.0")
    await world.grant(50)
    dm = await world.discord.wait_for(lambda: world.discord.dms_to(world.discord.owner_id))
    assert "$0.05" in dm[0]["content"]
    refused = await world.reply(
        await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "x", "model": "flux-2-pro"})
    )
    assert "running out of funds" in refused["content"] and "not charged" in refused["content"]
    await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "klein fits"}))
    assert len(world.discord.dms_to(world.discord.owner_id)) == 1, "one alert, not one per job"


async def test_owner_guilds_and_grant_by_id(world):
    await world.start_bot()
    owner = world.discord.owner_id
    denied = await world.reply(
        await world.discord.slash(GUILD, GENERAL, MOD, "owner", {"guild_id": str(OTHER_GUILD), "amount": 5}, subcommand="grant")
    )
    assert "not allowed" in denied["content"] and world.balance(OTHER_GUILD) == (0, 0)
    await world.reply(
        await world.discord.slash(GUILD, GENERAL, owner, "owner", {"guild_id": str(OTHER_GUILD), "amount": 5}, subcommand="grant")
    )
    assert world.balance(OTHER_GUILD) == (5, 0)
    listing = await world.reply(await world.discord.slash(GUILD, GENERAL, owner, "owner", {}, subcommand="guilds"))
    assert str(OTHER_GUILD) in listing["embeds"][0]["description"]
