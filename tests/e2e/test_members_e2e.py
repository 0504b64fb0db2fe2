"""What members reach for first, end to end: several images at once, cancel while waiting, styles and
personal defaults, their own gallery without a Segmind call, alt text on every image."""

from __future__ import annotations

import hashlib

import pytest

from core.png_text import read_text
from tests.e2e.conftest import ALICE, BOB, CAROL, GENERAL, GUILD, MOD, NSFW, OTHER_CHANNEL, OTHER_GUILD, png
from tests.e2e.test_bot_e2e import buttons

pytestmark = pytest.mark.e2e


def images(world, interaction) -> list[dict]:
    return [m for m in world.discord.interaction_messages(interaction) if m.get("attachments") and m.get("embeds")]


async def all_images(world, interaction, count: int) -> list[dict]:
    try:
        return await world.discord.wait_for(lambda: (found := images(world, interaction)) and len(found) >= count
                                            and found, timeout=40)
    except AssertionError:
        texts = [m.get("content") for m in world.discord.interaction_messages(interaction)]
        raise AssertionError(f"fewer than {count} images: {texts}\n{world.log()}") from None


def assert_alt_text(message: dict, prompt: str) -> None:
    for attachment in message["attachments"]:
        assert attachment.get("description"), f"an upload without alt text: {attachment}"
        assert prompt in attachment["description"], attachment["description"]


async def test_count_four_asks_one_quote_and_charges_four_jobs(world):
    await world.start_bot()
    await world.grant(100)
    await world.reply(
        await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {"quote_above": 5}, subcommand="settings")
    )
    asked = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "four foxes", "count": 4})
    quote = await world.discord.wait_for(
        lambda: next((m for m in world.discord.interaction_messages(asked) if "Confirm" in buttons(m)), None)
    )
    assert world.jobs() == [], "nothing is created before the quote is confirmed"
    price = 4 * 2
    assert f"{price} credits" in quote["embeds"][0]["title"], "one quote for all four images"
    confirmed = await world.discord.click(GUILD, GENERAL, ALICE, quote, buttons(quote)["Confirm"])
    results = await all_images(world, confirmed, 4)
    # The image is on Discord a moment before its job is marked posted.
    jobs = await world.discord.wait_for(
        lambda: (rows := world.jobs()) and all(j["state"] == "posted" for j in rows) and rows
    )
    assert len(jobs) == 4
    assert len({j["result_message_id"] for j in jobs}) == 4, "each image has its own message and buttons"
    assert len({j["result_seed"] for j in jobs}) == 4, "four different images"
    captures = world.query("SELECT job_id, amount FROM ledger_entries WHERE kind = 'capture'")
    assert sorted(c["job_id"] for c in captures) == [j["id"] for j in jobs], "each job charged on its own"
    assert world.balance() == (100 - sum(j["price"] for j in jobs), 0)
    assert len(world.segmind.submits) == 4
    for message in results:
        assert_alt_text(message, "four foxes")
        assert {"Reroll", "Edit", "Info"} <= set(buttons(message))


