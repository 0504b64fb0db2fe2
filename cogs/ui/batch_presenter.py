"""How a batch looks in Discord (part of cogs/ui/presenter.py's DiscordPresenter).

While its jobs run, the command's one message shows a line per image ("1 · generating…", with a
numbered Cancel for each one still waiting); once core/batch_delivery.py has claimed the batch, that
message becomes the gallery (cogs/ui/gallery.py). Posting follows the single result's order of
preference: the interaction's message (an edit: repeating it changes nothing), the channel (with a
nonce, after looking for the batch's message already there), a DM.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import discord

from cogs.ui import batch_texts as b
from cogs.ui import i18n
from cogs.ui.gallery import batch_nonce, gallery_view, is_batch_message, render_gallery
from cogs.ui.member_buttons import CancelButton
from core.batches import Batch, Member
from core.generation import Delivery
from core.jobs import Job, JobState

log = logging.getLogger(__name__)
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

        async def render(limit: int):
            files, embed = await render_gallery(
                batch, images, limit=limit, balance_after=balance_after, now=self._clock(),
                png_text=await self._png_text(first.guild_id), scrub=self._scrub,
            )
            return files, embed, gallery_view(batch)

        async def post_once(channel: discord.abc.Messageable, content: str, public: bool) -> Delivery:
            # The gallery keeps its buttons in a DM too.
            existing = await self._existing_batch(channel, batch)
            return await self._send_once(
                channel, first, f"batch {batch.id}", existing, render, batch_nonce(batch.id), content, buttons=True
            )

        return await self._post_anywhere(first, f"batch {batch.id}", render, post_once)

    async def _existing_batch(self, channel: discord.abc.Messageable, batch: Batch) -> discord.Message | None:
        try:
            return await self._recent(
                channel, batch.jobs[0].created_at, lambda m: is_batch_message(m, batch.id, self._bot.user)
            )
        except discord.Forbidden:
            return None
