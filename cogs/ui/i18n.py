"""Localisation through discord.py's translator: command names, descriptions and choices at sync
time, and messages picked by the member's locale (the server's locale for public messages).

Strings are looked up by their English text in cogs/ui/catalogue.py, names by the English name in
cogs/ui/catalogue_names.py; anything without an entry stays English (tests/test_i18n.py and
tests/e2e/test_localised_names_e2e.py fail for the strings that must have one).
"""

from __future__ import annotations

import discord
from discord import app_commands

from cogs.ui.catalogue import CATALOGUE, LOCALES
from cogs.ui.catalogue_names import NAMES

# Names are looked up in their own table: a name ("edit", "results") can also be a word elsewhere.
_NAMES = (
    app_commands.TranslationContextLocation.command_name,
    app_commands.TranslationContextLocation.group_name,
    app_commands.TranslationContextLocation.parameter_name,
)


def lookup(text: str, locale: discord.Locale | str | None, table: dict = CATALOGUE) -> str | None:
    """The translation of `text` for `locale`, or None (English, or no entry)."""
    if locale is None:
        return None
    code = locale.value if isinstance(locale, discord.Locale) else str(locale)
    if code not in LOCALES:
        return None
    entry = table.get(text)
    return entry[LOCALES.index(code)] if entry is not None else None


def tr(text: str, locale: discord.Locale | str | None, **fields: object) -> str:
    """`text` in `locale` when there is a translation, with its `{fields}` filled in."""
    chosen = lookup(text, locale) or text
    return chosen.format(**fields) if fields else chosen


class CatalogueTranslator(app_commands.Translator):
    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: app_commands.TranslationContext
    ) -> str | None:
        if context.location in _NAMES:
            return lookup(string.message, locale, NAMES)
        return lookup(string.message, locale)


def queued(position: int, locale: str | None) -> str:
    """The "queued" progress line; English keeps cogs/ui/messages.py's wording."""
    from cogs.ui import member_texts as t
    from cogs.ui import messages

    if lookup(t.QUEUED_NEXT, locale) is None:
        return messages.queued(position)
    return tr(t.QUEUED_NEXT, locale) if position <= 0 else tr(t.QUEUED_AHEAD, locale, count=position)


def running(model: str, elapsed: float, locale: str | None) -> str:
    from cogs.ui import member_texts as t
    from cogs.ui import messages

    if lookup(t.RUNNING, locale) is None:
        return messages.running(model, elapsed)
    return tr(t.RUNNING, locale, model=model, seconds=int(elapsed))
