"""Reference images: fetched, checked and sent without stalling the bot or growing its memory.

- Every Pillow call (the check of an attachment, the downscaling before an upload) runs through
  `ImageWork`: a small pool of its own threads, a bounded number at once, each call with a time
  cap. A thread cannot be stopped, so a call past its cap is given up on (the attachment is refused)
  but keeps its slot until it ends; what bounds it for real is core.images (structure scan, pixel
  cap, text-chunk cap).
- An attachment is streamed from Discord's CDN into the blob store and checked on disk: never
  whole in memory. A bounded number are downloaded at once.
- Before an upload, each reference larger than what the models use (core.images.
  MAX_REFERENCE_PIXELS / MAX_REFERENCE_BYTES) is downscaled into a scratch file; the upload body is
  streamed from the files (core.upload_body). A bounded number of uploads run at once.
So the memory an /edit job takes is a few pieces of 64-192 KiB, plus at most `at_once` decoded
images across the whole bot.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

from core.blobs import BlobStore
from core.downloads import Downloader
from core.errors import InvalidAttachment, InvalidRequest
from core.images import MAX_REFERENCE_BYTES, MAX_REFERENCE_PIXELS, ImageInfo, inspect_input, prepare_reference

log = logging.getLogger(__name__)
# BFL describes FLUX.2's multi-reference input as about 9 MP in all [?: not on Segmind's pages]; below
# 1 MP a reference loses the detail it is there for.
MAX_TOTAL_REFERENCE_PIXELS = 9 * 1024 * 1024
MIN_REFERENCE_PIXELS = 1024 * 1024
T = TypeVar("T")


class TooSlow(Exception):
    """An image call ran past its time cap (its thread may still be running)."""


class ImageWork:
    def __init__(self, *, at_once: int = 2, timeout: float = 15.0) -> None:
        if at_once < 1 or timeout <= 0:
            raise ValueError("at_once and timeout must be positive")
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="image-work")
        self._slots = asyncio.Semaphore(at_once)

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` in a worker thread once a slot is free; raises TooSlow when it has
        not finished `timeout` seconds (default: the pool's) after it started."""
        await self._slots.acquire()
        try:
            future = asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))
        except BaseException:
            self._slots.release()
            raise
        # The slot is freed when the thread is done, not when we stop waiting for it: a call given
        # up on still uses its core until it ends, and must not let more calls in meanwhile.
        future.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout or self.timeout)
        except TimeoutError:
            raise TooSlow(f"{getattr(fn, '__name__', 'image work')} took over {timeout or self.timeout:g} s") from None

    def _finished(self, future: asyncio.Future) -> None:
        self._slots.release()
        if not future.cancelled():
            future.exception()  # retrieved: a call given up on must not log "never retrieved"

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class Uploader(Protocol):
    async def upload_references(self, images: list[tuple[Path | bytes, str]]) -> list[str]: ...


class ReferenceImages:
    def __init__(
        self,
        blobs: BlobStore,
        *,
        work: ImageWork | None = None,
        downloads_at_once: int = 4,
        uploads_at_once: int = 4,
        max_pixels: int = MAX_REFERENCE_PIXELS,
        max_bytes: int = MAX_REFERENCE_BYTES,
    ) -> None:
        self.blobs = blobs
        self.work = work or ImageWork()
        self.max_pixels = max_pixels
        self.max_bytes = max_bytes
        self._downloads = asyncio.Semaphore(downloads_at_once)
        self._uploads = asyncio.Semaphore(uploads_at_once)

    async def check(self, source: Path | bytes, filename: str, *, max_bytes: int) -> ImageInfo:
        """core.images.inspect_input off the event loop, bounded and timed. Raises InvalidAttachment."""
        try:
            return await self.work.run(inspect_input, filename, source, max_bytes=max_bytes)
        except TooSlow:
            log.warning("checking %r took too long; refused", filename)
            raise InvalidAttachment(filename, "took too long to check (it is not an ordinary image)") from None

    async def download(
        self, downloader: Downloader, url: str, filename: str, *, max_bytes: int
    ) -> tuple[str, ImageInfo]:
        """Stream an attachment into the blob store, check it there, and keep it: (blob, info).
        Raises the downloader's errors, or InvalidAttachment (and nothing is kept)."""
        async with self._downloads:
            with self.blobs.writer() as writer:
                await downloader.get_into(url, writer.write, max_bytes=max_bytes)
                info = await self.check(writer.flushed(), filename, max_bytes=max_bytes)
                return await writer.commit(), info

    async def upload(self, client: Uploader, refs: list[str]) -> list[str]:
        """Upload the stored references `refs`, each downscaled to what the models use; their URLs.
        Raises InvalidRequest when a reference cannot be prepared, the client's errors otherwise."""
        prepared: list[tuple[Path, str, bool]] = []
        try:
            scratch = await asyncio.to_thread(self.blobs.scratch)
            # Pro takes up to 8 references: together they stay within a total budget.
            pixels = min(self.max_pixels, max(MIN_REFERENCE_PIXELS, MAX_TOTAL_REFERENCE_PIXELS // max(1, len(refs))))
            for ref in refs:
                try:
                    prepared.append(
                        await self.work.run(
                            prepare_reference, self.blobs.path(ref), scratch,
                            max_pixels=pixels, max_bytes=self.max_bytes,
                            timeout=self.work.timeout * 4,
                        )
                    )
                except (TooSlow, OSError, ValueError) as exc:
                    log.warning("reference %s could not be prepared: %s", ref[:12], exc)
                    raise InvalidRequest("image", "a reference image could not be prepared for the model") from None
            async with self._uploads:
                return await client.upload_references([(path, mime) for path, mime, _ in prepared])
        finally:
            copies = [path for path, _, copy in prepared if copy]
            if copies:
                await asyncio.to_thread(lambda: [p.unlink(missing_ok=True) for p in copies])
