"""/healthz reasons, on a real database and a real (unconnected) discord.py bot."""

from __future__ import annotations

import discord
from discord.ext import commands

from cogs.ui.health import GatewayWatch, HealthServer
from core.db import Database
from core.metrics import Metrics
from core.scheduler import FairScheduler


async def health(tmp_path) -> tuple[HealthServer, GatewayWatch, Database, commands.Bot]:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
    db = await Database.open(tmp_path / "bot.db")
    metrics = Metrics()
    watch = GatewayWatch(bot, metrics)
    async def run(job_id: int) -> None:
        raise AssertionError("no job runs in these tests")

    scheduler = FairScheduler(run, global_limit=1, per_guild_limit=1)
    return HealthServer(bot, db, scheduler, metrics, watch), watch, db, bot


async def test_healthy_only_while_connected_and_writable(tmp_path):
    server, watch, db, bot = await health(tmp_path)
    try:
        (problem,) = await server.problems()
        assert problem.startswith("gateway disconnected for "), "not connected yet at start"
        await watch.on_connect()
        assert await server.problems() == []
        await watch.on_disconnect()
        assert (await server.problems())[0].startswith("gateway disconnected for ")
        await watch.on_resumed()
        assert await server.problems() == []
    finally:
        await db.close()
        await bot.close()


async def test_a_database_that_refuses_writes_is_a_reason(tmp_path):
    server, watch, db, bot = await health(tmp_path)
    await watch.on_connect()
    await db.close()  # every write now fails, as on a full or read-only disk
    try:
        (problem,) = await server.problems()
        assert problem.startswith("database not writable: ")
    finally:
        await bot.close()
