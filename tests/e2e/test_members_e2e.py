"""What members reach for first, end to end: several images at once, cancel while waiting, styles and
personal defaults, their own gallery without a Segmind call, alt text on every image."""

from __future__ import annotations

import hashlib

import pytest

from core.png_text import read_text
from tests.e2e.conftest import (
    ALICE,
    BOB,
    CAROL,
    GENERAL,
    GUILD,
    MOD,
    MODLOG,
    NSFW,
    OTHER_CHANNEL,
    OTHER_GUILD,
    png,
)
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


def assert_within_discord_limits(message: dict) -> None:
    rows = message.get("components", [])
    items = [c for row in rows for c in row.get("components", [])]
    assert len(rows) <= 5 and all(len(row["components"]) <= 5 for row in rows), "5 rows of at most 5"
    assert len(items) <= 25 and len(message["attachments"]) <= 10
    ids = [c["custom_id"] for c in items]
    assert len(ids) == len(set(ids)) and all(1 <= len(i) <= 100 for i in ids), "unique custom ids of 1-100"


async def test_count_four_asks_one_quote_and_shows_four_charged_jobs_in_one_message(world):
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
    [gallery] = await all_images(world, confirmed, 1)
    # The message is on Discord a moment before its jobs are marked posted.
    jobs = await world.discord.wait_for(
        lambda: (rows := world.jobs()) and all(j["state"] == "posted" for j in rows) and rows
    )
    assert len(jobs) == 4
    assert {j["result_message_id"] for j in jobs} == {int(gallery["id"])}, "one message holds the four images"
    assert len(gallery["attachments"]) == 4
    assert len({j["result_seed"] for j in jobs}) == 4, "four different images"
    captures = world.query("SELECT job_id, amount FROM ledger_entries WHERE kind = 'capture'")
    assert sorted(c["job_id"] for c in captures) == [j["id"] for j in jobs], "each job charged on its own"
    assert world.balance() == (100 - sum(j["price"] for j in jobs), 0)
    assert len(world.segmind.submits) == 4
    assert_alt_text(gallery, "four foxes")
    assert [a["description"][:4] for a in gallery["attachments"]] == ["1/4:", "2/4:", "3/4:", "4/4:"]
    assert_within_discord_limits(gallery)
    shown = buttons(gallery)
    for n, job in enumerate(jobs, 1):
        for action, custom_id in (("Reroll", "reroll"), ("Edit", "edit"), ("Pro", "pro"), ("Report", "report"),
                                  ("Info", "info")):
            assert shown[f"{action} {n}"] == f"flux:{custom_id}:{job['id']}", f"{action} {n} acts on image {n}"
    await world.discord.wait_for(lambda: world.query("SELECT state FROM batches")[0]["state"] == "posted")

    # After a restart, "Reroll 3" still rerolls image 3 (the job id is in the custom id).
    await world.restart_bot()
    rerolled = await world.discord.click(GUILD, GENERAL, ALICE, gallery, shown["Reroll 3"])
    await world.discord.wait_for(lambda: len(world.jobs()) == 5 and world.jobs()[-1]["state"] == "posted", timeout=20)
    assert world.jobs()[-1]["parent_job_id"] == jobs[2]["id"]
    assert images(world, rerolled), "a reroll is one image in its own message"

    # Delete removes the whole message (every image in it is the requester's).
    refused = await world.discord.click(GUILD, GENERAL, BOB, gallery, shown["Delete"])
    assert "not allowed" in (await world.reply(refused))["content"]
    await world.config("modlog", {"channel": MODLOG})
    deleted = await world.discord.click(GUILD, GENERAL, ALICE, gallery, shown["Delete"])
    await world.discord.wait_for(lambda: world.discord.message(gallery["id"]) is None)
    assert world.discord.callbacks(deleted)
    ids = ", ".join(str(j["id"]) for j in jobs)
    await world.discord.wait_for(lambda: any(
        f"deleted the results of jobs {ids}" in (e.get("description") or "")
        for m in world.discord.messages_in(MODLOG) for e in m.get("embeds", [])
    )), "the mod log names every image of the deleted message"


