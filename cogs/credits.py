"""/credits balance, grant and history: rendering only; the numbers come from core/ledger.py."""

from __future__ import annotations

import datetime as dt
import re
import time

import discord
from discord import app_commands
from discord.ext import commands

from cogs import messages
from cogs.errors import NO_MENTIONS, report_error
from core.errors import NotAllowed
from core.ledger import LedgerEntry
from core.services import Services

HISTORY_PAGE = 10


@app_commands.guild_only()
class CreditsCog(commands.GroupCog, group_name="credits", group_description="The server's image credits"):
    def __init__(self, bot: commands.Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        return True

    @app_commands.command(name="balance", description="The server's credits and what you spent today")
    async def balance(self, interaction: discord.Interaction) -> None:
        ledger = self.services.ledger
        current = await ledger.balance(interaction.guild_id)
        spent = await ledger.spent_today(interaction.guild_id, interaction.user.id, time.time())
        prices = {m.display_name: p for m, p in self.services.prices.base_prices().items()}
        text = messages.balance_text(
            balance=current.balance, reserved=current.reserved, spent_today=spent, prices=prices
        )
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="grant", description="Add credits to this server (bot owners)")
    @app_commands.describe(amount="Credits to add", reason="Shown in the history")
    async def grant(
        self,
        interaction: discord.Interaction,
        amount: app_commands.Range[int, 1, 1_000_000],
        reason: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        if not await self._may_grant(interaction):
            raise NotAllowed("grant credits")
        result = await self.services.ledger.grant(
            interaction.guild_id, amount, user_id=interaction.user.id, reason=reason
        )
        await interaction.response.send_message(
            messages.granted(amount, result.balance), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="history", description="The latest credit movements (Manage Server)")
    async def history(self, interaction: discord.Interaction) -> None:
        _require_manage_guild(interaction)
        embed, view = await self.history_page(interaction.guild_id, 0)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def history_page(self, guild_id: int, offset: int) -> tuple[discord.Embed, discord.ui.View]:
        entries, total = await self.services.ledger.history(guild_id, limit=HISTORY_PAGE, offset=offset)
        embed = discord.Embed(title="Credit history", colour=discord.Colour.blurple())
        embed.description = "\n".join(_entry_line(e) for e in entries) or "No credit movements yet."
        last = min(offset + HISTORY_PAGE, total)
        embed.set_footer(text=f"{offset + 1 if total else 0}–{last} of {total}")
        view = discord.ui.View(timeout=None)
        view.add_item(HistoryButton(max(0, offset - HISTORY_PAGE), "◀ Newer", disabled=offset == 0))
        view.add_item(HistoryButton(offset + HISTORY_PAGE, "Older ▶", disabled=last >= total))
        return embed, view

    async def _may_grant(self, interaction: discord.Interaction) -> bool:
        settings = self.services.settings
        if interaction.user.id in settings.owner_ids or await self.bot.is_owner(interaction.user):
            return True
        return settings.guild_admins_can_grant and interaction.permissions.manage_guild


def _require_manage_guild(interaction: discord.Interaction) -> None:
    # default_permissions only hides a command; this check is what actually protects it.
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])


def _entry_line(entry: LedgerEntry) -> str:
    when = dt.datetime.fromtimestamp(entry.created_at, dt.UTC)
    sign = {"grant": "+", "refund": "+", "capture": "−"}.get(entry.kind, "·")
    who = f" by <@{entry.user_id}>" if entry.user_id else ""
    job = f" job {entry.job_id}" if entry.job_id else ""
    reason = f" — {messages.clip(discord.utils.escape_markdown(entry.reason), 60)}" if entry.reason else ""
    return (
        f"{discord.utils.format_dt(when, 'f')} {sign}{entry.amount} {entry.kind}{job}{who}{reason}"
        f" → {entry.balance_after}"
    )


class HistoryButton(discord.ui.DynamicItem[discord.ui.Button], template=r"flux:hist:(?P<offset>[0-9]{1,9})"):
    def __init__(self, offset: int, label: str = "Page", *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(label=label, custom_id=f"flux:hist:{offset}", disabled=disabled)
        )
        self.offset = offset

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /) -> HistoryButton:
        return cls(int(match["offset"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if interaction.guild_id is None:
                raise app_commands.NoPrivateMessage()
            _require_manage_guild(interaction)
            cog: CreditsCog = interaction.client.get_cog("CreditsCog")
            embed, view = await cog.history_page(interaction.guild_id, self.offset)
            await interaction.response.edit_message(embed=embed, view=view)
        except Exception as error:
            await report_error(interaction, error)
