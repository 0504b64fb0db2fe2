"""Request facts from Discord: who asks, where, and with which roles, as core/admission.py wants them."""

from __future__ import annotations

import time
from typing import Any

import discord

from cogs.ui.notices import channel_or_none
from core.admission import Request


async def policy_channel(
    client: discord.Client, channel: discord.abc.GuildChannel | discord.Thread | None, channel_id: int
) -> tuple[int, bool]:
    """(channel id, age-restricted?) that channel-scoped policy is looked up with.

    A thread or forum post has no policy of its own: the allow-list, review mode and safety of
    its parent apply, and Discord marks only the parent age-restricted.
    """
    if channel is None:
        channel = await channel_or_none(client, channel_id)
    if not isinstance(channel, discord.Thread):
        return channel_id, bool(getattr(channel, "nsfw", False))
    parent = channel.parent or await channel_or_none(client, channel.parent_id)
    return channel.parent_id, bool(getattr(parent, "nsfw", False))


def origin(source: discord.Interaction | Any) -> dict[str, int]:
    """Who asked and where, as the stores take it (`guild_id`, `channel_id`, `user_id` keywords), of an
    interaction or of a stored request (a review request being approved)."""
    user_id = source.user.id if isinstance(source, discord.Interaction) else source.user_id
    return {"guild_id": source.guild_id, "channel_id": source.channel_id, "user_id": user_id}


async def request_of(interaction: discord.Interaction, reference_authors=frozenset()) -> Request:
    """The facts of an interaction's request (its member's roles and permissions as Discord sent them)."""
    channel_id, nsfw = await policy_channel(interaction.client, interaction.channel, interaction.channel_id)
    member = interaction.user
    return Request(
        guild_id=interaction.guild_id,
        channel_id=channel_id,
        user_id=member.id,
        role_ids=frozenset(role.id for role in getattr(member, "roles", [])),
        is_moderator=interaction.permissions.manage_guild,
        channel_nsfw=nsfw,
        reference_authors=frozenset(reference_authors),
        bot_user_id=interaction.client.user.id if interaction.client.user else 0,
        now=time.time(),
    )


async def request_of_member(
    client: discord.Client, guild: discord.Guild, user_id: int, channel_id: int
) -> Request | None:
    """The facts of a request made earlier (a review request being approved), with the member's
    current roles and permissions; None if they are no longer in the server."""
    try:
        # Fetched, not cached: without the members intent a cached member's roles can be stale.
        member = await guild.fetch_member(user_id)
    except discord.NotFound:
        return None
    policy_id, nsfw = await policy_channel(client, None, channel_id)
    return Request(
        guild_id=guild.id,
        channel_id=policy_id,
        user_id=user_id,
        role_ids=frozenset(role.id for role in member.roles),
        is_moderator=member.guild_permissions.manage_guild,
        channel_nsfw=nsfw,
        bot_user_id=client.user.id if client.user else 0,
        now=time.time(),
    )
