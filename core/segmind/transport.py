"""HTTP to Segmind with the one retry loop, and the policy that tells billed requests from safe ones.

A billed request (v2 submit, v1 call) is paid for once Segmind accepts it, so it is sent again
only when an answer proved it was not accepted (a non-2xx retryable status) or nothing went out
(connection refused, DNS, connect timeout); once it may have gone out, a timeout or a dropped
connection is `ProviderSubmitUncertain` at once. A safe request (polls, result, upload, credits)
is repeated after any transient failure. A billed result's download is safe and valuable, so an
answer that is missing (storage can lag behind COMPLETED) or not an image is tried again too.
`SegmindTransport.retrying` is the only loop; `RetryPolicy.retries` is the only decision.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp

from core.errors import (
    ProviderBadOutput,
    ProviderError,
    ProviderModelUnavailable,
    ProviderRateLimited,
    ProviderResultExpired,
    ProviderSubmitUncertain,
    ProviderUnavailable,
)
from core.ratelimit import SlidingWindowLimiter
from core.segmind.protocol import ERROR_BODY_MAX_BYTES, RESET_WAIT_MAX, AnswerTooLarge, error_from_response

log = logging.getLogger("core.segmind")

# Awaited before every attempt of a billed request, once its rate-limit place is taken (retries
# included): core/generation.py sets it in a job's task to check the job's lease (core/leases.py), so
# a process that lost the job while it waited or retried never sends the POST.
before_billed: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar("before_billed", default=None)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """What one kind of request may be tried again after."""

    billed: bool  # Segmind charges for it once accepted: never re-sent once it may have gone out
    retry_unusable: bool = False  # a missing or non-image answer is worth asking for again

    def succeeded(self, status: int) -> bool:
        return 200 <= status < 300 if self.billed else status == 200

    def retries(self, error: ProviderError) -> bool:
        if error.retryable:
            return True
        return self.retry_unusable and isinstance(error, ProviderResultExpired | ProviderBadOutput)


BILLED = RetryPolicy(billed=True)
SAFE = RetryPolicy(billed=False)
BILLED_RESULT = RetryPolicy(billed=False, retry_unusable=True)


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    timeout: float
    read_limit: int
    what: str  # names the request in logs and errors
    json_body: Any
    body: Callable[[], aiohttp.payload.Payload] | None  # a new payload per attempt: one is sent once


class SegmindTransport:
    """The session, the API key's scope, the rate limiter and the backoff, shared by every call."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        key_urls: tuple[str, ...],
        limiter: SlidingWindowLimiter | None,
        max_attempts: int,
        backoff_base: float,
        backoff_max: float,
        sleep: Callable[[float], Awaitable[object]],
        rng: random.Random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.session = session
        self.limiter = limiter
        self.max_attempts = max_attempts
        self.sleep = sleep
        self._api_key = api_key
        # The key is sent only to hosts that are Segmind's own API or upload endpoint.
        self._key_origins = {_origin(url) for url in key_urls}
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._rng = rng

    async def retrying(self, policy: RetryPolicy, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """`attempt()` until it returns, or raises an error `policy` does not retry, or attempts run out."""
        for number in range(1, self.max_attempts + 1):
            try:
                return await attempt()
            except ProviderError as error:
                if number == self.max_attempts or not policy.retries(error):
                    raise
                log.info("segmind: %s attempt %d/%d failed (%s)", what, number, self.max_attempts, error.message)
                await self._wait_before_retry(error, number, what)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def send(
        self,
        policy: RetryPolicy,
        method: str,
        url: str,
        *,
        timeout: float,
        read_limit: int,
        what: str,
        json_body: Any = None,
        body: Callable[[], aiohttp.payload.Payload] | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """(status, headers, body) of a success, or of a safe request's non-transient answer (the
        caller reads those: a 404 poll is an expired request). Everything else raises, after the
        retries `policy` allows."""
        call = _Call(method, url, timeout, read_limit, what, json_body, body)

        async def once() -> tuple[int, Mapping[str, str], bytes]:
            if policy.billed and self.limiter is not None:
                await self.limiter.acquire()
            if policy.billed and (guard := before_billed.get()) is not None:
                await guard()  # after any wait for the window: raises if the job is no longer ours
            status, headers, data = await self._exchange(policy, call)
            if policy.succeeded(status):
                return status, headers, data
            transient = status == 408 or status == 429 or status >= 500
            if not policy.billed and not transient:
                return status, headers, data
            error = self.error(status, data, headers)
            log.info("segmind: %s answered %s (%s)", what, status, type(error).__name__)
            raise error

        return await self.retrying(policy, what, once)

    async def _exchange(self, policy: RetryPolicy, call: _Call) -> tuple[int, Mapping[str, str], bytes]:
        """One request: the whole body of a success (capped), the start of any other answer."""
        try:
            async with self.session.request(
                call.method,
                call.url,
                json=call.json_body,
                data=None if call.body is None else call.body(),
                headers=self._headers(call.url, json_body=call.json_body is not None or call.body is not None),
                timeout=_client_timeout(call.timeout),
                allow_redirects=not policy.billed,
            ) as resp:
                if not policy.succeeded(resp.status):
                    return resp.status, resp.headers, await _read_error_body(resp)
                try:
                    data = await _read_capped(resp, call.read_limit)
                except AnswerTooLarge:
                    raise ProviderBadOutput(
                        f"{call.what}: answer larger than {call.read_limit} bytes", status=resp.status
                    ) from None
                log.debug("segmind: %s answered %s (%d bytes)", call.what, resp.status, len(data))
                return resp.status, resp.headers, data
        except aiohttp.InvalidURL:
            # A billed URL is the model's; a safe one was built from configuration or an answer.
            raise (ProviderModelUnavailable if policy.billed else ProviderBadOutput)(f"{call.what}: invalid URL") from None
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise ProviderUnavailable(f"{call.what}: could not connect ({type(exc).__name__})") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            if policy.billed:
                log.warning("segmind: %s sent but unanswered (%s): not re-posting", call.what, type(exc).__name__)
                raise ProviderSubmitUncertain(
                    f"{call.what}: sent, but no complete answer ({type(exc).__name__})"
                ) from exc
            raise ProviderUnavailable(f"{call.what}: {type(exc).__name__}") from None

    async def _wait_before_retry(self, error: ProviderError, attempt: int, what: str) -> None:
        delay = None
        if isinstance(error, ProviderRateLimited) and error.reset_at is not None:
            until_reset = error.reset_at - time.time()
            if until_reset > 0:
                delay = min(until_reset, RESET_WAIT_MAX)
        if delay is None:
            delay = self._rng.uniform(0, min(self._backoff_max, self._backoff_base * 2 ** (attempt - 1)))
        if isinstance(error, ProviderRateLimited) and self.limiter is not None:
            self.limiter.penalize(self.limiter.clock() + delay)
        log.debug("segmind: retrying %s in %.2f s", what, delay)
        await self.sleep(delay)

    def _headers(self, url: str, *, json_body: bool) -> dict[str, str]:
        headers = {}
        if _origin(url) in self._key_origins:
            headers["x-api-key"] = self._api_key
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    # -- errors never carry the key -----------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted]") if self._api_key else text

    def scrubbed(self, error: ProviderError) -> ProviderError:
        if self._api_key and (
            self._api_key in error.message or any(self._api_key in str(a) for a in error.args)
        ):
            error.message = self._scrub(error.message)
            error.args = tuple(self._scrub(str(a)) for a in error.args)
        return error

    def error(self, status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
        return self.scrubbed(error_from_response(status, body, headers))


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _client_timeout(total: float) -> aiohttp.ClientTimeout:
    # A separate, shorter connect timeout raises ConnectionTimeoutError, which proves the
    # request was never sent; a `total` timeout alone could not tell the two apart.
    return aiohttp.ClientTimeout(total=total, connect=min(10.0, total / 2))


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
