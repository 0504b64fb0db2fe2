"""Reference-image checks: magic bytes over names, animation, bombs, truncation, re-encoding."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.errors import InvalidAttachment
from core.images import fit_under, inspect_input, sniff_image_type


def encode(fmt: str, size=(64, 48), **kwargs) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_accepts_still_images(fmt, mime):
    info = inspect_input("a.bin", encode(fmt), max_bytes=10_000_000)
    assert (info.mime, info.width, info.height) == (mime, 64, 48)


def test_rejects_by_content_not_by_name():
    with pytest.raises(InvalidAttachment, match="not a PNG"):
        inspect_input("cat.png", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", max_bytes=10_000)


def test_rejects_empty_truncated_oversized_and_animated():
    with pytest.raises(InvalidAttachment, match="empty"):
        inspect_input("e.png", b"", max_bytes=100)
    png = encode("PNG", size=(300, 300))
    with pytest.raises(InvalidAttachment, match="damaged|truncated"):
        inspect_input("t.png", png[: len(png) // 2], max_bytes=10_000_000)
    with pytest.raises(InvalidAttachment, match="larger"):
        inspect_input("big.png", png, max_bytes=100)
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(InvalidAttachment, match="animated"):
        inspect_input("anim.webp", out.getvalue(), max_bytes=10_000_000)
    with pytest.raises(InvalidAttachment, match="not a PNG"):
        inspect_input("anim.gif", b"GIF89a" + b"\0" * 20, max_bytes=10_000_000)


def test_rejects_a_decompression_bomb_before_decoding():
    # A tiny PNG whose header claims 50000×50000 pixels.
    bomb = encode("PNG", size=(1, 1))
    ihdr = bomb.index(b"IHDR")
    import struct
    import zlib

    header = b"IHDR" + struct.pack(">II", 50_000, 50_000) + bomb[ihdr + 12 : ihdr + 17]
    patched = bomb[: ihdr - 4] + struct.pack(">I", 13) + header + struct.pack(">I", zlib.crc32(header))
    patched += bomb[ihdr + 21 :]
    with pytest.raises(InvalidAttachment, match="too many pixels"):
        inspect_input("bomb.png", patched, max_bytes=10_000_000)


def test_fit_under_reencodes_to_the_limit():
    noisy = Image.effect_noise((800, 800), 100).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    data = out.getvalue()
    limit = len(data) // 4
    fitted, mime = fit_under(data, limit)
    assert len(fitted) <= limit and mime == "image/jpeg" and sniff_image_type(fitted) == "image/jpeg"
    same, _ = fit_under(data, len(data))
    assert same is data
