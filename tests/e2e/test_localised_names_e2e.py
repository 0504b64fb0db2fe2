"""Localised command names, end to end: what the bot PUTs to Discord's application commands carries
name_localizations (and descriptions, and word choices) in the five languages, every name within
Discord's rules, and no two siblings sharing a name in any language."""

from __future__ import annotations

import pytest
import regex

from tests.e2e.conftest import GUILD

pytestmark = pytest.mark.e2e

LOCALES = {"de", "fr", "es-ES", "pt-BR", "ja"}
# Discord's rule for CHAT_INPUT command and option names (application-commands.mdx), lowercase where
# the script has case. Context-menu names may hold spaces and capitals; only their length is ruled.
NAME = regex.compile(r"^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$")
WORD_CHOICES = {"add", "remove", "clear", "off", "reset", "requests", "results", "match input image"}


def problems(items: list[dict], where: str, *, chat_input: bool = True) -> list[str]:
    found: list[str] = []
    for locale in LOCALES:
        names = [item.get("name_localizations", {}).get(locale) for item in items]
        taken = [n for n in names if n]
        if len(taken) != len(set(taken)):
            found.append(f"{where}: two names alike in {locale}: {sorted(taken)}")
    for item in items:
        here = f"{where}/{item['name']}"
        localised = item.get("name_localizations") or {}
        if set(localised) != LOCALES:
            found.append(f"{here}: name_localizations for {sorted(localised)}")
        for locale, name in localised.items():
            if chat_input and (not NAME.match(name) or name != name.lower()):
                found.append(f"{here}: {locale} name {name!r} breaks Discord's rule")
            if not 1 <= len(name) <= 32:
                found.append(f"{here}: {locale} name {name!r} is not 1-32 characters")
        if item.get("description") and set(item.get("description_localizations") or {}) != LOCALES:
            found.append(f"{here}: description_localizations for {sorted(item.get('description_localizations') or {})}")
        for choice in item.get("choices") or []:
            if choice["name"] in WORD_CHOICES and set(choice.get("name_localizations") or {}) != LOCALES:
                found.append(f"{here}: choice {choice['name']!r} is not translated")
        found += problems(item.get("options") or [], here)
    return found


async def test_every_command_and_option_name_is_registered_in_five_languages(world):
    await world.start_bot()
    scopes = {"global": world.discord.commands, "owner server": world.discord.guild_commands.get(GUILD, [])}
    assert scopes["global"] and scopes["owner server"], "both scopes were synced"
    found: list[str] = []
    for scope, commands in scopes.items():
        found += problems([c for c in commands if c.get("type", 1) == 1], scope)
        found += problems([c for c in commands if c.get("type", 1) != 1], scope, chat_input=False)
    assert not found, "\n".join(found)
    imagine = next(c for c in scopes["global"] if c["name"] == "imagine")
    assert imagine["name_localizations"]["de"] == "bild"
    prompt = next(o for o in imagine["options"] if o["name"] == "prompt")
    assert prompt["name_localizations"]["ja"] == "プロンプト"
