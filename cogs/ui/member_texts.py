"""Sentences of the member-facing commands (/queue, /settings, /mine, /show, /help, styles, cancel)."""

from __future__ import annotations

import discord

from cogs.ui import reply_texts as r
from cogs.ui.messages import clip, plain

STARTING = "⏳ Starting…"
# Progress in the requester's (public) message, in the server's language when there is a translation.
QUEUED_NEXT = "⏳ Queued: starting next…"
QUEUED_AHEAD = "⏳ Queued: {count} ahead of yours…"
RUNNING = "🎨 Generating with {model}… {seconds} s"
CANCELLED = "🛑 Cancelled before it was sent to the image service: {price} credits are free again."
TOO_LATE = "This image has already been sent to the image service, which bills it; it can no longer be cancelled."
QUEUE_EMPTY = "You have no images waiting or being generated in this server."
STYLE_SAVED = "Style `{name}` saved. Members can pick it with `/imagine style:{name}`."
STYLE_REMOVED = "Style `{name}` removed."
STYLE_UNKNOWN = "This server has no style called `{name}`."
NO_STYLES = "This server has no styles yet. An admin adds one with `/config style add`."
MINE_EMPTY = "You have no stored images in this server."
SETTINGS_SAVED = "Your defaults in this server are saved."
INFO_TITLE = "How to make this image again"

HELP = """**Make images**
`/imagine prompt` a new image · `count:` up to 4 at once · `style:` one of the server's styles
`/edit prompt image` change an image you attach · or right-click an image → Apps → **Edit with FLUX**
Under each result: 🎲 Reroll · ✏️ Edit · ✨ Finalize with Pro · ℹ️ Info

**Your things**
`/queue` your waiting images (with Cancel) · `/mine` your recent images · `/show job_id` bring one back
`/settings` your defaults (model, aspect ratio, style, spoiler) · `/credits balance` the server's credits

**Admins**
`/config show` · `/config style add` · `/credits-admin settings` · `/credits-admin history`"""

SETUP = """👋 Thanks for adding the image bot! Three first steps for the admins:
1. Add credits: the bot's owner runs `/credits-admin grant` (each image is paid from the server's credits).
2. Choose where and who: `/config channels`, `/config roles`, and a mod log with `/config modlog`.
3. Try it: `/imagine prompt:a lighthouse at dawn`, then `/help` for the rest."""


BATCH_PART = "⏳ Image {n} of {count}: waiting…"


def batch_part(n: int, count: int, locale=None) -> str:
    from cogs.ui.i18n import tr  # the catalogue imports this module

    return tr(BATCH_PART, locale, n=n, count=count)


def queue_line(job_id: int, prompt: str, state: str, place: int | None, locale=None) -> str:
    from cogs.ui.i18n import tr  # the catalogue imports this module

    if place is None:
        where = tr(r.GENERATING, locale)
    else:
        where = tr(r.NEXT, locale) if place == 0 else tr(r.AHEAD, locale, count=place)
    return tr(r.QUEUE_LINE, locale, job=job_id, prompt=clip(plain(prompt), 60), state=tr(state, locale), where=where)


def styles_embed(styles, locale=None) -> discord.Embed:
    from cogs.ui.i18n import tr

    embed = discord.Embed(title=tr(r.STYLES_TITLE, locale), colour=discord.Colour.blurple())
    for style in styles:
        embed.add_field(name=style.name, value=clip(plain(style.template), 200), inline=False)
    return embed


def settings_text(prefs, *, saved: bool, locale=None, private_allowed: bool = False) -> str:
    from cogs.ui.i18n import tr  # the catalogue imports this module

    def yes_no(value) -> str:
        return tr(r.YES if value else r.NO, locale)

    lines = [tr(SETTINGS_SAVED, locale)] if saved else []
    lines += [
        tr(r.SETTINGS_MODEL, locale, value=prefs.model.display_name if prefs.model else tr(r.SERVER_DEFAULT, locale)),
        tr(r.SETTINGS_RATIO, locale, value=prefs.aspect_ratio or tr(r.MODEL_DEFAULT, locale)),
        tr(r.SETTINGS_STYLE, locale, value=prefs.style or tr(r.NONE, locale)),
        tr(r.SETTINGS_SPOILER, locale, value=yes_no(prefs.spoiler)),
        tr(r.SETTINGS_PRIVATE, locale, value=yes_no(prefs.private))
        + ("" if private_allowed or not prefs.private else tr(r.SETTINGS_NOT_ALLOWED, locale)),
    ]
    return "\n".join(lines)


def mine_line(job) -> str:
    return f"`{job.id}` {job.model.display_name}: {clip(plain(job.spec.prompt), 80)}"


def repeat_command(job) -> str:
    """The slash command (with the options that matter) that makes this image again."""
    spec = job.spec
    parts = [f"/{'edit' if spec.references else 'imagine'} prompt:{spec.prompt}", f"model:{spec.model.value}"]
    seed = job.result_seed if job.result_seed is not None else spec.seed
    for name, value in (("seed", seed), ("aspect_ratio", spec.aspect_ratio), ("image_format", spec.image_format),
                        ("width", spec.width), ("height", spec.height), ("negative_prompt", spec.negative_prompt),
                        ("steps", spec.steps), ("cfg", spec.cfg), ("sampler", spec.sampler),
                        ("go_fast", spec.go_fast), ("quality", spec.quality)):
        if value is not None:
            parts.append(f"{name}:{value}")
    return " ".join(parts)


def presentation_text(presentation, locale=None) -> str:
    from cogs.ui.i18n import tr

    def on_off(value) -> str:
        return tr(r.ON if value else r.OFF, locale)

    return tr(
        r.PRESENTATION,
        locale,
        png=on_off(presentation.png_metadata),
        spoiler=on_off(presentation.spoiler_age_restricted),
        private=tr(r.ALLOWED if presentation.private_results else r.NOT_ALLOWED, locale),
    )
