"""Server-side permission checks shared by the cogs.

`default_permissions` on a command only hides it in Discord's client; these checks are what
actually protect each command and button, whatever a (possibly forged) interaction claims.
"""

from __future__ import annotations

import discord
from discord import app_commands


def require_guild(interaction: discord.Interaction) -> None:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()


def require_manage_guild(interaction: discord.Interaction) -> None:
    require_guild(interaction)
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
