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

from cogs.ui import reply_texts as r
from cogs.ui.errors import report_error
from cogs.ui.i18n import tr

Handler = Callable[[discord.Interaction, int], Awaitable[None]]


class IdButton(discord.ui.DynamicItem[discord.ui.Button], template=r"(?!)"):
    """A secondary button whose custom_id `flux:<prefix>:<id>` carries one id, handed to `on_click`.

    Never registered itself (its template matches nothing): each subclass names its prefix, and
    discord.py needs that subclass's own template to build it from a click.
    """

    on_click: ClassVar[Handler]
    prefix: ClassVar[str]
    label: ClassVar[str]
    emoji: ClassVar[str | None]

    def __init_subclass__(cls, *, prefix: str, label: str, emoji: str | None = None) -> None:
        super().__init_subclass__(template=rf"flux:{prefix}:(?P<id>[1-9][0-9]{{0,18}})")
        cls.prefix, cls.label, cls.emoji = prefix, label, emoji

    def __init__(self, value: int, locale=None) -> None:
        super().__init__(
            discord.ui.Button(
                label=tr(self.label, locale), style=discord.ButtonStyle.secondary, emoji=self.emoji,
                custom_id=f"flux:{self.prefix}:{value}",
            )
        )
        self.value = value

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /) -> IdButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await type(self).on_click(interaction, self.value)
        except Exception as error:
            await report_error(interaction, error)


class CancelButton(IdButton, prefix="cancel", label="Cancel", emoji="🛑"):
    on_click: ClassVar[Handler]  # MembersCog.cancel, with the job id


class InfoButton(IdButton, prefix="info", label=r.INFO, emoji="ℹ️"):
    on_click: ClassVar[Handler]  # MembersCog.info, with the job id


class MinePage(IdButton, prefix="mine", label=r.OLDER):
    """"Older": the next page of /mine, keyset by the last job id shown."""

    on_click: ClassVar[Handler]  # MembersCog.older, with that job id


def cancel_view(job_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id))
    return view
