"""A batch's one message: its images as attachments, one card, and numbered buttons per image.

Built from the batch's job rows alone (core/batches.py), so a batch settled after a restart looks
the same. Every button carries its job id in its custom_id (the result buttons' DynamicItems), so
"Reroll 2" keeps acting on image 2 after a restart.
"""

from __future__ import annotations

import re
from pathlib import Path

import discord

from cogs.ui import batch_texts as b
from cogs.ui.buttons import ResultButton
from cogs.ui.error_texts import localised_error
from cogs.ui.i18n import tr
from cogs.ui.member_buttons import InfoButton
from cogs.ui.messages import clip, describe_error, plain
from cogs.ui.render import EMBED_COLOUR, alt_text, render_result
from core import errors
from core.batches import Batch
from core.jobs import Job, JobState
from core.models import ModelId

# Discord: 5 action rows of at most 5 buttons. One row per image (Reroll, Edit, Finalize, Report,
# Info: 5 at most) and Delete on the last row: 4 images use all 5 rows, 21 components.
ROWS = 5
PER_ROW = 5
IMAGE_ROWS = ROWS - 1
FOOTER = re.compile(r"^Batch (\d+)\b")


def gallery_view(batch: Batch) -> discord.ui.View | None:
    made = [(n, job) for n, job in enumerate(batch.jobs, 1) if batch.made(job)]
    if not made:
        return None
    locale = made[0][1].spec.locale  # a public message: the server's language
    view = discord.ui.View(timeout=None)
    for row, (number, job) in enumerate(made[:IMAGE_ROWS]):
        actions = ("reroll", "edit", "pro", "report") if job.model is ModelId.KLEIN else ("reroll", "edit", "report")
        items: list[discord.ui.DynamicItem] = [ResultButton(action, job.id, locale) for action in actions]
        items.append(InfoButton(job.id, locale))
        for item in items:
            item.item.label = f"{_short(item)} {number}"
            item.row = row
            view.add_item(item)
    # Delete takes the whole message: every image in it is the same member's, and the button's job
    # is one whose result message is this one (the handler checks that).
    delete = ResultButton("delete", made[0][1].id, locale)
    delete.row = min(len(made), IMAGE_ROWS)
    view.add_item(delete)
    return view


def _short(item: discord.ui.DynamicItem) -> str:
    return "Pro" if getattr(item, "action", None) == "pro" else item.item.label or ""


async def render_gallery(
    batch: Batch, images: dict[int, tuple[Path, str]], *, limit: int, balance_after: int, now: float,
    png_text: bool, scrub=lambda text: text,
) -> tuple[list[discord.File], discord.Embed]:
    """The attachments (each under `limit` bytes, each with its alt text) and the card."""
    files: list[discord.File] = []
    for number, job in enumerate(batch.jobs, 1):
        if job.id not in images:
            continue
        path, mime = images[job.id]
        file, _ = await render_result(
            job, path, mime, limit=limit, balance_after=balance_after, now=now, png_text=png_text
        )
        file.description = alt_text(f"{number}/{batch.size}: {job.spec.prompt}")
        files.append(file)
    return files, gallery_embed(batch, images, balance_after=balance_after, scrub=scrub)


def gallery_embed(batch: Batch, images: dict[int, tuple[Path, str]], *, balance_after: int, scrub) -> discord.Embed:
    first = batch.jobs[0]
    locale = first.spec.locale  # a public message: the server's language
    made = [(n, job) for n, job in enumerate(batch.jobs, 1) if job.id in images]
    embed = discord.Embed(
        title=f"{len(made)} × {first.model.display_name}",
        description=clip(plain(first.spec.prompt), 1500),
        colour=EMBED_COLOUR,
    )
    if made:
        seeds = " · ".join(f"{n}: {_seed(job)}" for n, job in made)
        embed.add_field(name=tr(b.SEEDS, locale), value=clip(seeds, 1024), inline=False)
        cost = sum(job.price for _, job in made)
        embed.add_field(name=tr(b.COST, locale), value=tr(b.COST_VALUE, locale, credits=cost))
        embed.add_field(name=tr(b.BALANCE_AFTER, locale), value=tr(b.COST_VALUE, locale, credits=balance_after))
    embed.add_field(name=tr(b.REQUESTED_BY, locale), value=f"<@{first.user_id}>")
    missing = not_made_lines(batch, images, scrub)
    if missing:
        embed.add_field(name=tr(b.NOT_MADE, locale), value=clip("\n".join(missing), 1024), inline=False)
    jobs = ", ".join(str(job.id) for job in batch.jobs)
    embed.set_footer(text=f"Batch {batch.id} · jobs {jobs} · {first.kind.value}")
    return embed


def not_made_lines(batch: Batch, images: dict[int, tuple[Path, str]], scrub) -> list[str]:
    """What the message says of each image it does not show: refunded, cancelled, never started."""
    locale = batch.jobs[0].spec.locale
    lines: list[str] = []
    for number, job in enumerate(batch.jobs, 1):
        if job.id in images:
            continue
        if job.error_kind == "JobCancelled":
            lines.append(tr(b.IMAGE_CANCELLED, locale, number=number, price=job.price))
        elif job.state is JobState.REFUNDED:
            reason = scrub(failure_reason(job, locale))
            lines.append(tr(b.IMAGE_FAILED, locale, number=number, price=job.price, reason=reason))
    created = len(batch.jobs)
    if created < batch.size:
        reason = batch.stop_note or "?"
        if created + 1 == batch.size:
            lines.append(tr(b.ONE_NOT_STARTED, locale, number=batch.size, reason=reason))
        else:
            lines.append(tr(b.NOT_STARTED, locale, first=created + 1, last=batch.size, reason=reason))
    return lines


def failure_reason(job: Job, locale: str | None) -> str:
    """The words a refunded job's own failure notice would have used (from its stored kind)."""
    kind = getattr(errors, job.error_kind or "", None)
    cls = kind if isinstance(kind, type) and issubclass(kind, errors.ProviderError) else errors.ProviderError
    error = cls(job.error_detail or "")
    return localised_error(error, locale) or describe_error(error)


def _seed(job: Job) -> str:
    seed = job.result_seed if job.result_seed is not None else job.spec.seed
    return str(seed) if seed is not None else "?"


def is_batch_message(message: discord.Message, batch_id: int, bot_user: discord.abc.User | None) -> bool:
    if bot_user is not None and message.author.id != bot_user.id:
        return False
    if not message.embeds:
        return False
    match = FOOTER.match(message.embeds[0].footer.text or "")
    return match is not None and int(match.group(1)) == batch_id


def batch_nonce(batch_id: int) -> str:
    """The nonce a batch's message is sent with (Discord allows 25 characters)."""
    return f"flux-batch-{batch_id}"