async def test_cancel_before_submit_releases_the_reservation(world):
    await world.start_bot()
    await world.grant(100)
    world.segmind.slow("slow lane", 120)  # two jobs run (the guild's cap), the other two wait
    asked = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "slow lane", "count": 4})

    def cancellable():
        return [m for m in world.discord.interaction_messages(asked) if "Cancel" in buttons(m)]

    waiting = await world.discord.wait_for(lambda: len(cancellable()) == 2 and cancellable(), timeout=20)
    listed = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "queue"))
    assert listed["content"].count("queued") == 2 and listed["content"].count("submitted") == 2, listed["content"]

    refused = await world.discord.click(GUILD, GENERAL, BOB, waiting[-1], buttons(waiting[-1])["Cancel"])
    assert "not allowed" in (await world.reply(refused))["content"], "someone else's job is not theirs to cancel"
    click = await world.discord.click(GUILD, GENERAL, ALICE, waiting[-1], buttons(waiting[-1])["Cancel"])
    await world.discord.wait_for(lambda: world.discord.callbacks(click))
    cancelled = await world.discord.wait_for(
        lambda: next((j for j in world.jobs() if j["state"] == "refunded"), None)
    )
    assert cancelled["error_kind"] == "JobCancelled"
    released = world.query("SELECT amount FROM ledger_entries WHERE kind = 'release' AND job_id = ?", (cancelled["id"],))
    assert [r["amount"] for r in released] == [cancelled["price"]]
    assert world.balance() == (100, 3 * cancelled["price"]), "only the three other jobs still hold credits"
    message = world.discord.message(waiting[-1]["id"])
    assert "Cancelled" in message["content"] and "Cancel" not in buttons(message), "the button is gone"
    assert len(world.segmind.submits) == 2, "the cancelled job never reached Segmind"
    started = next(j for j in world.jobs() if j["state"] == "submitted")
    late = await world.discord.click(GUILD, GENERAL, ALICE, waiting[0], f"flux:cancel:{started['id']}", forge=True)
    assert "bills it" in (await world.reply(late))["content"], "a submitted job says Segmind already bills it"


async def test_a_style_expands_into_the_prompt_segmind_receives(world):
    await world.start_bot()
    await world.grant(100)
    saved = await world.reply(
        await world.discord.slash(
            GUILD, GENERAL, MOD, "config", {"name": "Watercolour", "prompt_template": "watercolour of {prompt}, soft"},
            group="style", subcommand="add",
        )
    )
    assert "saved" in saved["content"]
    refused = await world.reply(
        await world.discord.slash(
            GUILD, GENERAL, MOD, "config", {"name": "bad", "prompt_template": "no placeholder"},
            group="style", subcommand="add",
        )
    )
    assert "{prompt}" in refused["content"]
    typed = await world.discord.autocomplete(
        GUILD, GENERAL, ALICE, "imagine", {"prompt": "x", "style": "water"}, "style"
    )
    await world.discord.wait_for(lambda: typed.autocomplete_choices is not None)
    assert [c["value"] for c in typed.autocomplete_choices] == ["watercolour"]

    await world.result(
        await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a fox", "style": "watercolour"})
    )
    assert world.segmind.submits[-1]["prompt"] == "watercolour of a fox, soft"

    # A personal default applies when the option is left out (and the model default too).
    await world.reply(
        await world.discord.slash(GUILD, GENERAL, BOB, "settings", {"style": "watercolour", "model": "flux-2-pro"})
    )
    await world.result(await world.discord.slash(GUILD, GENERAL, BOB, "imagine", {"prompt": "a heron"}))
    assert world.segmind.submits[-1]["prompt"] == "watercolour of a heron, soft"
    assert world.jobs()[-1]["model"] == "flux-2-pro"
    assert world.jobs()[0]["user_id"] == ALICE and world.jobs()[0]["model"] != "flux-2-pro", "defaults are personal"


async def test_mine_and_show_post_the_stored_image_without_calling_segmind(world):
    await world.start_bot()
    await world.grant(100)
    first = await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "old barn"}))
    job = world.jobs()[0]
    calls = len(world.generation_calls())
    balance = world.balance()

    listed = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "mine"))
    assert f"`{job['id']}`" in listed["content"] and "old barn" in listed["content"]
    shown = await world.discord.slash(GUILD, GENERAL, ALICE, "show", {"job_id": job["id"]})
    again = (await all_images(world, shown, 1))[0]
    assert again["attachments"][0]["size"] == first["attachments"][0]["size"], "the same stored image"
    assert_alt_text(again, "old barn")
    assert len(world.generation_calls()) == calls and world.balance() == balance, "free and no Segmind call"

    refused = await world.reply(await world.discord.slash(GUILD, GENERAL, BOB, "show", {"job_id": job["id"]}))
    assert "not allowed" in refused["content"], "someone else's image needs a moderator"
    await all_images(world, await world.discord.slash(GUILD, GENERAL, MOD, "show", {"job_id": job["id"]}), 1)

    info = await world.discord.click(GUILD, GENERAL, BOB, first, buttons(first)["Info"])
    card = await world.reply(info)
    assert "/imagine prompt:old barn" in card["embeds"][0]["description"]
    assert f"seed:{job['result_seed']}" in card["embeds"][0]["description"]


