"""discord.py's REST pool (cogs/ui/patches.py `discord_connector`): a burst reuses a bounded number
of connections instead of opening one per request in flight. Real sockets, a local server counting
the connections it accepted."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
from aiohttp import web
from discord.ext import commands

from cogs.ui import patches
from tests.local_http import serving


async def _burst(connector: aiohttp.BaseConnector, requests: int) -> tuple[int, int]:
    """(answered requests, distinct connections the server saw)."""
    peers: set[tuple] = set()

    async def handler(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername"))
        await asyncio.sleep(0.01)  # long enough that the requests are in flight together
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/api/v10/interactions/{id}/{token}/callback", handler)
    async with serving(app) as port, aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> int:
            url = f"http://127.0.0.1:{port}/api/v10/interactions/{i}/t/callback"
            async with session.post(url, json={"type": 5}) as response:
                return response.status

        statuses = await asyncio.gather(*(one(i) for i in range(requests)))
    return sum(1 for s in statuses if s == 200), len(peers)


async def test_a_burst_shares_a_bounded_pool():
    answered, connections = await _burst(patches.discord_connector(), 3 * patches.DISCORD_CONNECTIONS)
    assert answered == 3 * patches.DISCORD_CONNECTIONS
    assert 1 < connections <= patches.DISCORD_CONNECTIONS


async def test_discord_py_default_opens_one_connection_per_request_in_flight():
    """What the cap is for (and that the server's count can tell): discord.py's own pool."""
    answered, connections = await _burst(aiohttp.TCPConnector(limit=0), 150)
    assert answered == 150
    assert connections > 100


async def test_a_login_retry_keeps_the_cap():
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
    await patches.reset_http(bot)
    connector = bot.http.connector
    try:
        assert isinstance(connector, aiohttp.TCPConnector)
        assert connector.limit_per_host == patches.DISCORD_CONNECTIONS
    finally:
        await connector.close()
