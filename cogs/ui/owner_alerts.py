"""Direct messages to the bot's owners (OWNER_IDS and the application's owner or team) about the
Segmind account: the key refused, the account out of credit or low, and each recovery.

The incidents are counted in core/account.py, so each reaches the owners once however many jobs
hit it; this service only writes the words and delivers them.
"""

from __future__ import annotations

import logging

import discord

from cogs.ui import messages
from cogs.ui.mentions import NO_MENTIONS
from core import events as ev
from core.account import AccountWatch

log = logging.getLogger(__name__)


class OwnerAlerts:
    def __init__(self, bot: discord.Client, owner_ids: frozenset[int]) -> None:
        self._bot = bot
        self._owner_ids = owner_ids

    async def owners(self) -> set[int]:
        ids = set(self._owner_ids)
        try:
            app = await self._bot.application_info()
        except discord.HTTPException:
            return ids
        if app.team:
            ids |= {member.id for member in app.team.members}
        elif app.owner:
            ids.add(app.owner.id)
        return ids

    async def tell(self, text: str) -> int:
        """DM every owner; returns how many were reached."""
        reached = 0
        for user_id in sorted(await self.owners()):
            try:
                user = self._bot.get_user(user_id) or await self._bot.fetch_user(user_id)
                await user.send(text, allowed_mentions=NO_MENTIONS)
                reached += 1
            except discord.HTTPException as exc:
                log.warning("could not DM owner %d: %r", user_id, exc)
        if not reached:
            log.error("no bot owner could be told: %s", text)
        return reached

    # --- event handlers (subscribed in bot.py) ----------------------------------------------------

    async def on_provider_balance_low(self, event: ev.ProviderBalanceLow) -> None:
        await self.tell(messages.account_low(event.balance_usd, event.threshold_usd))

    async def on_provider_key_refused(self, event: ev.ProviderKeyRefused) -> None:
        status = f" (HTTP {event.status})" if event.status else ""
        await self.tell(
            f"⚠️ Segmind refused the bot's API key{status}: every image request fails until SEGMIND_API_KEY "
            "(or the account's access to the model) is fixed. Members are not charged. You will hear again "
            "when a request goes through."
        )

    async def on_provider_key_accepted(self, event: ev.ProviderKeyAccepted) -> None:
        await self.tell("✅ Segmind accepts the bot's API key again; images are being generated.")

    async def on_provider_out_of_credit(self, event: ev.ProviderOutOfCredit) -> None:
        balance = f" (balance ${event.balance_usd:.2f})" if event.balance_usd is not None else ""
        await self.tell(
            f"⚠️ The bot's Segmind account is out of credit{balance}. New image requests are refused, uncharged, "
            "until the balance reads positive again: top the account up on Segmind."
        )

    async def on_provider_credit_restored(self, event: ev.ProviderCreditRestored) -> None:
        await self.tell(
            f"✅ The bot's Segmind account reads ${event.balance_usd:.2f} again; image requests are accepted."
        )


def account_status(watch: AccountWatch | None) -> str:
    """What /owner account shows."""
    if watch is None:
        return "The Segmind account is not watched by this bot."
    balance = "unknown (Segmind did not answer)" if watch.balance_usd is None else f"${watch.balance_usd:.2f}"
    lines = [f"Segmind account balance: {balance}."]
    if watch.out_of_credit:
        lines.append("Out of credit: new image requests are refused until the balance reads positive.")
    if watch.key_refused:
        lines.append("The last generation found the API key refused (401/403); no success since.")
    if len(lines) == 1:
        lines.append("Image requests are accepted.")
    return " ".join(lines)
