"""Moderation in Discord: /mod block|unblock. Reports and the two review modes are the review
service's (cogs/ui/review.py); every moderator action is logged through it.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui import privacy_texts as t
from cogs.ui.checks import require_manage_guild
from cogs.ui.errors import NO_MENTIONS
from cogs.ui.i18n import tr
from cogs.ui.review import Review
from core.services import Services


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ModerationCog(commands.GroupCog, name="Moderation", group_name="mod", group_description="Moderate image generation"):
    def __init__(self, bot: commands.Bot, services: Services, review: Review) -> None:
        self.bot = bot
        self.services = services
        self.review = review
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        require_manage_guild(interaction)
        return True

    # --- /mod ----------------------------------------------------------------------------------

    @app_commands.command(name="block", description="Stop a member from generating images here")
    @app_commands.describe(member="Who to block", reason="Shown to them and in the mod log")
    async def block(
        self, interaction: discord.Interaction, member: discord.User, reason: app_commands.Range[str, 1, 200] | None = None
    ) -> None:
        await self.services.moderation.block(interaction.guild_id, member.id, by=interaction.user.id, reason=reason)
        await interaction.response.send_message(
            tr(t.BLOCKED, interaction.locale, member=f"<@{member.id}>"), ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await self.review.log_action(interaction.guild_id, f"<@{interaction.user.id}> blocked <@{member.id}>", reason)

    @app_commands.command(name="unblock", description="Let a blocked member generate images again")
    async def unblock(self, interaction: discord.Interaction, member: discord.User) -> None:
        removed = await self.services.moderation.unblock(interaction.guild_id, member.id)
        text = tr(t.UNBLOCKED if removed else t.NOT_BLOCKED, interaction.locale, member=f"<@{member.id}>")
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        if removed:
            await self.review.log_action(interaction.guild_id, f"<@{interaction.user.id}> unblocked <@{member.id}>", None)
