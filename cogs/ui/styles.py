"""`/config style add|remove|list` (the server's named prompt templates) and `/config results` (how
results are posted), Manage Server, checked here. Attached under /config by cogs/members.py, so
/config's module stays as it is.
"""

from __future__ import annotations

import discord
from discord import app_commands

from cogs.ui import member_texts as t
from cogs.ui.checks import require_manage_guild
from cogs.ui.errors import NO_MENTIONS
from cogs.ui.i18n import tr
from core.services import Services
from core.styles import TEMPLATE_MAX_CHARS, check_style


class StyleGroup(app_commands.Group):
    def __init__(self, services: Services) -> None:
        super().__init__(name="style", description="Server styles: prompt templates members pick with style:")
        self.services = services

    @app_commands.command(name="add", description="Add or replace a style; {prompt} marks where the prompt goes")
    @app_commands.describe(
        name="Short name members pick (letters, digits, spaces, . - _)",
        prompt_template="For example: watercolour painting of {prompt}, soft light",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 32],
        prompt_template: app_commands.Range[str, 1, TEMPLATE_MAX_CHARS],
    ) -> None:
        require_manage_guild(interaction)
        style = check_style(name, prompt_template)
        await self.services.styles.put(interaction.guild_id, style, by=interaction.user.id)
        await interaction.response.send_message(
            tr(t.STYLE_SAVED, interaction.locale, name=style.name), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="remove", description="Remove a style")
    async def remove(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 32]) -> None:
        require_manage_guild(interaction)
        removed = await self.services.styles.remove(interaction.guild_id, name)
        text = tr(t.STYLE_REMOVED if removed else t.STYLE_UNKNOWN, interaction.locale, name=name.replace("`", "'"))
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="list", description="This server's styles")
    async def list(self, interaction: discord.Interaction) -> None:
        require_manage_guild(interaction)
        styles = await self.services.styles.all(interaction.guild_id)
        if not styles:
            await interaction.response.send_message(tr(t.NO_STYLES, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.send_message(
            embed=t.styles_embed(styles, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


def results_command(services: Services) -> app_commands.Command:
    @app_commands.command(name="results", description="How results are posted: PNG text, spoilers when age-restricted")
    @app_commands.describe(
        png_metadata="Write prompt, seed and model into posted PNGs (default on)",
        spoiler_age_restricted="Post every result in an age-restricted channel behind a spoiler",
        private_results="Let members ask for results only they see (/settings private)",
    )
    async def results(
        interaction: discord.Interaction,
        png_metadata: bool | None = None,
        spoiler_age_restricted: bool | None = None,
        private_results: bool | None = None,
    ) -> None:
        require_manage_guild(interaction)
        now = await services.preferences.set_guild(
            interaction.guild_id,
            png_metadata=png_metadata,
            spoiler_age_restricted=spoiler_age_restricted,
            private_results=private_results,
        )
        await interaction.response.send_message(
            t.presentation_text(now, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    return results
