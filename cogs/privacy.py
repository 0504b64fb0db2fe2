"""/privacy: what the bot keeps about a member, and `forget` to have it removed; server departures.

The rules themselves live in core/privacy.py; this cog asks, confirms and reports.
"""

from __future__ import annotations

import asyncio
import logging
import time

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui import privacy_texts as t
from cogs.ui.errors import NO_MENTIONS, report_error
from cogs.ui.i18n import tr
from core.privacy import ALLOWANCE_WINDOW_DAYS, DAY, Privacy
from core.services import Services

log = logging.getLogger(__name__)

CONFIRM_SECONDS = 120


@app_commands.guild_only()
class PrivacyCog(commands.GroupCog, name="Privacy", group_name="privacy", group_description="Your data and this bot"):
    def __init__(self, bot: commands.Bot, services: Services, privacy: Privacy) -> None:
        self.bot = bot
        self.services = services
        self.privacy = privacy
        self._timers: set[asyncio.Task[None]] = set()
        super().__init__()

    async def cog_unload(self) -> None:
        for task in self._timers:
            task.cancel()

    @app_commands.command(name="info", description="What the bot keeps about you, and for how long")
    async def info(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            self._summary(interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="forget", description="Remove your prompts and stored images (asks first)")
    async def forget(self, interaction: discord.Interaction) -> None:
        view = ForgetView(interaction.user.id, self._do_forget)
        view.confirm.label = tr(t.FORGET_BUTTON, interaction.locale)
        view.cancel.label = tr(t.CANCEL, interaction.locale)
        await interaction.response.send_message(
            tr(t.FORGET_ASK, interaction.locale), view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def _do_forget(self, interaction: discord.Interaction) -> None:
        locale = interaction.locale
        await interaction.response.edit_message(
            content=tr(t.FORGETTING, locale), view=None, allowed_mentions=NO_MENTIONS
        )
        result = await self.privacy.forget_member(interaction.user.id, time.time())
        parts = [tr(t.FORGOTTEN, locale, prompts=result.prompts, images=result.images)]
        if result.kept_for_review:
            parts.append(tr(t.KEPT_FOR_REVIEW, locale, count=result.kept_for_review))
        parts.append(tr(t.ID_STAYS, locale, days=ALLOWANCE_WINDOW_DAYS))
        await interaction.edit_original_response(content=" ".join(parts), allowed_mentions=NO_MENTIONS)

    def _summary(self, locale) -> str:
        s = self.services.settings

        def kept(days: float) -> str:
            return tr(t.DAYS, locale, days=f"{days:g}") if days else tr(t.UNTIL_ASKED, locale)

        return tr(
            t.SUMMARY, locale, prompts=kept(s.prompt_retention_days), images=kept(s.result_retention_days),
            grace=f"{s.guild_data_grace_days:g}",
        )

    # --- the bot joins and leaves servers ------------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.privacy.guild_left(guild.id, time.time())
        log.info(
            "left guild %d: its data will be removed in %g days unless the bot returns",
            guild.id, self.services.settings.guild_data_grace_days,
        )
        self._start_grace_timer()

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        if await self.privacy.guild_joined(guild.id):
            log.info("back in guild %d: its data is kept", guild.id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Invited back, or removed, while the bot was offline.
        settings = self.services.settings
        # A process over a shard range sees only its shards' guilds: it judges only those.
        shards = None if settings.shard_count is None else (
            settings.shard_count, settings.shard_ids or tuple(range(settings.shard_count))
        )
        left = await self.privacy.guilds_present([g.id for g in self.bot.guilds], time.time(), shards)
        if left:
            log.info("%d guild(s) removed the bot while it was offline: their data goes in %g days", left,
                     self.services.settings.guild_data_grace_days)
            self._start_grace_timer()

    def _start_grace_timer(self) -> None:
        seconds = self.services.settings.guild_data_grace_days * DAY
        task = asyncio.create_task(self._purge_after(seconds), name="purge-departed-guilds")
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def _purge_after(self, seconds: float) -> None:
        # The daily sweep catches it too (after a restart); this makes the grace period exact.
        await asyncio.sleep(seconds)
        try:
            await self.privacy.purge_departed(time.time(), self.services.settings.guild_data_grace_days)
        except Exception:
            log.exception("removing a departed guild's data failed (the daily sweep tries again)")


class ForgetView(discord.ui.View):
    def __init__(self, user_id: int, on_confirm) -> None:
        super().__init__(timeout=CONFIRM_SECONDS)
        self._user_id = user_id
        self._on_confirm = on_confirm

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self._user_id

    @discord.ui.button(label="Forget my data", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await self._on_confirm(interaction)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(
            content=tr(t.NOTHING_REMOVED, interaction.locale), view=None, allowed_mentions=NO_MENTIONS
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception, item) -> None:
        await report_error(interaction, error)
