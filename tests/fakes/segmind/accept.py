"""Accepting a generation: the checks every billed POST goes through, and rendering its image."""

from __future__ import annotations

import asyncio
import io
import json
import math
import time
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from PIL import Image

from tests.fakes.segmind.images import render_image
from tests.fakes.segmind.records import (
    FETCH_MAX_BYTES,
    KLEIN_KEYS,
    MATCH_INPUT,
    MODELS,
    PRO,
    PRO_KEYS,
    _Accepted,
    _image_kind,
    _Refusal,
)
from tests.fakes.segmind.validation import _validate_klein, _validate_pro


class AcceptMixin:
    """Auth, rate limit, parameter rules, reference fetching and the output size, shared by v1 and v2."""

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
        while self._window and self._window[0] + self.rate_period <= now:
            self._window.popleft()
        if len(self._window) >= self.rate_limit_per_minute:
            self.rate_limited += 1
            reset = time.time() + (self._window[0] + self.rate_period - now)
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
