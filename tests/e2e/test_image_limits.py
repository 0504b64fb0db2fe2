"""Hostile and large reference images through the real bot: a parser bomb is refused without
stalling anyone else, and a 20 MiB reference reaches Segmind downscaled to what the models use."""

from __future__ import annotations

import base64
import io
import os

import pytest
from PIL import Image

from core.images import MAX_REFERENCE_BYTES, MAX_REFERENCE_PIXELS
from tests.core.test_images import png_chunk_bomb
from tests.e2e.conftest import ALICE, BOB, GENERAL, GUILD
from tests.e2e.test_hostile_input import refused

pytestmark = pytest.mark.e2e


async def test_a_chunk_bomb_is_refused_and_nobody_else_waits_for_it(world):
    await world.start_bot()
    await world.grant(100)
    bomb = png_chunk_bomb(1_740_000)  # just under 20 MiB of empty chunks: Pillow alone spends seconds on it
    assert 19 << 20 < len(bomb) <= 20 << 20
    att = world.discord.add_attachment("bomb.png", bomb, "image/png")
    edit = await world.discord.slash(GUILD, GENERAL, ALICE, "edit", {"prompt": "make it blue", "image": att})

    def answered() -> bool:
        return any(
            (m.get("content") or "") and not m["content"].startswith(("⏳", "🎨"))
            for m in world.discord.interaction_messages(edit)
        )

    # While the bomb is fetched and checked, another member keeps sending commands, one after the
    # other: each must be acknowledged within Discord's 3 s (the fake refuses a late callback).
    others = []
    while not answered() and len(others) < 20:
        other = await world.discord.slash(GUILD, GENERAL, BOB, "imagine", {"prompt": f"a red fox {len(others)}"})
        others.append(other)
        await world.discord.wait_for(lambda other=other: world.discord.callbacks(other), timeout=10)
    await refused(world, edit, "bomb.png", "hostile structure", "not charged")
    for other in others:
        await world.result(other)
    jobs = world.jobs()
    assert len(jobs) == len(others) >= 1 and {job["user_id"] for job in jobs} == {BOB}
    assert world.segmind.uploads == [], "the bomb was uploaded to Segmind"
    assert world.balance() == (100 - sum(job["price"] for job in jobs), 0)


async def test_a_20_mib_reference_is_sent_downscaled(world):
    await world.start_bot()
    await world.grant(10)
    out = io.BytesIO()
    Image.frombytes("RGB", (2600, 2600), os.urandom(2600 * 2600 * 3)).save(out, "PNG", compress_level=1)
    assert out.tell() > 19 * 1024 * 1024
    att = world.discord.add_attachment("photo.png", out.getvalue(), "image/png")
    edit = await world.discord.slash(GUILD, GENERAL, ALICE, "edit", {"prompt": "make it blue", "image": att})
    await world.result(edit, timeout=60)
    [upload] = world.segmind.calls("upload")
    [data_url] = upload.body["data_urls"]
    sent = base64.b64decode(data_url.partition(",")[2])
    assert len(sent) <= MAX_REFERENCE_BYTES
    with Image.open(io.BytesIO(sent)) as img:
        assert img.width == img.height and img.width * img.height <= MAX_REFERENCE_PIXELS
        assert img.width > 1500  # downscaled to the model's size, not to a thumbnail
