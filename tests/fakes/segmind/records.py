"""What the fake Segmind keeps: models and their documented keys, prices, scripted faults, bills,
recorded requests and queued jobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

PRO = "flux-2-pro"
KLEIN = "flux-2-klein-9b"
MODELS = (PRO, KLEIN)
ENDPOINTS = ("v1", "submit", "status", "result", "download", "upload", "credits")

PRO_KEYS = {"prompt", "image_urls", "width", "height", "output_format", "safety_tolerance", "seed"}
KLEIN_KEYS = {
    "prompt",
    "image_urls",
    "aspect_ratio",
    "negative_prompt",
    "seed",
    "cfg",
    "sampler",
    "steps",
    "go_fast",
    "image_format",
    "quality",
}
# Segmind's page lists ten ratios "+1 more"; 21:9 is the likely one (a guess, marked as such).
KLEIN_ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
MATCH_INPUT = "match_input_image"
# Per-call prices in USD: Pro from its seed page; Klein's is not published per call on Segmind,
# so BFL's $0.015/MP at ~1 MP stands in.
DEFAULT_PRICES = {PRO: 0.073, KLEIN: 0.015}
FETCH_MAX_BYTES = 30 * 1024 * 1024
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg"}


def _image_kind(data: bytes) -> str | None:
    for magic, kind in IMAGE_TYPES.items():
        if data.startswith(magic):
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


@dataclass
class Fault:
    """One scripted answer. `hang`: no answer until the client gives up; `drop`: close the
    connection without an answer; `accept` (submit/v1): the normal handling runs first (the job
    exists and will be billed), then this fault replaces the reply, i.e. "accepted, reply lost"."""

    status: int = 500
    body: bytes | dict | str | None = None
    headers: dict | None = None
    delay: float = 0.0
    hang: bool = False
    drop: bool = False
    accept: bool = False
    chunked: bool = False  # send the body with chunked encoding (no Content-Length)
    passthrough: bool = False  # only `delay`, then the normal answer (a slow endpoint)
    expire: bool = False  # status/result/download: forget the request first (then the normal 404s)


@dataclass
class Bill:
    """One billed generation: which request, for which prompt."""

    request_id: str
    slug: str
    prompt: str
    cost: float
    api: str  # "v2" or "v1"


@dataclass
class RecordedRequest:
    method: str
    path: str
    endpoint: str | None
    status: int | None  # None: no answer was sent (dropped, or hung until the client left)
    time: float
    body: Any  # parsed JSON when it parses, else the raw bytes
    had_api_key: bool
    wall: float = 0.0  # time.time() of its arrival, to set against times other processes wrote


@dataclass
class FakeJob:
    request_id: str
    slug: str
    body: dict
    created: float
    status: str = "QUEUED"
    error: str | None = None
    file_url: str | None = None
    mime: str | None = None
    size: tuple[int, int] | None = None
    seed: int = 0
    cost: float = 0.0
    predict_time: float = 0.0
    fail: tuple[str, str] | None = None


@dataclass
class _Accepted:
    slug: str
    body: dict
    seed: int
    seed_given: bool
    size: tuple[int, int]
    fmt: str
    quality: int
    cost: float
    fail: tuple[str, str] | None = None


class _Refusal(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class _Stored:
    data: bytes
    mime: str


_RECORD = web.RequestKey("record", RecordedRequest)
_DROPPED = web.RequestKey("dropped", bool)
