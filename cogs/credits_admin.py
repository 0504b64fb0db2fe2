"""/credits-admin: the server's credits as its admins manage them (grant, history, export, usage,
refund, allowance, settings). Registered with default_permissions(manage_guild), so Discord shows it
only to members with Manage Server unless the server changes that; each command still checks the
permission itself (grant: bot owners, or Manage Server where GUILD_ADMINS_CAN_GRANT). Rendering
only; the numbers come from core/ledger.py. Each option's help is its command's docstring (the Args
section, which discord.py reads for the option descriptions)."""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
import time
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from cogs.credits import GuildCredits
from cogs.owner import is_bot_owner
from cogs.ui import messages
from cogs.ui import reply_texts as r
from cogs.ui.checks import require_manage_guild
from cogs.ui.credit_history import (
    MODEL_CODES,
    HistoryButton,
    HistoryCursor,
    HistoryFilter,
    entry_line,
    parse_day,
)
from cogs.ui.errors import NO_MENTIONS
from cogs.ui.i18n import tr
from cogs.ui.options import MODEL_CHOICES
from core import usage
from core.credit_rules import Allowance
from core.errors import InvalidRequest, NotAllowed
from core.events import AllowanceChanged, CreditSettingsChanged, CreditsGranted, CreditsRefunded

