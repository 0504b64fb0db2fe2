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
import collections
import json
import random
import time
import traceback
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.segmind.accept import AcceptMixin
from tests.fakes.segmind.faults import FaultMixin
from tests.fakes.segmind.records import (
    _DROPPED,
    _RECORD,
    DEFAULT_PRICES,
    ENDPOINTS,
    Bill,
    FakeJob,
    Fault,
    RecordedRequest,
    _Stored,
)
from tests.fakes.segmind.upload import UploadMixin
from tests.fakes.segmind.v1 import V1Mixin
from tests.fakes.segmind.v2 import QueueMixin


class FakeSegmind(FaultMixin, V1Mixin, QueueMixin, AcceptMixin, UploadMixin):
    """Fake Segmind server; see the module docstring.  State lives here, routes in the mixins:
    :class:`V1Mixin`, :class:`QueueMixin` (the v2 queue), :class:`UploadMixin`, :class:`AcceptMixin` (the checks
    before a generation) and :class:`FaultMixin` (scripted faults)."""

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
        # The window that limit applies to: Segmind's minute, or shorter for a scaled-down run
        # (the bot's SEGMIND_RATE_PERIOD_SECONDS must match it).
        self.rate_period = 60.0
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
            wall=time.time(),
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
