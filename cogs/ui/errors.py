"""The one error handler: every error raised while handling an interaction is rendered here.

Slash commands reach it through `CommandTree.on_error`; buttons and modals call `report_error`
directly. Expected errors (BotError, failed checks) become an ephemeral message; anything else is
logged with its traceback and the user gets a generic line.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from cogs.ui import messages
from cogs.ui.checks import require_well_typed_options
from cogs.ui.error_texts import localised_error
from cogs.ui.mentions import NO_MENTIONS
from core import errors as e
from core.errors import BotError, InvalidRequest
from core.events import RequestRefused

log = logging.getLogger(__name__)

# Refusals the mod log shows (bad options and permission slips are the requester's business).
LOGGED_REFUSALS = (
    e.InsufficientCredits, e.AllowanceExceeded, e.QueueFull, e.AccountExhausted, e.ProviderAccountEmpty, e.PaceExceeded
)


def unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError) and error.__cause__:
        error = error.__cause__
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    return error


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    error = unwrap(error)
    if isinstance(error, discord.HTTPException) and error.code in (10062, 40060):
        # Discord no longer takes answers to this interaction (answered too late, or answered
        # already): there is nothing to say through it and nothing to debug in the bot.
        log.warning("interaction %s could not be answered: %s", interaction.id, error)
        return
    if not isinstance(error, BotError | app_commands.AppCommandError):
        log.error("unhandled error in interaction %s", interaction.id, exc_info=error)
    if isinstance(error, LOGGED_REFUSALS) and interaction.guild_id is not None:
        # Every refusal passes this edge, whichever command or button raised it. The bot carries the
        # services (bot.py's ImageBot); in the background, so the requester's answer is not delayed.
        services = getattr(interaction.client, "services", None)
        if services is not None:
            services.events.emit(
                RequestRefused(interaction.guild_id, interaction.channel_id, interaction.user.id, error)
            )
    text = localised_error(error, interaction.locale) or messages.describe_error(error)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            # A public "thinking…" message is showing: remove it so the error can be private.
            try:
                await interaction.delete_original_response()
            except discord.HTTPException:
                pass
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not tell the user about %r: %r", error, exc)


def install(tree: app_commands.CommandTree) -> None:
    async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)

    async def interaction_check(interaction: discord.Interaction) -> bool:
        try:
            require_well_typed_options(interaction)
        except InvalidRequest as error:
            await report_error(interaction, error)
            return False
        return True

    tree.on_error = on_error
    tree.interaction_check = interaction_check
