"""The Segmind HTTP client: v2 queue (submit, poll, fetch, download) and v1 sync calls for FLUX.2.

What it promises (see ../shared/reference/segmind-flux2.md for the API facts behind it):
- A billed POST (v2 submit, v1 call) is never sent twice once Segmind may have accepted it. Only a
  non-200 answer proves it was not accepted; a timeout or a dropped connection after the request
  went out raises `ProviderSubmitUncertain` at once. Reads (polls, result, download, upload) are
  safe to repeat and are retried.
- Every HTTP answer that is not a success becomes one typed `ProviderError` through
  `error_from_response`, a pure function of status, body and headers.
- An image is accepted only by its magic bytes (PNG, JPEG, WebP) and only up to `max_image_bytes`.
- A result image is fetched only through `core.downloads.Downloader`: hosts on an allowlist
  (Segmind's own API/upload hosts, its result storage, and what the operator adds), a size cap,
  a timeout. A billed result is valuable: a download that fails, or brings bytes that are not an
  image (a flaky CDN or proxy), is tried again before the job is given up.
- The API key goes in the `x-api-key` header to Segmind's own hosts and nowhere else: not to
  result hosts, not into any error message, not into any log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import aiohttp

from core.blobs import BlobRejected, BlobStore, BlobWriter
from core.downloads import (
    SEGMIND_RESULT_HOSTS,
    Downloader,
    DownloadError,
    HostAllowlist,
    HostNotAllowed,
    TooLarge,
    host_of,
)
from core.errors import (
    ProviderBadOutput,
    ProviderError,
    ProviderModelUnavailable,
    ProviderRateLimited,
    ProviderResultExpired,
    ProviderSubmitUncertain,
    ProviderUnavailable,
)
from core.images import sniff_image_type
from core.models import ModelId
from core.ratelimit import SlidingWindowLimiter
from core.segmind_protocol import (
    COMPLETED_STATES,
    ERROR_BODY_MAX_BYTES,
    FAILED_STATES,
    JSON_BODY_MAX_BYTES,
    OUTPUT_TYPES,
    RESET_WAIT_MAX,
    AnswerTooLarge,
    Garbage,
    decode_inline,
    error_from_response,
    extract_output,
    header_value,
    metadata_value,
    parse_float,
    parse_int,
    state_of,
    terminal_error,
    verify_image,
)
from core.upload_body import DataUrlsBody

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredResult:
    """A result image already in the blob store: checked, durable, never held whole in memory."""

    blob: str
    path: Path
    size: int
    mime: str  # from the magic bytes, never from Content-Type


@dataclass(frozen=True)
class GeneratedImage:
    blob: str  # the image, stored (core.blobs) before anyone is charged for it
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


@dataclass(frozen=True)
class SegmindTimeouts:
    submit: float = 30
    poll: float = 15
    download: float = 60
    sync: float = 240
    poll_deadline: float = 1800  # total time a queued job may take
    upload: float = 60  # reference uploads carry up to 8 downscaled images as base64


# --- sans-I/O helpers ------------------------------------------------------------------------


class SegmindClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        blobs: BlobStore,
        base_url: str = "https://api.segmind.com",
        upload_url: str = "https://workflows-api.segmind.com/upload-asset",
        mode: Literal["queue", "sync"] = "queue",
        limiter: SlidingWindowLimiter | None = None,
        timeouts: SegmindTimeouts = SegmindTimeouts(),  # noqa: B008 - frozen, so sharing is safe
        max_image_bytes: int = 50 * 1024 * 1024,
        max_attempts: int = 4,
        poll_interval: float = 1.0,
        poll_interval_max: float = 5.0,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
        downloader: Downloader | None = None,
        download_hosts: tuple[str, ...] = (),
    ) -> None:
        if mode not in ("queue", "sync"):
            raise ValueError(f"mode must be 'queue' or 'sync', not {mode!r}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._session = session
        self._api_key = api_key
        self._blobs = blobs
        self._base = base_url.rstrip("/")
        self._upload_url = upload_url
        self._mode = mode
        self._limiter = limiter
        self._timeouts = timeouts
        self._max_image_bytes = max_image_bytes
        self._max_attempts = max_attempts
        self._poll_interval = poll_interval
        self._poll_interval_max = max(poll_interval_max, poll_interval)
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._sleep = sleep
        self._rng = rng or random.Random()
        # The key is sent only to hosts that are Segmind's own API or upload endpoint.
        self._key_origins = {self._origin(self._base), self._origin(upload_url)}
        # Results are downloaded only from Segmind's hosts (+ `download_hosts`), capped and timed.
        own_hosts = [h for h in (host_of(self._base), host_of(upload_url)) if h]
        if downloader is None:
            downloader = Downloader(
                session,
                HostAllowlist([*SEGMIND_RESULT_HOSTS, *own_hosts, *download_hosts]),
                max_bytes=max_image_bytes,
                timeout=timeouts.download,
            )
        else:
            downloader = downloader.with_hosts([*own_hosts, *download_hosts])
        self._downloader = downloader

    @property
    def limiter(self) -> SlidingWindowLimiter | None:
        return self._limiter

    @property
    def mode(self) -> Literal["queue", "sync"]:
        return self._mode

    # -- public API ---------------------------------------------------------------------------

    async def generate(
        self,
        model: ModelId,
        body: dict,
        *,
        request_id: str | None = None,
        on_submitted: Callable[[str], Awaitable[None]] | None = None,
        before_result: Callable[[], Awaitable[None]] | None = None,
    ) -> GeneratedImage:
        """One image for `body`. Queue mode submits (unless `request_id` resumes an earlier submit),
        reports the id through `on_submitted` before polling, then polls and downloads. Sync mode
        makes one v1 call. A given `request_id` is always resumed through v2, whatever the mode.
        `before_result` is awaited once, when the result is ready and before it is fetched (the
        caller uses it to bound how many results are in memory at once)."""
        slug = ModelId(model).value
        if request_id is not None:
            log.info("segmind %s: resuming request %s", slug, request_id)
            return await self._finish_queued(request_id, before_result)
        if self._mode == "sync":
            return await self._generate_sync(slug, body)
        request_id = await self._submit(slug, body)
        if on_submitted is not None:
            await on_submitted(request_id)
        return await self._finish_queued(request_id, before_result)

    async def upload_references(self, images: list[tuple[Path | bytes, str]]) -> list[str]:
        """Upload reference images (files, or bytes) to Segmind's storage; their persistent URLs,
        in order. The body is streamed from the files (core.upload_body), never built whole."""
        if not images:
            return []
        status, headers, body = await self._request(
            "POST",
            self._upload_url,
            body=lambda: DataUrlsBody(images),
            timeout=self._timeouts.upload,
            read_limit=JSON_BODY_MAX_BYTES,
            what="upload",
        )
        if status != 200:
            raise self._error(status, body, headers)
        payload = self._json(body)
        urls: Any = None
        if isinstance(payload, dict):
            for key in ("file_urls", "urls"):
                if isinstance(payload.get(key), list):
                    urls = payload[key]
                    break
            else:
                for key in ("file_url", "url"):
                    if isinstance(payload.get(key), str):
                        urls = [payload[key]]
                        break
        if not isinstance(urls, list) or not all(isinstance(u, str) and u.startswith("http") for u in urls):
            raise ProviderBadOutput("upload answer carries no file URLs", status=status)
        if len(urls) != len(images):
            raise ProviderBadOutput(
                f"upload returned {len(urls)} URLs for {len(images)} images", status=status
            )
        log.info("segmind: uploaded %d reference image(s)", len(urls))
        return urls

    async def account_credits(self) -> float | None:
        """The account's balance in USD, or None when the answer carries no readable number."""
        status, headers, body = await self._request(
            "GET",
            f"{self._base}/v1/get-user-credits",
            timeout=self._timeouts.poll,
            read_limit=JSON_BODY_MAX_BYTES,
            what="credits",
        )
        if status != 200:
            raise self._error(status, body, headers)
        payload = self._json(body)
        if not isinstance(payload, dict):
            return None
        return parse_float(payload.get("credits"))

    # -- generation flows ---------------------------------------------------------------------

    async def _generate_sync(self, slug: str, body: dict) -> GeneratedImage:
        status, headers, data = await self._post_billed(
            f"{self._base}/v1/{slug}",
            body,
            timeout=self._timeouts.sync,
            read_limit=self._max_image_bytes,
            what=f"v1 {slug}",
        )
        request_id = header_value(headers, "x-request-id")
        log.info("segmind %s: v1 answered %s (request %s)", slug, status, request_id)
        payload = None
        if sniff_image_type(data) is None:
            # Raw image bytes are the documented answer; a JSON body with the image inside is
            # tolerated because the seed's sample code reads the answer as JSON.
            payload = self._json(data)
            ref = extract_output(payload)
            if ref is None:
                raise ProviderBadOutput(f"v1 answer is not an image ({len(data)} bytes)", status=status)
            stored = await self._fetch_image(ref)
        else:
            stored = await self._store(data)
        return GeneratedImage(
            blob=stored.blob,
            path=stored.path,
            size=stored.size,
            mime=stored.mime,
            request_id=request_id,
            seed=parse_int(header_value(headers, "x-seed-value") or metadata_value(payload, ("seed",))),
            cost_usd=parse_float(header_value(headers, "x-cost")),
            remaining_credits_usd=parse_float(header_value(headers, "x-remaining-credits")),
            generation_seconds=parse_float(header_value(headers, "x-generation-time")),
        )

    async def _submit(self, slug: str, body: dict) -> str:
        status, _, data = await self._post_billed(
            f"{self._base}/v2/{slug}",
            body,
            timeout=self._timeouts.submit,
            read_limit=JSON_BODY_MAX_BYTES,
            what=f"v2 submit {slug}",
        )
        payload = self._json(data)
        request_id = payload.get("request_id") if isinstance(payload, dict) else None
        if isinstance(request_id, int) and not isinstance(request_id, bool):
            request_id = str(request_id)
        if not isinstance(request_id, str) or not request_id.strip():
            if state_of(payload) in FAILED_STATES:  # refused outright: nothing was queued, nothing billed
                raise self._scrubbed(terminal_error(payload, status))
            raise ProviderSubmitUncertain(f"submit answered {status} without a request id", status=status)
        log.info("segmind %s: submitted, request %s (%s)", slug, request_id, state_of(payload))
        return request_id.strip()

    async def _finish_queued(
        self, request_id: str, before_result: Callable[[], Awaitable[None]] | None = None
    ) -> GeneratedImage:
        quoted = quote(request_id, safe="")
        status_url = f"{self._base}/v2/requests/{quoted}/status"
        result_url = f"{self._base}/v2/requests/{quoted}"
        loop = asyncio.get_running_loop()
        started = loop.time()
        slept = 0.0
        interval = self._poll_interval
        garbage = 0
        state: str | None = None
        while True:
            try:
                state, _, _, _ = await self._poll(status_url, request_id, "status")
                if state in COMPLETED_STATES or state is None:  # no readable state: the result URL may know
                    if before_result is not None:
                        await before_result()
                        before_result = None
                    state, payload, headers, raw = await self._poll(result_url, request_id, "result")
                    if raw is not None:  # the result URL answered with the image itself
                        return self._image(await self._store(raw), request_id, None, headers)
                    if state in COMPLETED_STATES or (state is None and extract_output(payload) is not None):
                        return await self._image_from_result(request_id, payload, headers)
                garbage = 0
            except Garbage as exc:
                # Polls are safe to repeat and the request may be billed: ask again, a bounded
                # number of times in a row, rather than give the paid result up.
                garbage += 1
                log.info("segmind: request %s: %s (%d in a row)", request_id, exc, garbage)
                if garbage >= self._max_attempts:
                    raise ProviderUnavailable(f"request {request_id}: {exc}", status=200) from None
            elapsed = max(loop.time() - started, slept)
            if elapsed >= self._timeouts.poll_deadline:
                # Segmind may still finish (and bill) it; the caller must not submit it again.
                raise ProviderSubmitUncertain(f"request {request_id} still {state} after {elapsed:.0f} s")
            log.debug("segmind: request %s is %s, next poll in %.2f s", request_id, state, interval)
            await self._sleep(interval)
            slept += interval
            interval = min(interval * 1.5, self._poll_interval_max)

    async def _poll(
        self, url: str, request_id: str, what: str
    ) -> tuple[str | None, Any, Mapping[str, str], bytes | None]:
        """(state, payload, headers, raw image or None) of a status or result URL; raises on
        a terminal failure (FAILED → moderated/rejected, 404 → expired) or a non-retryable error."""
        status, headers, body = await self._request(
            "GET",
            url,
            timeout=self._timeouts.poll,
            read_limit=JSON_BODY_MAX_BYTES + self._max_image_bytes * 4 // 3,
            what=what,
        )
        log.debug("segmind: %s of %s answered %s", what, request_id, status)
        payload = self._json(body)
        state = state_of(payload)
        if state in FAILED_STATES:  # a body that announces a terminal state is a result, whatever the status
            error = terminal_error(payload, status)
            log.info("segmind: request %s FAILED (%s)", request_id, type(error).__name__)
            raise self._scrubbed(error)
        if status in (404, 410):
            raise ProviderResultExpired(f"request {request_id} is no longer known to Segmind", status=status)
        if status != 200:
            raise self._error(status, body, headers)
        if payload is None:
            if what == "result" and sniff_image_type(body) is not None:
                return "COMPLETED", None, headers, body
            raise Garbage(f"{what} answer is not JSON ({len(body)} bytes)")
        return state, payload, headers, None

    async def _image_from_result(
        self, request_id: str, payload: Any, headers: Mapping[str, str]
    ) -> GeneratedImage:
        ref = extract_output(payload)
        if ref is None:
            raise ProviderBadOutput(f"result of {request_id} names no image", status=200)
        return self._image(await self._fetch_image(ref), request_id, payload, headers)

    @staticmethod
    def _image(stored: StoredResult, request_id: str, payload: Any, headers: Mapping[str, str]) -> GeneratedImage:
        cost = metadata_value(payload, ("cost", "cost_usd", "price"))
        if cost is None:
            cost = header_value(headers, "x-cost")
        log.info("segmind: request %s done (%s, %d bytes)", request_id, stored.mime, stored.size)
        return GeneratedImage(
            blob=stored.blob,
            path=stored.path,
            size=stored.size,
            mime=stored.mime,
            request_id=request_id,
            seed=parse_int(metadata_value(payload, ("seed", "seed_value"))),
            cost_usd=parse_float(cost),
            remaining_credits_usd=parse_float(header_value(headers, "x-remaining-credits")),
            generation_seconds=parse_float(
                metadata_value(
                    payload, ("predict_time", "inference_time", "generation_time", "execution_time")
                )
            ),
        )

    async def _fetch_image(self, ref: str) -> StoredResult:
        """The result image, streamed into the blob store and checked. A URL is fetched through the
        downloader and tried again (up to max_attempts) when the answer is transient, missing
        (403/404/410: storage can lag behind COMPLETED) or not a usable image; the last error is
        raised."""
        if not ref.startswith(("http://", "https://")):
            return await self._store(decode_inline(ref, self._max_image_bytes))
        error: ProviderError | None = None
        for attempt in range(1, self._max_attempts + 1):
            try:
                with self._blobs.writer() as writer:
                    await self._downloader.get_into(
                        ref, writer.write, max_bytes=self._max_image_bytes, timeout=self._timeouts.download
                    )
                    return await self._commit(writer)
            except HostNotAllowed as exc:
                log.error(
                    "segmind: result URL refused (%s); add its host to DOWNLOAD_ALLOWED_HOSTS", exc.message
                )
                raise ProviderBadOutput(f"result URL refused: {exc.message}") from None
            except TooLarge:
                raise ProviderBadOutput(
                    f"result image is larger than {self._max_image_bytes} bytes"
                ) from None
            except DownloadError as exc:
                if exc.retryable:
                    error = ProviderUnavailable(f"result image: {exc.message}", status=exc.status)
                elif exc.status in (403, 404, 410):
                    error = ProviderResultExpired(f"result image answered {exc.status}", status=exc.status)
                else:
                    error = ProviderBadOutput(f"result image answered {exc.status}", status=exc.status)
            except ProviderBadOutput as exc:
                error = exc
            log.info(
                "segmind: download attempt %d/%d failed (%s)", attempt, self._max_attempts, error.message
            )
            if attempt < self._max_attempts:
                await self._wait_before_retry(error, attempt, "download")
        assert error is not None
        raise error

    async def _store(self, data: bytes) -> StoredResult:
        """An image that came inline (base64, or the answer's own body) into the blob store."""
        with self._blobs.writer() as writer:
            writer.write(data)
            return await self._commit(writer)

    async def _commit(self, writer: BlobWriter) -> StoredResult:
        """Check the streamed bytes are a whole PNG/JPEG/WebP image, then make them a blob."""
        if not writer.size:
            raise ProviderBadOutput("result image is empty", status=200)
        mime = sniff_image_type(writer.head)
        if mime not in OUTPUT_TYPES:
            raise ProviderBadOutput(
                f"result is not a PNG, JPEG or WebP image ({writer.size} bytes)", status=200
            )
        try:
            blob = await writer.commit(check=verify_image)
        except BlobRejected as exc:
            raise ProviderBadOutput(
                f"result {mime} image is damaged ({type(exc.__cause__).__name__})", status=200
            ) from None
        return StoredResult(blob=blob, path=self._blobs.path(blob), size=writer.size, mime=mime)

    # -- HTTP with the retry policy -----------------------------------------------------------

    async def _post_billed(
        self, url: str, body: dict, *, timeout: float, read_limit: int, what: str
    ) -> tuple[int, Mapping[str, str], bytes]:
        """A POST Segmind bills on 200. Retried only when an answer proved it was not accepted
        (a non-200 retryable status) or nothing was sent (connection refused, DNS, connect timeout)."""
        last: ProviderError | None = None
        for attempt in range(1, self._max_attempts + 1):
            if self._limiter is not None:
                await self._limiter.acquire()
            try:
                async with self._session.post(
                    url,
                    json=body,
                    headers=self._headers(url, json_body=True),
                    timeout=self._client_timeout(timeout),
                    allow_redirects=False,
                ) as resp:
                    status, headers = resp.status, resp.headers
                    if 200 <= status < 300:
                        try:
                            data = await self._read_capped(resp, read_limit)
                        except AnswerTooLarge:
                            raise ProviderBadOutput(
                                f"{what}: answer larger than {read_limit} bytes", status=status
                            ) from None
                        log.debug("segmind: %s answered %s (%d bytes)", what, status, len(data))
                        return status, headers, data
                    error_body = await self._read_error_body(resp)
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                error: ProviderError = ProviderUnavailable(
                    f"{what}: could not connect ({type(exc).__name__})"
                )
            except aiohttp.InvalidURL:
                raise ProviderModelUnavailable(f"{what}: invalid URL") from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                log.warning("segmind: %s sent but unanswered (%s): not re-posting", what, type(exc).__name__)
                raise ProviderSubmitUncertain(
                    f"{what}: sent, but no complete answer ({type(exc).__name__})"
                ) from exc
            else:
                error = self._error(status, error_body, headers)
                log.info("segmind: %s answered %s (%s)", what, status, type(error).__name__)
            last = error
            if not error.retryable or attempt == self._max_attempts:
                raise error
            await self._wait_before_retry(error, attempt, what)
        assert last is not None
        raise last

    async def _request(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        read_limit: int,
        what: str,
        json_body: Any = None,
        body: Callable[[], aiohttp.payload.Payload] | None = None,
        image: bool = False,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """A request that is safe to repeat (reads, uploads). Transient failures (429, 408, 5xx,
        timeouts, connection errors) are retried; any other answer is returned as it is."""
        last: ProviderError | None = None
        for attempt in range(1, self._max_attempts + 1):
            try:
                async with self._session.request(
                    method,
                    url,
                    json=json_body,
                    data=None if body is None else body(),  # a payload is sent once: a new one per attempt
                    headers=self._headers(url, json_body=json_body is not None or body is not None),
                    timeout=self._client_timeout(timeout),
                ) as resp:
                    status, headers = resp.status, resp.headers
                    if status == 200:
                        try:
                            data = await self._read_capped(resp, read_limit)
                        except AnswerTooLarge:
                            kind = "result image" if image else f"{what} answer"
                            raise ProviderBadOutput(
                                f"{kind} is larger than {read_limit} bytes", status=status
                            ) from None
                    else:
                        data = await self._read_error_body(resp)
            except aiohttp.InvalidURL:
                raise ProviderBadOutput(f"{what}: invalid URL") from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                error: ProviderError = ProviderUnavailable(f"{what}: {type(exc).__name__}")
            else:
                if status == 408 or status == 429 or status >= 500:
                    error = self._error(status, data, headers)
                else:
                    return status, headers, data
            last = error
            log.info(
                "segmind: %s attempt %d/%d failed (%s)", what, attempt, self._max_attempts, error.message
            )
            if attempt == self._max_attempts:
                raise error
            await self._wait_before_retry(error, attempt, what)
        assert last is not None
        raise last

    async def _wait_before_retry(self, error: ProviderError, attempt: int, what: str) -> None:
        delay = None
        if isinstance(error, ProviderRateLimited) and error.reset_at is not None:
            until_reset = error.reset_at - time.time()
            if until_reset > 0:
                delay = min(until_reset, RESET_WAIT_MAX)
        if delay is None:
            delay = self._rng.uniform(0, min(self._backoff_max, self._backoff_base * 2 ** (attempt - 1)))
        if isinstance(error, ProviderRateLimited) and self._limiter is not None:
            self._limiter.penalize(self._limiter.clock() + delay)
        log.debug("segmind: retrying %s in %.2f s", what, delay)
        await self._sleep(delay)

    # -- small helpers ------------------------------------------------------------------------

    @staticmethod
    def _origin(url: str) -> tuple[str, str, int | None]:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        return parts.scheme, (parts.hostname or "").lower(), port

    def _headers(self, url: str, *, json_body: bool) -> dict[str, str]:
        headers = {}
        if self._origin(url) in self._key_origins:
            headers["x-api-key"] = self._api_key
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    @staticmethod
    def _client_timeout(total: float) -> aiohttp.ClientTimeout:
        # A separate, shorter connect timeout raises ConnectionTimeoutError, which proves the
        # request was never sent; a `total` timeout alone could not tell the two apart.
        return aiohttp.ClientTimeout(total=total, connect=min(10.0, total / 2))

    @staticmethod
    async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
        if resp.content_length is not None and resp.content_length > limit:
            raise AnswerTooLarge
        chunks = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise AnswerTooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    async def _read_error_body(resp: aiohttp.ClientResponse) -> bytes:
        """Up to ERROR_BODY_MAX_BYTES of an error answer; the status already says enough if it fails."""
        buf = bytearray()
        try:
            while len(buf) < ERROR_BODY_MAX_BYTES:
                chunk = await resp.content.read(ERROR_BODY_MAX_BYTES - len(buf))
                if not chunk:
                    break
                buf += chunk
        except (TimeoutError, aiohttp.ClientError):
            pass
        return bytes(buf)

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted]") if self._api_key else text

    def _scrubbed(self, error: ProviderError) -> ProviderError:
        if self._api_key and (
            self._api_key in error.message or any(self._api_key in str(a) for a in error.args)
        ):
            error.message = self._scrub(error.message)
            error.args = tuple(self._scrub(str(a)) for a in error.args)
        return error

    def _error(self, status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
        return self._scrubbed(error_from_response(status, body, headers))
