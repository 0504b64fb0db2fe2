"""The two fakes, instrumented for the benchmark (subclasses: the fakes themselves stay unchanged).

- `PerfDiscord` stamps when each interaction callback and each result message *arrived*, keeps
  only the last few request records and drops stored file bytes (a benchmark posts gigabytes).
- `PerfSegmind` serves one pre-rendered result image (so the fake spends no CPU drawing), applies
  its rate limit over a configurable period (scaled time), and stamps, per request id, when the
  submit arrived, when the job completed and when the bot first learned it had.
"""

from __future__ import annotations

import asyncio
import collections
import json
import math
import struct
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes import discord_payloads as p
from tests.fakes import segmind_server as sfake
from tests.fakes.discord_server import FakeDiscord, Interaction
from tests.fakes.segmind_server import FakeSegmind, _Refusal

GATEWAY_CALLBACK = "/callback"


class _RecentOnly(list):
    """A request log that forgets all but the newest entries (each may hold megabytes of files)."""

    keep = 16

    def append(self, item: Any) -> None:
        super().append(item)
        if len(self) > 2 * self.keep:
            del self[: -self.keep]


class _TimedSocket:
    """Stands in for a gateway connection's socket in its writer: stamps each INTERACTION_CREATE
    frame with the moment it was handed to the socket."""

    def __init__(self, ws: Any, pending: collections.deque[Interaction]) -> None:
        self._ws = ws
        self._pending = pending

    async def send_str(self, data: str, *args: Any, **kwargs: Any) -> None:
        await self._ws.send_str(data, *args, **kwargs)
        if self._pending and '"t": "INTERACTION_CREATE"' in data[:64]:
            self._pending.popleft().dispatched_at = time.monotonic()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


