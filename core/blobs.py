"""Content-addressed files for paid results and reference images.

A result is written here before it is captured, so an image the guild paid for survives a crash
or a Discord outage and can be posted later. Reference images are kept so a reroll or edit run
later never depends on an expired Discord attachment URL.

Results are streamed in: a `BlobWriter` takes the download chunk by chunk into a partial file, and
`commit()` checks it, hashes it, fsyncs it and renames it to its digest in one worker-thread call.
No result is ever held whole in memory, so the bot's memory does not grow with image size or with
how many results arrive at once. A partial file left by a crash is removed by `clear_partial()`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from core.files import fsync_path

HEAD_BYTES = 32  # enough for every magic number core.images knows
PARTIAL_DIR = "partial"
_READ_CHUNK = 1024 * 1024


class BlobRejected(Exception):
    """The `check` given to `BlobWriter.commit` refused the bytes (the cause is attached)."""


class BlobStore:
    def __init__(self, root: Path, partial_area: str = "") -> None:
        """`partial_area`: with several processes on one BLOB_DIR each streams into a folder of its
        own, so that one starting up never removes another's downloads in progress."""
        self.root = Path(root)
        self._partial_ready = False
        self._area = re.sub(r"[^A-Za-z0-9_.-]", "_", partial_area)
        self._partials = self.root / PARTIAL_DIR / self._area if self._area else self.root / PARTIAL_DIR

    def path(self, digest: str) -> Path:
        """Where the blob `digest` lives (raises ValueError for anything that is not a blob id)."""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("not a blob id")
        return self.root / digest[:2] / digest

    async def put(self, data: bytes) -> str:
        # Hashing megabytes takes milliseconds: off the event loop, with the write.
        return await asyncio.to_thread(self._put, data)

    def _put(self, data: bytes) -> str:
        # The same way in as a streamed result: a partial file, fsynced, renamed to its digest.
        writer = self.writer()
        try:
            writer.write(data)
            return writer._commit(None)
        finally:
            writer.discard()

    async def get(self, digest: str) -> bytes:
        return await asyncio.to_thread(self.path(digest).read_bytes)

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()

    def writer(self) -> BlobWriter:
        """A new partial file to stream a blob into (see BlobWriter)."""
        folder = self._partials
        if not self._partial_ready:
            folder.mkdir(parents=True, exist_ok=True)
            self._partial_ready = True
        return BlobWriter(self, folder / uuid.uuid4().hex)

    def scratch(self) -> Path:
        """A folder for short-lived files (e.g. downscaled copies being uploaded); a crash's
        leftovers go with clear_partial(). Blocking (it may create the folder)."""
        folder = self._partials
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def sweep(self, keep: set[str], older_than: float) -> tuple[int, int]:
        """Delete every blob not in `keep` last written before `older_than` (a Unix time); returns
        (files removed, bytes freed). Blocking: run it in a thread. A blob stored again refreshes
        its time (see `_touch`), so one an edit is about to use is never old."""
        removed = freed = 0
        for folder in self.root.iterdir() if self.root.is_dir() else ():
            if folder.name == PARTIAL_DIR or not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                if len(entry.name) != 64 or entry.name in keep:
                    continue
                info = entry.stat()
                if info.st_mtime < older_than:
                    os.unlink(entry.path)
                    removed += 1
                    freed += info.st_size
        return removed, freed

    def copy_to(self, target: Path) -> int:
        """Copy every stored blob into `target` (same layout), hard-linking where the file system
        allows (a blob never changes once stored); how many. Blocking: run it in a thread."""
        copied = 0
        for folder in sorted(self.root.iterdir()) if self.root.is_dir() else ():
            if folder.name == PARTIAL_DIR or not folder.is_dir():
                continue
            (target / folder.name).mkdir(parents=True, exist_ok=True)
            for entry in os.scandir(folder):
                if len(entry.name) != 64:
                    continue
                destination = target / folder.name / entry.name
                try:
                    os.link(entry.path, destination)
                except OSError:
                    shutil.copyfile(entry.path, destination)
                    fsync_path(destination)
                copied += 1
            fsync_path(target / folder.name)
        if target.is_dir():
            fsync_path(target)
        return copied

    def clear_partial(self, *, stale_after: float = 3600.0) -> int:
        """Remove partial files a crash left behind (none is ever referenced); how many. Another
        process's area is left alone unless its files have not been written for `stale_after`
        seconds (a process that ended without clearing its own, e.g. killed and not restarted)."""
        removed = 0
        areas = [self._partials]
        shared = self.root / PARTIAL_DIR
        if self._area and shared.is_dir():
            areas += [f for f in sorted(shared.iterdir()) if f.is_dir() and f != self._partials]
        for folder in areas:
            if not folder.is_dir():
                continue
            mine = folder == self._partials
            for leftover in folder.iterdir():
                if leftover.is_file() and (mine or time.time() - leftover.stat().st_mtime > stale_after):
                    leftover.unlink(missing_ok=True)
                    removed += 1
        return removed


class BlobWriter:
    """One blob being streamed in. `write()` appends a chunk (a plain write to the page cache,
    cheap enough for the event loop); `commit()` makes it a blob; `discard()` drops it.
    Usable as a context manager that discards whatever was not committed."""

    def __init__(self, store: BlobStore, partial: Path) -> None:
        self._store = store
        self._partial = partial
        self._file = open(self._partial, "wb")  # noqa: SIM115 - closed by commit() or discard()
        self.size = 0
        self.head = b""  # the first HEAD_BYTES bytes, for sniffing the type without reading back

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()

    def write(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self._file.write(chunk)
        self.size += len(chunk)

    def flushed(self) -> Path:
        """The partial file with every chunk written so far, to be read (checked) before commit."""
        self._file.flush()
        return self._partial

    async def commit(self, check: Callable[[Path], None] | None = None) -> str:
        """Close, run `check(path)` (it raises to refuse the bytes), hash, fsync and rename the file
        to its digest, all in one worker-thread call. Returns the digest. On any error the partial
        file is removed and the error propagates: BlobRejected when `check` refused the bytes,
        OSError when the disk failed."""
        try:
            return await asyncio.to_thread(self._commit, check)
        finally:
            self.discard()

    def _commit(self, check: Callable[[Path], None] | None) -> str:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        if check is not None:
            try:
                check(self._partial)
            except Exception as exc:
                raise BlobRejected(f"{type(exc).__name__}: {exc}") from exc
        digest = hashlib.sha256()
        with open(self._partial, "rb") as fh:
            while chunk := fh.read(_READ_CHUNK):
                digest.update(chunk)
        blob = digest.hexdigest()
        final = self._store.path(blob)
        if _touch(final):
            return blob  # the same bytes are already stored; discard() removes the copy
        if not final.parent.is_dir():
            final.parent.mkdir(parents=True, exist_ok=True)
            fsync_path(final.parent.parent)  # the new folder's own name
        os.replace(self._partial, final)
        # The rename lives in the folder's entries: without this a power cut can lose the name of a
        # blob whose charge the database keeps.
        fsync_path(final.parent)
        return blob

    def discard(self) -> None:
        """Drop the partial file (a no-op once committed or discarded)."""
        if not self._file.closed:
            self._file.close()
        self._partial.unlink(missing_ok=True)


def _touch(path: Path) -> bool:
    """Refresh an existing blob's time (it is in use again); False when there is no such blob."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True