async def test_a_batch_says_which_image_failed_and_that_it_was_refunded(world):
    await world.start_bot()
    await world.grant(100)
    world.segmind.fail_job("moderated", prompt="three owls")  # the next one of them fails, not billed
    asked = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "three owls", "count": 3})
    [gallery] = await all_images(world, asked, 1)
    jobs = await world.discord.wait_for(
        lambda: (rows := world.jobs()) and all(j["state"] in ("posted", "refunded") for j in rows)
        and all(j["notified"] for j in rows if j["state"] == "refunded") and rows
    )
    refunded = [n for n, j in enumerate(jobs, 1) if j["state"] == "refunded"]
    assert len(refunded) == 1 and len(gallery["attachments"]) == 2
    not_made = next(f for f in gallery["embeds"][0]["fields"] if f["name"] == "Not made")
    assert f"Image {refunded[0]} failed and its 2 credits were refunded" in not_made["value"]
    assert world.balance() == (100 - 2 * 2, 0), "only the two images made are charged"
    assert f"Reroll {refunded[0]}" not in buttons(gallery)


async def test_a_batch_whose_jobs_end_after_a_restart_is_posted_once(world):
    await world.start_bot()
    await world.grant(100)
    world.segmind.slow("patient", 3)
    asked = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "patient", "count": 2})
    # Both submits answered and recorded: a kill while one is still in flight makes that job's
    # outcome uncertain, and it is refunded instead (the fault suite kills at "submitting").
    await world.discord.wait_for(
        lambda: len(world.segmind.submits) == 2 and [j["state"] for j in world.jobs()] == ["submitted"] * 2,
        timeout=20,
    )
    await world.restart_bot()
    [gallery] = await all_images(world, asked, 1)
    jobs = await world.discord.wait_for(
        lambda: (rows := world.jobs()) and all(j["state"] == "posted" for j in rows) and rows, timeout=30
    )
    assert {j["result_message_id"] for j in jobs} == {int(gallery["id"])}
    assert len(gallery["attachments"]) == 2
    posted = [m for m in world.discord.messages_in(GENERAL) if m.get("attachments")]
    assert len(posted) == 1, "one message, posted once"


async def test_cancel_before_submit_releases_the_reservation(world):
    await world.start_bot()
    await world.grant(100)
    world.segmind.slow("slow lane", 120)  # two jobs run (the guild's cap), the other two wait
    asked = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "slow lane", "count": 4})

    def batch_message():
        return next(iter(world.discord.interaction_messages(asked)), None)

    def cancels():
        message = batch_message()
        return {k: v for k, v in buttons(message).items() if k.startswith("Cancel")} if message else {}

    # One message for the batch: a line per image and a numbered Cancel for each waiting one.
    await world.discord.wait_for(lambda: len(cancels()) == 2, timeout=20)
    assert set(cancels()) == {"Cancel 3", "Cancel 4"}, cancels()
    listed = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "queue"))
    assert listed["content"].count("queued") == 2 and listed["content"].count("submitted") == 2, listed["content"]

    waiting = batch_message()
    refused = await world.discord.click(GUILD, GENERAL, BOB, waiting, cancels()["Cancel 4"])
    assert "not allowed" in (await world.reply(refused))["content"], "someone else's job is not theirs to cancel"
    click = await world.discord.click(GUILD, GENERAL, ALICE, waiting, cancels()["Cancel 4"])
    answer = await world.reply(click)
    # The batch's message is shared: the answer is private and the message keeps its other images' lines.
    assert answer["content"].startswith("🛑 Cancelled") and answer["flags"] & 64, answer
    assert answer["id"] != waiting["id"]
    cancelled = await world.discord.wait_for(
        lambda: next((j for j in world.jobs() if j["state"] == "refunded"), None)
    )
    assert cancelled["error_kind"] == "JobCancelled"
    assert cancelled["id"] == world.jobs()[3]["id"], "Cancel 4 cancels image 4"
    released = world.query("SELECT amount FROM ledger_entries WHERE kind = 'release' AND job_id = ?", (cancelled["id"],))
    assert [r["amount"] for r in released] == [cancelled["price"]]
    assert world.balance() == (100, 3 * cancelled["price"]), "only the three other jobs still hold credits"
    await world.discord.wait_for(lambda: set(cancels()) == {"Cancel 3"} and "Cancelled" in batch_message()["content"])
    assert len(world.segmind.submits) == 2, "the cancelled job never reached Segmind"
    started = next(j for j in world.jobs() if j["state"] == "submitted")
    late = await world.discord.click(GUILD, GENERAL, ALICE, waiting, f"flux:cancel:{started['id']}", forge=True)
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
    [gallery] = await all_images(world, confirmed, 1)
    assert len(gallery["attachments"]) == 2
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
    assert imagine["name_localizations"]["de"] == "bild", "names too (tests/e2e/test_localised_names_e2e.py)"
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


