"""A fake of Segmind's FLUX.2 serverless API, over real sockets (aiohttp on 127.0.0.1, port 0).

It follows the seed documents and ../shared/reference/segmind-flux2.md, not the bot's client:
- v1 (`POST /v1/<slug>`) answers 200 with RAW image bytes and the x-* headers third parties report.
- v2 (`POST /v2/<slug>`) queues a job (QUEUED → PROCESSING → COMPLETED|FAILED after `latency`);
  `GET /v2/requests/<id>/status` and `GET /v2/requests/<id>` report it; a FAILED job answers 422
  `{"status": "FAILED", "error": ...}` on both; unknown or expired ids (older than `retention`) 404.
- Result images are public files (`GET /files/<name>`, like Segmind's S3 links); uploads
  (`POST /upload-asset`) become public files under `/uploads/<name>`.
- Parameters are checked by this module's own rules (not core/models.py); reference URLs are
  really fetched, as Segmind must fetch them.
- Only a finished generation is billed (`billed`, `account_credits`).

Scripted faults (`script`) replace the normal answer of one endpoint for the next requests;
with `prompt=` they apply only to requests of a generation whose prompt contains that text (its
submit, its status/result polls, its result file), so many concurrent jobs can each get their own.
`bills` records which request was billed; `slow(marker, s)` makes matching jobs take longer.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import io
import json
import math
import random
import struct
import time
import traceback
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image, ImageDraw

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


class FakeSegmind:
    def __init__(
        self,
        api_key: str = "test-key",
        *,
        latency: float = 0.05,
        account_credits: float = 100.0,
        rate_limit_per_minute: int | None = None,
        image_size: tuple[int, int] | None = None,
    ) -> None:
        self.api_key = api_key
        self.latency = latency
        self.account_credits = account_credits
        self.rate_limit_per_minute = rate_limit_per_minute
        # None: the requested size divided by `scale` (1/8 by default, to keep CPU low in tests;
        # set scale = 1 for full-size images). A fixed (w, h) overrides both.
        self.image_size = image_size
        self.scale = 8
        self.retention = 3600.0  # seconds a v2 request stays known (Segmind: about 1 hour)
        self.result_bytes_size: int | None = None  # pad every result image to this many bytes
        # How the v2 result names the image: "url" (documented), "list", "dict", "images",
        # "data_uri" or "base64" (other plausible forms the client must also read).
        self.result_form = "url"
        self.upload_reply_key = "file_urls"  # sources disagree: "file_urls" or "urls"
        self.prices = dict(DEFAULT_PRICES)

        self.billed = 0
        self.bills: list[Bill] = []
        self.rate_limited = 0
        self.requests: list[RecordedRequest] = []
        self.submits: list[dict] = []  # accepted v2 submit bodies
        self.v1_calls: list[dict] = []  # accepted v1 bodies
        self.v1_results: dict[str, bytes] = {}  # request id -> the image bytes a v1 call answered
        self.uploads: list[str] = []  # URLs handed out by /upload-asset
        self.fetched_urls: list[str] = []  # reference URLs the fake fetched
        self.unknown_params: list[tuple[str, str]] = []  # (slug, key) the docs do not list
        self.server_errors: list[str] = []  # tracebacks of bugs in the fake itself (answered 500)
        self.fired: list[str] = []  # "endpoint" or "endpoint:marker" of every scripted fault consumed
        self.jobs: dict[str, FakeJob] = {}

        self._faults: dict[str, collections.deque[Fault]] = {e: collections.deque() for e in ENDPOINTS}
        # endpoint -> [(prompt marker, faults)]: faults for the requests of one generation only
        self._targeted: dict[str, list[tuple[str, collections.deque[Fault]]]] = {e: [] for e in ENDPOINTS}
        self._slow: dict[str, float] = {}
        self._failures_for: dict[str, tuple[str, str]] = {}
        self._next_failure: tuple[str, str] | None = None
        self._pending_cost = 0.0
        self._window: collections.deque[float] = collections.deque()
        self._files: dict[str, _Stored] = {}
        self._expired: set[str] = set()
        self._tasks: set[asyncio.Task] = set()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._fetcher: aiohttp.ClientSession | None = None
        self._port: int | None = None
        self._rng = random.Random(1234)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record], client_max_size=64 * 1024 * 1024)
        app.router.add_get("/v1/get-user-credits", self._credits)
        app.router.add_post("/v1/{slug}", self._v1)
        app.router.add_post("/v2/{slug}", self._submit)
        app.router.add_get("/v2/requests/{rid}/status", self._status)
        app.router.add_get("/v2/requests/{rid}", self._result)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_post("/upload-asset", self._upload)
        app.router.add_get("/uploads/{name}", self._file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._fetcher = aiohttp.ClientSession()

    async def close(self) -> None:
        self._closing.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._fetcher is not None:
            await self._fetcher.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeSegmind:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        assert self._port is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._port}"

    @property
    def upload_url(self) -> str:
        return self.base_url + "/upload-asset"

    # -- test controls ----------------------------------------------------------------------------

    def script(self, endpoint: str, *faults: Fault, prompt: str | None = None) -> None:
        """The next requests to `endpoint` consume these faults, one each, in order.

        With `prompt`, only requests belonging to a generation whose prompt contains that text
        consume them (submit/v1 by their body; status/result/download by the request id).
        """
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS}")
        if prompt is None:
            self._faults[endpoint].extend(faults)
        else:
            self._targeted[endpoint].append((prompt, collections.deque(faults)))

    def slow(self, prompt: str, seconds: float) -> None:
        """Generations whose prompt contains `prompt` take `seconds` instead of `latency`."""
        self._slow[prompt] = seconds

    def fail_job(self, kind: str = "error", message: str | None = None, *, prompt: str | None = None) -> None:
        """The NEXT accepted generation (v2 job or v1 call) fails with this error and is not billed;
        with `prompt`, the next one whose prompt contains that text."""
        if kind not in ("moderated", "error"):
            raise ValueError("kind is 'moderated' or 'error'")
        default = (
            "Content Moderated: the output was flagged by the safety filter"
            if kind == "moderated"
            else "Prediction failed: internal error"
        )
        if prompt is None:
            self._next_failure = (kind, message or default)
        else:
            self._failures_for[prompt] = (kind, message or default)

    def is_expired(self, request_id: str) -> bool:
        job = self.jobs.get(request_id)
        return job is None or request_id in self._expired or time.monotonic() - job.created > self.retention

    def result_image(self, request_id: str) -> bytes | None:
        """The image a finished v2 job's result file or a v1 call served (what the bot should post)."""
        if request_id in self.v1_results:
            return self.v1_results[request_id]
        job = self.jobs.get(request_id)
        if job is None or job.file_url is None:
            return None
        stored = self._files.get(job.file_url.rsplit("/", 1)[1])
        return None if stored is None else stored.data

    def expire(self, request_id: str) -> None:
        """Forget a request as if its retention had passed."""
        self._expired.add(request_id)

    def calls(self, endpoint: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.endpoint == endpoint]

    def file_count(self) -> int:
        return len(self._files)

    def pending_faults(self) -> list[str]:
        """Scripted faults and failures no request consumed (a fault that never fired proves nothing)."""
        pending = [f"{e}: {len(q)} fault(s)" for e, q in self._faults.items() if q]
        pending += [f"{e}:{m}: {len(q)} fault(s)" for e, targeted in self._targeted.items() for m, q in targeted if q]
        pending += [f"fail_job:{m}" for m in self._failures_for]
        if self._next_failure is not None:
            pending.append("fail_job")
        return pending

    # -- plumbing -----------------------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler):
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            endpoint=self._endpoint_of(request),
            status=None,
            time=time.monotonic(),
            body=body,
            had_api_key="x-api-key" in request.headers,
        )
        self.requests.append(record)
        request[_RECORD] = record
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            record.status = exc.status
            raise
        except ConnectionError:
            raise  # the client went away mid-answer: its right, not a bug here
        except Exception:  # a bug in the fake: answer 500 and make it visible (it is no injected fault)
            self.server_errors.append(f"{request.method} {request.path}\n{traceback.format_exc()}")
            response = web.json_response({"error": "fake Segmind crashed"}, status=500)
        if not request.get(_DROPPED):
            record.status = response.status
        return response

    @staticmethod
    def _endpoint_of(request: web.Request) -> str | None:
        path, method = request.path, request.method
        if path == "/v1/get-user-credits":
            return "credits"
        if path.startswith("/v1/") and method == "POST":
            return "v1"
        if path.startswith("/v2/requests/"):
            return "status" if path.endswith("/status") else "result"
        if path.startswith("/v2/") and method == "POST":
            return "submit"
        if path.startswith("/files/"):
            return "download"
        if path == "/upload-asset":
            return "upload"
        return None

    def _prompt_of(self, endpoint: str, request: web.Request) -> str | None:
        """The prompt of the generation a request belongs to, when the fake can tell."""
        if endpoint in ("submit", "v1"):
            body = request[_RECORD].body
            return body.get("prompt") if isinstance(body, dict) and isinstance(body.get("prompt"), str) else None
        if endpoint in ("status", "result"):
            job = self.jobs.get(request.match_info.get("rid", ""))
        elif endpoint == "download":
            job = self.jobs.get(request.match_info.get("name", "").rsplit(".", 1)[0])
        else:
            return None
        return str(job.body.get("prompt", "")) if job is not None else None

    def _request_id_of(self, endpoint: str, request: web.Request) -> str | None:
        if endpoint in ("status", "result"):
            return request.match_info.get("rid")
        if endpoint == "download":
            return request.match_info.get("name", "").rsplit(".", 1)[0]
        return None

    async def _take_fault(self, endpoint: str, request: web.Request) -> Fault | None:
        """The fault this request consumes, if any; `passthrough`/`expire` faults are acted on here
        and leave the normal handling to run."""
        fault = None
        prompt = self._prompt_of(endpoint, request) if self._targeted[endpoint] else None
        if prompt is not None:
            for marker, queue in self._targeted[endpoint]:
                if queue and marker in prompt:
                    fault = queue.popleft()
                    self.fired.append(f"{endpoint}:{marker}")
                    break
            self._targeted[endpoint] = [(m, q) for m, q in self._targeted[endpoint] if q]
        if fault is None:
            queue = self._faults[endpoint]
            fault = queue.popleft() if queue else None
            if fault is not None:
                self.fired.append(endpoint)
        if fault is None:
            return None
        if fault.expire:
            request_id = self._request_id_of(endpoint, request)
            if request_id:
                self._expired.add(request_id)
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return None
        if fault.passthrough:
            await asyncio.sleep(fault.delay)
            return None
        return fault

    async def _apply_fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.hang:
            # Stay silent until the client closes the connection (its timeout) or the fake stops.
            while (
                not self._closing.is_set()
                and request.transport is not None
                and not request.transport.is_closing()
            ):
                await asyncio.sleep(0.01)
            return self._drop(request)
        if fault.drop:
            return self._drop(request)
        headers = dict(fault.headers or {})
        body = fault.body
        if body is None:
            body = {"error": HTTPStatus(fault.status).phrase} if fault.status >= 400 else b""
        if isinstance(body, dict | list):
            payload = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            payload = body.encode()
            headers.setdefault("Content-Type", "text/html" if body.lstrip().startswith("<") else "text/plain")
        else:
            payload = body
            headers.setdefault("Content-Type", "application/octet-stream")
        if fault.chunked:
            response = web.StreamResponse(status=fault.status, headers=headers)
            response.enable_chunked_encoding()
            try:
                await response.prepare(request)
                for start in range(0, len(payload), 16 * 1024):
                    await response.write(payload[start : start + 16 * 1024])
                await response.write_eof()
            except ConnectionError:
                pass  # the client stopped reading (e.g. its size cap): that is its right
            return response
        return web.Response(status=fault.status, body=payload, headers=headers)

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        request[_DROPPED] = True
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)  # never reaches the client: the socket is gone

    @staticmethod
    def _json_error(status: int, message: str, headers: dict | None = None) -> web.Response:
        return web.json_response({"error": message}, status=status, headers=headers)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("x-api-key") == self.api_key

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _url(self, path: str) -> str:
        return self.base_url + path

    # -- generation endpoints -----------------------------------------------------------------------

    async def _v1(self, request: web.Request) -> web.StreamResponse:
        fault = await self._take_fault("v1", request)
        if fault is not None and not fault.accept:
            return await self._apply_fault(request, fault)
        try:
            accepted = await self._accept(request)
        except _Refusal as refusal:
            return self._json_error(refusal.status, refusal.message, refusal.headers)
        self.v1_calls.append(accepted.body)
        await asyncio.sleep(self._latency_for(str(accepted.body.get("prompt", ""))))
        self._pending_cost -= accepted.cost
        if accepted.fail is not None:
            # v1 has no job to fail: the refusal comes back as a 400 with Segmind's error text.
            response: web.StreamResponse = self._json_error(400, accepted.fail[1])
        else:
            data, mime = await self._render(accepted)
            request_id = str(uuid.uuid4())
            self.v1_results[request_id] = data
            self._bill(
                accepted.cost, Bill(request_id, accepted.slug, str(accepted.body.get("prompt", "")), accepted.cost, "v1")
            )
            response = web.Response(
                body=data,
                content_type=mime,
                headers={
                    "x-remaining-credits": f"{self.account_credits:.4f}",
                    "x-cost": f"{accepted.cost:.4f}",
                    "x-generation-time": f"{self.latency:.2f}",
                    "x-seed-value": str(accepted.seed),
                    "x-request-id": request_id,
                },
            )
        if fault is not None:
            return await self._apply_fault(request, fault)
        return response

    async def _submit(self, request: web.Request) -> web.StreamResponse:
        fault = await self._take_fault("submit", request)
        if fault is not None and not fault.accept:
            return await self._apply_fault(request, fault)
        try:
            accepted = await self._accept(request)
        except _Refusal as refusal:
            return self._json_error(refusal.status, refusal.message, refusal.headers)
        request_id = str(uuid.uuid4())
        job = FakeJob(
            request_id=request_id,
            slug=accepted.slug,
            body=accepted.body,
            created=time.monotonic(),
            seed=accepted.seed,
            cost=accepted.cost,
            fail=accepted.fail,
        )
        self.jobs[request_id] = job
        self.submits.append(accepted.body)
        self._spawn(self._run_job(job, accepted))
        if fault is not None:
            return await self._apply_fault(request, fault)
        return web.json_response(
            {
                "request_id": request_id,
                "status": "QUEUED",
                "status_url": self._url(f"/v2/requests/{request_id}/status"),
                "response_url": self._url(f"/v2/requests/{request_id}"),
            }
        )

    def _latency_for(self, prompt: str) -> float:
        return next((s for marker, s in self._slow.items() if marker in prompt), self.latency)

    async def _run_job(self, job: FakeJob, accepted: _Accepted) -> None:
        started = time.monotonic()
        latency = self._latency_for(str(accepted.body.get("prompt", "")))
        await asyncio.sleep(latency / 2)
        job.status = "PROCESSING"
        await asyncio.sleep(latency / 2)
        self._pending_cost -= job.cost
        if job.fail is not None:
            job.status, job.error = "FAILED", job.fail[1]
            return
        data, mime = await self._render(accepted)
        name = f"{job.request_id}.{mime.split('/')[1]}"
        self._files[name] = _Stored(data, mime)
        job.file_url, job.mime, job.size = self._url(f"/files/{name}"), mime, accepted.size
        job.predict_time = time.monotonic() - started
        self._bill(job.cost, Bill(job.request_id, job.slug, str(job.body.get("prompt", "")), job.cost, "v2"))
        job.status = "COMPLETED"

    def _bill(self, cost: float, bill: Bill) -> None:
        self.billed += 1
        self.bills.append(bill)
        self.account_credits -= cost

    def _job(self, request: web.Request) -> FakeJob | None:
        job = self.jobs.get(request.match_info["rid"])
        if job is None or job.request_id in self._expired or time.monotonic() - job.created > self.retention:
            return None
        return job

    async def _status(self, request: web.Request) -> web.StreamResponse:
        fault = await self._take_fault("status", request)
        if fault is not None:
            return await self._apply_fault(request, fault)
        if not self._authorized(request):
            return self._json_error(401, "Invalid or missing API key")
        job = self._job(request)
        if job is None:
            return self._json_error(404, "Request not found")
        if job.status == "FAILED":
            return web.json_response(
                {"request_id": job.request_id, "status": "FAILED", "error": job.error}, status=422
            )
        return web.json_response({"request_id": job.request_id, "status": job.status})

    async def _result(self, request: web.Request) -> web.StreamResponse:
        fault = await self._take_fault("result", request)
        if fault is not None:
            return await self._apply_fault(request, fault)
        if not self._authorized(request):
            return self._json_error(401, "Invalid or missing API key")
        job = self._job(request)
        if job is None:
            return self._json_error(404, "Request not found")
        if job.status == "FAILED":
            return web.json_response(
                {"request_id": job.request_id, "status": "FAILED", "error": job.error}, status=422
            )
        if job.status != "COMPLETED":
            return web.json_response({"request_id": job.request_id, "status": job.status})
        payload: dict[str, Any] = {
            "request_id": job.request_id,
            "status": "COMPLETED",
            "metrics": {"predict_time": round(job.predict_time, 3), "cost": job.cost},
        }
        assert job.file_url is not None and job.mime is not None and job.size is not None
        url = job.file_url
        if self.result_form == "url":
            payload["output"] = url
        elif self.result_form == "list":
            payload["output"] = [url]
        elif self.result_form == "dict":
            payload["output"] = {"url": url, "content_type": job.mime}
        elif self.result_form == "images":
            width, height = job.size
            payload["images"] = [{"url": url, "content_type": job.mime, "width": width, "height": height}]
        elif self.result_form in ("data_uri", "base64"):
            stored = self._files[url.rsplit("/", 1)[1]]
            encoded = base64.b64encode(stored.data).decode()
            payload["output"] = (
                f"data:{stored.mime};base64,{encoded}" if self.result_form == "data_uri" else encoded
            )
        else:
            raise AssertionError(f"unknown result_form {self.result_form!r}")
        return web.json_response(payload)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/files/"):
            fault = await self._take_fault("download", request)
            if fault is not None:
                return await self._apply_fault(request, fault)
        stored = self._files.get(request.match_info["name"])
        if stored is None:
            # S3-style: a public bucket answers a missing key with XML.
            return web.Response(
                status=404, text="<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml"
            )
        return web.Response(body=stored.data, content_type=stored.mime)

    # -- other endpoints ------------------------------------------------------------------------------

    async def _credits(self, request: web.Request) -> web.StreamResponse:
        fault = await self._take_fault("credits", request)
        if fault is not None:
            return await self._apply_fault(request, fault)
        if not self._authorized(request):
            return self._json_error(401, "Invalid or missing API key")
        return web.json_response({"credits": round(self.account_credits, 6)})

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        fault = await self._take_fault("upload", request)
        if fault is not None:
            return await self._apply_fault(request, fault)
        if not self._authorized(request):
            return self._json_error(401, "Invalid or missing API key")
        if request.content_type != "application/json":
            return self._json_error(406, "Content-Type must be application/json")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._json_error(400, "Request body is not valid JSON")
        data_urls = body.get("data_urls") if isinstance(body, dict) else None
        if not isinstance(data_urls, list) or not data_urls or not all(isinstance(u, str) for u in data_urls):
            return self._json_error(400, "data_urls must be a non-empty list of data URLs")
        urls = []
        for index, data_url in enumerate(data_urls):
            head, sep, payload = data_url.partition(",")
            if not (sep and head.startswith("data:") and head.endswith(";base64")):
                return self._json_error(400, f"data_urls[{index}] is not a base64 data URL")
            try:
                data = base64.b64decode(payload, validate=True)
            except ValueError:
                return self._json_error(400, f"data_urls[{index}] is not valid base64")
            kind = _image_kind(data)
            if kind is None:
                return self._json_error(400, f"data_urls[{index}] is not an image")
            name = f"{uuid.uuid4().hex}.{kind}"
            self._files[name] = _Stored(data, f"image/{kind}")
            urls.append(self._url(f"/uploads/{name}"))
        self.uploads.extend(urls)
        return web.json_response({self.upload_reply_key: urls})

    # -- accepting a generation ---------------------------------------------------------------------

    async def _accept(self, request: web.Request) -> _Accepted:
        """Every check a billed POST goes through, in the order a gateway would apply them."""
        if not self._authorized(request):
            raise _Refusal(401, "Invalid or missing API key")
        self._check_rate_limit()
        slug = request.match_info["slug"]
        if slug not in MODELS:
            raise _Refusal(404, "Model not found")
        if request.content_type != "application/json":
            raise _Refusal(406, "Content-Type must be application/json")
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise _Refusal(400, "Request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _Refusal(400, "Request body must be a JSON object")
        known = PRO_KEYS if slug == PRO else KLEIN_KEYS
        for key in body:
            if key not in known:
                # Ignored, as most APIs do, but recorded so tests can assert none were sent.
                self.unknown_params.append((slug, key))
        problem = _validate_pro(body) if slug == PRO else _validate_klein(body)
        if problem:
            raise _Refusal(400, problem)
        first_size = None
        for url in body.get("image_urls") or []:
            size = await self._fetch_reference(url)
            first_size = first_size or size
        cost = self.prices[slug]
        if self.account_credits - self._pending_cost < cost:
            raise _Refusal(406, "Insufficient credits")
        self._pending_cost += cost
        seed_given = isinstance(body.get("seed"), int) and body["seed"] >= 0
        if seed_given:
            seed = body["seed"]
        elif slug == PRO and "seed" not in body:
            seed = 42  # the seed page's documented default
        else:
            seed = self._rng.randrange(0, 2**31)
        fail, self._next_failure = self._next_failure, None
        if fail is not None:
            self.fired.append("fail_job")
        prompt = str(body.get("prompt", ""))
        for marker in list(self._failures_for):
            if marker in prompt:
                fail = self._failures_for.pop(marker)
                self.fired.append(f"fail_job:{marker}")
                break
        return _Accepted(
            slug=slug,
            body=body,
            seed=seed,
            seed_given=seed_given,
            size=self._output_size(slug, body, first_size),
            fmt=body.get("output_format" if slug == PRO else "image_format", "png"),
            quality=body.get("quality", 90),
            cost=cost,
            fail=fail,
        )

    def _check_rate_limit(self) -> None:
        if not self.rate_limit_per_minute:
            return
        now = time.monotonic()
        while self._window and self._window[0] + 60.0 <= now:
            self._window.popleft()
        if len(self._window) >= self.rate_limit_per_minute:
            self.rate_limited += 1
            reset = time.time() + (self._window[0] + 60.0 - now)
            stamp = (
                datetime.fromtimestamp(reset, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            )
            raise _Refusal(429, "Rate limit exceeded", {"x-rate-limit-reset-at-utc": stamp})
        self._window.append(now)

    async def _fetch_reference(self, url: str) -> tuple[int, int]:
        """Fetch a reference the way Segmind must: any failure is the requester's 400."""
        self.fetched_urls.append(url)
        refusal = _Refusal(400, f"Failed to fetch image from URL {url}")
        if not url.startswith(("http://", "https://")):
            raise refusal
        assert self._fetcher is not None
        try:
            async with self._fetcher.get(url, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                if resp.status != 200:
                    raise refusal
                data = b""
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > FETCH_MAX_BYTES:
                        raise refusal
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise refusal from None
        if len(data) > FETCH_MAX_BYTES or _image_kind(data) is None:
            raise refusal
        try:
            with Image.open(io.BytesIO(data)) as img:
                return img.size
        except Exception:
            raise refusal from None

    def _output_size(self, slug: str, body: dict, first_input: tuple[int, int] | None) -> tuple[int, int]:
        if self.image_size is not None:
            return self.image_size
        if slug == PRO:
            nominal = (body.get("width", 1024), body.get("height", 1024))
        else:
            ratio = body.get("aspect_ratio", "1:1")
            if ratio == MATCH_INPUT:
                assert first_input is not None
                nominal = first_input
            else:
                a, b = (int(x) for x in ratio.split(":"))
                width = math.sqrt(1024 * 1024 * a / b)
                nominal = (int(round(width / 16)) * 16, int(round(width * b / a / 16)) * 16)
        return max(8, nominal[0] // self.scale), max(8, nominal[1] // self.scale)

    async def _render(self, accepted: _Accepted) -> tuple[bytes, str]:
        prompt = str(accepted.body.get("prompt", ""))
        return await asyncio.to_thread(
            render_image,
            prompt,
            accepted.seed,
            accepted.size,
            accepted.fmt,
            accepted.quality,
            self.result_bytes_size,
        )


# -- validation (the seed documents' rules, written independently of core/models.py) --------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _check_prompt(body: dict) -> str | None:
    prompt = body.get("prompt")
    if prompt is None:
        return "prompt is required"
    if not isinstance(prompt, str) or not prompt.strip():
        return "prompt must be a non-empty string"
    return None


def _check_image_urls(body: dict, limit: int) -> str | None:
    urls = body.get("image_urls")
    if urls is None:
        return None
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        return "image_urls must be a list of URL strings"
    if len(urls) > limit:
        return f"image_urls accepts at most {limit} images"
    return None


def _check_seed(body: dict) -> str | None:
    if "seed" in body and not (_is_int(body["seed"]) and -1 <= body["seed"] < 2**63):
        return "seed must be an integer (-1 for random)"
    return None


def _validate_pro(body: dict) -> str | None:
    problem = _check_prompt(body) or _check_image_urls(body, 8) or _check_seed(body)
    if problem:
        return problem
    # Segmind does not publish its own width/height range; these are BFL's FLUX.2 rules
    # (multiples of 16, at least 256 here, at most 4 MP = 2048×2048).
    for name in ("width", "height"):
        if name in body:
            value = body[name]
            if not _is_int(value) or not 256 <= value <= 2048:
                return f"{name} must be an integer between 256 and 2048"
            if value % 16:
                return f"{name} must be a multiple of 16"
    if body.get("width", 1024) * body.get("height", 1024) > 2048 * 2048:
        return "width × height must be at most 4 megapixels"
    if "output_format" in body and body["output_format"] not in ("jpeg", "png"):
        return "output_format must be one of: jpeg, png"
    if "safety_tolerance" in body:
        value = body["safety_tolerance"]
        if not _is_int(value) or not 0 <= value <= 6:
            return "safety_tolerance must be an integer between 0 and 6"
    return None


def _validate_klein(body: dict) -> str | None:
    problem = _check_prompt(body) or _check_image_urls(body, 4) or _check_seed(body)
    if problem:
        return problem
    if "aspect_ratio" in body:
        ratio = body["aspect_ratio"]
        if ratio not in KLEIN_ASPECT_RATIOS + (MATCH_INPUT,):
            return f"aspect_ratio must be one of: {', '.join(KLEIN_ASPECT_RATIOS + (MATCH_INPUT,))}"
        if ratio == MATCH_INPUT and not body.get("image_urls"):
            return "aspect_ratio match_input_image requires image_urls"
    if "cfg" in body and not (_is_number(body["cfg"]) and 1 <= body["cfg"] <= 20):
        return "cfg must be a number between 1 and 20"
    if "steps" in body and not (_is_int(body["steps"]) and 1 <= body["steps"] <= 100):
        return "steps must be an integer between 1 and 100"
    if "quality" in body and not (_is_int(body["quality"]) and 10 <= body["quality"] <= 100):
        return "quality must be an integer between 10 and 100"
    if "sampler" in body and body["sampler"] not in ("euler", "res_2s"):
        return "sampler must be one of: euler, res_2s"
    if "image_format" in body and body["image_format"] not in ("png", "jpeg", "webp"):
        return "image_format must be one of: png, jpeg, webp"
    if "go_fast" in body and not isinstance(body["go_fast"], bool):
        return "go_fast must be a boolean"
    if "negative_prompt" in body and not isinstance(body["negative_prompt"], str):
        return "negative_prompt must be a string"
    return None


# -- images ------------------------------------------------------------------------------------------


def render_image(
    prompt: str, seed: int, size: tuple[int, int], fmt: str, quality: int = 90, pad_to: int | None = None
) -> tuple[bytes, str]:
    """A real image whose colours come from seed + prompt, so tests can tell results apart."""
    digest = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()
    width, height = size
    img = Image.new("RGB", size, tuple(digest[0:3]))
    draw = ImageDraw.Draw(img)
    draw.rectangle((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=tuple(digest[3:6]))
    out = io.BytesIO()
    pil_format = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]
    options = {"quality": quality} if fmt in ("jpeg", "webp") else {}
    img.save(out, pil_format, **options)
    data = out.getvalue()
    if pad_to is not None and pad_to > len(data):
        data = _pad(data, fmt, pad_to)
    return data, f"image/{fmt}"


def _pad(data: bytes, fmt: str, size: int) -> bytes:
    """Grow an encoded image to about `size` bytes while it stays a valid image."""
    missing = size - len(data)
    if fmt == "png" and missing > 12:
        # A private ancillary chunk before IEND: decoders skip it, CRC kept valid.
        chunk_data = random.Random(missing).randbytes(missing - 12)
        chunk = struct.pack(">I", len(chunk_data)) + b"fkPd" + chunk_data
        chunk += struct.pack(">I", zlib.crc32(b"fkPd" + chunk_data) & 0xFFFFFFFF)
        return data[:-12] + chunk + data[-12:]
    if fmt == "webp" and missing > 8:
        body_len = missing - 8
        body_len -= body_len % 2
        chunk = b"PAD " + struct.pack("<I", body_len) + bytes(body_len)
        grown = data + chunk
        return grown[:4] + struct.pack("<I", len(grown) - 8) + grown[8:]
    return data + bytes(max(0, missing))  # JPEG: bytes after EOI are ignored by decoders
