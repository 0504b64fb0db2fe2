"""What Segmind's answers mean, without any I/O (the sans-I/O half of the Segmind client).

Status codes and error bodies become typed errors (`error_from_response`, `terminal_error`), the
many plausible shapes of a v2 result become one image reference (`extract_output`), headers and
metadata become numbers. core/segmind.py does the HTTP and relies on these; the unit tests table-
test them directly.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import io
import json
import math
import re
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from PIL import Image

from core.errors import (
    ProviderAuthError,
    ProviderBadOutput,
    ProviderError,
    ProviderModelUnavailable,
    ProviderModerated,
    ProviderOutOfCredits,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from core.images import MAX_INPUT_PIXELS, scan_structure

MESSAGE_MAX_CHARS = 300
ERROR_BODY_MAX_BYTES = 64 * 1024
JSON_BODY_MAX_BYTES = 1024 * 1024
RESET_WAIT_MAX = 120.0  # longest wait for a 429's announced reset time
RESET_HEADER = "x-rate-limit-reset-at-utc"
OUTPUT_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})

# "safety" alone would also match Segmind's own 400s about the `safety_tolerance` parameter.
_MODERATION = re.compile(
    r"moderat|nsfw|safety(?![\s_-]*tolerance)|request moderated|content moderated", re.IGNORECASE
)
COMPLETED_STATES = frozenset({"COMPLETED", "COMPLETE", "SUCCEEDED", "SUCCESS", "DONE"})
FAILED_STATES = frozenset({"FAILED", "FAILURE", "ERROR", "CANCELLED", "CANCELED"})
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_BASE64 = re.compile(r"[A-Za-z0-9+/=_-]+")


def _cap(text: str) -> str:
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= MESSAGE_MAX_CHARS else text[: MESSAGE_MAX_CHARS - 1] + "…"


def _text_from_json(data: Any, depth: int = 0) -> str | None:
    """Segmind's error text from a parsed body: `error`, `message`, `detail` (FastAPI lists too)."""
    if depth > 4 or data is None:
        return None
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        parts = [p for p in (_text_from_json(item, depth + 1) for item in data) if p]
        return "; ".join(parts) or None
    if isinstance(data, dict):
        for key in ("error", "message", "detail", "msg", "error_message", "errors", "reason"):
            value = data.get(key)
            if value in (None, "", [], {}):
                continue
            text = _text_from_json(value, depth + 1)
            if text:
                loc = data.get("loc")
                if key == "msg" and isinstance(loc, list):
                    text = f"{'.'.join(str(p) for p in loc if p != 'body')}: {text}"
                return text
        return None
    return str(data)


def error_text(body: bytes) -> str:
    """A short, printable message from an error body that may be JSON, HTML or garbage."""
    raw = bytes(body[:ERROR_BODY_MAX_BYTES])
    text: str | None = None
    try:
        text = _text_from_json(json.loads(raw, strict=False))
    except (ValueError, UnicodeDecodeError, RecursionError):
        text = None
    if text is None:
        text = raw.decode("utf-8", "replace")
        if "<" in text and ">" in text:
            text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
            text = re.sub(r"(?s)<[^>]*>", " ", text)
    return _cap(text)


