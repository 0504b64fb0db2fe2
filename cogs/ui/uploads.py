"""Uploading a stored result to Discord straight from its file, 256 KiB at a time, on the event loop.

discord.py hands a `discord.File`'s file object to aiohttp, whose payload for an ordinary file
reads every chunk in a worker thread (six thread hand-offs for a 1 MiB image, each one queued
behind whatever else the default executor is doing). Reading the whole image into memory instead
would cost a copy of every result in flight and, measured, 5x the peak memory. `StoredImageFile`
is a file object for which aiohttp uses `StoredImagePayload`: it reads the file on the loop in
256 KiB pieces (a read from the page cache, tens of microseconds) and writes each piece as the
socket takes it, so an upload holds one piece in memory and costs no thread. cogs/ui/patches.py
registers the payload with aiohttp (`apply()`, at start-up).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from aiohttp import payload

CHUNK = 256 * 1024


class StoredImageFile(io.RawIOBase):
    """A read-only, seekable view of a stored image for `discord.File` (which may seek back to
    the start and send it again when Discord answers a retryable error). It holds no file
    descriptor between reads: discord.py never closes a file object it did not open itself, and
    a descriptor per posted result would leak."""

    def __init__(self, path: Path, *, insert: tuple[int, bytes] | None = None) -> None:
        super().__init__()
        self._path = path
        self._pos = 0
        # `insert` = (offset, bytes): the view is the file with those bytes spliced in at that offset
        # (a PNG's text chunks for this upload only; the stored file is shared and never changes).
        self._at, self._extra = insert if insert is not None else (0, b"")
        self.size = path.stat().st_size + len(self._extra)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        end = self.size if size < 0 else min(self.size, self._pos + size)
        parts = []
        with open(self._path, "rb") as fh:
            pos = self._pos
            while pos < end:
                if pos < self._at:  # the file before the splice
                    fh.seek(pos)
                    part = fh.read(min(end, self._at) - pos)
                elif pos < self._at + len(self._extra):  # the spliced bytes
                    part = self._extra[pos - self._at : end - self._at]
                else:  # the rest of the file, shifted by the splice
                    fh.seek(pos - len(self._extra))
                    part = fh.read(end - pos)
                if not part:
                    break
                parts.append(part)
                pos += len(part)
        data = b"".join(parts)
        self._pos += len(data)
        return data


class StoredImagePayload(payload.Payload):
    _value: StoredImageFile

    def __init__(self, value: StoredImageFile, *args: Any, **kwargs: Any) -> None:
        super().__init__(value, *args, **kwargs)
        self._start = value.tell()

    @property
    def size(self) -> int:
        return self._value.size - self._start

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("an image upload has no text form")

    async def write(self, writer: Any) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        self._value.seek(self._start)
        remaining = content_length
        while remaining is None or remaining > 0:
            chunk = self._value.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not chunk:
                return
            await writer.write(chunk)
            if remaining is not None:
                remaining -= len(chunk)