async def test_a_german_member_in_a_german_server_reads_the_quote_the_batch_and_refusals_in_german(world):
    await world.start_bot()
    await world.grant(100)
    world.discord.guild_locales[GUILD] = "de"
    await world.reply(
        await world.discord.slash(GUILD, GENERAL, MOD, "credits-admin", {"quote_above": 3}, subcommand="settings")
    )
    asked = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "zwei Füchse", "count": 2},
                                      locale="de")
    quote = await world.discord.wait_for(
        lambda: next((m for m in world.discord.interaction_messages(asked) if m.get("embeds")), None)
    )
    card = quote["embeds"][0]
    assert card["title"] == "2 × FLUX.2 Klein 9B: 4 Credits"
    assert card["description"] == "Bis zu deiner Bestätigung wird nichts reserviert."
    assert [f["name"] for f in card["fields"]][:1] == ["Guthaben des Servers"]
    confirmed = await world.discord.click(GUILD, GENERAL, ALICE, quote, buttons(quote)["Bestätigen"], locale="de")
    [gallery] = await all_images(world, confirmed, 1)
    assert world.discord.message(quote["id"])["content"] == "Bestätigt."
    names = [f["name"] for f in gallery["embeds"][0]["fields"]]
    assert names[:3] == ["Seeds", "Kosten", "Guthaben danach"], names
    assert gallery["embeds"][0]["fields"][1]["value"] == "4 Credits"
    labels = set(buttons(gallery))
    assert {"Neu würfeln 1", "Bearbeiten 2", "Pro 2", "Melden 1", "Info 2", "Löschen"} <= labels, labels
    # An admin command's refusal (Bob may not read the ledger) is German too.
    refused = await world.discord.slash(GUILD, GENERAL, BOB, "credits-admin", subcommand="history", locale="de")
    text = (await world.reply(refused))["content"]
    assert text.startswith(("Dafür brauchst du", "Das darfst du nicht", "Du darfst diesen Befehl")), text


async def test_joining_a_server_tells_its_owner_the_three_first_steps(world):
    await world.start_bot()
    new_guild, owner = 1_200_000_000_000_000_777, 1_200_000_000_000_000_778
    # A guild that arrives while discord.py is still starting counts as one it was in already.
    await world.discord.wait_for(lambda: "ready as" in world.log(), timeout=15)
    world.discord.add_user(owner, "newowner")
    world.discord.add_guild(new_guild, "Gamma", owner_id=owner)  # no system channel: the owner is told by DM
    told = await world.discord.wait_for(lambda: world.discord.dms_to(owner), timeout=15)
    assert "/credits-admin grant" in told[0]["content"] and "/config channels" in told[0]["content"]


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
