"""Self-tests of the fake Discord's sharding: guilds and interactions reach the session of their
shard, several bots connect at once, and IDENTIFY's shard field and rate limit are Discord's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from tests.fakes.discord_server import FakeDiscord

SHARDS = 4
USER = 1_300_000_000_000_000_001


def guild_on(shard: int, n: int) -> int:
    """A guild id on `shard` of SHARDS: its timestamp part modulo the shard count picks the shard."""
    return ((400_000_000_000 + n * SHARDS + shard) << 22) | 7


GUILDS = {shard: [guild_on(shard, n) for n in range(3)] for shard in range(SHARDS)}


def channel_of(guild_id: int) -> int:
    return guild_id + 1


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    server.shard_count = SHARDS
    server.max_concurrency = SHARDS  # every shard its own bucket: the bots below may IDENTIFY at once
    server.add_user(USER, "alice")
    for guild_id in (g for guilds in GUILDS.values() for g in guilds):
        server.add_guild(
            guild_id, channels=[server.make_channel(channel_of(guild_id), "general")], members=[USER]
        )
    await server.start()
    yield server
    await server.close()
    assert server.server_errors == [], "the fake itself crashed:\n" + "\n".join(server.server_errors)


class ShardBot(discord.AutoShardedClient):
    """One process's worth of shards; records which interactions reached it."""

    def __init__(self, shard_ids: list[int]) -> None:
        super().__init__(intents=discord.Intents.default(), shard_ids=shard_ids, shard_count=SHARDS)
        self.tree = app_commands.CommandTree(self)
        self.handled: list[int] = []

        @self.tree.command(name="where", description="Which process answers")
        async def where(interaction: discord.Interaction) -> None:
            self.handled.append(interaction.guild_id or 0)
            await interaction.response.send_message(f"shard {interaction.guild.shard_id}")

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # the fake gives every shard its own bucket; no 5 s wait needed


@pytest.fixture
async def bots(
    fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[ShardBot, ShardBot]]:
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    first, second = ShardBot([0, 1]), ShardBot([2, 3])
    runners = [asyncio.create_task(bot.start(fake.token)) for bot in (first, second)]
    try:
        await fake.wait_for(lambda: fake.connected_shards() == set(range(SHARDS)), timeout=15)
        await first.wait_until_ready()
        await second.wait_until_ready()
        await first.tree.sync()
        yield first, second
    finally:
        for bot in (first, second):
            await bot.close()
        await asyncio.gather(*runners, return_exceptions=True)


async def test_each_process_gets_only_its_shards_guilds(fake: FakeDiscord, bots) -> None:
    first, second = bots
    assert {g.id for g in first.guilds} == set(GUILDS[0] + GUILDS[1])
    assert {g.id for g in second.guilds} == set(GUILDS[2] + GUILDS[3])
    assert {g.shard_id for g in second.guilds} == {2, 3}
    assert sorted(shard for _, shard in fake.identify_log) == [0, 1, 2, 3]
    assert fake.identify_violations == []


async def test_interactions_reach_the_process_of_the_guilds_shard(fake: FakeDiscord, bots) -> None:
    first, second = bots
    for shard in range(SHARDS):
        guild_id = GUILDS[shard][1]
        interaction = await fake.slash(guild_id, channel_of(guild_id), USER, "where")
        reply = await fake.wait_for(lambda i=interaction: fake.original_response(i))
        assert reply["content"] == f"shard {shard}"
    assert first.handled == [GUILDS[0][1], GUILDS[1][1]]
    assert second.handled == [GUILDS[2][1], GUILDS[3][1]]


async def test_guilds_joined_while_connected_reach_only_their_shards_process(fake: FakeDiscord, bots) -> None:
    first, second = bots
    # One guild per process: whichever session IDENTIFYed last, each join goes to its own shard.
    for bot, other, shard in ((first, second, 1), (second, first, 2)):
        joined = guild_on(shard, 9)
        fake.add_guild(joined, channels=[fake.make_channel(channel_of(joined), "general")], members=[USER])
        await fake.wait_for(lambda b=bot, g=joined: b.get_guild(g))
        assert bot.get_guild(joined).shard_id == shard
        later = channel_of(joined) + 1
        fake.add_channel(joined, fake.make_channel(later, "later"))
        await fake.wait_for(lambda b=bot, c=later: b.get_channel(c))
        assert other.get_guild(joined) is None and other.get_channel(later) is None


async def rest_get(fake: FakeDiscord, path: str) -> Any:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession() as session, session.get(fake.api_base + path, headers=headers) as resp:
        assert resp.status == 200
        return await resp.json()