async def test_spoiler_option_and_help(world):
    await world.start_bot()
    await world.grant(100)
    result = await world.result(
        await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "hidden lake", "spoiler": True})
    )
    assert result["attachments"][0]["filename"].startswith("SPOILER_")
    assert not result["embeds"][0].get("image"), "the embed must not show the spoilered image unblurred"
    helped = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "help"))
    assert "/imagine" in helped["embeds"][0]["description"]


async def test_png_text_metadata_by_default_and_spoilers_in_age_restricted_channels(world):
    await world.start_bot()
    await world.grant(100)
    posted = await world.result(
        await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "tagged heron", "seed": 77})
    )
    text = read_text(world.discord.attachment_bytes(posted["attachments"][0]))
    job = world.jobs()[-1]
    assert text["prompt"] == "tagged heron" and text["seed"] == "77" and text["model"] == "FLUX.2 Klein 9B"
    blob = job["result_blob"]
    stored = (world.tmp / "blobs" / blob[:2] / blob).read_bytes()
    assert read_text(stored) == {} and hashlib.sha256(stored).hexdigest() == blob, "the stored blob is untouched"

    answer = await world.config("results", {"png_metadata": False, "spoiler_age_restricted": True})
    assert "off" in answer["content"] and "age-restricted channels: on" in answer["content"]
    plain = await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "plain"}))
    assert read_text(world.discord.attachment_bytes(plain["attachments"][0])) == {}
    assert not plain["attachments"][0]["filename"].startswith("SPOILER_"), "an ordinary channel: no spoiler"
    late = await world.result(await world.discord.slash(GUILD, NSFW, ALICE, "imagine", {"prompt": "late"}))
    assert late["attachments"][0]["filename"].startswith("SPOILER_"), "age-restricted: behind a spoiler"


async def test_a_quote_confirmed_after_a_restart_runs_once(world):
    await world.start_bot()
    await world.grant(100)
    await world.reply(
        await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {"quote_above": 5}, subcommand="settings")
    )
    asked = await world.discord.slash(
        GUILD, GENERAL, ALICE, "imagine", {"prompt": "after the restart", "model": "flux-2-pro", "count": 2}
    )
    quote = await world.discord.wait_for(
        lambda: next((m for m in world.discord.interaction_messages(asked) if "Confirm" in buttons(m)), None)
    )
    assert "2 × FLUX.2 Pro: 16 credits" == quote["embeds"][0]["title"]
    await world.restart_bot()
    confirmed = await world.discord.click(GUILD, GENERAL, ALICE, quote, buttons(quote)["Confirm"])
    await all_images(world, confirmed, 2)
    assert [j["model"] for j in world.jobs()] == ["flux-2-pro", "flux-2-pro"]
    assert world.balance() == (84, 0)
    # A client that still shows the old buttons (or replays the click) gets nothing more.
    again = await world.discord.click(GUILD, GENERAL, ALICE, quote, buttons(quote)["Use Klein instead"], forge=True)
    assert "already been answered" in (await world.reply(again))["content"]
    assert len(world.jobs()) == 2, "a quote starts one batch, however often it is clicked"