HISTORY_PAGE = 10


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class CreditsAdminCog(
    GuildCredits,
    commands.GroupCog,
    name="CreditsAdmin",
    group_name="credits-admin",
    group_description="Manage the server's image credits (Manage Server)",
):
    @app_commands.command(name="grant", description="Add credits to this server (bot owners)")
    async def grant(
        self,
        interaction: discord.Interaction,
        amount: app_commands.Range[int, 1, 1_000_000],
        reason: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        """Bot owners, or Manage Server where GUILD_ADMINS_CAN_GRANT; the ledger keeps who and why.

        Args:
            amount: Credits to add
            reason: Shown in the history
        """
        if not await self._may_grant(interaction):
            raise NotAllowed("grant credits")
        result = await self.services.ledger.grant(
            interaction.guild_id, amount, user_id=interaction.user.id, reason=reason
        )
        await self.services.credit_rules.note_balance(interaction.guild_id, result.balance)
        await interaction.response.send_message(
            messages.granted(amount, result.balance, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await self.services.events.publish(
            CreditsGranted(interaction.guild_id, interaction.user.id, amount, result.balance, reason)
        )

    @app_commands.command(name="history", description="Credit movements, newest first (Manage Server)")
    @app_commands.choices(model=MODEL_CHOICES)
    async def history(
        self,
        interaction: discord.Interaction,
        member: discord.User | None = None,
        model: str | None = None,
        since: app_commands.Range[str, 10, 10] | None = None,
        until: app_commands.Range[str, 10, 10] | None = None,
    ) -> None:
        """Paged by entry id; the page buttons carry the filters (cogs/ui/credit_history.py).

        Args:
            member: Only this member's jobs
            model: Only this model
            since: From this day (YYYY-MM-DD, UTC)
            until: Up to and including this day (YYYY-MM-DD, UTC)
        """
        require_manage_guild(interaction)
        if model is not None and model not in MODEL_CODES:
            raise InvalidRequest("model", "must be one of the listed models")
        filters = HistoryFilter(
            member.id if member else None, model, parse_day(since, "since"), parse_day(until, "until", end=True)
        )
        embed, view = await self.history_page(interaction.guild_id, HistoryCursor(0), filters, interaction.locale)
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def history_page(
        self, guild_id: int, cursor: HistoryCursor, filters: HistoryFilter, locale=None
    ) -> tuple[discord.Embed, discord.ui.View]:
        """One page, read by key from the cursor on (one extra row says whether there is more)."""
        query = dict(user_id=filters.user_id, model=filters.model, since=filters.since, until=filters.until)
        if cursor.newer_than is not None:
            rows = await usage.ledger_rows(
                self.services.db, guild_id, newer_than=cursor.newer_than, limit=HISTORY_PAGE + 1, **query
            )
            has_newer, has_older = len(rows) > HISTORY_PAGE, True
            page = rows[-HISTORY_PAGE:]
            first = cursor.first if has_newer else 0
        else:
            rows = await usage.ledger_rows(
                self.services.db, guild_id, older_than=cursor.older_than, limit=HISTORY_PAGE + 1, **query
            )
            has_newer, has_older = cursor.older_than is not None, len(rows) > HISTORY_PAGE
            page = rows[:HISTORY_PAGE]
            first = cursor.first
        embed = discord.Embed(title=tr(r.HISTORY_TITLE, locale), colour=discord.Colour.blurple())
        embed.description = "\n".join(entry_line(e) for e in page) or tr(r.NO_MOVEMENTS, locale)
        embed.set_footer(text=f"{first + 1}–{first + len(page)}" if page else "0")
        view = discord.ui.View(timeout=None)
        newer = HistoryCursor(max(0, first - HISTORY_PAGE), newer_than=page[0]["id"] if page else 0)
        older = HistoryCursor(first + len(page), older_than=page[-1]["id"] if page else 0)
        view.add_item(HistoryButton(newer, filters, tr(r.NEWER, locale), disabled=not (page and has_newer)))
        view.add_item(HistoryButton(older, filters, tr(r.OLDER, locale), disabled=not (page and has_older)))
        return embed, view

    @app_commands.command(
        name="export", description="The server's ledger as a gzipped CSV file (Manage Server)"
    )
    async def export(
        self,
        interaction: discord.Interaction,
        since: app_commands.Range[str, 10, 10] | None = None,
        until: app_commands.Range[str, 10, 10] | None = None,
    ) -> None:
        """Written to a temporary gzip file, which is refused when over the server's upload limit.

        Args:
            since: From this day (YYYY-MM-DD, UTC)
            until: Up to and including this day (YYYY-MM-DD, UTC)
        """
        require_manage_guild(interaction)
        start, end = parse_day(since, "since"), parse_day(until, "until", end=True)
        await interaction.response.defer(ephemeral=True, thinking=True)
        fd, name = await asyncio.to_thread(tempfile.mkstemp, suffix=".csv.gz")
        path = Path(name)
        try:
            os.close(fd)
            count = await usage.export_ledger(self.services.db, interaction.guild_id, path, since=start, until=end)
            size = (await asyncio.to_thread(path.stat)).st_size
            limit = interaction.guild.filesize_limit if interaction.guild else 10 * 1024 * 1024
            if size > limit:
                await interaction.followup.send(
                    tr(r.EXPORT_TOO_BIG, interaction.locale, size=f"{size / 2**20:.1f}", limit=f"{limit / 2**20:.0f}"),
                    ephemeral=True,
                    allowed_mentions=NO_MENTIONS,
                )
                return
            await interaction.followup.send(
                tr(r.EXPORT_COUNT, interaction.locale, count=count),
                file=discord.File(
                    path,
                    filename=f"credits-{interaction.guild_id}.csv.gz",
                    description=tr(r.EXPORT_FILE, interaction.locale),
                ),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)

    @app_commands.command(name="usage", description="Credits spent per day over the last 30 days, by model")
    async def usage(self, interaction: discord.Interaction) -> None:
        require_manage_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        spend = await usage.daily_spend(self.services.db, interaction.guild_id, days=30, now=time.time())
        png = await asyncio.to_thread(
            usage.usage_chart_png, spend, title="Credits spent per day (last 30 days)"
        )
        await interaction.followup.send(
            file=discord.File(
                io.BytesIO(png), filename="usage.png", description=tr(r.USAGE_FILE, interaction.locale)
            ),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="refund", description="Give back what a job was charged (Manage Server; once)")
    async def refund(
        self,
        interaction: discord.Interaction,
        job_id: app_commands.Range[int, 1, 2**31],
        reason: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        require_manage_guild(interaction)
        result = await self.services.ledger.refund(
            job_id, guild_id=interaction.guild_id, by=interaction.user.id, reason=reason
        )
        await self.services.credit_rules.note_balance(interaction.guild_id, result.balance)
        await interaction.response.send_message(
            messages.refunded(job_id, result.balance, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await self.services.events.publish(
            CreditsRefunded(interaction.guild_id, interaction.user.id, job_id, result.balance, reason)
        )

    @app_commands.command(
        name="allowance", description="Limit what a member or role may spend (Manage Server)"
    )
    async def allowance(
        self,
        interaction: discord.Interaction,
        member: discord.User | None = None,
        role: discord.Role | None = None,
        daily: app_commands.Range[int, 0, 10**9] | None = None,
        monthly: app_commands.Range[int, 0, 10**9] | None = None,
        unlimited: bool = False,
        clear: bool = False,
    ) -> None:
        """Exactly one of member or role; unlimited applies to roles only.

        Args:
            member: Set it for one member
            role: Set it for a role (@everyone = everybody)
            daily: Credits per day (empty = no daily limit)
            monthly: Credits per month (empty = no monthly limit)
            unlimited: The role is exempt from role limits
            clear: Remove this allowance
        """
        require_manage_guild(interaction)
        if (member is None) == (role is None):
            raise InvalidRequest("member", "give exactly one of member or role")
        scope, target = ("member", member.id) if member else ("role", role.id)
        if unlimited and scope == "member":
            raise InvalidRequest("unlimited", "applies to roles; for a member, clear their allowance instead")
        rules = self.services.credit_rules
        if clear:
            removed = await rules.clear_allowance(interaction.guild_id, scope, target)
            text = tr(r.ALLOWANCE_REMOVED if removed else r.NO_SUCH_ALLOWANCE, interaction.locale)
        else:
            await rules.set_allowance(
                interaction.guild_id, Allowance(scope, target, daily, monthly, unlimited)
            )
            text = messages.allowance_set(
                member.id if member else None, role.id if role else None, daily, monthly, unlimited, interaction.locale
            )
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        if not clear or removed:
            await self.services.events.publish(
                AllowanceChanged(
                    interaction.guild_id, interaction.user.id, scope, target, daily, monthly, unlimited, clear
                )
            )

    @app_commands.command(name="settings", description="Quotes and the low-balance alert (Manage Server)")
    async def settings(
        self,
        interaction: discord.Interaction,
        quote_above: app_commands.Range[int, 0, 10**9] | None = None,
        confirm_all: bool | None = None,
        low_balance_alert: app_commands.Range[int, 0, 10**9] | None = None,
    ) -> None:
        """An option left out stays as it is; 0 turns the quote or the alert off.

        Args:
            quote_above: Ask to confirm jobs costing more than this (0 = off)
            confirm_all: Ask to confirm every job
            low_balance_alert: Tell the mod log when the balance falls below this (0 = off)
        """
        require_manage_guild(interaction)
        new = await self.services.credit_rules.update_settings(
            interaction.guild_id,
            quote_above=... if quote_above is None else (quote_above or None),
            confirm_all=confirm_all,
            low_balance_below=... if low_balance_alert is None else (low_balance_alert or None),
        )
        await interaction.response.send_message(
            messages.credit_settings(new, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await self.services.events.publish(
            CreditSettingsChanged(
                interaction.guild_id, interaction.user.id, new.quote_above, new.confirm_all, new.low_balance_below
            )
        )

    async def _may_grant(self, interaction: discord.Interaction) -> bool:
        if await is_bot_owner(self.bot, self.services, interaction.user):
            return True
        return self.services.settings.guild_admins_can_grant and interaction.permissions.manage_guild
