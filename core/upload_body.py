"""The body of Segmind's reference upload, written from the image files as it is sent.

Segmind's upload endpoint takes `{"data_urls": ["data:<type>;base64,<...>", ...]}` (see
../shared/reference/segmind-flux2.md). Built the obvious way, four 20 MiB references become about
110 MiB of base64 strings plus the same again as the JSON text; many /edit jobs at once made the
bot's memory grow by gigabytes. `DataUrlsBody` is an aiohttp payload instead: its length is known
in advance (base64 of n bytes is 4·⌈n/3⌉ characters), so it goes out with a Content-Length, and it
is written in pieces read from the files, so at most one piece is in memory per upload.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import payload

from core.images import sniff_image_type

PIECE = 3 * 64 * 1024  # a multiple of 3, so the base64 of consecutive pieces is one valid string

Source = Path | bytes


def encoded_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


class DataUrlsBody(payload.Payload):
    """`{"data_urls": [...]}` for `images` (a file or bytes, and its MIME type), streamed.

    A fresh body is needed for every attempt: a payload is written once."""

    def __init__(self, images: list[tuple[Source, str]]) -> None:
        super().__init__(None, content_type="application/json")
        self._parts: list[tuple[bytes, Source, int]] = []
        for source, mime in images:
            if isinstance(source, bytes):
                mime = sniff_image_type(source) or mime
                size = len(source)
            else:
                size = source.stat().st_size  # a blob or a scratch file: neither changes while it is sent
            self._parts.append((f'"data:{mime};base64,'.encode("ascii"), source, size))
        self._size = len(b'{"data_urls":[]}') + max(0, len(self._parts) - 1) + sum(
            len(prefix) + encoded_length(size) + 1 for prefix, _, size in self._parts
        )

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        # Only ever asked for in a debugging repr; never the megabytes themselves.
        return f"<data_urls: {len(self._parts)} image(s), {self._size} bytes>"

    async def pieces(self) -> AsyncIterator[bytes]:
        """The body, piece by piece (each at most 4/3 × PIECE bytes)."""
        yield b'{"data_urls":['
        for index, (prefix, source, size) in enumerate(self._parts):
            yield (b"," if index else b"") + prefix
            async for chunk in _read(source, size):
                yield base64.b64encode(chunk)
            yield b'"'
        yield b"]}"

    async def write(self, writer: Any) -> None:
        async for piece in self.pieces():
            await writer.write(piece)  # waits while the socket's buffer is full

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        await self.write(writer)


async def _read(source: Source, size: int) -> AsyncIterator[bytes]:
    if isinstance(source, bytes):
        for start in range(0, len(source), PIECE):
            yield source[start : start + PIECE]
        return
    fh = await asyncio.to_thread(open, source, "rb")
    try:
        read = 0
        while chunk := await asyncio.to_thread(fh.read, PIECE):
            read += len(chunk)
            yield chunk
        if read != size:
            # The Content-Length is already out: a short body would leave the server waiting.
            raise OSError(f"{source.name} changed while it was being sent")
    finally:
        await asyncio.to_thread(fh.close)