async def test_localised_descriptions_are_registered_and_a_german_member_reads_german(world):
    await world.start_bot()
    assert all(c.get("integration_types") == [0] for c in world.discord.commands), "installs: servers only"
    imagine = next(c for c in world.discord.commands if c["name"] == "imagine")
    assert imagine["description_localizations"]["de"] == "Ein Bild mit FLUX.2 erzeugen"
    assert imagine["description_localizations"]["ja"] == "FLUX.2で画像を生成"
    assert not imagine.get("name_localizations"), "names stay as the issue fixes them"
    count = next(o for o in imagine["options"] if o["name"] == "count")
    assert set(count["description_localizations"]) == {"de", "fr", "es-ES", "pt-BR", "ja"}

    world.discord.guild_locales[GUILD] = "de"  # public progress follows the server's language
    world.segmind.slow("langsam", 120)
    await world.grant(100)
    asked = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "langsam", "count": 3})
    await world.discord.wait_for(
        lambda: any("In der Warteschlange: als Nächstes dran" in (m.get("content") or "")
                    for m in world.discord.interaction_messages(asked))
    )
    helped = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "help", locale="de"))
    assert helped["embeds"][0]["description"].startswith("**Bilder erstellen**")
    empty = await world.reply(await world.discord.slash(GUILD, GENERAL, CAROL, "queue", locale="de"))
    assert empty["content"] == "Du hast auf diesem Server keine wartenden oder laufenden Bilder."
    broke = await world.discord.slash(OTHER_GUILD, OTHER_CHANNEL, BOB, "imagine", {"prompt": "x"}, locale="de")
    assert (await world.reply(broke))["content"].startswith("Dieser Server hat nicht genug Credits"), "refusals too"
    english = await world.reply(await world.discord.slash(GUILD, GENERAL, BOB, "queue"))
    assert english["content"].startswith("You have no images")


async def test_joining_a_server_tells_its_owner_the_three_first_steps(world):
    await world.start_bot()
    new_guild, owner = 1_200_000_000_000_000_777, 1_200_000_000_000_000_778
    # A guild that arrives while discord.py is still starting counts as one it was in already.
    await world.discord.wait_for(lambda: "ready as" in world.log(), timeout=15)
    world.discord.add_user(owner, "newowner")
    world.discord.add_guild(new_guild, "Gamma", owner_id=owner)  # no system channel: the owner is told by DM
    told = await world.discord.wait_for(lambda: world.discord.dms_to(owner), timeout=15)
    assert "/credits grant" in told[0]["content"] and "/config channels" in told[0]["content"]


def modal_inputs(modal: dict) -> dict[str, dict]:
    found: dict[str, dict] = {}

    def walk(component: dict) -> None:
        if component.get("custom_id"):
            found[component["custom_id"]] = component
        for child in component.get("components", []):
            walk(child)
        if isinstance(component.get("component"), dict):
            walk(component["component"])

    for component in modal["components"]:
        walk(component)
    return found


async def test_an_edit_modal_opened_before_a_restart_still_edits(world):
    await world.start_bot()
    await world.grant(20)
    first = await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a house"}))
    opened = await world.discord.click(GUILD, GENERAL, ALICE, first, buttons(first)["Edit"])
    modal = (await world.discord.wait_for(lambda: world.discord.callbacks(opened)))[0]["data"]
    await world.restart_bot()
    submitted = await world.discord.submit_modal(GUILD, GENERAL, ALICE, modal["custom_id"], {"prompt": "at night"})
    await world.result(submitted)
    assert world.segmind.submits[-1]["prompt"] == "at night" and len(world.segmind.submits[-1]["image_urls"]) == 1
    assert world.jobs()[-1]["parent_job_id"] == world.jobs()[0]["id"]


