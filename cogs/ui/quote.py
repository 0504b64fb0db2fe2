"""The quote a member confirms before a job over the guild's threshold: Confirm / Use Klein instead / Cancel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from cogs import messages
from cogs.errors import NO_MENTIONS, report_error
from core.admission import NeedsQuote, Outcome

Start = Callable[[discord.Interaction, Outcome], Awaitable[None]]


async def show_quote(interaction: discord.Interaction, quote: NeedsQuote, start: Start) -> None:
    """Show `quote` privately; the outcome the member picks is handed to `start` with their click."""

    async def confirm(click: discord.Interaction, outcome: Outcome) -> None:
        await interaction.edit_original_response(content=messages.QUOTE_CONFIRMED, embed=None, view=None)
        await start(click, outcome)

    async def cancel(click: discord.Interaction) -> None:
        await click.response.edit_message(content=messages.QUOTE_CANCELLED, embed=None, view=None)

    embed = messages.quote_embed(
        model=quote.chosen.spec.model.display_name if quote.count == 1 else
        f"{quote.count} × {quote.chosen.spec.model.display_name}",
        price=quote.price,
        available=quote.available,
        remaining=quote.remaining,
        klein_price=quote.klein_price,
    )
    view = QuoteView(interaction.user.id, quote, confirm, cancel)
    await interaction.response.send_message(embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS)


class QuoteView(discord.ui.View):
    """Nothing is reserved until Confirm; one quote starts at most one job, however it is clicked."""

    def __init__(self, user_id: int, quote: NeedsQuote, on_confirm, on_cancel) -> None:
        super().__init__(timeout=300)
        self._user_id = user_id
        self._quote = quote
        self._on_confirm = on_confirm
        self._on_cancel = on_cancel
        self._answered = False
        if quote.klein is None:
            self.remove_item(self.use_klein)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self._user_id

    async def _answer(self, interaction: discord.Interaction) -> bool:
        """Claim the quote for this click. The test and the set have no await between them, so
        of clicks racing each other (Confirm with "Use Klein instead", or a double click) exactly
        one goes ahead; the others are told, and nothing else happens."""
        if self._answered:
            await interaction.response.send_message(messages.QUOTE_USED, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return False
        self._answered = True
        return True

    async def _choose(self, interaction: discord.Interaction, outcome: Outcome | None) -> None:
        if not await self._answer(interaction):
            return
        try:
            if outcome is None:
                await self._on_cancel(interaction)
            else:
                await self._on_confirm(interaction, outcome)
        finally:
            # Stopped only now: a click racing this one still reaches `_answer` and gets a reply.
            self.stop()

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.success)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._choose(interaction, self._quote.chosen)

    @discord.ui.button(label="Use Klein instead", style=discord.ButtonStyle.primary)
    async def use_klein(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._choose(interaction, self._quote.klein)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._choose(interaction, None)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item) -> None:
        await report_error(interaction, error)
