"""How jobs look in Discord: progress in the deferred response, the result, failures.

It works from the job row alone (application id + interaction token + message id), so a job
resumed after a restart is shown exactly like a live one. When the interaction token has
expired, or Discord refuses it, the result is posted in the channel instead.
"""

from __future__ import annotations

import io
import logging
import time

import discord

from cogs import messages
from cogs.render import result_embed, result_view
from core.errors import BotError
from core.generation import Delivery, DeliveryFailed
from core.images import EXTENSIONS, fit_under
from core.jobs import Job

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
# Error codes meaning the interaction webhook cannot be used any more.
TOKEN_GONE_CODES = {10015, 50027, 10008, 10062}
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024


class DiscordPresenter:
    def __init__(self, bot: discord.Client, *, token_seconds: float, clock=time.time) -> None:
        self._bot = bot
        self._token_seconds = token_seconds
        self._clock = clock

    def _webhook(self, job: Job) -> discord.Webhook | None:
        ref = job.interaction
        if ref is None or ref.message_id is None or self._clock() - ref.created_at > self._token_seconds:
            return None
        return discord.Webhook.partial(ref.application_id, ref.token, client=self._bot)

    async def _edit_progress(self, job: Job, content: str) -> None:
        webhook = self._webhook(job)
        if webhook is None:
            return
        await webhook.edit_message(job.interaction.message_id, content=content, allowed_mentions=NO_MENTIONS)

    async def show_queued(self, job: Job, position: int) -> None:
        await self._edit_progress(job, messages.queued(position))

    async def show_running(self, job: Job, elapsed: float) -> None:
        await self._edit_progress(job, messages.running(job.model.display_name, elapsed))

    async def show_failed(self, job: Job, error: BotError) -> None:
        text = messages.failed(error)
        webhook = self._webhook(job)
        if webhook is not None:
            try:
                await webhook.edit_message(job.interaction.message_id, content=text, allowed_mentions=NO_MENTIONS)
                return
            except discord.HTTPException as exc:
                if exc.code not in TOKEN_GONE_CODES:
                    raise
        channel = await self._channel(job.channel_id)
        if channel is not None:
            await channel.send(f"<@{job.user_id}> {text}", allowed_mentions=_only_user(job.user_id))

    async def deliver(self, job: Job, image: bytes, mime: str, balance_after: int) -> Delivery:
        webhook = self._webhook(job)
        if webhook is not None:
            limit = job.interaction.upload_limit or DEFAULT_UPLOAD_LIMIT
            file, embed = self._render(job, image, mime, balance_after, limit)
            try:
                message = await webhook.edit_message(
                    job.interaction.message_id,
                    content=None,
                    embed=embed,
                    attachments=[file],
                    view=result_view(job),
                    allowed_mentions=NO_MENTIONS,
                )
                return Delivery(message.channel.id, message.id)
            except discord.HTTPException as exc:
                if exc.code not in TOKEN_GONE_CODES:
                    raise
                log.info("job %d: interaction token no longer valid (%s); posting in the channel", job.id, exc.code)
        channel = await self._channel(job.channel_id)
        if channel is None:
            raise DeliveryFailed("channel not found", permanent=True)
        limit = getattr(getattr(channel, "guild", None), "filesize_limit", DEFAULT_UPLOAD_LIMIT)
        file, embed = self._render(job, image, mime, balance_after, limit)
        try:
            message = await channel.send(
                f"<@{job.user_id}>",
                embed=embed,
                file=file,
                view=result_view(job),
                allowed_mentions=_only_user(job.user_id),
            )
        except (discord.Forbidden, discord.NotFound) as exc:
            raise DeliveryFailed(f"cannot post in channel {job.channel_id}: {exc.code}", permanent=True) from exc
        return Delivery(message.channel.id, message.id)

    def _render(self, job: Job, image: bytes, mime: str, balance_after: int, limit: int):
        data, mime = fit_under(image, limit)
        filename = f"flux-{job.id}.{EXTENSIONS.get(mime, 'png')}"
        file = discord.File(io.BytesIO(data), filename=filename)
        embed = result_embed(job, image=data, filename=filename, balance_after=balance_after, now=self._clock())
        return file, embed

    async def _channel(self, channel_id: int) -> discord.abc.Messageable | None:
        channel = self._bot.get_channel(channel_id)
        if channel is not None:
            return channel
        try:
            return await self._bot.fetch_channel(channel_id)
        except (discord.NotFound, discord.Forbidden):
            return None


def _only_user(user_id: int) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(user_id)], replied_user=False)
