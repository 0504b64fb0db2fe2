"""/credits balance, grant and history: rendering only; the numbers come from core/ledger.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import discord
from discord import app_commands
from discord.ext import commands

from cogs.owner import is_bot_owner
from cogs.ui import messages
from cogs.ui.checks import require_guild, require_manage_guild
from cogs.ui.errors import NO_MENTIONS, report_error
from cogs.ui.options import MODEL_CHOICES
from cogs.ui.wiring import wired
from core import usage
from core.credit_rules import Allowance
from core.errors import InvalidRequest, NotAllowed
from core.events import AllowanceChanged, CreditSettingsChanged, CreditsGranted, CreditsRefunded
from core.models import ModelId
from core.services import Services

HISTORY_PAGE = 10


@app_commands.guild_only()
class CreditsCog(commands.GroupCog, group_name="credits", group_description="The server's image credits"):
    def __init__(self, bot: commands.Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        require_guild(interaction)
        return True

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
            ("this month", limits.monthly, limits.month_start),
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
        await self.services.credit_rules.note_balance(interaction.guild_id, result.balance)
        await interaction.response.send_message(
            messages.granted(amount, result.balance), ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await self.services.events.publish(
            CreditsGranted(interaction.guild_id, interaction.user.id, amount, result.balance, reason)
        )

    @app_commands.command(name="history", description="Credit movements, newest first (Manage Server)")
    @app_commands.describe(
        member="Only this member's jobs",
        model="Only this model",
        since="From this day (YYYY-MM-DD, UTC)",
        until="Up to and including this day (YYYY-MM-DD, UTC)",
    )
    @app_commands.choices(model=MODEL_CHOICES)
    async def history(
        self,
        interaction: discord.Interaction,
        member: discord.User | None = None,
        model: str | None = None,
        since: app_commands.Range[str, 10, 10] | None = None,
        until: app_commands.Range[str, 10, 10] | None = None,
    ) -> None:
        require_manage_guild(interaction)
        if model is not None and model not in _MODEL_CODES:
            raise InvalidRequest("model", "must be one of the listed models")
        filters = HistoryFilter(
            member.id if member else None, model, _day(since, "since"), _day(until, "until", end=True)
        )
        embed, view = await self.history_page(interaction.guild_id, HistoryCursor(0), filters)
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def history_page(
        self, guild_id: int, cursor: HistoryCursor, filters: HistoryFilter
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
        embed = discord.Embed(title="Credit history", colour=discord.Colour.blurple())
        embed.description = "\n".join(_entry_line(e) for e in page) or "No credit movements match."
        embed.set_footer(text=f"{first + 1}–{first + len(page)}" if page else "0")
        view = discord.ui.View(timeout=None)
        newer = HistoryCursor(max(0, first - HISTORY_PAGE), newer_than=page[0]["id"] if page else 0)
        older = HistoryCursor(first + len(page), older_than=page[-1]["id"] if page else 0)
        view.add_item(HistoryButton(newer, filters, "◀ Newer", disabled=not (page and has_newer)))
        view.add_item(HistoryButton(older, filters, "Older ▶", disabled=not (page and has_older)))
        return embed, view

    @app_commands.command(
        name="export", description="The server's ledger as a gzipped CSV file (Manage Server)"
    )
    @app_commands.describe(
        since="From this day (YYYY-MM-DD, UTC)", until="Up to and including this day (YYYY-MM-DD, UTC)"
    )
    async def export(
        self,
        interaction: discord.Interaction,
        since: app_commands.Range[str, 10, 10] | None = None,
        until: app_commands.Range[str, 10, 10] | None = None,
    ) -> None:
        require_manage_guild(interaction)
        start, end = _day(since, "since"), _day(until, "until", end=True)
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
                    f"The export is {size / 2**20:.1f} MiB compressed, over this server's"
                    f" {limit / 2**20:.0f} MiB upload limit: export a shorter period with `since` and `until`.",
                    ephemeral=True,
                    allowed_mentions=NO_MENTIONS,
                )
                return
            await interaction.followup.send(
                f"{count} ledger entries.",
                file=discord.File(
                    path,
                    filename=f"credits-{interaction.guild_id}.csv.gz",
                    description="This server's credit ledger as gzipped CSV, oldest first",
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
                io.BytesIO(png), filename="usage.png", description="Chart of credits spent per day over 30 days, by model"
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
            messages.refunded(job_id, result.balance), ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await self.services.events.publish(
            CreditsRefunded(interaction.guild_id, interaction.user.id, job_id, result.balance, reason)
        )

    @app_commands.command(
        name="allowance", description="Limit what a member or role may spend (Manage Server)"
    )
    @app_commands.describe(
        member="Set it for one member",
        role="Set it for a role (@everyone = everybody)",
        daily="Credits per day (empty = no daily limit)",
        monthly="Credits per month (empty = no monthly limit)",
        unlimited="The role is exempt from role limits",
        clear="Remove this allowance",
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
        require_manage_guild(interaction)
        if (member is None) == (role is None):
            raise InvalidRequest("member", "give exactly one of member or role")
        scope, target = ("member", member.id) if member else ("role", role.id)
        if unlimited and scope == "member":
            raise InvalidRequest("unlimited", "applies to roles; for a member, clear their allowance instead")
        rules = self.services.credit_rules
        if clear:
            removed = await rules.clear_allowance(interaction.guild_id, scope, target)
            text = "Allowance removed." if removed else "There was no such allowance."
        else:
            await rules.set_allowance(
                interaction.guild_id, Allowance(scope, target, daily, monthly, unlimited)
            )
            text = messages.allowance_set(
                member.id if member else None, role.id if role else None, daily, monthly, unlimited
            )
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        if not clear or removed:
            await self.services.events.publish(
                AllowanceChanged(
                    interaction.guild_id, interaction.user.id, scope, target, daily, monthly, unlimited, clear
                )
            )

    @app_commands.command(name="settings", description="Quotes and the low-balance alert (Manage Server)")
    @app_commands.describe(
        quote_above="Ask to confirm jobs costing more than this (0 = off)",
        confirm_all="Ask to confirm every job",
        low_balance_alert="Tell the mod log when the balance falls below this (0 = off)",
    )
    async def settings(
        self,
        interaction: discord.Interaction,
        quote_above: app_commands.Range[int, 0, 10**9] | None = None,
        confirm_all: bool | None = None,
        low_balance_alert: app_commands.Range[int, 0, 10**9] | None = None,
    ) -> None:
        require_manage_guild(interaction)
        new = await self.services.credit_rules.update_settings(
            interaction.guild_id,
            quote_above=... if quote_above is None else (quote_above or None),
            confirm_all=confirm_all,
            low_balance_below=... if low_balance_alert is None else (low_balance_alert or None),
        )
        await interaction.response.send_message(messages.credit_settings(new), ephemeral=True)
        await self.services.events.publish(
            CreditSettingsChanged(
                interaction.guild_id, interaction.user.id, new.quote_above, new.confirm_all, new.low_balance_below
            )
        )

    async def _may_grant(self, interaction: discord.Interaction) -> bool:
        if await is_bot_owner(self.bot, self.services, interaction.user):
            return True
        return self.services.settings.guild_admins_can_grant and interaction.permissions.manage_guild


@dataclass(frozen=True)
class HistoryFilter:
    """What `/credits history` shows. It travels in the page buttons' custom ids (see `encode`), so
    the buttons page through the same filtered list after a restart, with nothing kept in memory."""

    user_id: int | None = None
    model: str | None = None
    since: float | None = None  # UTC midnight, as _day makes it
    until: float | None = None

    def encode(self) -> str:
        """`user:model:since:until`, each part empty when unset; days as days since 1970 (≤ 44 chars)."""
        return ":".join(
            (
                str(self.user_id or ""),
                _MODEL_CODES.get(self.model or "", ""),
                "" if self.since is None else str(int(self.since // DAY)),
                "" if self.until is None else str(int(self.until // DAY)),
            )
        )

    @classmethod
    def decode(cls, match: re.Match[str]) -> HistoryFilter:
        return cls(
            user_id=int(match["user"]) if match["user"] else None,
            model=_MODEL_OF_CODE.get(match["model"]),
            since=int(match["since"]) * DAY if match["since"] else None,
            until=int(match["until"]) * DAY if match["until"] else None,
        )


@dataclass(frozen=True)
class HistoryCursor:
    """Where a history page starts: after (older than) or before (newer than) an entry id, and how
    many entries come before it (only for the footer: the rows are found by id, never by offset)."""

    first: int
    older_than: int | None = None
    newer_than: int | None = None

    def encode(self) -> str:
        if self.newer_than is not None:
            return f"{self.first}:n{self.newer_than}"
        return f"{self.first}:o{'' if self.older_than is None else self.older_than}"

    @classmethod
    def decode(cls, match: re.Match[str]) -> HistoryCursor:
        key = int(match["key"]) if match["key"] else None
        if match["dir"] == "n":
            return cls(int(match["first"]), newer_than=key or 0)
        return cls(int(match["first"]), older_than=key)


DAY = 86_400
_MODEL_CODES = {ModelId.PRO.value: "p", ModelId.KLEIN.value: "k"}
_MODEL_OF_CODE = {code: model for model, code in _MODEL_CODES.items()}


def _day(value: str | None, option: str, *, end: bool = False) -> float | None:
    if value is None:
        return None
    try:
        day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        raise InvalidRequest(option, "must be a date like 2026-01-31") from None
    return (day + dt.timedelta(days=1 if end else 0)).timestamp()




def _entry_line(entry: dict) -> str:
    when = dt.datetime.fromtimestamp(entry["created_at"], dt.UTC)
    sign = {"grant": "+", "refund": "+", "capture": "−"}.get(entry["kind"], "·")
    who = f" by <@{entry['user_id']}>" if entry.get("user_id") else ""
    job = f" job {entry['job_id']}" if entry.get("job_id") else ""
    reason = (
        f" — {messages.clip(messages.plain(entry['reason']), 60)}"
        if entry.get("reason")
        else ""
    )
    return (
        f"{discord.utils.format_dt(when, 'f')} {sign}{entry['amount']} {entry['kind']}{job}{who}{reason}"
        f" → {entry['balance_after']}"
    )


class HistoryButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=(
        r"flux:hist:(?P<first>[0-9]{1,9}):(?P<dir>[on])(?P<key>[0-9]{0,19}):(?P<user>[0-9]{0,20}):(?P<model>[pk]?)"
        r":(?P<since>[0-9]{0,6}):(?P<until>[0-9]{0,6})"
    ),
):
    # discord.py builds the item from the custom_id of each click, so the page source cannot reach an
    # instance: bot.py hands the credits cog's to the class once.
    pages: ClassVar[
        Callable[[int, HistoryCursor, HistoryFilter], Awaitable[tuple[discord.Embed, discord.ui.View]]] | None
    ] = None

    def __init__(
        self, cursor: HistoryCursor, filters: HistoryFilter, label: str = "Page", *, disabled: bool = False
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, custom_id=f"flux:hist:{cursor.encode()}:{filters.encode()}", disabled=disabled
            )
        )
        self.cursor = cursor
        self.filters = filters

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /) -> HistoryButton:
        return cls(HistoryCursor.decode(match), HistoryFilter.decode(match))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            require_manage_guild(interaction)
            pages = wired(type(self).pages, "HistoryButton.pages")
            embed, view = await pages(interaction.guild_id, self.cursor, self.filters)
            await interaction.response.edit_message(embed=embed, view=view)
        except Exception as error:
            await report_error(interaction, error)
