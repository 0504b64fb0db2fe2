"""The quote a member confirms before a job over the guild's threshold: Confirm / Use Klein instead / Cancel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from cogs.ui import messages
from cogs.ui import quote_texts as q
from cogs.ui.errors import NO_MENTIONS, report_error
from cogs.ui.i18n import tr
from cogs.ui.requests import request_of
from core.admission import NeedsQuote, Outcome
from core.models import switch_to_klein

Start = Callable[[discord.Interaction, Outcome], Awaitable[None]]


async def show_quote(
    interaction: discord.Interaction, quote: NeedsQuote, start: Start, notice: str | None = None
) -> None:
    """Show `quote` privately (after `notice`, if any); the outcome the member picks is handed to
    `start` with their click."""

    async def confirm(click: discord.Interaction, outcome: Outcome) -> None:
        await interaction.edit_original_response(
            content=tr(messages.QUOTE_CONFIRMED, click.locale), embed=None, view=None
        )
        await start(click, outcome)

    async def cancel(click: discord.Interaction) -> None:
        await click.response.edit_message(content=tr(messages.QUOTE_CANCELLED, click.locale), embed=None, view=None)

    view = QuoteView(interaction.user.id, quote, confirm, cancel)
    for button in (view.confirm, view.use_klein, view.cancel):
        button.label = tr(button.label, interaction.locale)
    await interaction.response.send_message(
        notice, embed=_embed(quote, interaction.locale), view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
    )


def _embed(quote: NeedsQuote, locale) -> discord.Embed:
    """The card in the member's language (cogs/ui/messages.py's `quote_embed` is its English)."""
    model = quote.chosen.spec.model.display_name
    model = model if quote.count == 1 else f"{quote.count} × {model}"
    embed = discord.Embed(title=tr(q.TITLE, locale, model=model, price=quote.price), colour=discord.Colour.gold())
    embed.description = tr(q.NOTHING_RESERVED, locale)
    embed.add_field(name=tr(q.SERVER_BALANCE, locale), value=tr(q.AVAILABLE, locale, credits=quote.available))
    for period, left in quote.remaining.items():
        name = q.ALLOWANCE_TODAY if period == "today" else q.ALLOWANCE_MONTH
        embed.add_field(name=tr(name, locale), value=tr(q.LEFT, locale, credits=left))
    if quote.klein_price is not None:
        embed.add_field(name=tr(q.ON_KLEIN, locale), value=tr(q.CREDITS, locale, credits=quote.klein_price))
    return embed


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
            await interaction.response.send_message(
                tr(messages.QUOTE_USED, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
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


# --- quotes that survive a restart ---------------------------------------------------------------

CHOICES = {"c": ("Confirm", discord.ButtonStyle.success), "k": ("Use Klein instead", discord.ButtonStyle.primary),
           "x": ("Cancel", discord.ButtonStyle.secondary)}


class QuoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"flux:quote:(?P<id>[1-9][0-9]{0,18}):(?P<c>[ckx])"):
    """A quote's answer; the quote lives in the database (core/quotes.py), so this works after a restart.
    bot.py sets `cog` (GenerateCog) on the class: discord.py builds the item from each click."""

    cog = None

    def __init__(self, quote_id: int, choice: str) -> None:
        label, style = CHOICES[choice]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"flux:quote:{quote_id}:{choice}"))
        self.quote_id = quote_id
        self.choice = choice

    @classmethod
    async def from_custom_id(cls, interaction, item, match, /) -> QuoteButton:
        return cls(int(match["id"]), match["c"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await answer_stored_quote(type(self).cog, interaction, self.quote_id, self.choice)
        except Exception as error:
            await report_error(interaction, error)


async def show_stored_quote(interaction: discord.Interaction, quote: NeedsQuote, quote_id: int) -> None:
    """Show `quote` privately with buttons that name the stored quote."""
    view = discord.ui.View(timeout=None)
    for choice in ("c", "k", "x"):
        if choice != "k" or quote.klein is not None:
            button = QuoteButton(quote_id, choice)
            button.item.label = tr(button.item.label, interaction.locale)
            view.add_item(button)
    await interaction.response.send_message(
        embed=_embed(quote, interaction.locale), view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
    )


async def answer_stored_quote(cog, click: discord.Interaction, quote_id: int, choice: str) -> None:
    """A click on a stored quote: claim it (once), re-run admission with the click, start the batch."""
    claimed = await cog.services.quotes.claim(quote_id, click.user.id)
    if claimed is None or claimed.guild_id != click.guild_id:
        await click.response.send_message(
            tr(messages.QUOTE_USED, click.locale), ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        return
    if choice == "x":
        await click.response.edit_message(
            content=tr(messages.QUOTE_CANCELLED, click.locale), embed=None, view=None, allowed_mentions=NO_MENTIONS
        )
        return
    spec = switch_to_klein(claimed.spec) if choice == "k" else claimed.spec
    request = await request_of(click, claimed.reference_authors)
    outcome = await cog.services.admission.evaluate(request, spec, count=claimed.count)
    if isinstance(outcome, NeedsQuote):
        outcome = outcome.chosen  # the member has just confirmed this price
    await click.response.edit_message(
        content=tr(messages.QUOTE_CONFIRMED, click.locale), embed=None, view=None, allowed_mentions=NO_MENTIONS
    )
    await cog.start_answered(click, outcome, claimed.kind, claimed.parent_job_id, claimed.count)
