"""The real bot process, end to end, against the fake Discord and the fake Segmind."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import ALICE, BOB, GENERAL, GUILD, MOD, OTHER_CHANNEL, OTHER_GUILD, png
from tests.fakes.segmind_server import Fault

pytestmark = pytest.mark.e2e


def buttons(message: dict) -> dict[str, str]:
    return {
        c["label"]: c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])
    }


def text_input_ids(modal: dict) -> list[str]:
    found = []

    def walk(component: dict) -> None:
        if component.get("type") == 4:
            found.append(component["custom_id"])
        for child in component.get("components", []):
            walk(child)
        if "component" in component:
            walk(component["component"])

    for component in modal["components"]:
        walk(component)
    return found


def fields(message: dict) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message["embeds"][0].get("fields", [])}


async def test_imagine_on_klein_posts_the_image_and_charges_once(world):
    await world.start_bot()
    await world.grant(10)
    interaction = await world.discord.slash(
        GUILD, GENERAL, ALICE, "imagine", {"prompt": "a fox in the snow @everyone <@&1200000000000000031>"}
    )
    result = await world.result(interaction)
    assert result["attachments"][0]["filename"].startswith("flux-")
    data = world.discord.attachment_bytes(result["attachments"][0])
    assert data.startswith(b"\x89PNG"), "the posted file is the PNG Segmind produced"
    assert result["embeds"][0]["title"] == "FLUX.2 Klein 9B"
    assert fields(result)["Cost"] == "2 credits" and fields(result)["Balance after"] == "8 credits"
    assert set(buttons(result)) == {"Reroll", "Edit", "Finalize with Pro", "Delete", "Report", "Info"}
    assert world.segmind.billed == 1
    assert world.balance() == (8, 0)
    assert world.totals()["capture"] == 2
    await world.discord.wait_for(lambda: world.jobs()[0]["state"] == "posted")


async def test_imagine_on_pro_with_size_options(world):
    await world.start_bot()
    await world.grant(20)
    interaction = await world.discord.slash(
        GUILD, GENERAL, ALICE, "imagine",
        {"prompt": "a glass city", "model": "flux-2-pro", "width": 1024, "height": 768, "image_format": "jpeg"},
    )
    result = await world.result(interaction)
    assert result["embeds"][0]["title"] == "FLUX.2 Pro"
    assert "Finalize with Pro" not in buttons(result)
    body = world.segmind.submits[0]
    assert (body["width"], body["height"], body["output_format"]) == (1024, 768, "jpeg")
    assert "safety_tolerance" in body and world.segmind.unknown_params == []
    assert world.balance() == (12, 0)


async def test_option_of_the_wrong_model_is_named_and_costs_nothing(world):
    await world.start_bot()
    await world.grant(20)
    interaction = await world.discord.slash(
        GUILD, GENERAL, ALICE, "imagine", {"prompt": "x", "model": "flux-2-pro", "steps": 30}
    )
    reply = await world.reply(interaction)
    assert "`steps`" in reply["content"] and "not charged" in reply["content"]
    assert reply["flags"] & 64, "the error is ephemeral"
    assert world.generation_calls() == [] and world.balance() == (20, 0)


async def test_not_enough_credits_is_refused_with_balance_and_price(world):
    await world.start_bot()
    interaction = await world.discord.slash(
        GUILD, GENERAL, ALICE, "imagine", {"prompt": "x", "model": "flux-2-pro"}
    )
    reply = await world.reply(interaction)
    assert "**8**" in reply["content"] and "**0**" in reply["content"]
    assert reply["flags"] & 64
    assert world.generation_calls() == []
    assert world.jobs() == []


async def test_edit_with_two_attachments_sends_both_references(world):
    await world.start_bot()
    await world.grant(10)
    first = world.discord.add_attachment("cat.png", png(colour=(10, 10, 200)), "image/png", width=64, height=48)
    second = world.discord.add_attachment("hat.png", png(colour=(10, 200, 10)), "image/png", width=64, height=48)
    interaction = await world.discord.slash(
        GUILD, GENERAL, ALICE, "edit", {"prompt": "put the hat on the cat", "image": first, "image2": second}
    )
    result = await world.result(interaction)
    assert fields(result)["References"] == "2"
    urls = world.segmind.submits[0]["image_urls"]
    assert len(urls) == 2 and all(u.startswith(world.segmind.base_url) for u in urls)
    assert len(world.segmind.uploads) >= 1
    assert world.balance() == (8, 0)


async def test_non_image_attachment_is_refused_by_name(world):
    await world.start_bot()
    await world.grant(10)
    fake_png = world.discord.add_attachment("notes.png", b"just some text, not an image", "image/png")
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "edit", {"prompt": "x", "image": fake_png})
    reply = await world.reply(interaction)
    assert "`notes.png`" in reply["content"] and reply["flags"] & 64
    assert world.generation_calls() == [] and world.balance() == (10, 0)


async def test_context_menu_edit_asks_for_a_prompt(world):
    await world.start_bot()
    await world.grant(10)
    photo = world.discord.add_attachment("photo.png", png(), "image/png", width=64, height=48)
    target = world.discord.add_message(GENERAL, ALICE, "look", attachments=[photo])
    opened = await world.discord.message_command(GUILD, GENERAL, ALICE, "Edit with FLUX", target)
    modal = await world.discord.wait_for(lambda: world.discord.callbacks(opened))
    assert modal[0]["type"] == 9, "the menu answers with a modal"
    custom_id = modal[0]["data"]["custom_id"]
    text_input = text_input_ids(modal[0]["data"])[0]
    submitted = await world.discord.submit_modal(GUILD, GENERAL, ALICE, custom_id, {text_input: "make it night"})
    result = await world.result(submitted)
    assert world.segmind.submits[0]["prompt"] == "make it night"
    assert len(world.segmind.submits[0]["image_urls"]) == 1
    assert fields(result)["Requested by"] == f"<@{ALICE}>"
    assert not [m for m in world.discord.interaction_messages(submitted) if "left out" in (m.get("content") or "")]


@pytest.mark.parametrize("quote", [False, True])
async def test_context_menu_says_which_attachments_it_left_out_and_why(world, quote):
    await world.start_bot()
    await world.grant(100)
    if quote:
        await world.reply(await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {"confirm_all": True}, subcommand="settings"))
    photos = [
        world.discord.add_attachment(f"p{n}.png", png(colour=(n * 30, 10, 10)), "image/png", width=64, height=48)
        for n in range(6)
    ]
    notes = world.discord.add_attachment("notes.txt", b"not an image", "text/plain")
    target = world.discord.add_message(GENERAL, ALICE, "six photos and notes", attachments=[*photos, notes])
    opened = await world.discord.message_command(GUILD, GENERAL, ALICE, "Edit with FLUX", target)
    modal = (await world.discord.wait_for(lambda: world.discord.callbacks(opened)))[0]["data"]
    submitted = await world.discord.submit_modal(GUILD, GENERAL, ALICE, modal["custom_id"], {"prompt": "together"})
    notice = await world.reply(submitted)
    assert notice["flags"] & 64, "said privately"
    assert notice["content"] == (
        "3 of the message's attachments were left out: 1 is not a PNG, JPEG or WebP image; "
        "2 beyond the first 4, as FLUX.2 Klein 9B takes at most 4 reference images."
    )
    if quote:
        assert buttons(notice)["Confirm"], "the notice comes with the quote"
        submitted = await world.discord.click(GUILD, GENERAL, ALICE, notice, buttons(notice)["Confirm"])
    await world.result(submitted)
    assert len(world.segmind.submits[-1]["image_urls"]) == 4


async def test_reroll_after_a_restart_uses_a_new_seed(world):
    await world.start_bot()
    await world.grant(10)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a tree", "seed": 7})
    result = await world.result(interaction)
    await world.restart_bot()
    click = await world.discord.click(GUILD, GENERAL, BOB, result, buttons(result)["Reroll"])
    rerolled = await world.result(click)
    assert fields(rerolled)["Seed"] != "7"
    assert [s["prompt"] for s in world.segmind.submits] == ["a tree", "a tree"]
    assert world.segmind.submits[1]["seed"] != 7
    assert world.balance() == (6, 0)


async def test_buttons_refuse_another_guilds_job(world):
    await world.start_bot()
    await world.grant(10)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a tree"})
    result = await world.result(interaction)
    # The same custom_id arriving from another guild (a forged or copied component).
    click = await world.discord.click(OTHER_GUILD, OTHER_CHANNEL, BOB, result, buttons(result)["Reroll"])
    reply = await world.reply(click)
    assert "not known" in reply["content"] and reply["flags"] & 64
    assert len(world.segmind.submits) == 1


async def test_delete_only_by_requester_or_moderator(world):
    await world.start_bot()
    await world.grant(10)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a tree"})
    result = await world.result(interaction)
    denied = await world.discord.click(GUILD, GENERAL, BOB, result, buttons(result)["Delete"])
    assert "not allowed" in (await world.reply(denied))["content"]
    assert world.discord.message(result["id"]) is not None
    allowed = await world.discord.click(GUILD, GENERAL, MOD, result, buttons(result)["Delete"])
    await world.reply(allowed)
    await world.discord.wait_for(lambda: world.discord.message(result["id"]) is None)


async def test_segmind_500_then_success(world):
    await world.start_bot()
    await world.grant(10)
    world.segmind.script("submit", Fault(500, {"error": "internal"}))
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a boat"})
    await world.result(interaction)
    assert [r.status for r in world.segmind.calls("submit")] == [500, 200]
    assert world.segmind.billed == 1 and world.totals()["capture"] == 2


async def test_segmind_422_refunds_with_segmind_reason(world):
    await world.start_bot()
    await world.grant(10)
    world.segmind.script("submit", Fault(422, {"error": "prompt is too long for this model"}))
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a boat"})
    reply = await world.reply(interaction)
    assert "prompt is too long for this model" in reply["content"] and "not charged" in reply["content"]
    await world.discord.wait_for(lambda: world.jobs()[0]["state"] == "refunded")
    assert world.balance() == (10, 0) and "capture" not in world.totals()


async def test_provider_moderation_refunds_and_says_so(world):
    await world.start_bot()
    await world.grant(10)
    world.segmind.fail_job("moderated")
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a boat"})
    reply = await world.reply(interaction)
    assert "safety filter" in reply["content"] and "not charged" in reply["content"]
    await world.discord.wait_for(lambda: world.jobs()[0]["state"] == "refunded")
    assert world.balance() == (10, 0)


async def test_killed_while_submitted_completes_after_restart_and_charges_once(world):
    await world.start_bot()
    await world.grant(10)
    world.segmind.latency = 3.0
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a castle"})
    await world.discord.wait_for(lambda: world.jobs() and world.jobs()[0]["state"] == "submitted", timeout=15)
    await world.bot.kill()
    assert world.balance() == (10, 2), "the price is held while the job is in flight"
    await world.start_bot()
    await world.result(interaction)
    assert len(world.segmind.submits) == 1, "the submit is never sent twice"
    assert world.segmind.billed == 1
    assert world.totals()["capture"] == 2 and world.balance() == (8, 0)


async def test_commands_are_guild_only_and_a_forged_dm_is_refused(world):
    await world.start_bot()
    assert all(command.get("contexts") == [0] for command in world.discord.commands), "Discord offers none in DMs"
    interaction = await world.discord.slash(None, None, ALICE, "imagine", {"prompt": "x"}, forge=True)
    reply = await world.reply(interaction)
    assert "only works in a server" in reply["content"]
    assert world.generation_calls() == []


async def test_credits_balance_and_history(world):
    await world.start_bot()
    await world.grant(10)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a tree"})
    await world.result(interaction)
    balance = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "credits", subcommand="balance"))
    assert "8 credits" in balance["content"] and "You spent today:** 2" in balance["content"]
    refused = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "credits-admin", subcommand="history"))
    assert "Manage Server" in refused["content"]
    history = await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", subcommand="history")
    page = await world.discord.wait_for(
        lambda: next((m for m in world.discord.interaction_messages(history) if m.get("embeds")), None)
    )
    assert "capture" in page["embeds"][0]["description"] and "grant" in page["embeds"][0]["description"]


async def test_grant_is_owner_only(world):
    await world.start_bot()
    interaction = await world.discord.slash(
        GUILD, GENERAL, MOD, "credits-admin", {"amount": 100}, subcommand="grant"
    )
    reply = await world.reply(interaction)
    assert "not allowed" in reply["content"]
    assert world.balance() == (0, 0)


async def test_many_members_at_once_never_overspend(world):
    await world.start_bot()
    await world.grant(9)
    interactions = await asyncio.gather(
        *(world.discord.slash(GUILD, GENERAL, ALICE if i % 2 else BOB, "imagine", {"prompt": f"p{i}"}) for i in range(8))
    )
    await world.discord.wait_for(
        lambda: len([j for j in world.jobs() if j["state"] == "posted"]) == 4, timeout=30
    )
    refusals = [await world.reply(i) for i in interactions if not world.discord.interaction_messages(i)
                or "credits" in (world.discord.interaction_messages(i)[-1].get("content") or "")]
    assert len(refusals) == 4 and all("not have enough credits" in r["content"] for r in refusals)
    assert world.segmind.billed == 4
    assert world.balance() == (1, 0), "four jobs of 2 fit in 9 credits; the rest were refused"


async def test_progress_is_shown_then_replaced_by_the_result(world):
    await world.start_bot(MAX_CONCURRENT_JOBS_PER_GUILD="1")
    await world.grant(10)
    world.segmind.latency = 1.5
    first = await world.discord.slash(GUILD, GENERAL, BOB, "imagine", {"prompt": "first"})
    # Two commands in flight at once may start in either order (each waits for its own reads and
    # acknowledgement): the second is sent once the first one's job exists, so it queues behind it.
    await world.discord.wait_for(lambda: len(world.jobs()) == 1)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "slow"})
    await world.result(first)
    await world.result(interaction)
    edits = [
        r.json.get("content") for r in world.discord.requests
        if r.method == "PATCH" and interaction.token in r.path and isinstance(r.json, dict) and r.json.get("content")
    ]
    assert any(text.startswith("⏳") for text in edits), f"queue position shown: {edits}"
    assert any(text.startswith("🎨 Generating with FLUX.2 Klein 9B") for text in edits), edits
    final = world.discord.original_response(interaction)
    assert final["attachments"] and not final["content"], "the progress text is gone from the result"


async def test_result_over_the_upload_limit_is_reencoded_to_fit(world):
    await world.start_bot()
    await world.grant(10)
    world.segmind.result_bytes_size = 600_000
    limit = 200_000
    interaction = await world.discord.slash(
        GUILD, GENERAL, ALICE, "imagine", {"prompt": "detailed"}, attachment_size_limit=limit
    )
    result = await world.result(interaction)
    attachment = result["attachments"][0]
    assert attachment["size"] <= limit and attachment["filename"].endswith(".jpg")
    assert world.discord.attachment_bytes(attachment).startswith(b"\xff\xd8\xff")


async def test_expired_interaction_posts_the_result_in_the_channel(world):
    await world.start_bot()
    await world.grant(10)
    world.segmind.latency = 1.0
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "late"})
    await world.discord.wait_for(lambda: world.jobs() and world.jobs()[0]["state"] == "submitted")
    world.discord.expire_interaction(interaction)
    posted = await world.result_in_channel(GENERAL, 1)
    message = posted[0]
    assert message["content"] == f"<@{ALICE}>"
    assert world.discord.allowed_mentions_of(message["id"])["parse"] == []
    await world.discord.wait_for(lambda: world.jobs()[0]["state"] == "posted")
    assert world.totals()["capture"] == 2


async def test_edit_button_uses_the_result_as_reference(world):
    await world.start_bot()
    await world.grant(10)
    first = await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a house"}))
    opened = await world.discord.click(GUILD, GENERAL, BOB, first, buttons(first)["Edit"])
    modal = await world.discord.wait_for(lambda: world.discord.callbacks(opened))
    custom_id = modal[0]["data"]["custom_id"]
    submitted = await world.discord.submit_modal(
        GUILD, GENERAL, BOB, custom_id, {text_input_ids(modal[0]["data"])[0]: "paint it red"}
    )
    edited = await world.result(submitted)
    assert fields(edited)["References"] == "1" and fields(edited)["Requested by"] == f"<@{BOB}>"
    assert len(world.segmind.submits[1]["image_urls"]) == 1
    assert world.balance() == (6, 0)


async def test_finalize_with_pro_keeps_prompt_and_seed(world):
    await world.start_bot()
    await world.grant(20)
    draft = await world.result(
        await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a bridge", "seed": 99, "steps": 8})
    )
    click = await world.discord.click(GUILD, GENERAL, ALICE, draft, buttons(draft)["Finalize with Pro"])
    final = await world.result(click)
    assert final["embeds"][0]["title"] == "FLUX.2 Pro" and fields(final)["Seed"] == "99"
    pro_body = world.segmind.submits[1]
    assert pro_body["prompt"] == "a bridge" and pro_body["seed"] == 99 and "steps" not in pro_body
    assert world.balance() == (20 - 2 - 8, 0)


async def test_history_pages_with_buttons(world):
    await world.start_bot()
    for _ in range(12):
        await world.grant(1)
    history = await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", subcommand="history")
    page = await world.discord.wait_for(
        lambda: next((m for m in world.discord.interaction_messages(history) if m.get("embeds")), None)
    )
    assert page["embeds"][0]["footer"]["text"] == "1–10"
    older = await world.discord.click(GUILD, GENERAL, MOD, page, buttons(page)["Older ▶"])
    await world.discord.wait_for(lambda: world.discord.callbacks(older))
    updated = await world.discord.wait_for(
        lambda: (m := world.discord.message(page["id"])) and m["embeds"][0]["footer"]["text"] == "11–12" and m
    )
    assert updated["embeds"][0]["description"].count("grant") == 2
    assert [c.get("disabled", False) for row in updated["components"] for c in row["components"]] == [False, True]
    # Back: the newer page is found by key from the first entry shown, and is the first page again.
    newer = await world.discord.click(GUILD, GENERAL, MOD, updated, buttons(updated)["◀ Newer"])
    await world.discord.wait_for(lambda: world.discord.callbacks(newer))
    back = await world.discord.wait_for(
        lambda: (m := world.discord.message(page["id"])) and m["embeds"][0]["footer"]["text"] == "1–10" and m
    )
    assert back["embeds"][0]["description"] == page["embeds"][0]["description"]


async def test_filtered_history_pages_the_same_list_after_a_restart(world):
    # The filters travel in the buttons' custom ids: a restart (nothing in memory) must not widen the list.
    await world.start_bot()
    for _ in range(12):
        await world.grant(1)
    await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a tree"}))
    owner = world.discord.owner_id
    history = await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {"member": owner}, subcommand="history")
    page = await world.discord.wait_for(
        lambda: next((m for m in world.discord.interaction_messages(history) if m.get("embeds")), None)
    )
    assert page["embeds"][0]["footer"]["text"] == "1–10", "only the owner's 12 grants, not ALICE's job"
    await world.restart_bot()
    older = await world.discord.click(GUILD, GENERAL, MOD, page, buttons(page)["Older ▶"])
    await world.discord.wait_for(lambda: world.discord.callbacks(older))
    updated = await world.discord.wait_for(
        lambda: (m := world.discord.message(page["id"])) and m["embeds"][0]["footer"]["text"] != "1–10" and m
    )
    assert updated["embeds"][0]["footer"]["text"] == "11–12"
    assert "capture" not in updated["embeds"][0]["description"]


async def test_stored_images_past_the_retention_period_are_removed_at_start(world):
    await world.start_bot()
    await world.grant(10)
    await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a tree"}))
    job = await world.discord.wait_for(lambda: (jobs := world.jobs()) and jobs[0]["state"] == "posted" and jobs[0])
    stored = world.db_path.parent / "blobs" / job["result_blob"][:2] / job["result_blob"]
    assert stored.exists()
    await asyncio.sleep(1.2)
    await world.bot.stop()
    world.env["RESULT_RETENTION_DAYS"] = "0.00001"  # under a second: the posted image is now old
    await world.start_bot()
    # The file goes in the sweep's worker thread; its log line follows once the thread is back.
    await world.discord.wait_for(lambda: "removed 1 stored image" in world.log(), timeout=10)
    assert not stored.exists()
    assert world.balance() == (8, 0), "removing a posted image's local copy moves no credits"
