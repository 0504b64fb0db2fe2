"""Telling a requester what became of their request or image, by whatever way is still open."""

from __future__ import annotations

import logging
import time

import discord

from cogs.ui.mentions import NO_MENTIONS, only_user
from core.jobs import InteractionRef

log = logging.getLogger(__name__)


def interaction_webhook(
    client: discord.Client, ref: InteractionRef | None, token_seconds: float, *, now: float
) -> discord.Webhook | None:
    """The webhook that edits an interaction's message, while its token is still valid; else None."""
    if ref is None or ref.message_id is None or now - ref.created_at > token_seconds:
        return None
    return discord.Webhook.partial(ref.application_id, ref.token, client=client)


async def edit_interaction_message(
    client: discord.Client, ref: InteractionRef | None, token_seconds: float, **fields
) -> bool:
    """Edit the message of a still-valid interaction; False when the token is gone or Discord refuses."""
    webhook = interaction_webhook(client, ref, token_seconds, now=time.time())
    if webhook is None:
        return False
    try:
        await webhook.edit_message(ref.message_id, allowed_mentions=NO_MENTIONS, **fields)
    except discord.HTTPException as exc:
        log.info("could not edit interaction message: %r", exc)
        return False
    return True


async def channel_or_none(client: discord.Client, channel_id: int) -> discord.abc.Messageable | None:
    channel = client.get_channel(channel_id)
    if channel is not None:
        return channel
    try:
        return await client.fetch_channel(channel_id)
    except discord.HTTPException:
        return None


async def tell_requester(
    client: discord.Client, edit_interaction, channel_id: int, user_id: int, ref: InteractionRef | None, text: str
) -> bool:
    """In the interaction's own message while its token lasts (`edit_interaction(ref, content=…)`),
    else in the channel, else by DM. False if every way is closed."""
    if await edit_interaction(ref, content=text):
        return True
    channel = await channel_or_none(client, channel_id)
    try:
        if channel is not None:
            await channel.send(f"<@{user_id}> {text}", allowed_mentions=only_user(user_id))
            return True
    except (discord.Forbidden, discord.NotFound):
        pass
    try:
        user = client.get_user(user_id) or await client.fetch_user(user_id)
        await user.send(text, allowed_mentions=NO_MENTIONS)
        return True
    except (discord.Forbidden, discord.NotFound):
        log.info("could not tell user %d what became of their request", user_id)
        return False
