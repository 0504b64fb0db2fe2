"""The images the fake renders: a labelled picture, padded to a requested byte size."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib

from PIL import Image, ImageDraw

# -- images ------------------------------------------------------------------------------------------


def render_image(
    prompt: str, seed: int, size: tuple[int, int], fmt: str, quality: int = 90, pad_to: int | None = None
) -> tuple[bytes, str]:
    """A real image whose colours come from seed + prompt, so tests can tell results apart."""
    digest = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()
    width, height = size
    img = Image.new("RGB", size, tuple(digest[0:3]))
    draw = ImageDraw.Draw(img)
    draw.rectangle((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=tuple(digest[3:6]))
    out = io.BytesIO()
    pil_format = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]
    options = {"quality": quality} if fmt in ("jpeg", "webp") else {}
    img.save(out, pil_format, **options)
    data = out.getvalue()
    if pad_to is not None and pad_to > len(data):
        data = _pad(data, fmt, pad_to)
    return data, f"image/{fmt}"


def _pad(data: bytes, fmt: str, size: int) -> bytes:
    """Grow an encoded image to about `size` bytes while it stays a valid image."""
    missing = size - len(data)
    if fmt == "png" and missing > 12:
        # A private ancillary chunk before IEND: decoders skip it, CRC kept valid.
        chunk_data = random.Random(missing).randbytes(missing - 12)
        chunk = struct.pack(">I", len(chunk_data)) + b"fkPd" + chunk_data
        chunk += struct.pack(">I", zlib.crc32(b"fkPd" + chunk_data) & 0xFFFFFFFF)
        return data[:-12] + chunk + data[-12:]
    if fmt == "webp" and missing > 8:
        body_len = missing - 8
        body_len -= body_len % 2
        chunk = b"PAD " + struct.pack("<I", body_len) + bytes(body_len)
        grown = data + chunk
        return grown[:4] + struct.pack("<I", len(grown) - 8) + grown[8:]
    return data + bytes(max(0, missing))  # JPEG: bytes after EOI are ignored by decoders
