"""The generation options as Discord shows them: one table, read by /imagine, /edit and the context menu.

discord.py builds a command's options from its callback's signature, so `generation_options` writes
the table's rows (and /edit's images) into that signature, with their help and choices; the callbacks
take them as `**options`. The context menu's modal offers the table's model choices and default.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from core.errors import InvalidRequest
from core.models import (
    ASPECT_RATIOS,
    DEFAULT_MODEL,
    MATCH_INPUT,
    NEGATIVE_PROMPT_MAX_CHARS,
    PROMPT_MAX_CHARS,
    SEED_MAX,
    ModelId,
)

MODEL_CHOICES = [app_commands.Choice(name=m.display_name, value=m.value) for m in ModelId]
RATIO_CHOICES = [app_commands.Choice(name=r, value=r) for r in ASPECT_RATIOS]
EDIT_RATIO_CHOICES = [app_commands.Choice(name="match input image", value=MATCH_INPUT), *RATIO_CHOICES]
FORMAT_CHOICES = [app_commands.Choice(name=f, value=f) for f in ("png", "jpeg", "webp")]
SAMPLER_CHOICES = [app_commands.Choice(name=s, value=s) for s in ("euler", "res_2s")]

REQUIRED = inspect.Parameter.empty


@dataclass(frozen=True)
class GenerationOption:
    name: str
    annotation: Any
    help: str
    default: Any = None
    choices: list[app_commands.Choice] | None = None


# In the order Discord lists them. Model, aspect ratio, style and spoiler take the member's
# defaults (cogs/ui/defaults.py); count is how many jobs; every other one is a GenerationSpec field.
GENERATION_OPTIONS = (
    GenerationOption("prompt", app_commands.Range[str, 1, PROMPT_MAX_CHARS], "What to draw", REQUIRED),
    GenerationOption(
        "model", str | None, "Which FLUX.2 model (default: Klein 9B, cheaper and faster)", choices=MODEL_CHOICES
    ),
    GenerationOption("aspect_ratio", str | None, "Shape of the image", choices=RATIO_CHOICES),
    GenerationOption("seed", app_commands.Range[int, 0, SEED_MAX] | None, "Same seed + same prompt = same image"),
    GenerationOption("image_format", str | None, "png, jpeg or webp (Pro: png or jpeg)", choices=FORMAT_CHOICES),
    GenerationOption("width", app_commands.Range[int, 256, 2048] | None, "Pro only: width in pixels (multiple of 16)"),
    GenerationOption(
        "height", app_commands.Range[int, 256, 2048] | None, "Pro only: height in pixels (multiple of 16)"
    ),
    GenerationOption(
        "negative_prompt", app_commands.Range[str, 1, NEGATIVE_PROMPT_MAX_CHARS] | None, "Klein only: what to avoid"
    ),
    GenerationOption("steps", app_commands.Range[int, 1, 100] | None, "Klein only: inference steps (1-100)"),
    GenerationOption("cfg", app_commands.Range[float, 1, 20] | None, "Klein only: guidance scale (1-20)"),
    GenerationOption("sampler", str | None, "Klein only: sampling method", choices=SAMPLER_CHOICES),
    GenerationOption("go_fast", bool | None, "Klein only: fast mode"),
    GenerationOption("quality", app_commands.Range[int, 10, 100] | None, "Klein only: output quality (10-100)"),
    GenerationOption(
        "count",
        app_commands.Range[int, 1, 4],
        "How many images (1-4); each is its own job and is charged on its own",
        default=1,
    ),
    GenerationOption("style", str | None, "One of this server's styles (see /config style list)"),
    GenerationOption("spoiler", bool | None, "Post the result behind a spoiler"),
)
OPTIONS = {option.name: option for option in GENERATION_OPTIONS}


# /edit's attachments, placed after the prompt; the first is required.
EDIT_IMAGES = (
    GenerationOption("image", discord.Attachment, "The image to edit (PNG, JPEG or WebP)", REQUIRED),
    *(GenerationOption(f"image{n}", discord.Attachment | None, "Another reference image") for n in (2, 3, 4)),
)


def generation_options(
    *own: GenerationOption, **choices: list[app_commands.Choice]
) -> Callable[[Callable], Callable]:
    """Give a command callback `(self, interaction, **options)` the table's options.

    The required ones (the prompt) come first, then the command's `own` rows, then the rest, as
    Discord lists them. `choices` replaces a row's choices for this command (e.g. /edit's ratios).
    """
    rows = (
        *(o for o in GENERATION_OPTIONS if o.default is REQUIRED),
        *own,
        *(o for o in GENERATION_OPTIONS if o.default is not REQUIRED),
    )

    def decorate(callback: Callable) -> Callable:
        first_two = list(inspect.signature(callback).parameters.values())[:2]  # self, interaction
        plain = inspect.Parameter.POSITIONAL_OR_KEYWORD
        callback.__signature__ = inspect.Signature(
            [*first_two, *(inspect.Parameter(o.name, plain, default=o.default, annotation=o.annotation) for o in rows)]
        )
        callback = app_commands.describe(**{o.name: o.help for o in rows})(callback)
        return app_commands.choices(**{o.name: o.choices for o in rows if o.choices} | choices)(callback)

    return decorate


def model_or_default(value: str | None) -> ModelId:
    """The model an option or a modal names, or the default one (the table's "model" row)."""
    if value is None:
        return DEFAULT_MODEL
    try:
        return ModelId(value)
    except ValueError:
        raise InvalidRequest("model", "must be FLUX.2 Pro or FLUX.2 Klein 9B") from None


def model_choices() -> list[ModelId]:
    """The table's models, the default first (as the context menu's modal offers them)."""
    return sorted((ModelId(c.value) for c in OPTIONS["model"].choices), key=lambda m: m is not DEFAULT_MODEL)
