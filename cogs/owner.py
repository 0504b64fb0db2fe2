"""/owner: for the people who run the bot (OWNER_IDS and the application's owner/team)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui import messages
from cogs.ui.checks import is_ascii_digits
from cogs.ui.errors import NO_MENTIONS
from cogs.ui.owner_alerts import account_status
from core.errors import InvalidRequest
from core.events import CreditsGranted
from core.services import Services
from core.version import __version__

log = logging.getLogger(__name__)


async def is_bot_owner(bot: commands.Bot, services: Services, user: discord.abc.User) -> bool:
    return user.id in services.settings.owner_ids or await bot.is_owner(user)


@app_commands.guild_only()
@app_commands.default_permissions(administrator=True)
class OwnerCog(commands.GroupCog, name="Owner", group_name="owner", group_description="Bot owner tools"):
    def __init__(self, bot: commands.Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if not await is_bot_owner(self.bot, self.services, interaction.user):
            # A CheckFailure (not a BotError) so discord.py hands it to the tree's error handler.
            raise app_commands.CheckFailure("owner only")
        return True

    @app_commands.command(name="guilds", description="Guilds by balance, with what they spent")
    async def guilds(self, interaction: discord.Interaction) -> None:
        summaries = await self.services.ledger.guild_summaries()
        usd = await self.services.jobs.usd_by_guild()
        lines = []
        for guild_id, balance, spent in summaries[:25]:
            guild = self.bot.get_guild(guild_id)
            name = messages.clip(messages.plain(guild.name), 40) if guild else "(left)"
            lines.append(
                f"`{guild_id}` {name}: balance {balance}, spent {spent} credits, ${usd.get(guild_id, 0.0):.2f}"
            )
        total_usd = sum(usd.values())
        embed = discord.Embed(title="Guilds", description="\n".join(lines) or "No guild has credits yet.")
        embed.set_footer(
            text=f"flux-bot {__version__} · {len(summaries)} guilds · Segmind spend reported: ${total_usd:.2f}"
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="account", description="Read the Segmind account now (a positive read ends an out-of-credit pause)")
    async def account(self, interaction: discord.Interaction) -> None:
        watch = self.services.generation.account
        await interaction.response.defer(ephemeral=True, thinking=True)
        if watch is not None:
            await watch.refresh(force=True)
        await interaction.followup.send(account_status(watch), ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="grant", description="Add credits to any guild by id")
    async def grant(
        self,
        interaction: discord.Interaction,
        guild_id: app_commands.Range[str, 1, 20],
        amount: app_commands.Range[int, 1, 1_000_000],
        reason: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        if not is_ascii_digits(guild_id):
            raise InvalidRequest("guild_id", "must be a server id (digits)")
        result = await self.services.ledger.grant(
            int(guild_id), amount, user_id=interaction.user.id, reason=reason
        )
        await self.services.credit_rules.note_balance(int(guild_id), result.balance)
        await interaction.response.send_message(
            messages.granted(amount, result.balance, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await self.services.events.publish(
            CreditsGranted(int(guild_id), interaction.user.id, amount, result.balance, reason, by_owner_command=True)
        )

    @app_commands.command(name="undeliverable", description="Paid images that reached no one (newest first)")
    async def undeliverable(self, interaction: discord.Interaction) -> None:
        jobs = await self.services.jobs.undeliverable()
        lines = [
            f"#{j.job_id} · server `{j.guild_id}` · <@{j.user_id}> in <#{j.channel_id}> · {j.price} credits"
            + (f" · <t:{int(j.finished_at)}:R>" if j.finished_at else "")
            for j in jobs
        ]
        embed = discord.Embed(
            title="Undeliverable images", description="\n".join(lines) or "None: every paid image was delivered."
        )
        if jobs:
            embed.set_footer(text="/owner redeliver job_id tries the interaction, the channel and a DM again")
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="redeliver", description="Try again to deliver an undeliverable image")
    async def redeliver(self, interaction: discord.Interaction, job_id: app_commands.Range[int, 1]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        blob = await self.services.jobs.undeliverable_image(job_id)
        if blob is not None and not self.services.blobs.exists(blob):
            raise InvalidRequest("job_id", f"the image of job {job_id} is no longer stored (its requester had it forgotten)")
        if not await self.services.jobs.reopen_undeliverable(job_id):
            raise InvalidRequest("job_id", f"job {job_id} is not an undeliverable job with a stored image")
        job = await self.services.generation.redeliver(job_id)
        where = f"<#{job.result_channel_id}>" if job.result_channel_id else "nowhere"
        if job.state.value == "posted":
            text = f"Job #{job_id} delivered ({where})."
        elif job.state.value == "succeeded":
            text = f"Job #{job_id} could not be delivered yet; the bot keeps trying for a while."
        else:
            text = f"Job #{job_id} still could not be delivered ({job.error_detail or 'no way left'}); it is kept."
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
