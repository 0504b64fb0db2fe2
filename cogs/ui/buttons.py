"""Persistent result buttons. The job id lives in the custom_id, so a click works after a restart."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import discord

from cogs.ui import reply_texts as r
from cogs.ui.errors import report_error
from cogs.ui.i18n import tr
from cogs.ui.wiring import wired

# Labels in the result's (public) language when built with one: the job's `spec.locale`.
RESULT_ACTIONS = {
    "reroll": (r.REROLL, discord.ButtonStyle.secondary, "🎲"),
    "edit": (r.EDIT, discord.ButtonStyle.secondary, "✏️"),
    "pro": (r.FINALIZE, discord.ButtonStyle.primary, "✨"),
    "delete": (r.DELETE, discord.ButtonStyle.danger, "🗑️"),
    "report": (r.REPORT, discord.ButtonStyle.secondary, "🚩"),
}


class ResultButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"flux:(?P<action>reroll|edit|pro|delete|report):(?P<job>[1-9][0-9]{0,18})",
):
    # discord.py builds the item from the custom_id of each click, so the handler cannot reach an
    # instance: bot.py hands the generate cog's to the class once.
    on_click: ClassVar[Callable[[discord.Interaction, str, int], Awaitable[None]] | None] = None

    def __init__(self, action: str, job_id: int, locale=None) -> None:
        label, style, emoji = RESULT_ACTIONS[action]
        super().__init__(discord.ui.Button(label=tr(label, locale), style=style, emoji=emoji, custom_id=f"flux:{action}:{job_id}"))
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ResultButton:
        return cls(match["action"], int(match["job"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await wired(type(self).on_click, "ResultButton.on_click")(interaction, self.action, self.job_id)
        except Exception as error:
            await report_error(interaction, error)
