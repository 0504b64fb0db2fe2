"""What the bot is doing, as Prometheus metrics (prometheus-client, one registry per process).

Fed from the edges, not threaded through the core: the event bus (jobs posted, failed, refunded,
undeliverable), aiohttp trace hooks on the Segmind session and on discord.py's HTTP session
(latency, errors and 429s by endpoint, interaction acknowledgement latency), the gateway's own
events and a loop-lag probe. Gauges that describe the database (jobs by state) are read when
scraped, through the partial index of unfinished jobs, so a scrape never scans the whole table.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable
from types import SimpleNamespace
from urllib.parse import urlsplit

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from core import events as ev
from core.db import Database
from core.snowflake import snowflake_time

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNFINISHED_STATES = ("queued", "submitting", "submitted", "succeeded")
_ID = re.compile(r"/\d{5,}")
_CALLBACK = re.compile(r"/interactions/(\d+)/[^/]+/callback$")
# Interaction tokens sit in the path: never in a label (a secret, and a new series per interaction).
_WEBHOOK_TOKEN = re.compile(r"(/(?:webhooks|interactions)/:id)/[^/]+")


def discord_route(url) -> str:
    """A Discord REST path as a label: ids and interaction tokens replaced."""
    return _WEBHOOK_TOKEN.sub(r"\1/:token", _ID.sub("/:id", url.path))


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.jobs = Gauge("flux_jobs", "Unfinished jobs by state (read from the database)", ["state"], registry=r)
        self.jobs_finished = Counter(
            "flux_jobs_finished", "Jobs that ended, by outcome", ["outcome"], registry=r
        )
        self.queue_depth = Gauge("flux_queue_depth", "Jobs waiting for a Segmind slot (all guilds)", registry=r)
        self.in_flight = Gauge("flux_jobs_in_flight", "Jobs at Segmind now", registry=r)
        self.credits_spent = Counter("flux_credits_spent", "Credits charged for posted images", registry=r)
        self.refunds = Counter("flux_refunds", "Jobs whose credits went back to the guild, by cause", ["cause"], registry=r)
        self.credits_refunded = Counter("flux_credits_refunded", "Credits given back", registry=r)
        self.segmind_latency = Histogram(
            "flux_segmind_request_seconds", "Segmind HTTP request latency by endpoint", ["endpoint"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120), registry=r,
        )
        self.segmind_errors = Counter(
            "flux_segmind_errors", "Segmind answers >= 400 and failed connections, by endpoint and status",
            ["endpoint", "status"], registry=r,
        )
        self.segmind_429 = Counter("flux_segmind_rate_limited", "Segmind 429 answers by endpoint", ["endpoint"], registry=r)
        self.discord_errors = Counter(
            "flux_discord_errors", "Discord REST answers >= 400 by route and status", ["route", "status"], registry=r
        )
        self.discord_429 = Counter("flux_discord_rate_limited", "Discord REST 429 answers by route", ["route"], registry=r)
        self.ack_latency = Histogram(
            "flux_interaction_ack_seconds", "From an interaction's creation to the bot's acknowledgement",
            buckets=(0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 5, 10), registry=r,
        )
        self.loop_lag = Histogram(
            "flux_event_loop_lag_seconds", "How late the event loop woke a sleeping task",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5), registry=r,
        )
        self.gateway_latency = Gauge("flux_gateway_latency_seconds", "Heartbeat round trip to Discord's gateway", registry=r)
        self.gateway_connected = Gauge("flux_gateway_connected", "1 while the gateway session is up", registry=r)
        self.gateway_reconnects = Counter("flux_gateway_reconnects", "Gateway connections after the first", registry=r)

    # --- the event bus ---------------------------------------------------------------------------

    async def on_job_posted(self, event: ev.JobPosted) -> None:
        self.jobs_finished.labels("posted").inc()
        self.credits_spent.inc(event.job.price)

    async def on_job_failed(self, event: ev.JobFailed) -> None:
        self.jobs_finished.labels("failed").inc()
        self.refunds.labels("failed").inc()
        self.credits_refunded.inc(event.refunded)

    async def on_credits_refunded(self, event: ev.CreditsRefunded) -> None:
        self.refunds.labels("moderator").inc()

    async def on_job_undeliverable(self, event: ev.JobUndeliverable) -> None:
        self.jobs_finished.labels("undeliverable").inc()

    # --- scraping ----------------------------------------------------------------------------------

    async def render(self, db: Database, *, queued: int, in_flight: int, gateway_latency: float) -> bytes:
        rows = await db.fetchall(
            "SELECT state, COUNT(*) AS n FROM jobs"
            " WHERE state NOT IN ('posted', 'refunded', 'undeliverable') GROUP BY state"
        )
        counts = {row["state"]: row["n"] for row in rows}
        for state in UNFINISHED_STATES:
            self.jobs.labels(state).set(counts.get(state, 0))
        self.queue_depth.set(queued)
        self.in_flight.set(in_flight)
        if math.isfinite(gateway_latency):
            self.gateway_latency.set(gateway_latency)
        return generate_latest(self.registry)

    # --- HTTP hooks ---------------------------------------------------------------------------------

    def segmind_trace(self, base_url: str, upload_url: str) -> aiohttp.TraceConfig:
        """Latency, errors and 429s of every request on the Segmind session, by endpoint."""
        base = urlsplit(base_url)
        upload = urlsplit(upload_url)

        def endpoint(url) -> str:
            if (url.host, url.path) == (upload.hostname, upload.path):
                return "upload"
            if url.host != base.hostname:
                return "download"
            path = url.path
            if path.endswith("/get-user-credits"):
                return "account"
            if "/v2/requests/" in path:
                return "status" if path.endswith("/status") else "result"
            return "submit" if path.startswith("/v2/") else "v1"

        return self._trace(endpoint, self._segmind_answer)

    def discord_trace(self) -> aiohttp.TraceConfig:
        """discord.py's REST calls: errors and 429s by route; acknowledgement latency of interactions."""

        return self._trace(discord_route, self._discord_answer)

    def _segmind_answer(self, endpoint: str, status: int | None, seconds: float, url) -> None:
        self.segmind_latency.labels(endpoint).observe(seconds)
        if status is None or status >= 400:
            self.segmind_errors.labels(endpoint, str(status or "connection")).inc()
        if status == 429:
            self.segmind_429.labels(endpoint).inc()

    def _discord_answer(self, route: str, status: int | None, seconds: float, url) -> None:
        if status is None or status >= 400:
            self.discord_errors.labels(route, str(status or "connection")).inc()
        if status == 429:
            self.discord_429.labels(route).inc()
        if status is not None and status < 300 and (match := _CALLBACK.search(url.path)):
            self.ack_latency.observe(max(0.0, time.time() - snowflake_time(int(match.group(1)))))

    @staticmethod
    def _trace(label: Callable, record: Callable) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()

        async def start(session, ctx: SimpleNamespace, params) -> None:
            ctx.started = time.monotonic()

        async def end(session, ctx: SimpleNamespace, params) -> None:
            record(label(params.url), params.response.status, time.monotonic() - ctx.started, params.url)

        async def failed(session, ctx: SimpleNamespace, params) -> None:
            record(label(params.url), None, time.monotonic() - ctx.started, params.url)

        trace.on_request_start.append(start)
        trace.on_request_end.append(end)
        trace.on_request_exception.append(failed)
        return trace

    # --- the event loop ---------------------------------------------------------------------------

    async def watch_loop_lag(self, interval: float = 0.5) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(interval)
            self.loop_lag.observe(max(0.0, loop.time() - before - interval))
