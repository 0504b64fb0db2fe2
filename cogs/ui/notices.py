"""Telling a requester what became of their request or image, by whatever way is still open."""

from __future__ import annotations

import logging

import discord

from cogs.errors import NO_MENTIONS
from core.jobs import InteractionRef

log = logging.getLogger(__name__)


def only_user(user_id: int) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(user_id)])


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