async def test_gateway_bot_reports_shards_and_session_start_limit(fake: FakeDiscord) -> None:
    fake.shard_count, fake.max_concurrency, fake.session_start_total = 8, 2, 1000
    body = await rest_get(fake, "/gateway/bot")
    assert body["shards"] == 8
    assert body["session_start_limit"] == {
        "total": 1000,
        "remaining": 1000,
        "reset_after": 86_400_000,
        "max_concurrency": 2,
    }


async def identify(fake: FakeDiscord, shard: Any) -> tuple[list[dict], int | None]:
    """A bare IDENTIFY with this `shard` field: the frames the fake sent, and its close code."""
    frames: list[dict] = []
    payload: dict[str, Any] = {"token": fake.token, "intents": 1, "properties": {}}
    if shard is not None:
        payload["shard"] = shard
    async with aiohttp.ClientSession() as session, session.ws_connect(fake.gateway_url) as ws:
        frames.append(await ws.receive_json())
        await ws.send_json({"op": 2, "d": payload})
        while True:
            try:
                msg = await ws.receive(timeout=2)
            except TimeoutError:
                return frames, None
            if msg.type != aiohttp.WSMsgType.TEXT:
                return frames, ws.close_code
            frames.append(json.loads(msg.data))
            created = sum(1 for f in frames if f.get("t") == "GUILD_CREATE")
            if frames[-1].get("op") == 9 or created == len(fake.guilds_of_shard(shard)):
                return frames, None


@pytest.mark.parametrize("shard", [[4, 4], [-1, 4], [0, 0], [0], ["0", 4], [True, 4]])
async def test_an_invalid_shard_field_is_closed_4010(fake: FakeDiscord, shard: Any) -> None:
    _, code = await identify(fake, shard)
    assert code == 4010


async def test_too_many_guilds_on_one_session_is_closed_4011(fake: FakeDiscord) -> None:
    fake.max_guilds_per_shard = 3
    _, code = await identify(fake, None)  # 12 guilds on one unsharded session
    assert code == 4011
    frames, code = await identify(fake, [1, SHARDS])  # 3 guilds: allowed
    assert code is None
    ready = next(f for f in frames if f.get("t") == "READY")
    assert ready["d"]["shard"] == [1, SHARDS]
    assert {int(g["id"]) for g in ready["d"]["guilds"]} == set(GUILDS[1])
    created = [int(f["d"]["id"]) for f in frames if f.get("t") == "GUILD_CREATE"]
    assert sorted(created) == sorted(GUILDS[1])


async def test_two_identifies_of_one_bucket_within_5s_are_a_violation(fake: FakeDiscord) -> None:
    fake.max_concurrency = 2  # buckets: shards 0, 2 -> 0; shards 1, 3 -> 1
    fake.enforce_identify_rate = True
    _, code = await identify(fake, [0, SHARDS])
    assert code is None and fake.identify_violations == []
    _, code = await identify(fake, [1, SHARDS])  # another bucket: fine
    assert code is None and fake.identify_violations == []
    frames, _ = await identify(fake, [2, SHARDS])  # bucket 0 again, at once
    assert frames[-1] == {"op": 9, "d": False}, "Discord answers INVALID_SESSION over the limit"
    assert len(fake.identify_violations) == 1 and "bucket 0" in fake.identify_violations[0]
    assert 2 not in fake.connected_shards()


async def test_spec_checks_per_route_checks_each_route_the_first_n_times() -> None:
    from tests.fakes.openapi_check import default_spec_path

    spec = default_spec_path("fake Discord spec sampling")
    if spec is None:
        pytest.skip("Discord OpenAPI spec not available")
    server = FakeDiscord(spec_path=spec)
    server.add_user(USER, "alice")
    guild = guild_on(0, 0)
    server.add_guild(guild, channels=[server.make_channel(channel_of(guild), "general")], members=[USER])
    server.add_guild(guild_on(1, 0), channels=[server.make_channel(channel_of(guild_on(1, 0)), "other")])
    server.spec_checks_per_route = 2
    headers = {"Authorization": f"Bot {server.token}"}
    async with server, aiohttp.ClientSession() as session:
        for channel in (channel_of(guild), channel_of(guild), channel_of(guild_on(1, 0))):
            url = f"{server.api_base}/channels/{channel}/messages"
            async with session.post(url, json={"content": 12345}, headers=headers):
                pass
        async with session.patch(
            f"{server.api_base}/channels/{channel_of(guild)}/messages/1", json={"content": 5}, headers=headers
        ):
            pass
    # Two bad posts checked, the third (same route) not; the PATCH is another route: checked.
    posts = [
        v for v in server.spec_violations if v.startswith(f"POST /channels/{channel_of(guild)}/messages:")
    ]
    assert len(posts) == 2
    assert not any(
        v.startswith(f"POST /channels/{channel_of(guild_on(1, 0))}/") for v in server.spec_violations
    )
    assert any(v.startswith("PATCH ") for v in server.spec_violations)
