"""The mod log: a service (not a cog) that posts one line per event to the guild's mod-log channel.

bot.py subscribes its `on_*` handlers to the event bus; the moderation cog posts its report and
review messages (which carry buttons) through `post`. Every post is made with no mentions, so a
log line about a member never pings them, and a missing or unusable channel only loses the line.
"""

from __future__ import annotations

import logging

import discord

from cogs.ui import messages
from cogs.ui.mentions import NO_MENTIONS
from core import events as ev
from core.credit_rules import CreditRules
from core.moderation import ModerationStore

log = logging.getLogger(__name__)


class ModLog:
    def __init__(self, bot: discord.Client, moderation: ModerationStore, credit_rules: CreditRules) -> None:
        self._bot = bot
        self._moderation = moderation
        self._credit_rules = credit_rules

    async def channel(self, guild_id: int) -> discord.abc.Messageable | None:
        channel_id = (await self._moderation.policy(guild_id)).modlog_channel
        if channel_id is None:
            return None
        channel = self._bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self._bot.fetch_channel(channel_id)
            except discord.HTTPException:
                return None
        return channel

    async def post(self, guild_id: int, **fields) -> discord.Message | None:
        channel = await self.channel(guild_id)
        if channel is None:
            return None
        try:
            return await channel.send(allowed_mentions=NO_MENTIONS, **fields)
        except discord.HTTPException as exc:
            log.warning("mod log post failed in guild %d: %r", guild_id, exc)
            return None

    async def action(self, guild_id: int, text: str, reason: str | None = None) -> None:
        embed = discord.Embed(description=text, colour=discord.Colour.orange())
        if reason:
            embed.add_field(name="Reason", value=messages.clip(messages.plain(reason), 1000))
        await self.post(guild_id, embed=embed)

    # --- event handlers (subscribed in bot.py) ----------------------------------------------------

    async def on_job_posted(self, event: ev.JobPosted) -> None:
        job = event.job
        if job.spec.hold_for_review:
            return  # the held copy in the mod log is its own record
        link = f"https://discord.com/channels/{job.guild_id}/{job.result_channel_id}/{job.result_message_id}"
        embed = _record(
            f"Generated · {job.model.display_name}", job.spec.prompt, discord.Colour.green(), job.user_id, job.channel_id
        )
        embed.add_field(name="Cost", value=f"{job.price} credits")
        embed.add_field(name="Result", value=f"[job {job.id}]({link})")
        await self.post(job.guild_id, embed=embed)

    async def on_job_failed(self, event: ev.JobFailed) -> None:
        job = event.job
        embed = _record(
            f"Failed · refunded · {job.model.display_name}",
            job.spec.prompt,
            discord.Colour.dark_grey(),
            job.user_id,
            job.channel_id,
        )
        embed.add_field(name="Refunded", value=f"{event.refunded} credits")
        why = event.error_kind + (f": {event.detail}" if event.detail else "")
        embed.add_field(name="Why", value=messages.clip(messages.plain(why), 300), inline=False)
        embed.set_footer(text=f"job {job.id}")
        await self.post(job.guild_id, embed=embed)

    async def on_guild_balance_low(self, event: ev.GuildBalanceLow) -> None:
        threshold = (await self._credit_rules.settings(event.guild_id)).low_balance_below
        await self.post(event.guild_id, content=messages.low_balance(event.balance, threshold))

    async def on_request_denied(self, event: ev.RequestDenied) -> None:
        facts, decision = event.facts, event.decision
        texts = " / ".join(t for t in facts.texts if t)
        embed = _record("Denied", texts, discord.Colour.red(), facts.user_id, facts.channel_id)
        embed.add_field(name="Reason", value=messages.policy_denial(decision.reason.value, decision.data)[:1000])
        await self.post(facts.guild_id, embed=embed)

    async def on_request_refused(self, event: ev.RequestRefused) -> None:
        embed = discord.Embed(
            title="Refused", description=messages.describe_error(event.error), colour=discord.Colour.light_grey()
        )
        embed.add_field(name="Who", value=f"<@{event.user_id}>")
        if event.channel_id is not None:
            embed.add_field(name="Where", value=f"<#{event.channel_id}>")
        await self.post(event.guild_id, embed=embed)

    async def on_credits_granted(self, event: ev.CreditsGranted) -> None:
        via = " (bot owner)" if event.by_owner_command else ""
        text = f"<@{event.by}>{via} granted {event.amount} credits; the balance is now {event.balance}"
        await self.action(event.guild_id, text, event.reason)

    async def on_credits_refunded(self, event: ev.CreditsRefunded) -> None:
        text = f"<@{event.by}> refunded job {event.job_id}; the balance is now {event.balance}"
        await self.action(event.guild_id, text, event.reason)

    async def on_allowance_changed(self, event: ev.AllowanceChanged) -> None:
        who = f"<@{event.target_id}>" if event.scope == "member" else f"<@&{event.target_id}>"
        if event.cleared:
            text = f"<@{event.by}> removed the allowance of {who}"
        else:
            text = f"<@{event.by}> set an allowance: " + messages.allowance_set(
                event.target_id if event.scope == "member" else None,
                event.target_id if event.scope == "role" else None,
                event.daily,
                event.monthly,
                event.unlimited,
            )
        await self.action(event.guild_id, text)

    async def on_credit_settings_changed(self, event: ev.CreditSettingsChanged) -> None:
        await self.action(event.guild_id, f"<@{event.by}> changed credit settings: {messages.credit_settings(event)}")

    async def on_result_deleted(self, event: ev.ResultDeleted) -> None:
        job = event.job
        ids = await self._jobs_in_message(job)
        what = f"the result of job {job.id}" if len(ids) < 2 else "the results of jobs " + ", ".join(map(str, ids))
        await self.action(job.guild_id, f"<@{event.by}> deleted {what} (by <@{job.user_id}>)")

    async def _jobs_in_message(self, job) -> list[int]:
        """Every job whose image was in `job`'s result message (a batch shows up to 4 in one)."""
        generation = getattr(getattr(self._bot, "services", None), "generation", None)
        batches = getattr(generation, "batches", None)
        member = None if batches is None else await batches.member(job.id)
        batch = None if member is None else await batches.get(member.batch_id)
        if batch is None:
            return [job.id]
        return [j.id for j in batch.jobs if j.result_message_id == job.result_message_id]

    async def on_moderator_action(self, event: ev.ModeratorAction) -> None:
        await self.action(event.guild_id, event.summary, event.reason)


def _record(title: str, prompt: str, colour: discord.Colour, user_id: int, channel_id: int) -> discord.Embed:
    """A request's mod-log embed: what it asked (made plain and clipped), who, and where."""
    embed = discord.Embed(title=title, description=messages.clip(messages.plain(prompt), 1000), colour=colour)
    embed.add_field(name="Who", value=f"<@{user_id}>")
    embed.add_field(name="Where", value=f"<#{channel_id}>")
    return embed
