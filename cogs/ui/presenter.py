"""How jobs look in Discord: progress in the deferred response, the result, failures.

It works from the job row alone (application id + interaction token + message id), so a job
resumed after a restart is shown exactly like a live one. A result goes, in order of preference:
1. into the interaction's own message (an edit: repeating it after a crash changes nothing);
2. into the channel, when the token has expired or Discord refuses it;
3. to the requester by DM, when the channel is gone or the bot may not post there.
If none is possible, `DeliveryFailed(permanent=True)`: the paid image stays on disk.

Posting in a channel or a DM creates a message, so it is made idempotent: the message carries a
nonce derived from the job (Discord returns the existing message for a nonce it saw in the past
few minutes, which covers discord.py's own retries after a 5xx), and before posting the presenter
looks for a result of this job already there (the interaction's message, then the recent
history), which covers a crash between "Discord took the message" and "the job is marked posted".
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from pathlib import Path

import discord

from cogs.ui import i18n, messages
from cogs.ui.batch_presenter import BatchPresenting
from cogs.ui.error_texts import localised_error
from cogs.ui.member_buttons import cancel_view
from cogs.ui.mentions import NO_MENTIONS, only_user
from cogs.ui.notices import interaction_webhook
from cogs.ui.render import render_result, result_view
from core.errors import BotError
from core.generation import Delivery, DeliveryFailed
from core.jobs import Job

log = logging.getLogger(__name__)
# Error codes meaning the interaction webhook cannot be used any more.
TOKEN_GONE_CODES = {10015, 50027, 10008, 10062}
# Codes meaning the channel cannot take the message: gone, no access, no permission.
CHANNEL_GONE_CODES = {10003, 50001, 50013}
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
HISTORY_LOOKBACK = 50
FOOTER = re.compile(r"^Job (\d+)\b")


class DiscordPresenter(BatchPresenting):
    def __init__(self, bot: discord.Client, *, token_seconds: float, clock=time.time) -> None:
        self._bot = bot
        self._token_seconds = token_seconds
        self._clock = clock
        # Jobs whose interaction Discord has refused: every further try would be one more invalid
        # request counted against the bot (10,000 in 10 minutes get its IP banned).
        self._dead_interactions: set[int] = set()

    def _webhook(self, job: Job) -> discord.Webhook | None:
        if job.id in self._dead_interactions:
            return None
        return interaction_webhook(self._bot, job.interaction, self._token_seconds, now=self._clock())

    def _interaction_refused(self, job: Job, exc: discord.HTTPException) -> bool:
        """True (and remembered) when `exc` means the interaction's message can no longer be used."""
        if exc.code in TOKEN_GONE_CODES | CHANNEL_GONE_CODES:
            self._dead_interactions.add(job.id)
            return True
        return False

    async def _edit_progress(self, job: Job, content: str, view: discord.ui.View | None = None) -> None:
        """`view`: the buttons the progress message shows (None clears them, e.g. Cancel once running)."""
        webhook = self._webhook(job)
        if webhook is None:
            return
        try:
            await webhook.edit_message(
                job.interaction.message_id, content=content, view=view, allowed_mentions=NO_MENTIONS
            )
        except discord.HTTPException as exc:
            if not self._interaction_refused(job, exc):
                raise

    async def show_queued(self, job: Job, position: int) -> None:
        text = i18n.queued(position, job.spec.locale)
        if not await self._show_in_batch(job, text, cancellable=True):
            await self._edit_progress(job, text, cancel_view(job.id))

    async def show_running(self, job: Job, elapsed: float) -> None:
        text = i18n.running(job.model.display_name, elapsed, job.spec.locale)
        if not await self._show_in_batch(job, text, cancellable=False):
            await self._edit_progress(job, text)

    def _scrub(self, text: str) -> str:
        """Provider text is shown to users: never with the bot's token in it, whatever echoed it.
        (The Segmind client already takes its own key out.)"""
        token = getattr(self._bot.http, "token", None)
        return text.replace(token, "[redacted]") if token else text

    async def show_failed(self, job: Job, error: BotError) -> None:
        localised = localised_error(error, job.spec.locale)
        text = self._scrub(f"❌ {localised}" if localised else messages.failed(error))
        webhook = self._webhook(job)
        if webhook is not None:
            try:
                await webhook.edit_message(
                    job.interaction.message_id, content=text, view=None, allowed_mentions=NO_MENTIONS
                )
                return
            except discord.HTTPException as exc:
                if not self._interaction_refused(job, exc):
                    raise
        channel = None if job.spec.private else await self._channel(job.channel_id)
        if channel is not None:
            try:
                await channel.send(f"<@{job.user_id}> {text}", allowed_mentions=only_user(job.user_id))
                return
            except (discord.Forbidden, discord.NotFound):
                pass
        dm = await self._dm(job.user_id)
        if dm is not None:
            await dm.send(text, allowed_mentions=NO_MENTIONS)

    async def deliver(self, job: Job, image: Path, mime: str, balance_after: int) -> Delivery:
        async def render(limit: int):
            file, embed = await self._render(job, image, mime, balance_after, limit)
            return [file], embed, result_view(job)

        async def post_once(channel: discord.abc.Messageable, content: str, public: bool) -> Delivery:
            # A result sent by DM carries no buttons.
            existing = await self._existing_result(channel, job)
            return await self._send_once(
                channel, job, f"job {job.id}", existing, render, job_nonce(job.id), content, buttons=public
            )

        return await self._post_anywhere(job, f"job {job.id}", render, post_once)

    async def _post_anywhere(self, first: Job, what: str, render, post_once) -> Delivery:
        """Post a result, or a batch's gallery (`first`: its first job), where it can still go: into the
        interaction's message, else the channel, else by DM. `render(limit)` gives its (files, embed,
        view); `post_once(channel, content, public)` posts it in a channel or a DM unless it is there."""
        webhook = self._webhook(first)
        if webhook is not None:
            files, embed, view = await render(first.interaction.upload_limit or DEFAULT_UPLOAD_LIMIT)
            try:
                message = await webhook.edit_message(
                    first.interaction.message_id,
                    content=None,
                    embed=embed,
                    attachments=files,
                    view=view,
                    allowed_mentions=NO_MENTIONS,
                )
                return Delivery(message.channel.id, message.id)
            except discord.HTTPException as exc:
                if not self._interaction_refused(first, exc):
                    raise
                log.info("%s: the interaction can no longer be used (%s); posting in the channel", what, exc.code)
        # A private result never goes to the channel: once its interaction is gone, it goes by DM.
        channel = None if first.spec.private else await self._channel(first.channel_id)
        if channel is not None:
            try:
                return await post_once(channel, f"<@{first.user_id}>", True)
            except (discord.Forbidden, discord.NotFound) as exc:
                log.info("%s: cannot post in channel %d (%s); sending it by DM", what, first.channel_id, exc.code)
        dm = await self._dm(first.user_id)
        if dm is None:
            raise DeliveryFailed(f"channel {first.channel_id} unusable and no DM channel", permanent=True)
        try:
            return await post_once(
                dm, i18n.tr(messages.DM_FALLBACK, first.spec.locale, channel=f"<#{first.channel_id}>"), False
            )
        except (discord.Forbidden, discord.NotFound) as exc:
            raise DeliveryFailed(
                f"cannot post {what} in channel {first.channel_id} nor by DM: {exc.code}", permanent=True
            ) from exc

    async def _send_once(
        self,
        channel: discord.abc.Messageable,
        first: Job,
        what: str,
        existing: discord.Message | None,
        render,
        nonce: str,
        content: str,
        buttons: bool,
    ) -> Delivery:
        """Send what `render` makes in `channel` unless it is already there (`existing`); its view
        only with `buttons`."""
        if existing is not None:
            log.info("%s: already message %d; not posting it again", what, existing.id)
            return Delivery(existing.channel.id, existing.id)
        guild = getattr(channel, "guild", None)
        files, embed, view = await render(getattr(guild, "filesize_limit", DEFAULT_UPLOAD_LIMIT))
        message = await channel.send(
            content,
            embed=embed,
            files=files,
            allowed_mentions=only_user(first.user_id) if guild is not None else NO_MENTIONS,
            nonce=nonce,
            **({"view": view} if view is not None and buttons else {}),
        )
        return Delivery(message.channel.id, message.id)

    async def _existing_result(self, channel: discord.abc.Messageable, job: Job) -> discord.Message | None:
        """This job's result if the bot already posted it in `channel` (needs Read Message History;
        without it the nonce is the only guard)."""
        try:
            if job.interaction is not None and job.interaction.message_id is not None:
                try:
                    message = await channel.fetch_message(job.interaction.message_id)
                    if _is_result_of(message, job.id, self._bot.user):
                        return message
                except discord.NotFound:
                    pass
            return await self._recent(channel, job.created_at, lambda m: _is_result_of(m, job.id, self._bot.user))
        except discord.Forbidden:
            return None

    async def _recent(self, channel: discord.abc.Messageable, since: float, wanted) -> discord.Message | None:
        """The first message of `channel`'s recent history since `since` that is `wanted`."""
        after = discord.Object(discord.utils.time_snowflake(dt.datetime.fromtimestamp(since, dt.UTC)))
        async for message in channel.history(limit=HISTORY_LOOKBACK, after=after, oldest_first=True):
            if wanted(message):
                return message
        return None

    async def _render(self, job: Job, image: Path, mime: str, balance_after: int, limit: int):
        return await render_result(
            job, image, mime, limit=limit, balance_after=balance_after, now=self._clock(),
            png_text=await self._png_text(job.guild_id),
        )

    async def _png_text(self, guild_id: int) -> bool:
        """The server's choice of PNG text metadata (on unless it turned it off)."""
        preferences = getattr(getattr(self._bot, "services", None), "preferences", None)
        return True if preferences is None else (await preferences.guild(guild_id)).png_metadata

    async def _channel(self, channel_id: int) -> discord.abc.Messageable | None:
        channel = self._bot.get_channel(channel_id)
        if channel is not None:
            return channel
        try:
            return await self._bot.fetch_channel(channel_id)
        except (discord.NotFound, discord.Forbidden):
            return None

    async def _dm(self, user_id: int) -> discord.DMChannel | None:
        try:
            user = self._bot.get_user(user_id) or await self._bot.fetch_user(user_id)
            return user.dm_channel or await user.create_dm()
        except (discord.NotFound, discord.Forbidden):
            return None


def job_nonce(job_id: int) -> str:
    """The nonce a job's result message is sent with (Discord allows 25 characters)."""
    return f"flux-job-{job_id}"


def _is_result_of(message: discord.Message, job_id: int, bot_user: discord.abc.User | None) -> bool:
    if bot_user is not None and message.author.id != bot_user.id:
        return False
    if not message.attachments or not message.embeds:
        return False
    match = FOOTER.match(message.embeds[0].footer.text or "")
    return match is not None and int(match.group(1)) == job_id
