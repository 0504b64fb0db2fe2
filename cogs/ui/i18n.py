"""Localisation through discord.py's translator: command descriptions and choices at sync time, and
member-facing messages picked by the member's locale (the server's locale for public messages).

Strings are looked up by their English text in cogs/ui/catalogue.py; anything without an entry
stays English (and tests/test_i18n.py fails for the strings that must have one).
"""

from __future__ import annotations

import discord
from discord import app_commands

from cogs.ui.catalogue import CATALOGUE, LOCALES

# Names stay English: the issue fixes command and option names so guides and habits keep working.
_UNTRANSLATED = (
    app_commands.TranslationContextLocation.command_name,
    app_commands.TranslationContextLocation.group_name,
    app_commands.TranslationContextLocation.parameter_name,
)


def lookup(text: str, locale: discord.Locale | str | None) -> str | None:
    """The translation of `text` for `locale`, or None (English, or no entry)."""
    if locale is None:
        return None
    code = locale.value if isinstance(locale, discord.Locale) else str(locale)
    if code not in LOCALES:
        return None
    entry = CATALOGUE.get(text)
    return entry[LOCALES.index(code)] if entry is not None else None


def tr(text: str, locale: discord.Locale | str | None, **fields: object) -> str:
    """`text` in `locale` when there is a translation, with its `{fields}` filled in."""
    chosen = lookup(text, locale) or text
    return chosen.format(**fields) if fields else chosen


class CatalogueTranslator(app_commands.Translator):
    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: app_commands.TranslationContext
    ) -> str | None:
        if context.location in _UNTRANSLATED:
            return None
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
