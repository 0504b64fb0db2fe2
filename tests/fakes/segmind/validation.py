"""Parameter rules of the seed documents, written independently of core/models.py."""

from __future__ import annotations

import math
from typing import Any

from tests.fakes.segmind.records import KLEIN_ASPECT_RATIOS, MATCH_INPUT

# -- validation (the seed documents' rules, written independently of core/models.py) --------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _check_prompt(body: dict) -> str | None:
    prompt = body.get("prompt")
    if prompt is None:
        return "prompt is required"
    if not isinstance(prompt, str) or not prompt.strip():
        return "prompt must be a non-empty string"
    return None


def _check_image_urls(body: dict, limit: int) -> str | None:
    urls = body.get("image_urls")
    if urls is None:
        return None
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        return "image_urls must be a list of URL strings"
    if len(urls) > limit:
        return f"image_urls accepts at most {limit} images"
    return None


def _check_seed(body: dict) -> str | None:
    if "seed" in body and not (_is_int(body["seed"]) and -1 <= body["seed"] < 2**63):
        return "seed must be an integer (-1 for random)"
    return None


def _validate_pro(body: dict) -> str | None:
    problem = _check_prompt(body) or _check_image_urls(body, 8) or _check_seed(body)
    if problem:
        return problem
    # Segmind does not publish its own width/height range; these are BFL's FLUX.2 rules
    # (multiples of 16, at least 256 here, at most 4 MP = 2048×2048).
    for name in ("width", "height"):
        if name in body:
            value = body[name]
            if not _is_int(value) or not 256 <= value <= 2048:
                return f"{name} must be an integer between 256 and 2048"
            if value % 16:
                return f"{name} must be a multiple of 16"
    if body.get("width", 1024) * body.get("height", 1024) > 2048 * 2048:
        return "width × height must be at most 4 megapixels"
    if "output_format" in body and body["output_format"] not in ("jpeg", "png"):
        return "output_format must be one of: jpeg, png"
    if "safety_tolerance" in body:
        value = body["safety_tolerance"]
        if not _is_int(value) or not 0 <= value <= 6:
            return "safety_tolerance must be an integer between 0 and 6"
    return None


def _validate_klein(body: dict) -> str | None:
    problem = _check_prompt(body) or _check_image_urls(body, 4) or _check_seed(body)
    if problem:
        return problem
    if "aspect_ratio" in body:
        ratio = body["aspect_ratio"]
        if ratio not in KLEIN_ASPECT_RATIOS + (MATCH_INPUT,):
            return f"aspect_ratio must be one of: {', '.join(KLEIN_ASPECT_RATIOS + (MATCH_INPUT,))}"
        if ratio == MATCH_INPUT and not body.get("image_urls"):
            return "aspect_ratio match_input_image requires image_urls"
    if "cfg" in body and not (_is_number(body["cfg"]) and 1 <= body["cfg"] <= 20):
        return "cfg must be a number between 1 and 20"
    if "steps" in body and not (_is_int(body["steps"]) and 1 <= body["steps"] <= 100):
        return "steps must be an integer between 1 and 100"
    if "quality" in body and not (_is_int(body["quality"]) and 10 <= body["quality"] <= 100):
        return "quality must be an integer between 10 and 100"
    if "sampler" in body and body["sampler"] not in ("euler", "res_2s"):
        return "sampler must be one of: euler, res_2s"
    if "image_format" in body and body["image_format"] not in ("png", "jpeg", "webp"):
        return "image_format must be one of: png, jpeg, webp"
    if "go_fast" in body and not isinstance(body["go_fast"], bool):
        return "go_fast must be a boolean"
    if "negative_prompt" in body and not isinstance(body["negative_prompt"], str):
        return "negative_prompt must be a string"
    return None
