"""Result embeds and button rows (Discord objects built from plain job data)."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path

import discord

from cogs.ui import batch_texts as b
from cogs.ui.buttons import ResultButton
from cogs.ui.i18n import tr
from cogs.ui.member_buttons import InfoButton
from cogs.ui.messages import clip, plain
from cogs.ui.uploads import StoredImageFile
from core import png_text
from core.images import PreparedUpload, prepare_upload
from core.jobs import Job
from core.models import ModelId
from core.png_text import with_text

EMBED_COLOUR = discord.Colour(0x5865F2)
ALT_TEXT_MAX_CHARS = 1024  # an attachment's `description` (Discord's OpenAPI spec: maxLength 1024)


def result_view(job: Job) -> discord.ui.View:
    locale = job.spec.locale  # a public message: the server's language
    view = discord.ui.View(timeout=None)
    actions = ("reroll", "edit", "pro", "delete", "report") if job.model is ModelId.KLEIN else ("reroll", "edit", "delete", "report")
    for action in actions:
        view.add_item(ResultButton(action, job.id, locale))
    view.add_item(InfoButton(job.id, locale))
    return view


async def render_result(
    job: Job, image: Path, mime: str, *, limit: int, balance_after: int, now: float, png_text: bool = False
) -> tuple[discord.File, discord.Embed]:
    """The attachment and embed of a stored result, fitted under an upload limit of `limit` bytes.
    The file is streamed from disk by the upload; only a result over the limit is loaded (to be
    re-encoded), or a PNG that gets its prompt, seed and model written in (`png_text`)."""
    fields = png_fields(job) if png_text else None
    prepared = await asyncio.to_thread(_prepare, image, mime, limit, fields)
    filename = f"flux-{job.id}.{prepared.extension}"
    embed = result_embed(job, size=prepared.dimensions, filename=filename, balance_after=balance_after, now=now)
    file = _attachment(prepared, filename, job)
    if job.spec.spoiler:
        embed.set_image(url=None)  # an embed would show the image unblurred; the spoilered file shows it
    return file, embed


def png_fields(job: Job) -> dict[str, str]:
    seed = job.result_seed if job.result_seed is not None else job.spec.seed
    return {"prompt": job.spec.prompt, "seed": str(seed), "model": job.model.display_name, "job": str(job.id)}


def _prepare(image: Path, mime: str, limit: int, fields: dict[str, str] | None) -> PreparedUpload:
    """Blocking: run in a thread. The text goes into the uploaded copy only (see core/png_text.py):
    spliced into the stream of a stored file (which is never loaded), or into re-encoded bytes."""
    prepared = prepare_upload(image, mime, limit)
    if not fields or prepared.mime != "image/png":
        return prepared
    if prepared.data is not None:
        data = with_text(prepared.data, fields)
        return prepared if len(data) > limit else replace(prepared, data=data)
    with open(image, "rb") as fh:
        at = png_text.end_of_ihdr(fh.read(png_text.HEADER_BYTES))
    chunks = png_text.text_chunks(fields)
    if at is None or image.stat().st_size + len(chunks) > limit:
        return prepared  # not a PNG after all, or the text would push it over the limit: post it without
    return replace(prepared, insert=(at, chunks))


def alt_text(prompt: str) -> str:
    """The attachment's description (what screen readers say): its prompt, in Discord's 1024 characters."""
    return clip(prompt, ALT_TEXT_MAX_CHARS) or "Generated image"


def _attachment(prepared: PreparedUpload, filename: str, job: Job) -> discord.File:
    # Every posted image carries its prompt as alt text; a spoilered one is blurred until clicked.
    options = {"filename": filename, "description": alt_text(job.spec.prompt), "spoiler": job.spec.spoiler}
    if prepared.path is not None:
        return discord.File(StoredImageFile(prepared.path, insert=prepared.insert), **options)
    return discord.File(io.BytesIO(prepared.data or b""), **options)


def result_embed(
    job: Job, *, size: tuple[int, int] | None, filename: str, balance_after: int, now: float
) -> discord.Embed:
    # Mentions inside an embed never ping; markdown is escaped so a prompt cannot restyle the card.
    embed = discord.Embed(
        title=job.model.display_name,
        description=clip(plain(job.spec.prompt), 1500),
        colour=EMBED_COLOUR,
    )
    # A public card: in the server's language (the footer stays as it is: it identifies the job).
    locale = job.spec.locale
    seed = job.result_seed if job.result_seed is not None else job.spec.seed
    embed.add_field(name=tr(b.SEED, locale), value=str(seed) if seed is not None else tr(b.RANDOM, locale))
    embed.add_field(name=tr(b.SIZE, locale), value=f"{size[0]}×{size[1]}" if size else tr(b.UNKNOWN, locale))
    embed.add_field(name=tr(b.COST, locale), value=tr(b.COST_VALUE, locale, credits=job.price))
    embed.add_field(name=tr(b.BALANCE_AFTER, locale), value=tr(b.COST_VALUE, locale, credits=balance_after))
    finished = job.finished_at or now
    embed.add_field(name=tr(b.TIME, locale), value=f"{max(0.0, finished - job.created_at):.1f} s")
    embed.add_field(name=tr(b.REQUESTED_BY, locale), value=f"<@{job.user_id}>")
    if job.spec.references:
        embed.add_field(name=tr(b.REFERENCES, locale), value=str(len(job.spec.references)))
    embed.set_image(url=f"attachment://{filename}")
    embed.set_footer(text=f"Job {job.id} · {job.kind.value}")
    return embed
