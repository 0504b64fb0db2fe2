"""How a batch looks in Discord (part of cogs/ui/presenter.py's DiscordPresenter).

While its jobs run, the command's one message shows a line per image ("1 · generating…", with a
numbered Cancel for each one still waiting); once core/batch_delivery.py has claimed the batch, that
message becomes the gallery (cogs/ui/gallery.py). Posting follows the single result's order of
preference: the interaction's message (an edit: repeating it changes nothing), the channel (with a
nonce, after looking for the batch's message already there), a DM.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import discord

from cogs.ui import batch_texts as b
from cogs.ui import i18n, messages
from cogs.ui.gallery import batch_nonce, gallery_view, is_batch_message, render_gallery
from cogs.ui.member_buttons import CancelButton
from cogs.ui.mentions import NO_MENTIONS, only_user
from core.batches import Batch, Member
from core.generation import Delivery, DeliveryFailed
from core.jobs import Job, JobState

log = logging.getLogger(__name__)
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
HISTORY_LOOKBACK = 50
DONE_REMEMBERED = 1000  # batches whose gallery is up, so a late progress edit cannot overwrite it


class BatchPresenting:
    """Mixed into DiscordPresenter, whose `_webhook`, `_channel`, `_dm`, … it uses."""

    def _batch_state(self, batch_id: int) -> tuple[dict[int, tuple[str, int | None]], asyncio.Lock]:
        """The lines shown for a batch's images and the lock its edits take (one edit at a time, and
        none after the batch's message became the gallery: `_batches_done`)."""
        if not hasattr(self, "_batch_lines"):
            self._batch_lines: dict[int, dict[int, tuple[str, int | None]]] = {}
            self._batch_locks: dict[int, asyncio.Lock] = {}
            self._batches_done: dict[int, None] = {}
        return self._batch_lines.setdefault(batch_id, {}), self._batch_locks.setdefault(batch_id, asyncio.Lock())

    def _batch_done(self, batch_id: int) -> None:
        self._batch_lines.pop(batch_id, None)
        self._batch_locks.pop(batch_id, None)
        self._batches_done[batch_id] = None
        while len(self._batches_done) > DONE_REMEMBERED:
            del self._batches_done[next(iter(self._batches_done))]

    async def _member(self, job: Job) -> Member | None:
        generation = getattr(getattr(self._bot, "services", None), "generation", None)
        batches = getattr(generation, "batches", None)
        return None if batches is None else await batches.member(job.id)

    async def _show_in_batch(self, job: Job, line: str, *, cancellable: bool) -> bool:
        """Show `line` as this job's line of its batch's message; False for a job of no batch."""
        member = await self._member(job)
        if member is None:
            return False
        mine, lock = self._batch_state(member.batch_id)
        async with lock:
            if member.batch_id in self._batches_done:
                self._batch_lines.pop(member.batch_id, None)  # a late edit: nothing more to keep
                self._batch_locks.pop(member.batch_id, None)
                return True
            mine[member.number] = (line, job.id if cancellable else None)
            locale = job.spec.locale
            text = "\n".join(
                [i18n.tr(b.MAKING, locale, count=member.size)]
                + [f"**{n}** · {mine[n][0]}" for n in sorted(mine)]
            )
            view = discord.ui.View(timeout=None)
            for n in sorted(mine):
                if mine[n][1] is not None:
                    button = CancelButton(mine[n][1])
                    button.item.label = f"{button.item.label} {n}"
                    view.add_item(button)
            await self._edit_progress(job, text, view if view.children else None)
        return True

    async def show_batch_part(self, job: Job) -> None:
        """One image of a batch is final while others still run: its line says so, its Cancel goes."""
        if job.error_kind == "JobCancelled":
            line = b.PART_CANCELLED
        elif job.state is JobState.REFUNDED:
            line = b.PART_FAILED
        else:
            line = b.IMAGE_DONE
        await self._show_in_batch(job, i18n.tr(line, job.spec.locale), cancellable=False)

    async def deliver_batch(self, batch: Batch, images: dict[int, tuple[Path, str]], balance_after: int) -> Delivery:
        _, lock = self._batch_state(batch.id)
        async with lock:
            delivery = await self._deliver_batch(batch, images, balance_after)
            self._batch_done(batch.id)
        return delivery

    async def _deliver_batch(self, batch: Batch, images: dict[int, tuple[Path, str]], balance_after: int) -> Delivery:
        first = batch.jobs[0]
        webhook = self._webhook(first)
        if webhook is not None:
            limit = first.interaction.upload_limit or DEFAULT_UPLOAD_LIMIT
            files, embed = await self._render_batch(batch, images, balance_after, limit)
            try:
                message = await webhook.edit_message(
                    first.interaction.message_id,
                    content=None,
                    embed=embed,
                    attachments=files,
                    view=gallery_view(batch),
                    allowed_mentions=NO_MENTIONS,
                )
                return Delivery(message.channel.id, message.id)
            except discord.HTTPException as exc:
                if not self._interaction_refused(first, exc):
                    raise
                log.info("batch %d: the interaction can no longer be used (%s); posting in the channel", batch.id, exc.code)
        channel = None if first.spec.private else await self._channel(first.channel_id)
        if channel is not None:
            try:
                return await self._post_batch_once(channel, batch, images, balance_after, content=f"<@{first.user_id}>")
            except (discord.Forbidden, discord.NotFound) as exc:
                log.info("batch %d: cannot post in channel %d (%s); sending it by DM", batch.id, first.channel_id, exc.code)
        dm = await self._dm(first.user_id)
        if dm is None:
            raise DeliveryFailed(f"channel {first.channel_id} unusable and no DM channel", permanent=True)
        try:
            return await self._post_batch_once(
                dm, batch, images, balance_after, content=i18n.tr(messages.DM_FALLBACK, first.spec.locale, channel=f"<#{first.channel_id}>")
            )
        except (discord.Forbidden, discord.NotFound) as exc:
            raise DeliveryFailed(f"cannot post batch {batch.id} in the channel nor by DM: {exc.code}", permanent=True) from exc

    async def _render_batch(self, batch: Batch, images, balance_after: int, limit: int):
        return await render_gallery(
            batch, images, limit=limit, balance_after=balance_after, now=self._clock(),
            png_text=await self._png_text(batch.jobs[0].guild_id), scrub=self._scrub,
        )

    async def _post_batch_once(
        self, channel: discord.abc.Messageable, batch: Batch, images, balance_after: int, *, content: str
    ) -> Delivery:
        """Post the batch's message in `channel` unless it is already there."""
        existing = await self._existing_batch(channel, batch)
        if existing is not None:
            log.info("batch %d: already message %d; not posting it again", batch.id, existing.id)
            return Delivery(existing.channel.id, existing.id)
        first = batch.jobs[0]
        guild = getattr(channel, "guild", None)
        limit = getattr(guild, "filesize_limit", DEFAULT_UPLOAD_LIMIT)
        files, embed = await self._render_batch(batch, images, balance_after, limit)
        view = gallery_view(batch)
        message = await channel.send(
            content,
            embed=embed,
            files=files,
            allowed_mentions=only_user(first.user_id) if guild is not None else NO_MENTIONS,
            nonce=batch_nonce(batch.id),
            **({"view": view} if view is not None else {}),
        )
        return Delivery(message.channel.id, message.id)

    async def _existing_batch(self, channel: discord.abc.Messageable, batch: Batch) -> discord.Message | None:
        first = batch.jobs[0]
        try:
            after = discord.Object(discord.utils.time_snowflake(dt.datetime.fromtimestamp(first.created_at, dt.UTC)))
            async for message in channel.history(limit=HISTORY_LOOKBACK, after=after, oldest_first=True):
                if is_batch_message(message, batch.id, self._bot.user):
                    return message
        except discord.Forbidden:
            return None
        return None
