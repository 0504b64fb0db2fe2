"""The modal that asks for an edit prompt."""

from __future__ import annotations

import discord

from cogs.errors import report_error
from core.models import PROMPT_MAX_CHARS


class EditPromptModal(discord.ui.Modal):
    """Asks for the edit prompt; `on_prompt` runs with the interaction of the submit."""

    prompt: discord.ui.TextInput = discord.ui.TextInput(
        label="What should change?", style=discord.TextStyle.paragraph, max_length=PROMPT_MAX_CHARS
    )

    def __init__(self, on_prompt) -> None:
        super().__init__(title="Edit with FLUX", timeout=600)
        self._on_prompt = on_prompt

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._on_prompt(interaction, self.prompt.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)
