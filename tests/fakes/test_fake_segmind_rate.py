"""The fake Segmind's rate limit over a scaled window (the scale harness runs a 60 s limit in a few
seconds) and its arrival log in wall-clock time (set against the times bot processes write)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import aiohttp

from tests.fakes.segmind_server import FakeSegmind


async def submit(session: aiohttp.ClientSession, fake: FakeSegmind, prompt: str) -> tuple[int, dict]:
    async with session.post(
        fake.base_url + "/v2/flux-2-klein-9b", json={"prompt": prompt}, headers={"x-api-key": fake.api_key}
    ) as resp:
        return resp.status, dict(resp.headers)


async def test_the_limit_applies_to_the_scaled_window_and_arrivals_are_logged() -> None:
    async with FakeSegmind(latency=0.01, rate_limit_per_minute=2) as fake, aiohttp.ClientSession() as session:
        fake.rate_period = 3600.0
        before = time.time()
        assert [(await submit(session, fake, f"p{n}"))[0] for n in range(2)] == [200, 200]
        status, headers = await submit(session, fake, "p2")
        assert status == 429 and fake.rate_limited == 1
        reset = datetime.fromisoformat(
            headers["x-rate-limit-reset-at-utc"].replace("Z", "+00:00")
        ).timestamp()
        assert reset - time.time() > 3000, "the reset is one (scaled) window after the oldest request"
        fake.rate_period = 0.001  # the window has passed for every request above
        await asyncio.sleep(0.01)
        assert (await submit(session, fake, "p3"))[0] == 200
        arrivals = [(r.body["prompt"], r.status) for r in fake.calls("submit")]
        assert arrivals == [("p0", 200), ("p1", 200), ("p2", 429), ("p3", 200)]
        walls = [r.wall for r in fake.calls("submit")]
        assert walls == sorted(walls) and before <= walls[0] <= time.time()
