"""Reference images off the event loop and out of memory: the bounded, timed image pool, attachments
streamed into the blob store, downscaling before upload, and the upload body streamed from files."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import threading

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from core import references
from core.blobs import BlobStore
from core.downloads import Downloader, HostAllowlist, TooLarge
from core.errors import InvalidAttachment
from core.references import ImageWork, ReferenceImages, TooSlow
from core.segmind import SegmindClient
from core.segmind.upload_body import PIECE, DataUrlsBody
from tests.core.test_images import png_chunk_bomb
from tests.local_http import serving


def encode(fmt: str, size=(64, 48), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def noise_png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, "PNG", compress_level=1)
    return out.getvalue()


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


# --- ImageWork ---------------------------------------------------------------------------------


async def test_a_call_past_its_cap_is_given_up_but_keeps_its_slot_until_it_ends():
    work = ImageWork(at_once=1, timeout=0.05)
    release, started = threading.Event(), threading.Event()

    def stuck() -> str:
        started.set()
        release.wait(30)
        return "late"

    with pytest.raises(TooSlow):
        await work.run(stuck)
    assert started.is_set()
    # The thread still runs: no second call may start until it ends.
    second = asyncio.ensure_future(work.run(lambda: "next", timeout=30))
    await asyncio.sleep(0)
    assert work._slots.locked() and not second.done()
    release.set()
    assert await second == "next"
    work.close()


async def test_work_runs_in_a_thread_and_errors_come_back():
    work = ImageWork(at_once=2)
    loop_thread = threading.get_ident()
    assert await work.run(threading.get_ident) != loop_thread

    def broken():
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        await work.run(broken)
    work.close()


async def test_a_check_that_takes_too_long_refuses_the_attachment(blobs, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(references, "inspect_input", lambda *a, **k: release.wait(30))
    refs = ReferenceImages(blobs, work=ImageWork(at_once=1, timeout=0.05))
    with pytest.raises(InvalidAttachment, match="took too long"):
        await refs.check(b"x", "slow.png", max_bytes=100)
    release.set()


async def test_a_chunk_bomb_is_refused_off_the_loop(blobs):
    refs = ReferenceImages(blobs)
    with pytest.raises(InvalidAttachment, match="bomb.png.*hostile structure"):
        await refs.check(png_chunk_bomb(300_000), "bomb.png", max_bytes=30 << 20)


# --- attachments streamed into the blob store ---------------------------------------------------


@pytest.fixture
async def cdn():
    files: dict[str, bytes] = {}

    async def serve(request: web.Request) -> web.StreamResponse:
        data = files[request.match_info["name"]]
        response = web.StreamResponse()
        response.enable_chunked_encoding()  # no Content-Length: the running total is what caps it
        await response.prepare(request)
        for start in range(0, len(data), 100_000):
            await response.write(data[start : start + 100_000])
        return response

    app = web.Application()
    app.router.add_get("/{name}", serve)
    async with serving(app) as port, aiohttp.ClientSession() as session:
        downloader = Downloader(session, HostAllowlist(["127.0.0.1"]), max_bytes=50 << 20, timeout=30)
        yield files, f"http://127.0.0.1:{port}", downloader


async def test_an_attachment_is_streamed_into_the_store_and_checked(blobs, cdn):
    files, base, downloader = cdn
    files["a.png"] = noise_png((400, 300))
    refs = ReferenceImages(blobs)
    blob, info = await refs.download(downloader, f"{base}/a.png", "a.png", max_bytes=10 << 20)
    assert blobs.path(blob).read_bytes() == files["a.png"]
    assert (info.mime, info.width, info.height) == ("image/png", 400, 300)


async def test_a_refused_or_oversized_attachment_leaves_nothing_behind(blobs, cdn):
    files, base, downloader = cdn
    files["bomb.png"] = png_chunk_bomb(100_000)
    files["big.png"] = noise_png((400, 300))
    refs = ReferenceImages(blobs)
    with pytest.raises(InvalidAttachment, match="hostile structure"):
        await refs.download(downloader, f"{base}/bomb.png", "bomb.png", max_bytes=10 << 20)
    with pytest.raises(TooLarge):
        await refs.download(downloader, f"{base}/big.png", "big.png", max_bytes=100_000)
    left = [p for p in blobs.root.rglob("*") if p.is_file()]
    assert left == [], left


# --- the upload: downscaled, and streamed from the files ------------------------------------------


def test_the_body_is_written_in_bounded_pieces_and_is_the_json_it_announces(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(noise_png((700, 700)))
    small = encode("JPEG")
    body = DataUrlsBody([(big, "image/png"), (small, "image/png")])

    async def collect() -> list[bytes]:
        return [piece async for piece in body.pieces()]

    pieces = asyncio.run(collect())
    assert max(len(p) for p in pieces) <= PIECE * 4 // 3
    assert len(pieces) > big.stat().st_size // PIECE  # written as it is read, not built whole
    whole = b"".join(pieces)
    assert len(whole) == body.size
    urls = json.loads(whole)["data_urls"]
    assert urls[0] == "data:image/png;base64," + base64.b64encode(big.read_bytes()).decode()
    assert urls[1].startswith("data:image/jpeg;base64,")  # bytes are sniffed, not trusted


@pytest.fixture
async def upload_server():
    seen: list[dict] = []

    async def upload(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        seen.append({"headers": dict(request.headers), "data_urls": body["data_urls"]})
        return web.json_response({"file_urls": [f"http://files.invalid/{i}" for i in range(len(body["data_urls"]))]})

    app = web.Application(client_max_size=64 << 20)
    app.router.add_post("/upload-asset", upload)
    async with serving(app) as port:
        yield seen, f"http://127.0.0.1:{port}"


async def test_references_are_downscaled_and_sent_with_a_content_length(blobs, upload_server):
    seen, base = upload_server
    big = await blobs.put(noise_png((2600, 1300)))
    small = await blobs.put(encode("WEBP", size=(300, 200)))
    refs = ReferenceImages(blobs, max_pixels=1_000_000, max_bytes=5 << 20)
    async with aiohttp.ClientSession() as session:
        client = SegmindClient(session, api_key="k", sink=blobs, base_url=base, upload_url=f"{base}/upload-asset")
        urls = await refs.upload(client, [big, small])
    assert len(urls) == 2
    [request] = seen
    assert "chunked" not in request["headers"].get("Transfer-Encoding", "")
    assert int(request["headers"]["Content-Length"]) == sum(len(u) + 3 for u in request["data_urls"]) + 15
    sent = [base64.b64decode(u.partition(",")[2]) for u in request["data_urls"]]
    with Image.open(io.BytesIO(sent[0])) as img:
        assert img.format == "JPEG" and img.width * img.height <= 1_000_000 and img.width == 2 * img.height
    assert sent[1] == blobs.path(small).read_bytes()  # within the limits: sent as it is
    # The downscaled copy is gone; the stored references are untouched.
    assert sorted(p.name for p in blobs.root.rglob("*") if p.is_file()) == sorted([big, small])


async def test_many_references_share_a_pixel_budget(blobs):
    sent: list[tuple] = []

    class Recorder:
        async def upload_references(self, images):
            for path, mime in images:
                with Image.open(path) as img:
                    sent.append((mime, img.width * img.height))
            return ["u"] * len(images)

    ref = await blobs.put(noise_png((2200, 2200)))
    refs = ReferenceImages(blobs)
    await refs.upload(Recorder(), [ref] * 8)
    assert len(sent) == 8
    assert sum(pixels for _, pixels in sent) <= references.MAX_TOTAL_REFERENCE_PIXELS
    assert all(pixels >= references.MIN_REFERENCE_PIXELS * 0.99 for _, pixels in sent)
