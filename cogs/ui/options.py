"""The generation options as Discord shows them: choices, ranges and help (shared by /imagine and /edit)."""

from __future__ import annotations

from discord import app_commands

from core.models import ASPECT_RATIOS, MATCH_INPUT, PROMPT_MAX_CHARS, SEED_MAX, ModelId

MODEL_CHOICES = [app_commands.Choice(name=m.display_name, value=m.value) for m in ModelId]
RATIO_CHOICES = [app_commands.Choice(name=r, value=r) for r in ASPECT_RATIOS]
EDIT_RATIO_CHOICES = [app_commands.Choice(name="match input image", value=MATCH_INPUT), *RATIO_CHOICES]
FORMAT_CHOICES = [app_commands.Choice(name=f, value=f) for f in ("png", "jpeg", "webp")]
SAMPLER_CHOICES = [app_commands.Choice(name=s, value=s) for s in ("euler", "res_2s")]

Prompt = app_commands.Range[str, 1, PROMPT_MAX_CHARS]
Seed = app_commands.Range[int, 0, SEED_MAX]
Side = app_commands.Range[int, 256, 2048]

OPTION_HELP = {
    "prompt": "What to draw",
    "model": "Which FLUX.2 model (default: Klein 9B, cheaper and faster)",
    "aspect_ratio": "Shape of the image",
    "seed": "Same seed + same prompt = same image",
    "image_format": "png, jpeg or webp (Pro: png or jpeg)",
    "width": "Pro only: width in pixels (multiple of 16)",
    "height": "Pro only: height in pixels (multiple of 16)",
    "negative_prompt": "Klein only: what to avoid",
    "steps": "Klein only: inference steps (1-100)",
    "cfg": "Klein only: guidance scale (1-20)",
    "sampler": "Klein only: sampling method",
    "go_fast": "Klein only: fast mode",
    "quality": "Klein only: output quality (10-100)",
    "count": "How many images (1-4); each is its own job and is charged on its own",
    "style": "One of this server's styles (see /config style list)",
    "spoiler": "Post the result behind a spoiler",
}
Count = app_commands.Range[int, 1, 4]
