"""HEALTH_ADDR: `/healthz` for a supervisor or load balancer, `/metrics` for Prometheus.

`/healthz` answers 200 "ok" while the gateway session is up and the database takes a write, and 503
with the reasons otherwise (one per line). It runs in the bot's own event loop, so a loop too
stalled to answer it is reported as down by the prober's timeout, which is what it should mean.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from discord.ext import commands

from cogs.ui.startup import EXIT_CONFIG, StartupFailure
from core.db import Database
from core.metrics import CONTENT_TYPE, Metrics
from core.scheduler import FairScheduler

log = logging.getLogger(__name__)

DB_PROBE_TIMEOUT = 5.0


class GatewayWatch:
    """Whether the gateway session is up, from discord.py's own connect/resume/disconnect events."""

    def __init__(self, bot: commands.Bot, metrics: Metrics) -> None:
        self._bot = bot
        self._metrics = metrics
        self.connected = False
        self.down_since: float | None = time.time()
        self._sessions = 0
        for name in ("on_connect", "on_resumed", "on_disconnect"):
            bot.add_listener(getattr(self, name), name)

    async def on_connect(self) -> None:
        self._up()

    async def on_resumed(self) -> None:
        self._up()

    async def on_disconnect(self) -> None:
        if self.connected:
            self.down_since = time.time()
        self.connected = False
        self._metrics.gateway_connected.set(0)

    def _up(self) -> None:
        self._sessions += 1
        if self._sessions > 1:
            self._metrics.gateway_reconnects.inc()
        self.connected = True
        self.down_since = None
        self._metrics.gateway_connected.set(1)


class HealthServer:
    def __init__(
        self, bot: commands.Bot, db: Database, scheduler: FairScheduler, metrics: Metrics, gateway: GatewayWatch
    ) -> None:
        self._bot = bot
        self._db = db
        self._scheduler = scheduler
        self._metrics = metrics
        self._gateway = gateway
        self._runner: web.AppRunner | None = None
        self._lag_task: asyncio.Task[None] | None = None

    async def start(self, addr: str) -> None:
        host, _, port = addr.rpartition(":")
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, host.strip("[]"), int(port)).start()
        except OSError as exc:
            await self._runner.cleanup()
            raise StartupFailure(
                f"cannot serve HEALTH_ADDR {addr} ({exc.strerror or exc}): pick a free port or leave it empty",
                EXIT_CONFIG,
            ) from None
        self._lag_task = asyncio.create_task(self._metrics.watch_loop_lag(), name="loop-lag")
        log.info("health and metrics on http://%s/healthz and /metrics", addr)

    async def close(self) -> None:
        if self._lag_task is not None:
            self._lag_task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    async def problems(self) -> list[str]:
        problems = []
        if not self._gateway.connected or self._bot.is_closed():
            since = self._gateway.down_since
            ago = f" for {time.time() - since:.0f} s" if since is not None else ""
            problems.append(f"gateway disconnected{ago}")
        try:
            await asyncio.wait_for(self._db.set_meta("health_checked_at", f"{time.time():.0f}"), DB_PROBE_TIMEOUT)
        except Exception as exc:  # whatever stops the write is the reason to report
            problems.append(f"database not writable: {exc!r}")
        return problems

    async def healthz(self, request: web.Request) -> web.Response:
        problems = await self.problems()
        if problems:
            return web.Response(status=503, text="\n".join(problems) + "\n")
        return web.Response(text="ok\n")

    async def metrics(self, request: web.Request) -> web.Response:
        body = await self._metrics.render(
            self._db,
            queued=self._scheduler.queued(),
            in_flight=self._scheduler.in_flight,
            gateway_latency=self._bot.latency,
        )
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
