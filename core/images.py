"""Image bytes: what they really are (magic bytes, never the Content-Type), their size, and re-encoding.

Pillow's decompression-bomb guard is made strict here: an image whose header announces more
than MAX_INPUT_PIXELS is refused before its pixels are decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from core.errors import InvalidAttachment

MAX_INPUT_PIXELS = 40_000_000  # 40 MP, far above what either model uses
Image.MAX_IMAGE_PIXELS = MAX_INPUT_PIXELS

ALLOWED_INPUT_TYPES = {"image/png", "image/jpeg", "image/webp"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def sniff_image_type(data: bytes) -> str | None:
    """The MIME type the magic bytes announce, or None when they are not a known raster image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


@dataclass(frozen=True)
class ImageInfo:
    mime: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.mime]


def inspect_input(filename: str, data: bytes, *, max_bytes: int) -> ImageInfo:
    """Check an uploaded reference image completely, without trusting its name or Content-Type.

    Raises InvalidAttachment naming the file for anything that is not a still PNG, JPEG or WebP
    of known, sane dimensions.
    """
    if not data:
        raise InvalidAttachment(filename, "is empty")
    if len(data) > max_bytes:
        raise InvalidAttachment(filename, f"is larger than {max_bytes // (1024 * 1024)} MiB")
    mime = sniff_image_type(data)
    if mime not in ALLOWED_INPUT_TYPES:
        raise InvalidAttachment(filename, "is not a PNG, JPEG or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width <= 0 or height <= 0:
                    raise InvalidAttachment(filename, "has no dimensions")
                if width * height > MAX_INPUT_PIXELS:
                    raise InvalidAttachment(filename, "has too many pixels")
                if getattr(img, "is_animated", False):
                    raise InvalidAttachment(filename, "is animated")
                img.verify()  # structure check without decoding every pixel
    except InvalidAttachment:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidAttachment(filename, "has too many pixels") from None
    except Exception:
        raise InvalidAttachment(filename, "could not be read as an image (damaged or truncated)") from None
    return ImageInfo(mime=mime, width=width, height=height)


def fit_under(data: bytes, limit: int) -> tuple[bytes, str]:
    """Re-encode an image so it is at most `limit` bytes: JPEG at falling quality, then smaller sizes.

    Returns the bytes and their MIME type. Data already under the limit comes back unchanged.
    """
    mime = sniff_image_type(data) or "application/octet-stream"
    if len(data) <= limit:
        return data, mime
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        scale = 1.0
        while True:
            candidate = img if scale == 1.0 else img.resize(
                (max(1, int(img.width * scale)), max(1, int(img.height * scale))), Image.Resampling.LANCZOS
            )
            for quality in (90, 80, 70, 60):
                out = io.BytesIO()
                candidate.save(out, "JPEG", quality=quality, optimize=True)
                if out.tell() <= limit:
                    return out.getvalue(), "image/jpeg"
            if candidate.width <= 64 or candidate.height <= 64:
                raise ValueError(f"cannot fit the image under {limit} bytes")
            scale *= 0.75


def image_dimensions(source: bytes | Path) -> tuple[int, int] | None:
    """Width and height from the header only (None if Pillow cannot tell)."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
            return img.size
    except Exception:
        return None


@dataclass(frozen=True)
class PreparedUpload:
    """A stored image made ready for an upload limit: the file itself when it fits (streamed from
    disk, never loaded), otherwise its re-encoded bytes."""

    mime: str
    dimensions: tuple[int, int] | None
    path: Path | None = None
    data: bytes | None = None

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.mime, "png")


def prepare_upload(path: Path, mime: str, limit: int) -> PreparedUpload:
    """Blocking (it reads the file's header, and all of it when it must be re-encoded): run it in a thread."""
    if path.stat().st_size <= limit:
        return PreparedUpload(mime, image_dimensions(path), path=path)
    data, mime = fit_under(path.read_bytes(), limit)
    return PreparedUpload(mime, image_dimensions(data), data=data)
