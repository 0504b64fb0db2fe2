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


# --- parser bombs: refused from the container's structure, before Pillow walks it ----------------


def _chunk(kind: bytes, data: bytes = b"") -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_chunk_bomb(chunks: int) -> bytes:
    """A valid 8×8 PNG with `chunks` empty private chunks before its pixels: what kept Pillow
    (and, when it ran on the event loop, the whole bot) busy for seconds."""
    png = encode("PNG", size=(8, 8))
    idat = png.index(b"IDAT") - 4
    return png[:idat] + _chunk(b"zzZz") * chunks + png[idat:]


def test_a_png_chunk_bomb_is_refused_from_its_structure():
    with pytest.raises(InvalidAttachment, match="hostile structure"):
        inspect_input("bomb.png", png_chunk_bomb(200_000), max_bytes=30_000_000)


def test_a_jpeg_marker_bomb_is_refused_from_its_structure():
    jpeg = encode("JPEG")
    bomb = jpeg[:2] + b"\xff\xfe\x00\x02" * 100_000 + jpeg[2:]  # empty comments before the frame
    with pytest.raises(InvalidAttachment, match="hostile structure"):
        inspect_input("bomb.jpg", bomb, max_bytes=30_000_000)


def test_real_images_with_many_small_pieces_still_pass():
    # The pixel data split into 1 KiB chunks (encoders use 8-64 KiB), plus a few dozen text chunks.
    import os

    img = Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3))
    out = io.BytesIO()
    img.save(out, "PNG")
    png = out.getvalue()
    first = png.index(b"IDAT") - 4
    end = png.index(b"IEND") - 4
    pos, data = first, b""
    while pos < end:  # gather the pixel data of every IDAT chunk
        length = int.from_bytes(png[pos : pos + 4], "big")
        data += png[pos + 8 : pos + 8 + length]
        pos += length + 12
    texts = b"".join(_chunk(b"tEXt", b"k%d\0v" % i) for i in range(40))
    rechunked = png[:first] + texts + b"".join(
        _chunk(b"IDAT", data[i : i + 1024]) for i in range(0, len(data), 1024)
    ) + png[end:]
    assert rechunked.count(b"IDAT") > 1000
    info = inspect_input("photo.png", rechunked, max_bytes=30_000_000)
    assert (info.width, info.height) == (600, 600)


def test_inspect_reads_a_file_as_well_as_bytes(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(encode("WEBP", size=(30, 20)))
    assert inspect_input("x.webp", path, max_bytes=10_000).mime == "image/webp"
    path.write_bytes(png_chunk_bomb(50_000))
    with pytest.raises(InvalidAttachment, match="hostile structure"):
        inspect_input("x.png", path, max_bytes=30_000_000)


# --- downscaling to what the models use ----------------------------------------------------------


def test_a_large_reference_is_downscaled_keeping_its_shape(tmp_path):
    from core.images import prepare_reference

    src = tmp_path / "big.png"
    src.write_bytes(encode("PNG", size=(3000, 2000)))
    out, mime, copy = prepare_reference(src, tmp_path, max_pixels=1_000_000, max_bytes=10_000_000)
    assert copy and out != src and mime == "image/jpeg"
    with Image.open(out) as img:
        assert img.format == "JPEG"
        assert img.width * img.height <= 1_000_000
        assert img.width * img.height > 900_000  # not needlessly small
        assert abs(img.width / img.height - 1.5) < 0.01


def test_a_reference_within_the_limits_is_sent_as_it_is(tmp_path):
    from core.images import prepare_reference

    src = tmp_path / "small.webp"
    src.write_bytes(encode("WEBP", size=(640, 480)))
    assert prepare_reference(src, tmp_path, max_pixels=1_000_000, max_bytes=10_000_000) == (src, "image/webp", False)
    assert list(tmp_path.iterdir()) == [src]


def test_transparency_survives_and_bytes_are_capped_too(tmp_path):
    import os

    from core.images import prepare_reference

    src = tmp_path / "noise.png"
    Image.frombytes("RGBA", (900, 900), os.urandom(900 * 900 * 4)).save(src, "PNG")
    assert src.stat().st_size > 1_000_000
    out, mime, copy = prepare_reference(src, tmp_path, max_pixels=4_000_000, max_bytes=1_000_000)
    assert copy and mime == "image/png" and out.stat().st_size <= 1_000_000
    with Image.open(out) as img:
        assert img.mode == "RGBA" and img.width < 900
