"""Localisation: every string the member commands show has a translation in every locale."""

from __future__ import annotations

import string

import discord
import pytest
from discord import app_commands

from cogs.generate import GenerateCog
from cogs.members import MembersCog
from cogs.ui import (
    batch_texts,
    config_texts,
    error_texts,
    member_texts,
    privacy_texts,
    quote_texts,
    reply_texts,
)
from cogs.ui import messages as ui_messages
from cogs.ui.catalogue import CATALOGUE, LOCALES
from cogs.ui.catalogue_names import NAMES
from cogs.ui.i18n import CatalogueTranslator, lookup, tr
from core.safety import LABELS


def shown_strings() -> list[str]:
    """Descriptions, and choice names made of words, of the member-facing commands."""
    found: list[str] = []
    for cog in (GenerateCog, MembersCog):
        for command in cog.__cog_app_commands__:
            found.append(command.description)
            for parameter in command.parameters:
                found.append(parameter.description)
                found += [c.name for c in parameter.choices if " " in c.name and not c.name.startswith("FLUX")]
    return list(dict.fromkeys(found))


def messages() -> list[str]:
    """Every sentence and word constant of the text modules (the words inside a tuple or dict too)."""
    found = []
    for module in (
        member_texts, error_texts, batch_texts, ui_messages, quote_texts, privacy_texts, reply_texts, config_texts
    ):
        for k, v in vars(module).items():
            if k.isupper() and k not in NOT_TEXTS:
                values = v.values() if isinstance(v, dict) else v if isinstance(v, tuple) else [v]
                found += [text for text in values if isinstance(text, str)]
    return found + list(LABELS.values())


# Tables of the text modules that are not words to translate.
NOT_TEXTS = {"TEXTS", "PERMISSION_NAMES"}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("text", shown_strings())
def test_each_command_description_is_translated_and_fits(text):
    assert text in CATALOGUE, f"no translation for {text!r}"
    for locale, translated in zip(LOCALES, CATALOGUE[text], strict=True):
        assert translated and translated != text, f"{locale}: {text!r} is not translated"
        assert len(translated) <= 100, f"{locale}: {translated!r} is over Discord's 100 characters"


@pytest.mark.parametrize("text", messages())
def test_each_member_message_is_translated_with_the_same_fields(text):
    assert text in CATALOGUE, f"no translation for the message {text[:60]!r}"
    for locale, translated in zip(LOCALES, CATALOGUE[text], strict=True):
        assert fields(translated) == fields(text), f"{locale}: the fields of {text[:40]!r} differ"


def test_the_member_locale_picks_the_language_and_english_is_the_fallback():
    assert tr(member_texts.CANCELLED, discord.Locale.german, price=4).startswith("🛑 Abgebrochen")
    assert "4 Credits" in tr(member_texts.CANCELLED, discord.Locale.german, price=4)
    assert tr(member_texts.MINE_EMPTY, discord.Locale.japanese) == CATALOGUE[member_texts.MINE_EMPTY][4]
    assert tr(member_texts.MINE_EMPTY, discord.Locale.american_english) == member_texts.MINE_EMPTY
    assert tr(member_texts.MINE_EMPTY, discord.Locale.korean) == member_texts.MINE_EMPTY
    assert lookup("not in the catalogue", discord.Locale.german) is None


async def test_names_come_from_the_names_table_and_descriptions_from_the_catalogue():
    translator = CatalogueTranslator()
    name = app_commands.TranslationContext(app_commands.TranslationContextLocation.command_name, None)
    option = app_commands.TranslationContext(app_commands.TranslationContextLocation.parameter_name, None)
    description = app_commands.TranslationContext(app_commands.TranslationContextLocation.command_description, None)
    choice = app_commands.TranslationContext(app_commands.TranslationContextLocation.choice_name, None)
    assert await translator.translate(app_commands.locale_str("imagine"), discord.Locale.german, name) == "bild"
    assert await translator.translate(app_commands.locale_str("results"), discord.Locale.german, option) == "ergebnisse"
    assert await translator.translate(app_commands.locale_str("results"), discord.Locale.german, choice) == "Ergebnisse"
    assert await translator.translate(app_commands.locale_str("imagine"), discord.Locale.korean, name) is None
    text = "Generate an image with FLUX.2"
    assert await translator.translate(app_commands.locale_str(text), discord.Locale.french, description) == (
        "Générer une image avec FLUX.2"
    )


