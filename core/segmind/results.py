"""Where a result image goes: a sink the caller hands the client, and what the client gives back.

The client checks the bytes (magic bytes, then a whole-file verify in a thread) but does not keep
them: it writes them into the `ResultSink` it was given (core.blobs.BlobStore in the bot) and
returns the sink's name for them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.blobs import BlobRejected
from core.errors import ProviderBadOutput
from core.images import sniff_image_type
from core.segmind.protocol import OUTPUT_TYPES, verify_image


class ResultWriter(Protocol):
    """One result being written. `commit` runs `check` on the whole file (in a thread) and raises
    core.blobs.BlobRejected when it refuses the bytes; leaving the context without a commit discards them."""

    size: int
    head: bytes

    def write(self, chunk: bytes) -> None: ...

    async def commit(self, check: Callable[[Path], None] | None = None) -> str: ...


class ResultSink(Protocol):
    def writer(self) -> AbstractContextManager[ResultWriter]: ...

    def path(self, digest: str) -> Path: ...


@dataclass(frozen=True)
class StoredResult:
    """A result image already in the sink: checked, durable, never held whole in memory."""

    blob: str
    path: Path
    size: int
    mime: str  # from the magic bytes, never from Content-Type


@dataclass(frozen=True)
class GeneratedImage:
    blob: str  # the image, stored in the sink before anyone is charged for it
    path: Path
    size: int
    mime: str  # from the magic bytes, never from Content-Type
    request_id: str | None  # v2 request id; on v1 the x-request-id header when Segmind sends one
    seed: int | None
    cost_usd: float | None
    remaining_credits_usd: float | None
    generation_seconds: float | None

    def read_bytes(self) -> bytes:
        """The whole image (for tests and tools; the pipeline streams the file instead)."""
        return self.path.read_bytes()


async def commit_image(sink: ResultSink, writer: ResultWriter) -> StoredResult:
    """Check the streamed bytes are a whole PNG/JPEG/WebP image, then keep them in the sink."""
    if not writer.size:
        raise ProviderBadOutput("result image is empty", status=200)
    mime = sniff_image_type(writer.head)
    if mime not in OUTPUT_TYPES:
        raise ProviderBadOutput(f"result is not a PNG, JPEG or WebP image ({writer.size} bytes)", status=200)
    try:
        blob = await writer.commit(check=verify_image)
    except BlobRejected as exc:
        raise ProviderBadOutput(
            f"result {mime} image is damaged ({type(exc.__cause__).__name__})", status=200
        ) from None
    return StoredResult(blob=blob, path=sink.path(blob), size=writer.size, mime=mime)


async def store_inline(sink: ResultSink, data: bytes) -> StoredResult:
    """An image that came inline (base64, or the answer's own body) into the sink."""
    with sink.writer() as writer:
        writer.write(data)
        return await commit_image(sink, writer)
