"""Image bytes: what they really are (magic bytes, never the Content-Type), their size, and re-encoding.

Everything here is blocking and CPU-bound: call it through `core.references.ImageWork` (a bounded,
timed worker thread), never on the event loop. Since a thread cannot be stopped, the work itself
is bounded too:
- Pillow's decompression-bomb guard is strict: an image whose header announces more than
  MAX_INPUT_PIXELS is refused before its pixels are decoded;
- the container is walked before Pillow sees it (`scan_structure`): a PNG of more chunks, or a JPEG
  of more markers, than any real encoder writes is refused (Pillow parses those one by one in
  Python: 1.75 million empty PNG chunks kept a core busy for seconds);
- text chunks are capped well below Pillow's defaults, and truncated images are never "loaded".
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageFile, PngImagePlugin

from core.errors import InvalidAttachment

MAX_INPUT_PIXELS = 40_000_000  # 40 MP, far above what either model uses
Image.MAX_IMAGE_PIXELS = MAX_INPUT_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False
PngImagePlugin.MAX_TEXT_CHUNK = 256 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = 1024 * 1024

# Encoders split the pixel data into chunks of 8-64 KiB (libpng: 8 KiB), so a real PNG has about
# one chunk per 8 KiB and a few dozen others; a JPEG has a few dozen markers before its scan.
PNG_CHUNKS_BASE = 1024
PNG_BYTES_PER_CHUNK = 1024  # a further chunk allowed per KiB of file
PNG_MAX_OTHER_CHUNKS = 512  # chunks that are not pixel data (text, colour, private)
JPEG_MAX_MARKERS = 1024  # segments before the first scan (EXIF, ICC profile pieces, tables)

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


class BadStructure(ValueError):
    """The container holds more pieces than any real image (a parser bomb)."""


def scan_structure(fh: BinaryIO, size: int) -> None:
    """Walk a PNG's chunks or a JPEG's markers without decoding anything; raise BadStructure when
    there are more than a real image has. Reads only the 8-byte headers (seeking past the data),
    and stops after a bounded number of them, so it costs milliseconds whatever the file holds."""
    start = fh.tell()
    head = fh.read(8)
    try:
        if head == b"\x89PNG\r\n\x1a\n":
            _scan_png(fh, size)
        elif head[:2] == b"\xff\xd8":
            fh.seek(start + 2)
            _scan_jpeg(fh)
    finally:
        fh.seek(start)


def _scan_png(fh: BinaryIO, size: int) -> None:
    most = PNG_CHUNKS_BASE + size // PNG_BYTES_PER_CHUNK
    chunks = others = 0
    while header := fh.read(8):
        if len(header) < 8:
            return  # truncated: Pillow says so
        length, kind = struct.unpack(">I4s", header)
        chunks += 1
        if kind != b"IDAT":
            others += 1
        if chunks > most or others > PNG_MAX_OTHER_CHUNKS:
            raise BadStructure(f"more than {chunks - 1} PNG chunks")
        if kind == b"IEND":
            return
        fh.seek(length + 4, os.SEEK_CUR)  # the data and its CRC


def _scan_jpeg(fh: BinaryIO) -> None:
    for _ in range(JPEG_MAX_MARKERS):
        marker = fh.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return  # not where a marker should be: Pillow decides
        kind = marker[1]
        if kind == 0xFF:
            fh.seek(-1, os.SEEK_CUR)  # fill byte
            continue
        if kind in (0xD9, 0xDA):  # end of image, start of scan: the rest is entropy-coded data
            return
        if 0xD0 <= kind <= 0xD7 or kind == 0x01:
            continue  # markers without a length
        length = fh.read(2)
        if len(length) < 2:
            return
        fh.seek(struct.unpack(">H", length)[0] - 2, os.SEEK_CUR)
    raise BadStructure(f"more than {JPEG_MAX_MARKERS} JPEG markers before the image data")


def inspect_input(filename: str, data: bytes | Path, *, max_bytes: int) -> ImageInfo:
    """Check an uploaded reference image completely, without trusting its name or Content-Type.
    `data` is the image's bytes or its file (read in pieces, never whole).

    Raises InvalidAttachment naming the file for anything that is not a still PNG, JPEG or WebP
    of known, sane dimensions. Blocking: run it through core.references.ImageWork.
    """
    size = len(data) if isinstance(data, bytes) else data.stat().st_size
    if not size:
        raise InvalidAttachment(filename, "is empty")
    if size > max_bytes:
        raise InvalidAttachment(filename, f"is larger than {max_bytes // (1024 * 1024)} MiB")
    with io.BytesIO(data) if isinstance(data, bytes) else open(data, "rb") as fh:
        return _inspect(filename, fh, size)


def _inspect(filename: str, fh: BinaryIO, size: int) -> ImageInfo:
    mime = sniff_image_type(fh.read(32))
    fh.seek(0)
    if mime not in ALLOWED_INPUT_TYPES:
        raise InvalidAttachment(filename, "is not a PNG, JPEG or WebP image")
    try:
        scan_structure(fh, size)
    except BadStructure:
        raise InvalidAttachment(filename, "has a hostile structure (far more pieces than an image has)") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fh) as img:
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


# What a reference is sent as, at most. BFL: FLUX.2 works at up to 4 MP [docs]; Segmind's own input
# limits are not documented [?] (third parties resize anything over 4 MP), and neither is its upload
# size limit [?]: a few MiB per image keeps the upload body small whatever the member attached.
MAX_REFERENCE_PIXELS = 4 * 1024 * 1024
MAX_REFERENCE_BYTES = 6 * 1024 * 1024


def prepare_reference(
    path: Path, scratch: Path, *, max_pixels: int = MAX_REFERENCE_PIXELS, max_bytes: int = MAX_REFERENCE_BYTES
) -> tuple[Path, str, bool]:
    """The file to send for a stored reference: itself when it is within `max_pixels` and
    `max_bytes`, else a downscaled copy written into the folder `scratch` (JPEG, or PNG when it
    has transparency). Returns (file, MIME type, whether the file is a copy the caller deletes).
    Blocking and CPU-bound (it decodes the image): run it through core.references.ImageWork."""
    size = path.stat().st_size
    with open(path, "rb") as fh, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        scan_structure(fh, size)  # a reference stored before this check existed, or a result
        with Image.open(fh) as img:
            mime = Image.MIME.get(img.format or "", "image/png")
            pixels = img.width * img.height
            if pixels <= max_pixels and size <= max_bytes:
                return path, mime, False
            alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
            mode = "RGBA" if alpha else "RGB"
            scale = min(1.0, (max_pixels / pixels) ** 0.5)
            # draft(): a JPEG is decoded at 1/2, 1/4 or 1/8 scale straight away, which is most of the cost.
            img.draft(mode, (max(1, int(img.width * scale)), max(1, int(img.height * scale))))
            # Only the decoded image and one smaller copy are ever held (converted only when it must be).
            image = img.convert(mode) if img.mode != mode else img
            return _encode_within(image, scratch, alpha, max_pixels, max_bytes)


def _encode_within(image: Image.Image, scratch: Path, alpha: bool, max_pixels: int, max_bytes: int) -> tuple[Path, str, bool]:
    fmt, mime = ("PNG", "image/png") if alpha else ("JPEG", "image/jpeg")
    fd, name = tempfile.mkstemp(dir=scratch, suffix="." + EXTENSIONS[mime])
    out = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            scale = min(1.0, (max_pixels / (image.width * image.height)) ** 0.5)  # draft() may have shrunk it
            for _ in range(8):
                target = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
                candidate = (
                    image if target == image.size else image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
                )
                fh.seek(0)
                fh.truncate()
                candidate.save(fh, fmt, **({"quality": 90} if fmt == "JPEG" else {"compress_level": 6}))
                del candidate
                if fh.tell() <= max_bytes:
                    return out, mime, True
                scale *= 0.75
        raise ValueError(f"cannot bring the image under {max_bytes} bytes")
    except BaseException:
        out.unlink(missing_ok=True)
        raise


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
    # Bytes spliced into the streamed file at an offset (a PNG's text chunks), never into the stored file.
    insert: tuple[int, bytes] | None = None

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.mime, "png")


def prepare_upload(path: Path, mime: str, limit: int) -> PreparedUpload:
    """Blocking (it reads the file's header, and all of it when it must be re-encoded): run it in a thread."""
    if path.stat().st_size <= limit:
        return PreparedUpload(mime, image_dimensions(path), path=path)
    data, mime = fit_under(path.read_bytes(), limit)
    return PreparedUpload(mime, image_dimensions(data), data=data)
