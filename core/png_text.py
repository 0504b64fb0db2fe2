"""Text chunks (iTXt, UTF-8) written into a PNG without re-encoding it: prompt, seed, model.

The stored result stays exactly as Segmind made it: blobs are content-addressed (their name is
their hash, shared by every job and reference that uses the same bytes), so the text is added to
the copy that is uploaded, not to the stored file. Inserting chunks after IHDR touches no pixel
data; the image decodes the same.
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_BYTES = 4000  # a prompt is at most a few thousand characters; keep the chunk small


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def itxt(keyword: str, text: str) -> bytes:
    """One uncompressed iTXt chunk (keyword Latin-1, 1-79 bytes; text UTF-8)."""
    key = keyword.encode("latin-1")[:79]
    body = text.encode("utf-8")[:MAX_TEXT_BYTES]
    return _chunk(b"iTXt", key + b"\x00\x00\x00" + b"\x00" + b"\x00" + body)


# What a PNG's start must hold to find where its IHDR chunk ends (signature + IHDR's length and type).
HEADER_BYTES = 16


def end_of_ihdr(header: bytes) -> int | None:
    """Where the text chunks go (right after IHDR), from the file's first HEADER_BYTES; None if not a PNG."""
    if not header.startswith(PNG_SIGNATURE) or header[12:16] != b"IHDR":
        return None
    (ihdr_length,) = struct.unpack(">I", header[8:12])
    return 8 + 12 + ihdr_length


def text_chunks(fields: dict[str, str]) -> bytes:
    return b"".join(itxt(key, value) for key, value in fields.items())


def with_text(png: bytes, fields: dict[str, str]) -> bytes:
    """`png` with one iTXt chunk per field right after its IHDR chunk; unchanged if not a PNG."""
    at = end_of_ihdr(png[:HEADER_BYTES])
    if at is None:
        return png
    return png[:at] + text_chunks(fields) + png[at:]


def read_text(png: bytes) -> dict[str, str]:
    """The iTXt fields of a PNG (for tests and for anyone checking a downloaded image)."""
    found: dict[str, str] = {}
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"iTXt":
            key, _, rest = data.partition(b"\x00")
            # compression flag, method, language tag\0, translated keyword\0, text
            rest = rest[2:]
            _, _, rest = rest.partition(b"\x00")
            _, _, text = rest.partition(b"\x00")
            found[key.decode("latin-1")] = text.decode("utf-8", "replace")
        if kind == b"IEND":
            break
        pos += 12 + length
    return found
