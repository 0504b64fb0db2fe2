"""`/credits-admin history`'s pages: the filter and cursor its buttons carry, each entry's line, and the
page buttons (DynamicItem, so they page through the same list after a restart)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

import discord

from cogs.ui import messages
from cogs.ui.checks import require_manage_guild
from cogs.ui.errors import report_error
from cogs.ui.wiring import wired
from core.errors import InvalidRequest
from core.models import ModelId


@dataclass(frozen=True)
class HistoryFilter:
    """What `/credits-admin history` shows. It travels in the page buttons' custom ids (see `encode`), so
    the buttons page through the same filtered list after a restart, with nothing kept in memory."""

    user_id: int | None = None
    model: str | None = None
    since: float | None = None  # UTC midnight, as parse_day makes it
    until: float | None = None

    def encode(self) -> str:
        """`user:model:since:until`, each part empty when unset; days as days since 1970 (≤ 44 chars)."""
        return ":".join(
            (
                str(self.user_id or ""),
                MODEL_CODES.get(self.model or "", ""),
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
MODEL_CODES = {ModelId.PRO.value: "p", ModelId.KLEIN.value: "k"}
_MODEL_OF_CODE = {code: model for model, code in MODEL_CODES.items()}


def parse_day(value: str | None, option: str, *, end: bool = False) -> float | None:
    if value is None:
        return None
    try:
        day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        raise InvalidRequest(option, "must be a date like 2026-01-31") from None
    return (day + dt.timedelta(days=1 if end else 0)).timestamp()


def entry_line(entry: dict) -> str:
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
    # instance: bot.py hands the credits-admin cog's to the class once.
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
            embed, view = await pages(interaction.guild_id, self.cursor, self.filters, interaction.locale)
            await interaction.response.edit_message(embed=embed, view=view)
        except Exception as error:
            await report_error(interaction, error)