def parse_reset_at(value: str | None) -> float | None:
    """`x-rate-limit-reset-at-utc` as epoch seconds: ISO-8601 (with or without Z/offset; naive = UTC),
    HTTP date, or epoch seconds / milliseconds. None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number) or number < 1e9:  # before 2001: not an absolute time
            return None
        return number / 1000.0 if number > 1e11 else number
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def error_from_response(status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
    """The one mapping from a Segmind HTTP answer that is not a success to a typed error.

    A 404 here means "model not found" (the billed POST's meaning); during v2 polling the caller
    reads 404 as an expired request instead.
    """
    text = error_text(body)
    if not text:
        try:
            text = HTTPStatus(status).phrase
        except ValueError:
            text = f"HTTP {status}"
    if status in (400, 422):
        if _MODERATION.search(text):
            return ProviderModerated(text, status=status)
        return ProviderRejected(text, status=status)
    if status in (401, 403):
        return ProviderAuthError(text, status=status)
    if status in (404, 405, 410):
        return ProviderModelUnavailable(text, status=status)
    if status == 406:
        return ProviderOutOfCredits(text, status=status)
    if status == 429:
        return ProviderRateLimited(
            text, status=status, reset_at=parse_reset_at(header_value(headers, RESET_HEADER))
        )
    if status == 408 or status >= 500:
        return ProviderUnavailable(text, status=status)
    if 400 <= status < 500:
        return ProviderRejected(text, status=status)
    if 300 <= status < 400:  # the endpoint moved: nothing the bot can fix by retrying
        return ProviderModelUnavailable(text, status=status)
    return ProviderUnavailable(text, status=status)


def terminal_error(payload: Any, status: int | None) -> ProviderError:
    """A queued request that ended FAILED: moderation, or Segmind's own reason as a rejection."""
    text = _cap(_text_from_json(payload) or "") if isinstance(payload, dict) else ""
    text = text or "FAILED"
    if _MODERATION.search(text):
        return ProviderModerated(text, status=status)
    return ProviderRejected(text, status=status)


def state_of(payload: Any) -> str | None:
    if isinstance(payload, dict) and isinstance(payload.get("status"), str):
        return payload["status"].strip().upper()
    return None


def extract_output(payload: Any, _depth: int = 0) -> str | None:
    """The image reference in a result: an http(s) URL, a data: URI or a bare base64 string.

    Accepts `output` as a string, a list, or a dict with `url`/`image`; `images: [{url}]` or
    `images: [str]`; and a top-level `image`/`url`. The first plausible one wins.
    """
    if _depth > 5:
        return None
    if isinstance(payload, str):
        value = payload.strip()
        if value.startswith(("http://", "https://", "data:")):
            return value
        if len(value) >= 64 and _BASE64.fullmatch(value):
            return value
        return None
    if isinstance(payload, list):
        for item in payload:
            found = extract_output(item, _depth + 1)
            if found:
                return found
        return None
    if isinstance(payload, dict):
        for key in ("output", "images", "image", "url", "image_url", "uri", "data", "result", "outputs"):
            if key in payload:
                found = extract_output(payload[key], _depth + 1)
                if found:
                    return found
    return None


def parse_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        match = _NUMBER.search(str(value))
        if not match:
            return None
        number = float(match.group())
    return number if math.isfinite(number) else None


def parse_int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value).strip()
    return int(text) if re.fullmatch(r"[-+]?\d+", text) else None


def metadata_value(payload: Any, keys: tuple[str, ...]) -> Any:
    """First of `keys` found at the top of a result, in `metrics`, in `output`, or in `images[0]`."""
    if not isinstance(payload, dict):
        return None
    places = [payload, payload.get("metrics"), payload.get("output")]
    images = payload.get("images")
    if isinstance(images, list) and images:
        places.append(images[0])
    for place in places:
        if isinstance(place, dict):
            for key in keys:
                if place.get(key) is not None:
                    return place[key]
    return None


def decode_inline(ref: str, max_bytes: int) -> bytes:
    """Bytes of a data: URI or a bare base64 string."""
    if ref.startswith("data:"):
        head, sep, payload = ref.partition(",")
        if not sep:
            raise ProviderBadOutput("result data URI has no payload")
        is_b64 = head.lower().endswith(";base64")
    else:
        payload, is_b64 = ref, True
    if len(payload) > max_bytes * 4 // 3 + 8:
        raise ProviderBadOutput(f"result image is larger than {max_bytes} bytes")
    try:
        if is_b64:
            compact = "".join(payload.split())
            compact += "=" * (-len(compact) % 4)
            altchars = b"-_" if ("-" in compact or "_" in compact) else None
            data = base64.b64decode(compact, altchars=altchars, validate=True)
        else:
            data = unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise ProviderBadOutput("result image is not valid base64") from None
    if len(data) > max_bytes:
        raise ProviderBadOutput(f"result image is larger than {max_bytes} bytes")
    return data


def verify_image(source: bytes | Path) -> None:
    """Raise unless `source` (bytes, or a file) is a whole, sane image. Blocking: call it in a thread."""
    # The header is read before any pixel is decoded; a result announcing more pixels than any
    # FLUX.2 output has (a decompression bomb) is refused here, before the presenter decodes it.
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    with io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb") as fh, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        scan_structure(fh, size)  # a parser bomb would keep the worker thread busy for seconds
        with Image.open(fh) as img:
            if img.width <= 0 or img.height <= 0:
                raise ValueError("no dimensions")
            if img.width * img.height > MAX_INPUT_PIXELS:
                raise ValueError("too many pixels")
            img.verify()  # PNG: every chunk's CRC up to IEND, so truncation shows


class AnswerTooLarge(Exception):
    pass


class Garbage(Exception):
    """A 200 from a status/result URL whose body is neither JSON nor an image (a proxy's page)."""


# --- the client ------------------------------------------------------------------------------
