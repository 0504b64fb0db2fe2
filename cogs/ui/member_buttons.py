"""Persistent buttons of the member features: Cancel on a queued job, Info on a result, /mine's pages.

Each carries what it acts on in its custom_id (DynamicItem), so it keeps working after a restart,
and each handler re-checks who may use it: a custom_id can be copied onto any message. discord.py
builds the item from each click's custom_id, so its handler is set on the class by bot.py.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import discord

from cogs.ui.errors import report_error

Handler = Callable[[discord.Interaction, int], Awaitable[None]]


class CancelButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"flux:cancel:(?P<job>[1-9][0-9]{0,18})"
):
    on_click: ClassVar[Handler]  # MembersCog.cancel
    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Cancel", style=discord.ButtonStyle.secondary, emoji="🛑", custom_id=f"flux:cancel:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /) -> CancelButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await type(self).on_click(interaction, self.job_id)
        except Exception as error:
            await report_error(interaction, error)


class InfoButton(discord.ui.DynamicItem[discord.ui.Button], template=r"flux:info:(?P<job>[1-9][0-9]{0,18})"):
    on_click: ClassVar[Handler]  # MembersCog.info
    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Info", style=discord.ButtonStyle.secondary, emoji="ℹ️", custom_id=f"flux:info:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /) -> InfoButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await type(self).on_click(interaction, self.job_id)
        except Exception as error:
            await report_error(interaction, error)


class MinePage(discord.ui.DynamicItem[discord.ui.Button], template=r"flux:mine:(?P<before>[1-9][0-9]{0,18})"):
    """"Older": the next page of /mine, keyset by the last job id shown."""

    on_click: ClassVar[Handler]  # MembersCog.older

    def __init__(self, before: int) -> None:
        super().__init__(
            discord.ui.Button(label="Older ▶", style=discord.ButtonStyle.secondary, custom_id=f"flux:mine:{before}")
        )
        self.before = before

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /) -> MinePage:
        return cls(int(match["before"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await type(self).on_click(interaction, self.before)
        except Exception as error:
            await report_error(interaction, error)


def cancel_view(job_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id))
    return view