@pytest.mark.parametrize(("model", "sent"), [("flux-2-pro", 6), (None, 4)])
async def test_the_context_menu_offers_the_model_and_its_reference_limit(world, model, sent):
    await world.start_bot()
    await world.grant(100)
    photos = [
        world.discord.add_attachment(f"p{n}.png", png(colour=(n * 30, 10, 10)), "image/png", width=64, height=48)
        for n in range(6)
    ]
    target = world.discord.add_message(GENERAL, ALICE, "six photos", attachments=photos)
    opened = await world.discord.message_command(GUILD, GENERAL, ALICE, "Edit with FLUX", target)
    modal = (await world.discord.wait_for(lambda: world.discord.callbacks(opened)))[0]["data"]
    inputs = modal_inputs(modal)
    assert {o["value"] for o in inputs["model"]["options"]} == {"flux-2-pro", "flux-2-klein-9b"}
    values = {"prompt": "together"} | ({"model": [model]} if model else {})
    submitted = await world.discord.submit_modal(GUILD, GENERAL, ALICE, modal["custom_id"], values)
    await world.result(submitted)
    assert len(world.segmind.submits[-1]["image_urls"]) == sent
    label = next(c for c in modal["components"] if c.get("component", {}).get("custom_id") == "model")
    assert label["description"] == "6 image(s) here; Klein uses the first 4, Pro up to 8", "says what is left out"


async def test_every_file_the_bot_uploads_carries_a_description(world):
    await world.start_bot()
    await world.grant(100)
    await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "lamp"}))
    await all_images(world, await world.discord.slash(GUILD, GENERAL, ALICE, "show", {"job_id": 1}), 1)
    for sub in ("export", "usage"):
        asked = await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {}, subcommand=sub)
        await world.discord.wait_for(
            lambda asked=asked: any(m.get("attachments") for m in world.discord.interaction_messages(asked))
        )
    uploads = [a for m, _ in world.discord.all_messages() for a in m.get("attachments", [])]
    assert len(uploads) >= 4
    assert all(a.get("description") for a in uploads), [a["filename"] for a in uploads if not a.get("description")]


async def test_private_results_only_where_the_server_allows_them_and_never_in_the_channel(world):
    await world.start_bot()
    await world.grant(100)
    saved = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "settings", {"private": True}))
    assert "does not allow them" in saved["content"]
    public = await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "open"}))
    assert not public["flags"] & 64, "the server does not allow private results: public"

    await world.config("results", {"private_results": True})
    private = await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "mine"}))
    assert private["flags"] & 64, "only Alice sees it"
    world.segmind.slow("late secret", 1.5)
    asked = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "late secret"})
    await world.discord.wait_for(lambda: world.jobs()[-1]["state"] == "submitted")
    world.discord.expire_interaction(asked)  # its message can no longer be edited: a DM, not the channel
    dm = await world.discord.wait_for(lambda: [m for m in world.discord.dms_to(ALICE) if m.get("attachments")])
    assert dm[0]["attachments"][0]["description"] == "late secret"
    in_channel = [m for m in world.discord.messages_in(GENERAL) if m.get("attachments") and not m["flags"] & 64]
    assert [m["embeds"][0]["description"] for m in in_channel] == ["open"]


async def test_owner_commands_are_registered_only_in_the_owners_server(world):
    await world.start_bot()
    assert "owner" not in {c["name"] for c in world.discord.commands}, "never shown to every server's admins"
    assert "owner" in {c["name"] for c in world.discord.guild_commands.get(GUILD, [])}
    with pytest.raises(LookupError):
        await world.discord.slash(OTHER_GUILD, OTHER_CHANNEL, world.discord.owner_id, "owner", {}, subcommand="guilds")
    listing = await world.reply(
        await world.discord.slash(GUILD, GENERAL, world.discord.owner_id, "owner", {}, subcommand="guilds")
    )
    assert listing.get("content") or listing.get("embeds")


async def test_without_an_owner_server_owner_commands_are_not_registered(world):
    world.env.pop("OWNER_GUILD_ID")
    await world.start_bot()
    registered = {c["name"] for c in world.discord.commands} | {
        c["name"] for commands in world.discord.guild_commands.values() for c in commands
    }
    assert "owner" not in registered and "imagine" in registered
    assert "OWNER_GUILD_ID is not set" in world.log()