class PerfDiscord(FakeDiscord):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requests = _RecentOnly()
        self.callback_at: dict[int, float] = {}  # interaction id -> first callback arrival
        self.result_at: dict[str, float] = {}  # interaction token -> result (image) message arrival
        self.late_callbacks = 0
        self.rest_count = 0

    def prepare_slash(self, member: Any, name: str, options: dict[str, Any]) -> tuple[dict, Any]:
        """Everything `slash()` computes before it sends, done ahead so a burst is only sends."""
        command = self._find_command(name, member.guild, command_type=1)
        resolver = self._resolver(member.guild)
        wire = p.build_command_options(command, options, resolver)
        data = self._command_data(command, wire, resolver.resolved)
        payload, _ = self._interaction_payload(2, member.guild, member.channel, member.user, p.DEFAULT_UPLOAD_LIMIT, "en-US")
        payload["data"] = data
        return payload, member

    async def burst(self, prepared: list[tuple[dict, Any]]) -> list[Interaction]:
        """Send prepared INTERACTION_CREATEs back to back; each is stamped when its frame is sent."""
        session = self._current
        assert session is not None and session.conn is not None, "no bot connected"
        conn = session.conn
        pending: collections.deque[Interaction] = collections.deque()
        real = conn.ws
        conn.ws = _TimedSocket(real, pending)  # type: ignore[assignment]
        sent = []
        try:
            for payload, member in prepared:
                self._dispatch("INTERACTION_CREATE", payload, session)
                interaction = Interaction(
                    id=int(payload["id"]), token=payload["token"], payload=payload, type=2,
                    guild_id=member.guild, channel_id=member.channel, user_id=member.user,
                    attachment_size_limit=p.DEFAULT_UPLOAD_LIMIT, dispatched_at=math.inf,
                )
                self.interactions.append(interaction)
                self._interactions_by_id[interaction.id] = interaction
                self._interactions_by_token[interaction.token] = interaction
                pending.append(interaction)
                sent.append(interaction)
            await conn.queue.join()
        finally:
            conn.ws = real
        return sent

    async def _middleware(self, request: web.Request, handler):  # type: ignore[override]
        arrived = time.monotonic()
        self.rest_count += 1
        path = request.path
        if path.endswith(GATEWAY_CALLBACK):
            parts = path.split("/")
            try:
                iid = int(parts[parts.index("interactions") + 1])
            except (ValueError, IndexError):
                iid = 0
            self.callback_at.setdefault(iid, arrived)
        response = await super()._middleware(request, handler)
        return response

    async def _webhook_message(self, request: web.Request) -> web.StreamResponse:
        # The multipart body has been read by the middleware: this is when the result arrived.
        arrived = time.monotonic()
        response = await super()._webhook_message(request)
        if request.method != "PATCH" or response.status != 200:
            return response
        token = request.match_info.get("token", "")
        inter = self._interactions_by_token.get(token)
        if inter is None or inter.original_message_id is None:
            return response
        stored = self._messages.get(inter.original_message_id)
        if stored is not None and stored.data.get("attachments") and stored.data.get("embeds"):
            self.result_at.setdefault(token, arrived)
        return response

    def _cdn_store(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        att = super()._cdn_store(*args, **kwargs)
        stored = self._cdn.get(int(att["id"]))
        if stored is not None:
            stored.data = b""  # the benchmark never downloads results back; keep the fake small
        return att


@dataclass
class SegmindJobTimes:
    submitted: float
    completed: float | None = None
    observed: float | None = None  # first status/result answer that said COMPLETED


class PerfSegmind(FakeSegmind):
    def __init__(self, *, period: float = 60.0, image_bytes: int = 1 << 20, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.period = period
        self.image_bytes = image_bytes
        self.image_size = (64, 64)
        self.times: dict[str, SegmindJobTimes] = {}
        self.prompt_of: dict[str, str] = {}
        self.accepted_at: list[float] = []  # arrival of every billed request that was let through
        self.refused_at: list[float] = []  # arrival of every 429
        self.accepted_prompts: list[tuple[float, str]] = []  # (arrival, prompt) of accepted generations
        self._images: dict[str, tuple[bytes, str]] = {}
        self._serial = 0

    def _check_rate_limit(self) -> None:
        # The parent's check with the window length made configurable (scaled time).
        now = time.monotonic()
        if self.rate_limit_per_minute:
            while self._window and self._window[0] + self.period <= now:
                self._window.popleft()
            if len(self._window) >= self.rate_limit_per_minute:
                self.rate_limited += 1
                self.refused_at.append(now)
                reset = time.time() + (self._window[0] + self.period - now)
                stamp = datetime.fromtimestamp(reset, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                raise _Refusal(429, "Rate limit exceeded", {"x-rate-limit-reset-at-utc": stamp})
            self._window.append(now)
        self.accepted_at.append(now)

    async def _accept(self, request: web.Request) -> Any:
        arrived = time.monotonic()
        accepted = await super()._accept(request)
        self.accepted_prompts.append((arrived, str(accepted.body.get("prompt", ""))))
        return accepted

    async def _render(self, accepted: Any) -> tuple[bytes, str]:
        # One image per format, rendered once and padded to the configured size; each result is
        # made unique (as real results are) with a small text chunk, a copy but no re-encoding.
        fmt = accepted.fmt
        if fmt not in self._images:
            self._images[fmt] = await asyncio.to_thread(
                sfake.render_image, "benchmark", 1, self.image_size, fmt, 90, self.image_bytes
            )
        data, mime = self._images[fmt]
        self._serial += 1
        if fmt == "png":
            text = b"tEXt" + b"job\x00" + str(self._serial).encode()
            chunk = struct.pack(">I", len(text) - 4) + text + struct.pack(">I", zlib.crc32(text) & 0xFFFFFFFF)
            return data[:-12] + chunk + data[-12:], mime
        if fmt == "jpeg":
            return data + str(self._serial).encode(), mime  # bytes after EOI are ignored
        return data, mime

    async def _submit(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        response = await super()._submit(request)
        if response.status == 200 and isinstance(response, web.Response) and response.body:
            payload = json.loads(response.body)
            rid = payload.get("request_id")
            if rid:
                self.times[rid] = SegmindJobTimes(submitted=arrived)
                job = self.jobs.get(rid)
                if job is not None:
                    self.prompt_of[rid] = str(job.body.get("prompt", ""))
        return response

    async def _run_job(self, job: Any, accepted: Any) -> None:
        await super()._run_job(job, accepted)
        times = self.times.get(job.request_id)
        if times is not None:
            times.completed = time.monotonic()

    async def _status(self, request: web.Request) -> web.StreamResponse:
        return self._observe(request, await super()._status(request))

    async def _result(self, request: web.Request) -> web.StreamResponse:
        return self._observe(request, await super()._result(request))

    def _observe(self, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        rid = request.match_info.get("rid", "")
        times = self.times.get(rid)
        job = self.jobs.get(rid)
        if times is not None and times.observed is None and job is not None and job.status == "COMPLETED":
            times.observed = time.monotonic()
        return response

    def requests_per_window(self, period: float) -> int:
        """The most billed requests the fake let through in any window of `period` seconds."""
        stamps = self.accepted_at
        best, start = 0, 0
        for end, stamp in enumerate(stamps):
            while stamps[start] + period <= stamp:
                start += 1
            best = max(best, end - start + 1)
        return best

    def forget_requests(self) -> None:
        self.requests.clear()
