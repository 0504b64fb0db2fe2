"""A German member reads the credits, /settings, /config and result replies in German; the mod log
stays English (staff channels). Each reply is also searched for any English sentence of the catalogue,
so a reply that skips the translation fails here even when nobody thought of asserting its wording."""

from __future__ import annotations

import re

from cogs.ui.catalogue import CATALOGUE, LOCALES
from tests.e2e.conftest import ALICE, BOB, GENERAL, GUILD, MOD, MODLOG
from tests.e2e.test_bot_e2e import buttons

GERMAN = LOCALES.index("de")


def _english_fragments() -> list[str]:
    """The fixed parts (between {fields}) of every catalogue sentence whose German differs, long enough
    to be a sentence and not a name (`FLUX.2 Pro`) shared by both languages."""
    found = set()
    for english, translations in CATALOGUE.items():
        for part in re.split(r"\{[a-z_]*\}", english):
            part = part.strip(" :.,;()*\n")
            if len(part) >= 12 and " " in part and part not in translations[GERMAN]:
                found.add(part)
    return sorted(found)


ENGLISH = _english_fragments()


def english_in(message: dict) -> list[str]:
    texts = [message.get("content") or ""]
    for embed in message.get("embeds", []):
        texts += [embed.get("title", ""), embed.get("description", ""), embed.get("footer", {}).get("text", "")]
        texts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
    texts += list(buttons(message))
    return [part for part in ENGLISH if any(part in text for text in texts)]


def test_the_english_search_finds_an_english_reply():
    """The search above can fail: an English reply is caught, its German one is not."""
    english = {"content": "**Server balance:** 5 credits\n**You spent today:** 0 credits"}
    german = {"content": "**Guthaben des Servers:** 5 Credits\n**Heute ausgegeben:** 0 Credits"}
    assert english_in(english) and not english_in(german)
    assert english_in({"embeds": [{"title": "Image bot settings for this server", "fields": []}]})


async def ask(world, user: int, name: str, options: dict | None = None, **where) -> dict:
    reply = await world.reply(await world.discord.slash(GUILD, GENERAL, user, name, options or {}, locale="de", **where))
    assert not english_in(reply), (english_in(reply), reply)
    return reply


async def test_a_german_member_reads_credits_settings_and_config_in_german(world):
    await world.start_bot()
    await world.grant(100)
    await world.config("modlog", {"channel": MODLOG})

    balance = await ask(world, ALICE, "credits", subcommand="balance")
    assert balance["content"].splitlines()[:2] == ["**Guthaben des Servers:** 100 Credits", "**Heute ausgegeben:** 0 Credits"]
    assert balance["content"].splitlines()[2].startswith("**Preise:** ") and " ab " in balance["content"]

    settings = await ask(world, ALICE, "settings", {"spoiler": True})
    assert "**Spoiler:** ja" in settings["content"] and "**Stil:** keiner" in settings["content"], settings["content"]

    shown = (await ask(world, MOD, "config", subcommand="show"))["embeds"][0]
    assert shown["title"] == "Einstellungen des Bild-Bots für diesen Server"
    fields = {f["name"]: f["value"] for f in shown["fields"]}
    assert fields["Kanäle"] == "alle Kanäle" and fields["Wer erzeugen darf"] == "alle", fields
    assert fields["Sicherheit (Pro)"].startswith("normale Kanäle 2 (Standard)"), fields

    reports = await ask(world, MOD, "config", {"threshold": 3}, subcommand="reports")
    assert reports["content"] == "Meldungen verbergen ein Ergebnis ab 3"
    terms = await ask(world, MOD, "config", {"action": "add", "terms": "gore, blut"}, subcommand="filter")
    assert terms["content"] == "Filter: hinzufügen 2 Begriff(e)"
    quotes = await ask(world, MOD, "credits-admin", {"quote_above": 5}, subcommand="settings")
    assert quotes["content"] == (
        "Bestätigung erfragen: bei Aufträgen über 5 Credits. Warnung bei niedrigem Guthaben: aus."
    )
    history = (await ask(world, MOD, "credits-admin", subcommand="history"))["embeds"][0]
    assert history["title"] == "Credit-Verlauf"

    refused = await ask(world, BOB, "credits-admin", {"amount": 5}, subcommand="grant")
    assert refused["content"].startswith(("Dafür brauchst du", "Das darfst du nicht", "Du darfst")), refused
    # Staff channels stay English: the mod log gets the same change in English.
    await world.discord.wait_for(
        lambda: any("reports hide a result at 3" in (m.get("content") or "") + str(m.get("embeds"))
                    for m in world.modlog())
    )
    english = await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "credits", subcommand="balance"))
    assert english["content"].startswith("**Server balance:** 100 credits"), "en-US keeps the English"


async def test_a_result_in_a_german_server_has_german_buttons_and_answers(world):
    await world.start_bot()
    await world.grant(100)
    world.discord.guild_locales[GUILD] = "de"  # a public result follows the server's language
    result = await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "ein Haus"}))
    labels = set(buttons(result))
    assert {"Neu würfeln", "Bearbeiten", "Mit Pro fertigstellen", "Löschen", "Melden", "Info"} <= labels, labels
    assert not english_in(result), english_in(result)

    reported = await world.discord.click(GUILD, GENERAL, BOB, result, buttons(result)["Melden"], locale="de")
    assert (await world.reply(reported))["content"] == "Danke, die Moderatoren sind informiert."
    again = await world.discord.click(GUILD, GENERAL, BOB, result, buttons(result)["Melden"], locale="de")
    assert not english_in(await world.reply(again))
    deleted = await world.discord.click(GUILD, GENERAL, ALICE, result, buttons(result)["Löschen"], locale="de")
    assert (await world.reply(deleted))["content"] == "Gelöscht."
