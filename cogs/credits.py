"""/credits balance: what every member may see of the server's credits (the admin commands are
cogs/credits_admin.py's /credits-admin). Rendering only; the numbers come from core/ledger.py."""

from __future__ import annotations

import time

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui import messages
from cogs.ui.checks import require_guild
from cogs.ui.errors import NO_MENTIONS
from core.services import Services


class GuildCredits:
    """What both credits cogs start from (before commands.GroupCog in their bases): the bot, its
    services, and a server-only check for every command."""

    def __init__(self, bot: commands.Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        require_guild(interaction)
        return True


@app_commands.guild_only()
class CreditsCog(GuildCredits, commands.GroupCog, group_name="credits", group_description="The server's image credits"):
    @app_commands.command(name="balance", description="The server's credits and what you spent today")
    async def balance(self, interaction: discord.Interaction) -> None:
        ledger = self.services.ledger
        current = await ledger.balance(interaction.guild_id)
        spent = await ledger.spent_today(interaction.guild_id, interaction.user.id, time.time())
        prices = {m.display_name: p for m, p in self.services.prices.base_prices().items()}
        roles = frozenset(r.id for r in getattr(interaction.user, "roles", []))
        limits = await self.services.credit_rules.limits_for(
            interaction.guild_id, interaction.user.id, roles, time.time()
        )
        remaining = {}
        for period, limit, since in (
            ("today", limits.daily, limits.day_start),
            ("month", limits.monthly, limits.month_start),
        ):
            if limit is not None:
                used = await ledger.allowance_used(interaction.guild_id, interaction.user.id, since)
                remaining[period] = (max(0, limit - used), limit)
        text = messages.balance_text(
            balance=current.balance,
            reserved=current.reserved,
            spent_today=spent,
            prices=prices,
            remaining=remaining,
            locale=interaction.locale,
        )
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