@pytest.mark.parametrize("table", ["CATALOGUE", "NAMES"])
def test_every_entry_has_every_language_with_the_same_fields(table):
    entries = CATALOGUE if table == "CATALOGUE" else NAMES
    problems = []
    for english, translations in entries.items():
        if len(translations) != len(LOCALES) or not all(translations):
            problems.append(f"{english[:50]!r}: {len(translations)} translations, some empty")
            continue
        for locale, translated in zip(LOCALES, translations, strict=True):
            if fields(translated) != fields(english):
                problems.append(f"{locale}: {english[:50]!r} has {fields(translated)} instead of {fields(english)}")
            if translated.count("{") != translated.count("}"):
                problems.append(f"{locale}: {english[:50]!r} has unbalanced braces")
    assert not problems, "\n".join(problems)


def test_the_walk_finds_a_missing_language_and_a_changed_field(monkeypatch):
    """The check above can fail: a wrong entry makes it fail."""
    monkeypatch.setitem(CATALOGUE, "Image {number} of {count}", ("Bild {number} von {count}",) * 4 + ("",))
    with pytest.raises(AssertionError, match="some empty"):
        test_every_entry_has_every_language_with_the_same_fields("CATALOGUE")
    monkeypatch.setitem(CATALOGUE, "Image {number} of {count}", ("Bild {nummer} von {count}",) * 5)
    with pytest.raises(AssertionError, match="instead of"):
        test_every_entry_has_every_language_with_the_same_fields("CATALOGUE")


def test_refusals_are_translated_for_the_member_and_the_rest_stay_english():
    from core import errors as e

    german = error_texts.localised_error(e.InsufficientCredits(3, 8), discord.Locale.german)
    assert german == "Dieser Server hat nicht genug Credits: Dieses Bild kostet 8, verfügbar sind 3. Dir wurde nichts berechnet."
    cooldown = error_texts.localised_error(e.PolicyDenied("cooldown", {"seconds": 12}), "ja")
    assert "12 秒後" in cooldown
    assert error_texts.localised_error(e.InsufficientCredits(3, 8), discord.Locale.american_english) is None
    assert error_texts.localised_error(e.JobNotFound(4), discord.Locale.german).startswith("Dieses Bild kennt")
    assert error_texts.localised_error(e.JobNotFound(4), discord.Locale.korean) is None, "no such language: English"


def _every_error_case() -> list[BaseException]:
    from core import errors as e

    return [
        e.InsufficientCredits(3, 8), e.InvalidRequest("seed", "must be a number"), e.InvalidAttachment("a.gif", "is big"),
        e.InvalidAmount(-1), e.JobNotFound(4), e.NotAllowed("delete this"), e.QueueFull(50),
        e.AllowanceExceeded("day", 10, 9, 2), e.AllowanceExceeded("month", 10, 9, 2),
        e.NotRefundable(4, "already_refunded"), e.NotRefundable(4, "not_charged"), e.JobAlreadyStarted(4),
        e.JobCancelled(4, 2), e.ProviderAccountEmpty(), e.AccountExhausted(1.0, 2.0),
        *(e.PolicyDenied(reason, data) for reason, data in [
            ("blocked_member", {"why": "spam"}), ("blocked_member", {}), ("channel", {"channels": [1]}), ("channel", {}),
            ("role", {"roles": [2]}), ("pro_role", {"roles": [2]}), ("safety_filter", {}),
            ("adult_content", {"channel_nsfw": True}), ("adult_content", {}), ("guild_filter", {"term": "gore"}),
            ("foreign_reference", {}), ("cooldown", {"seconds": 3}), ("running", {"limit": 2}),
            ("daily_jobs", {"limit": 5}), ("daily_credits", {"limit": 5}), ("something new", {}),
        ]),
        e.ProviderModerated(), e.ProviderRejected("bad size"), e.ProviderAuthError(), e.ProviderModelUnavailable(),
        e.ProviderOutOfCredits(), e.ProviderRateLimited(), e.ProviderSubmitUncertain(), e.ProviderResultExpired(),
        e.ProviderBadOutput(), e.ProviderUnavailable(), e.ProviderError("boom"),
        app_commands.NoPrivateMessage(), app_commands.MissingPermissions(["manage_guild"]),
        app_commands.CheckFailure(), RuntimeError("a bug"),
    ]


@pytest.mark.parametrize("error", _every_error_case(), ids=lambda error: type(error).__name__)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_refusal_and_failure_reads_in_every_language(error, locale):
    from cogs.ui.messages import describe_error

    template, fields_given, _ = error_texts.template_of(error)
    generic = describe_error(RuntimeError("x"))
    assert (template == error_texts.UNEXPECTED) == (describe_error(error) == generic), "the same case as English"
    text = error_texts.localised_error(error, locale)
    assert text and text != describe_error(error), f"{type(error).__name__} is English in {locale}"
    for name, value in fields_given.items():
        if "{" + name + "}" in template:
            assert str(value) in text, f"{value!r} is missing from {text!r}"
