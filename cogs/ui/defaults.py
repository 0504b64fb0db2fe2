"""A member's personal defaults (/settings) and the server's styles, applied to a request's options.

An option the member gives always wins; one they leave out takes their default for this server.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord import app_commands

from cogs.ui.requests import policy_channel
from core.errors import InvalidRequest
from core.services import Services


@dataclass(frozen=True)
class Chosen:
    prompt: str  # with the style's template applied
    model: str | None
    aspect_ratio: str | None
    spoiler: bool
    style: str | None
    private: bool = False  # the member's default, where the server allows private results


async def choose(
    services: Services,
    interaction: discord.Interaction,
    *,
    prompt: str,
    model: str | None,
    aspect_ratio: str | None,
    style: str | None,
    spoiler: bool | None,
) -> Chosen:
    prefs = None
    given_style = style
    if services.preferences is not None and interaction.guild_id is not None:
        services.preferences.prefetch_guild(interaction.guild_id)  # read with the member's, if needed
        prefs = await services.preferences.get(interaction.guild_id, interaction.user.id)
    if prefs is not None:
        model = model or (prefs.model.value if prefs.model else None)
        aspect_ratio = aspect_ratio or prefs.aspect_ratio
        style = style or prefs.style
        spoiler = prefs.spoiler if spoiler is None else spoiler
    if style and services.styles is not None:
        try:
            found = await services.styles.get(interaction.guild_id, style)
        except InvalidRequest:
            if given_style:
                raise
            found = None  # a default style the server has since removed: no style, not an error
        if found is not None:
            prompt, style = found.apply(prompt), found.name
        else:
            style = None
    private = False
    if services.preferences is not None and interaction.guild_id is not None:
        server = await services.preferences.guild(interaction.guild_id)
        if not spoiler and server.spoiler_age_restricted:
            _, spoiler = await policy_channel(interaction.client, interaction.channel, interaction.channel_id)
        private = bool(prefs and prefs.private and server.private_results)
    return Chosen(prompt, model, aspect_ratio, bool(spoiler), style, private)


async def style_choices(services: Services, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for `style:`: the server's styles whose name contains what is typed."""
    if services.styles is None or interaction.guild_id is None:
        return []
    typed = current.strip().lower()
    return [
        app_commands.Choice(name=s.name, value=s.name)
        for s in await services.styles.all(interaction.guild_id)
        if typed in s.name
    ][:25]
