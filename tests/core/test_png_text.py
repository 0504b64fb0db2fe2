"""PNG text metadata goes into the uploaded copy without touching the pixels."""

from __future__ import annotations

import io

from PIL import Image

from core.png_text import read_text, with_text


def png(colour=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, "PNG")
    return out.getvalue()


def test_fields_are_readable_and_the_image_decodes_the_same():
    original = png()
    tagged = with_text(original, {"prompt": "a fox ü 狐 {prompt}", "seed": "42", "model": "FLUX.2 Pro"})
    assert read_text(tagged) == {"prompt": "a fox ü 狐 {prompt}", "seed": "42", "model": "FLUX.2 Pro"}
    with Image.open(io.BytesIO(tagged)) as image:
        assert image.text["prompt"] == "a fox ü 狐 {prompt}", "other readers (Pillow) see the chunk too"
        pixels = image.convert("RGB").tobytes()
    with Image.open(io.BytesIO(original)) as image:
        assert pixels == image.convert("RGB").tobytes()


def test_something_that_is_not_a_png_is_left_alone():
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, "JPEG")
    assert with_text(jpeg.getvalue(), {"prompt": "x"}) == jpeg.getvalue()
    assert read_text(png()) == {}
