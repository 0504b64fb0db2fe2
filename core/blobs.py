"""Content-addressed files for paid results and reference images.

A result is written here before it is captured, so an image the guild paid for survives a crash
or a Discord outage and can be posted later. Reference images are kept so a reroll or edit run
later never depends on an expired Discord attachment URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("not a blob id")
        return self.root / digest[:2] / digest

    async def put(self, data: bytes) -> str:
        # Hashing megabytes takes milliseconds: off the event loop, with the write.
        return await asyncio.to_thread(self._put, data)

    def _put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            _write_atomically(path, data)
        return digest

    async def get(self, digest: str) -> bytes:
        return await asyncio.to_thread(self._path(digest).read_bytes)

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unique per writer: two jobs may store the same bytes at the same time.
    tmp = path.with_suffix(f".tmp{os.getpid()}-{threading.get_ident()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
