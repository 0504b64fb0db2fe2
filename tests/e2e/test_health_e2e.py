"""HEALTH_ADDR on the running bot: /healthz follows the gateway, /metrics moves with the work."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import ALICE, GENERAL, GUILD

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Probe:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    async def healthz(self) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(self.base + "/healthz") as resp:
            return resp.status, await resp.text()

    async def metrics(self) -> dict[tuple[str, tuple], float]:
        async with aiohttp.ClientSession() as http, http.get(self.base + "/metrics") as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
            text = await resp.text()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


async def start(world) -> Probe:
    port = free_port()
    await world.start_bot(HEALTH_ADDR=f"127.0.0.1:{port}")
    return Probe(port)


async def test_a_job_moves_the_metrics(world):
    probe = await start(world)
    before = await probe.metrics()
    assert before[("flux_gateway_connected", ())] == 1
    assert before.get(("flux_jobs_finished_total", (("outcome", "posted"),)), 0) == 0
    await world.grant(10)
    await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a lighthouse"}))

    async def posted():
        m = await probe.metrics()
        return m if m.get(("flux_jobs_finished_total", (("outcome", "posted"),))) == 1 else None

    after = await wait_async(world, posted)
    assert after[("flux_credits_spent_total", ())] == 2  # Klein's price in data/prices.json
    assert after[("flux_segmind_request_seconds_count", (("endpoint", "submit"),))] == 1
    assert after[("flux_segmind_request_seconds_count", (("endpoint", "result"),))] >= 1
    assert after[("flux_interaction_ack_seconds_count", ())] >= 2  # the grant and the /imagine
    assert after[("flux_jobs", (("state", "queued"),))] == 0

    async def lag_sampled():
        return (await probe.metrics())[("flux_event_loop_lag_seconds_count", ())] >= 1

    await wait_async(world, lag_sampled)
    assert after[("flux_gateway_latency_seconds", ())] >= 0


async def test_segmind_429s_are_counted_by_endpoint(world):
    from tests.fakes.segmind_server import Fault

    probe = await start(world)
    await world.grant(10)
    world.segmind.script("submit", Fault(status=429, headers={"Retry-After": "0"}))
    await world.result(await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a kite"}))
    m = await probe.metrics()
    assert m[("flux_segmind_rate_limited_total", (("endpoint", "submit"),))] == 1
    assert m[("flux_segmind_errors_total", (("endpoint", "submit"), ("status", "429")))] == 1


async def test_a_dropped_gateway_turns_healthz_to_503_and_back(world):
    probe = await start(world)
    assert await probe.healthz() == (200, "ok\n")
    world.discord.gateway_refusing = True
    await world.discord.drop_connection(4000)

    async def down():
        status, text = await probe.healthz()
        return (status, text) if status == 503 else None

    status, text = await wait_async(world, down)
    assert "gateway disconnected" in text and "database" not in text

    world.discord.gateway_refusing = False

    async def up():
        return (await probe.healthz())[0] == 200

    await wait_async(world, up, timeout=60)
    m = await probe.metrics()
    assert m[("flux_gateway_reconnects_total", ())] >= 1
    assert m[("flux_gateway_connected", ())] == 1


async def wait_async(world, check, timeout: float = 20.0):
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {check.__name__}:\n{world.log()}")
        await asyncio.sleep(0.1)
