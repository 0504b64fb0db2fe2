"""Uploading a stored result from its file (cogs/ui/uploads.py), through aiohttp's multipart, for real."""

from __future__ import annotations

import os

import aiohttp
import discord
import pytest
from aiohttp import web

from cogs.ui import patches
from cogs.ui.uploads import CHUNK, StoredImageFile
from tests.local_http import serving


@pytest.fixture(autouse=True)
def stored_image_payload():
    patches.register_stored_image_payload()  # bot.py does it at start-up (patches.apply)


@pytest.fixture
async def receiver():
    """A server that records each multipart upload's file bytes and framing headers."""
    got: list[tuple[bytes, str | None, str | None]] = []

    async def handler(request: web.Request) -> web.Response:
        reader = await request.multipart()
        data = b""
        while (part := await reader.next()) is not None:
            if part.name == "files[0]":
                while chunk := await part.read_chunk(CHUNK):
                    data += chunk
        got.append((data, request.headers.get("Content-Length"), request.headers.get("Transfer-Encoding")))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/upload", handler)
    async with serving(app) as port:
        yield f"http://127.0.0.1:{port}/upload", got


async def _send(url: str, file: discord.File) -> None:
    # What discord.py does for an attachment: the File's fp as a multipart field.
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", "{}")
    form.add_field("files[0]", file.fp, filename=file.filename, content_type="application/octet-stream")
    async with aiohttp.ClientSession() as session, session.post(url, data=form) as resp:
        assert resp.status == 200


async def test_the_file_arrives_whole_with_a_length_and_again_on_a_retry(tmp_path, receiver):
    url, got = receiver
    image = tmp_path / "result.png"
    content = os.urandom(3 * CHUNK + 123)  # several pieces and a short last one
    image.write_bytes(content)
    file = discord.File(StoredImageFile(image), filename="flux-1.png")
    await _send(url, file)
    file.reset(seek=True)  # discord.py does this before sending again after a 5xx
    await _send(url, file)
    assert [data for data, _, _ in got] == [content, content]
    assert all(length is not None and chunked is None for _, length, chunked in got), "sized, not chunked"


def test_no_descriptor_stays_open_between_reads(tmp_path):
    image = tmp_path / "result.png"
    image.write_bytes(b"0123456789")
    before = len(os.listdir("/proc/self/fd"))
    files = [StoredImageFile(image) for _ in range(50)]
    assert [f.read(4) for f in files[:2]] == [b"0123", b"0123"]
    assert len(os.listdir("/proc/self/fd")) == before, "discord.py never closes it: it must hold no fd"
    f = files[0]
    assert f.read() == b"456789" and f.read(3) == b""
    f.seek(-3, os.SEEK_END)
    assert f.read() == b"789" and f.tell() == 10


@pytest.mark.parametrize("piece", [1, 7, 33, CHUNK])
def test_text_chunks_are_spliced_into_the_stream_not_the_stored_file(tmp_path, piece):
    import io as _io

    from PIL import Image

    from core.png_text import HEADER_BYTES, end_of_ihdr, read_text, text_chunks, with_text

    buffer = _io.BytesIO()
    Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)).save(buffer, "PNG")
    stored = tmp_path / "stored.png"
    stored.write_bytes(buffer.getvalue())
    fields = {"prompt": "a lighthouse at dusk", "seed": "42"}
    at = end_of_ihdr(buffer.getvalue()[:HEADER_BYTES])
    view = StoredImageFile(stored, insert=(at, text_chunks(fields)))
    streamed = b"".join(iter(lambda: view.read(piece), b""))
    assert streamed == with_text(buffer.getvalue(), fields) and view.size == len(streamed)
    assert read_text(streamed) == fields
    assert stored.read_bytes() == buffer.getvalue(), "the stored (shared, content-addressed) file is unchanged"
    view.seek(0)
    assert view.read() == streamed, "a retried upload sends the same bytes"
