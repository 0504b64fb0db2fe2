"""The Segmind HTTP client: v2 queue (submit, poll, fetch, download) and v1 sync calls for FLUX.2.

What it promises (see ../shared/reference/segmind-flux2.md for the API facts behind it):
- A billed POST (v2 submit, v1 call) is never sent twice once Segmind may have accepted it; reads
  (polls, result, download, upload) are safe to repeat and are retried. core.segmind.transport
  holds the one retry loop and the policy that tells the two apart.
- Every HTTP answer that is not a success becomes one typed `ProviderError` through
  `error_from_response`, a pure function of status, body and headers (core.segmind.protocol).
- An image is accepted only by its magic bytes (PNG, JPEG, WebP) and only up to `max_image_bytes`,
  and is written into the `ResultSink` the caller provides (core.segmind.results): the client
  does not own the blob store.
- A result image is fetched only through `core.downloads.Downloader`: hosts on an allowlist
  (Segmind's own API/upload hosts, its result storage, and what the operator adds), a size cap,
  a timeout. A billed result is valuable: a download that fails, or brings bytes that are not an
  image (a flaky CDN or proxy), is tried again before the job is given up.
- The API key goes in the `x-api-key` header to Segmind's own hosts and nowhere else: not to
  result hosts, not into any error message, not into any log line.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import aiohttp

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
    ProviderResultExpired,
    ProviderSubmitUncertain,
    ProviderUnavailable,
)
from core.images import sniff_image_type
from core.models import ModelId
from core.ratelimit import SlidingWindowLimiter
from core.segmind.protocol import (
    COMPLETED_STATES,
    FAILED_STATES,
    JSON_BODY_MAX_BYTES,
    Garbage,
    decode_inline,
    extract_output,
    header_value,
    metadata_value,
    parse_float,
    parse_int,
    state_of,
    terminal_error,
)
from core.segmind.results import GeneratedImage, ResultSink, StoredResult, commit_image, store_inline
from core.segmind.transport import BILLED, BILLED_RESULT, SAFE, SegmindTransport, parse_json
from core.segmind.upload_body import DataUrlsBody

log = logging.getLogger("core.segmind")


@dataclass(frozen=True)
class SegmindTimeouts:
    submit: float = 30
    poll: float = 15
    download: float = 60
    sync: float = 240
    poll_deadline: float = 1800  # total time a queued job may take
    upload: float = 60  # reference uploads carry up to 8 downscaled images as base64


class SegmindClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        sink: ResultSink,
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
        self._sink = sink
        self._base = base_url.rstrip("/")
        self._upload_url = upload_url
        self._mode = mode
        self._timeouts = timeouts
        self._max_image_bytes = max_image_bytes
        self._poll_interval = poll_interval
        self._poll_interval_max = max(poll_interval_max, poll_interval)
        self._http = SegmindTransport(
            session,
            api_key=api_key,
            key_urls=(self._base, upload_url),
            limiter=limiter,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            sleep=sleep,
            rng=rng or random.Random(),
        )
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
        return self._http.limiter

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
        payload = await self._json_call(
            "POST", self._upload_url, body=lambda: DataUrlsBody(images), timeout=self._timeouts.upload, what="upload"
        )
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
            raise ProviderBadOutput("upload answer carries no file URLs", status=200)
        if len(urls) != len(images):
            raise ProviderBadOutput(f"upload returned {len(urls)} URLs for {len(images)} images", status=200)
        log.info("segmind: uploaded %d reference image(s)", len(urls))
        return urls

    async def account_credits(self) -> float | None:
        """The account's balance in USD, or None when the answer carries no readable number."""
        payload = await self._json_call(
            "GET", f"{self._base}/v1/get-user-credits", timeout=self._timeouts.poll, what="credits"
        )
        if not isinstance(payload, dict):
            return None
        return parse_float(payload.get("credits"))

    async def _json_call(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        what: str,
        body: Callable[[], aiohttp.payload.Payload] | None = None,
    ) -> Any:
        """The parsed JSON (None if it is not JSON) of a repeatable call that must answer 200."""
        status, headers, data = await self._http.send(
            SAFE, method, url, body=body, timeout=timeout, read_limit=JSON_BODY_MAX_BYTES, what=what
        )
        if status != 200:
            raise self._http.error(status, data, headers)
        return parse_json(data)

    # -- generation flows ---------------------------------------------------------------------

    async def _generate_sync(self, slug: str, body: dict) -> GeneratedImage:
        status, headers, data = await self._post_billed(
            f"v1/{slug}", body, timeout=self._timeouts.sync, read_limit=self._max_image_bytes, what=f"v1 {slug}"
        )
        request_id = header_value(headers, "x-request-id")
        log.info("segmind %s: v1 answered %s (request %s)", slug, status, request_id)
        payload = None
        if sniff_image_type(data) is None:
            # Raw image bytes are the documented answer; a JSON body with the image inside is
            # tolerated because the seed's sample code reads the answer as JSON.
            payload = parse_json(data)
            ref = extract_output(payload)
            if ref is None:
                raise ProviderBadOutput(f"v1 answer is not an image ({len(data)} bytes)", status=status)
            stored = await self._fetch_image(ref)
        else:
            stored = await store_inline(self._sink, data)
        return self._image(stored, request_id, payload, headers)

    async def _post_billed(
        self, path: str, body: dict, *, timeout: float, read_limit: int, what: str
    ) -> tuple[int, Mapping[str, str], bytes]:
        """A generation request: never sent again once Segmind may have accepted it (BILLED)."""
        return await self._http.send(
            BILLED, "POST", f"{self._base}/{path}", json_body=body, timeout=timeout, read_limit=read_limit, what=what
        )

    async def _submit(self, slug: str, body: dict) -> str:
        status, _, data = await self._post_billed(
            f"v2/{slug}", body, timeout=self._timeouts.submit, read_limit=JSON_BODY_MAX_BYTES, what=f"v2 submit {slug}"
        )
        payload = parse_json(data)
        request_id = payload.get("request_id") if isinstance(payload, dict) else None
        if isinstance(request_id, int) and not isinstance(request_id, bool):
            request_id = str(request_id)
        if not isinstance(request_id, str) or not request_id.strip():
            if state_of(payload) in FAILED_STATES:  # refused outright: nothing was queued, nothing billed
                raise self._http.scrubbed(terminal_error(payload, status))
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
                        return self._image(await store_inline(self._sink, raw), request_id, None, headers)
                    if state in COMPLETED_STATES or (state is None and extract_output(payload) is not None):
                        return await self._image_from_result(request_id, payload, headers)
                garbage = 0
            except Garbage as exc:
                # Polls are safe to repeat and the request may be billed: ask again, a bounded
                # number of times in a row, rather than give the paid result up.
                garbage += 1
                log.info("segmind: request %s: %s (%d in a row)", request_id, exc, garbage)
                if garbage >= self._http.max_attempts:
                    raise ProviderUnavailable(f"request {request_id}: {exc}", status=200) from None
            elapsed = max(loop.time() - started, slept)
            if elapsed >= self._timeouts.poll_deadline:
                # Segmind may still finish (and bill) it; the caller must not submit it again.
                raise ProviderSubmitUncertain(f"request {request_id} still {state} after {elapsed:.0f} s")
            log.debug("segmind: request %s is %s, next poll in %.2f s", request_id, state, interval)
            await self._http.sleep(interval)
            slept += interval
            interval = min(interval * 1.5, self._poll_interval_max)

    async def _poll(
        self, url: str, request_id: str, what: str
    ) -> tuple[str | None, Any, Mapping[str, str], bytes | None]:
        """(state, payload, headers, raw image or None) of a status or result URL; raises on
        a terminal failure (FAILED → moderated/rejected, 404 → expired) or a non-retryable error."""
        status, headers, body = await self._http.send(
            SAFE,
            "GET",
            url,
            timeout=self._timeouts.poll,
            read_limit=JSON_BODY_MAX_BYTES + self._max_image_bytes * 4 // 3,
            what=what,
        )
        log.debug("segmind: %s of %s answered %s", what, request_id, status)
        payload = parse_json(body)
        state = state_of(payload)
        if state in FAILED_STATES:  # a body that announces a terminal state is a result, whatever the status
            error = terminal_error(payload, status)
            log.info("segmind: request %s FAILED (%s)", request_id, type(error).__name__)
            raise self._http.scrubbed(error)
        if status in (404, 410):
            raise ProviderResultExpired(f"request {request_id} is no longer known to Segmind", status=status)
        if status != 200:
            raise self._http.error(status, body, headers)
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
    def _image(
        stored: StoredResult, request_id: str | None, payload: Any, headers: Mapping[str, str]
    ) -> GeneratedImage:
        """The stored image and what Segmind said about it: in the v2 result's metadata, else in the
        headers (a v1 answer carries them only there)."""

        def fact(keys: tuple[str, ...], header: str) -> Any:
            value = metadata_value(payload, keys)
            return header_value(headers, header) if value is None else value

        log.info("segmind: request %s done (%s, %d bytes)", request_id, stored.mime, stored.size)
        return GeneratedImage(
            blob=stored.blob,
            path=stored.path,
            size=stored.size,
            mime=stored.mime,
            request_id=request_id,
            seed=parse_int(fact(("seed", "seed_value"), "x-seed-value")),
            cost_usd=parse_float(fact(("cost", "cost_usd", "price"), "x-cost")),
            remaining_credits_usd=parse_float(header_value(headers, "x-remaining-credits")),
            generation_seconds=parse_float(
                fact(("predict_time", "inference_time", "generation_time", "execution_time"), "x-generation-time")
            ),
        )

    async def _fetch_image(self, ref: str) -> StoredResult:
        """The result image, streamed into the sink and checked. A URL is fetched through the
        downloader and tried again (BILLED_RESULT: up to max_attempts) when the answer is transient,
        missing (403/404/410: storage can lag behind COMPLETED) or not a usable image."""
        if not ref.startswith(("http://", "https://")):
            return await store_inline(self._sink, decode_inline(ref, self._max_image_bytes))

        async def once() -> StoredResult:
            with self._sink.writer() as writer:
                try:
                    await self._downloader.get_into(
                        ref, writer.write, max_bytes=self._max_image_bytes, timeout=self._timeouts.download
                    )
                except (HostNotAllowed, TooLarge):
                    raise  # no attempt can change these: answered outside the retry loop
                except DownloadError as exc:
                    if exc.retryable:
                        raise ProviderUnavailable(f"result image: {exc.message}", status=exc.status) from None
                    if exc.status in (403, 404, 410):
                        raise ProviderResultExpired(
                            f"result image answered {exc.status}", status=exc.status
                        ) from None
                    raise ProviderBadOutput(f"result image answered {exc.status}", status=exc.status) from None
                return await commit_image(self._sink, writer)

        try:
            return await self._http.retrying(BILLED_RESULT, "download", once)
        except HostNotAllowed as exc:
            log.error("segmind: result URL refused (%s); add its host to DOWNLOAD_ALLOWED_HOSTS", exc.message)
            raise ProviderBadOutput(f"result URL refused: {exc.message}") from None
        except TooLarge:
            raise ProviderBadOutput(f"result image is larger than {self._max_image_bytes} bytes") from None
