"""Self-tests of the fake Discord: an unmodified discord.py client must work against it, and the
fake must refuse what Discord refuses (so the bot's e2e tests can fail for the right reasons)."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from tests.fakes.discord_server import FakeDiscord
from tests.fakes.openapi_check import default_spec_path, get_checker

GUILD = 1_200_000_000_000_000_001
CHANNEL = 1_200_000_000_000_000_002
USER = 1_200_000_000_000_000_003
ADMIN_ROLE = 1_200_000_000_000_000_004

# A 1x1 PNG: small enough to inline, real enough for Pillow to sniff type and size.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a3e6b2b70000000049454e44ae426082"
)
SPEC = default_spec_path("fake Discord self-tests")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(spec_path=SPEC)
    server.add_user(USER, "alice")
    server.add_guild(
        GUILD,
        "Test Guild",
        roles=[server.make_role(ADMIN_ROLE, "admin", 1 << 3)],
        channels=[server.make_channel(CHANNEL, "general")],
        members=[USER],
    )
    await server.start()
    yield server
    await server.close()
    assert server.server_errors == [], "the fake itself crashed:\n" + "\n".join(server.server_errors)


class DemoBot(commands.Bot):
    """A tiny bot exercising defer/edit/followup, buttons, modals and a global DM command."""

    def __init__(self) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default())
        self.seen_input: bytes | None = None

    async def setup_hook(self) -> None:
        guild = discord.Object(GUILD)

        @app_commands.command(name="render", description="Render an image")
        async def render(
            interaction: discord.Interaction, prompt: str, image: discord.Attachment | None = None
        ) -> None:
            await interaction.response.defer()
            if image is not None:
                self.seen_input = await image.read()
            await interaction.edit_original_response(
                content=f"done: {prompt}",
                attachments=[discord.File(io.BytesIO(PNG), "result.png")],
                allowed_mentions=discord.AllowedMentions.none(),
            )
            await interaction.followup.send("details", ephemeral=True)

        @app_commands.command(name="form", description="Show a button that opens a modal")
        async def form(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("press", view=OpenFormView())

        @app_commands.command(name="ping", description="Pong")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

        self.tree.add_command(render, guild=guild)
        self.tree.add_command(form, guild=guild)
        self.tree.add_command(ping)
        await self.tree.sync(guild=guild)
        await self.tree.sync()


class NameModal(discord.ui.Modal, title="Your name"):
    """One bare TextInput (sent wrapped in an action row) and one inside a Label (type 18)."""

    name: discord.ui.TextInput[NameModal] = discord.ui.TextInput(
        label="Name", custom_id="name", max_length=20
    )
    city: discord.ui.Label[NameModal] = discord.ui.Label(
        text="City", component=discord.ui.TextInput(custom_id="city", required=False)
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"hello {self.name.value} from {self.city.component.value}", ephemeral=True
        )


class OpenFormView(discord.ui.View):
    @discord.ui.button(label="Open", custom_id="open-form")
    async def open_form(
        self, interaction: discord.Interaction, button: discord.ui.Button[OpenFormView]
    ) -> None:
        await interaction.response.send_modal(NameModal(custom_id="name-modal"))


@pytest.fixture
async def bot(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DemoBot]:
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    client = DemoBot()
    runner = asyncio.create_task(client.start(fake.token))
    try:
        await fake.wait_ready(timeout=10)
        yield client
    finally:
        await client.close()
        await runner


async def rest(
    fake: FakeDiscord, method: str, path: str, body: Any = None, *, auth: bool = True
) -> tuple[int, Any]:
    """A raw REST call, standing in for a misbehaving client."""
    headers = {"Authorization": f"Bot {fake.token}"} if auth else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, fake.api_base + path, json=body, headers=headers) as resp,
    ):
        text = await resp.text()
        return resp.status, (json.loads(text) if text else None)


def assert_spec_clean(fake: FakeDiscord) -> None:
    if SPEC is not None:
        assert fake.spec_violations == []


async def test_discord_py_defer_edit_with_file_and_followup(fake: FakeDiscord, bot: DemoBot) -> None:
    source = fake.add_attachment("in.png", PNG, "image/png", width=1, height=1, channel_id=CHANNEL)
    inter = await fake.slash(GUILD, CHANNEL, USER, "render", {"prompt": "a cat", "image": source})

    [followup] = await fake.wait_for(lambda: fake.followups(inter))
    assert fake.callbacks(inter) == [{"type": 5}]
    assert bot.seen_input == PNG, "the bot downloaded the option attachment from the fake CDN"
    original = fake.original_response(inter)
    assert original is not None
    assert original["content"] == "done: a cat"
    assert original["type"] == 20 and original["flags"] == 0, "loading flag cleared by the edit"
    [att] = original["attachments"]
    assert (att["filename"], att["content_type"], att["width"], att["height"]) == (
        "result.png",
        "image/png",
        1,
        1,
    )
    assert fake.attachment_bytes(att) == PNG
    async with aiohttp.ClientSession() as session, session.get(att["url"]) as resp:
        assert resp.status == 200 and await resp.read() == PNG
    assert followup["content"] == "details" and followup["flags"] & 64
    assert followup["interaction_metadata"]["original_response_message_id"] == original["id"]
    assert fake.messages_in(CHANNEL) == [original], "the ephemeral followup is not visible in the channel"
    assert fake.command_syncs == 2 and {c["name"] for c in fake.guild_commands[GUILD]} == {"render", "form"}
    assert fake.unknown_routes == []
    assert fake.pings == []
    assert_spec_clean(fake)
    assert response_violations(fake) == []


def response_violations(fake: FakeDiscord) -> list[str]:
    """What the fake answered must itself match Discord's documented response schemas."""
    if SPEC is None:
        return []
    checker = get_checker(SPEC)
    problems = []
    for req in fake.requests:
        if req.kind != "rest" or req.status != 200:
            continue
        if req.path.endswith("/callback") and req.json == {"type": 5}:
            continue  # the spec models no resource for DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE (type 5)
        for violation in checker.check_response(
            req.method, req.path, req.status, req.response, req.query, req.json
        ):
            problems.append(f"{req.method} {req.path}: {violation}")
    return problems


async def test_button_and_modal_round_trip(fake: FakeDiscord, bot: DemoBot) -> None:
    inter = await fake.slash(GUILD, CHANNEL, USER, "form")
    message = await fake.wait_for(lambda: fake.original_response(inter))
    click = await fake.click(GUILD, CHANNEL, USER, message, "open-form")
    await fake.wait_for(lambda: fake.callbacks(click))
    [modal_callback] = fake.callbacks(click)
    assert modal_callback["type"] == 9 and modal_callback["data"]["custom_id"] == "name-modal"

    with pytest.raises(ValueError, match="length"):
        await fake.submit_modal(GUILD, CHANNEL, USER, "name-modal", {"name": "x" * 21})
    submit = await fake.submit_modal(GUILD, CHANNEL, USER, "name-modal", {"name": "Ada", "city": "Paris"})
    assert [c["type"] for c in submit.payload["data"]["components"]] == [1, 18], "mirrors the modal's layout"
    reply = await fake.wait_for(lambda: fake.original_response(submit))
    assert reply["content"] == "hello Ada from Paris" and reply["flags"] & 64
    assert reply["interaction_metadata"]["triggering_interaction_metadata"]["id"] == str(click.id)
    assert_spec_clean(fake)
    assert response_violations(fake) == []


async def test_dm_slash_command_and_gateway_resume(fake: FakeDiscord, bot: DemoBot) -> None:
    await fake.send_op(7)  # RECONNECT: discord.py must come back with RESUME, not a new IDENTIFY
    await fake.wait_for(lambda: fake.resume_count == 1 and fake.connected)
    inter = await fake.slash(None, None, USER, "ping")
    reply = await fake.wait_for(lambda: fake.original_response(inter))
    assert reply["content"] == "pong" and reply["channel_id"] == str(fake.dm_channels[USER])
    assert inter.payload["context"] == 1 and "user" in inter.payload and "member" not in inter.payload
    assert fake.dms_to(USER) == [reply]
    assert fake.identify_count == 1


async def test_threads_and_forum_posts_reach_discord_py_with_their_parent(fake: FakeDiscord, bot: DemoBot) -> None:
    thread_id, forum_id, post_id = CHANNEL + 100, CHANNEL + 101, CHANNEL + 102
    fake.add_thread(GUILD, CHANNEL, thread_id, "side", owner_id=USER)
    thread = await fake.wait_for(lambda: bot.get_channel(thread_id))
    assert isinstance(thread, discord.Thread) and thread.parent_id == CHANNEL and thread.parent.id == CHANNEL
    inter = await fake.slash(GUILD, thread_id, USER, "ping")
    assert (inter.payload["channel"]["type"], inter.payload["channel"]["parent_id"]) == (11, str(CHANNEL))
    answer = await fake.wait_for(lambda: fake.interaction_messages(inter))
    assert answer[0]["content"] == "pong" and answer[0]["channel_id"] == str(thread_id)

    fake.add_channel(GUILD, fake.make_channel(forum_id, "gallery", type=15, nsfw=True))
    fake.add_thread(GUILD, forum_id, post_id, "a post", owner_id=USER)
    post = await fake.wait_for(lambda: bot.get_channel(post_id))
    assert post.parent.id == forum_id and post.is_nsfw(), "a forum post takes its forum's flag"
    with pytest.raises(ValueError, match="no type-12 thread"):
        fake.add_thread(GUILD, forum_id, CHANNEL + 103, "private post", type=12)
    with pytest.raises(LookupError):
        fake.add_thread(GUILD, thread_id, CHANNEL + 104, "a thread in a thread")
    created = fake._guild_payload(fake.guilds[GUILD], gateway=True)
    assert {t["id"] for t in created["threads"]} == {str(thread_id), str(post_id)}
    assert all(str(t) not in {c["id"] for c in created["channels"]} for t in (thread_id, post_id))
    assert_spec_clean(fake)


async def test_second_callback_is_already_acknowledged(fake: FakeDiscord, bot: DemoBot) -> None:
    inter = await fake.slash(GUILD, CHANNEL, USER, "render", {"prompt": "x"})
    await fake.wait_for(lambda: fake.followups(inter))
    status, body = await rest(
        fake, "POST", f"/interactions/{inter.id}/{inter.token}/callback?with_response=1", {"type": 5}
    )
    assert (status, body) == (400, {"code": 40060, "message": "Interaction has already been acknowledged."})


async def test_late_acknowledgement_is_unknown_interaction(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.callback_deadline = 0.0
    await fake.slash(GUILD, CHANNEL, USER, "render", {"prompt": "x"})
    late = await fake.wait_for(lambda: [r for r in fake.requests if r.path.endswith("/callback")])
    assert late[0].status == 404 and late[0].response == {"code": 10062, "message": "Unknown interaction"}


async def test_expired_interaction_token_is_rejected(fake: FakeDiscord, bot: DemoBot) -> None:
    inter = await fake.slash(GUILD, CHANNEL, USER, "render", {"prompt": "x"})
    await fake.wait_for(lambda: fake.followups(inter))
    fake.expire_interaction(inter)
    path = f"/webhooks/{fake.application_id}/{inter.token}/messages/@original"
    status, body = await rest(fake, "PATCH", path, {"content": "too late"}, auth=False)
    assert (status, body) == (401, {"code": 50027, "message": "Invalid Webhook Token"})


async def test_pings_follow_allowed_mentions(fake: FakeDiscord) -> None:
    path = f"/channels/{CHANNEL}/messages"
    status, loud = await rest(fake, "POST", path, {"content": f"@everyone look <@{USER}>"})
    assert status == 200 and loud["mention_everyone"] is True
    assert fake.pings == [(int(loud["id"]), "everyone", GUILD), (int(loud["id"]), "user", USER)]

    fake.pings.clear()
    status, quiet = await rest(
        fake, "POST", path, {"content": "@everyone <@&1>", "allowed_mentions": {"parse": []}}
    )
    assert status == 200 and quiet["mention_everyone"] is False and quiet["mentions"] == []
    assert fake.pings == []
    assert fake.allowed_mentions_of(quiet["id"]) == {"parse": []}


async def test_limits_and_errors_follow_discord(fake: FakeDiscord) -> None:
    path = f"/channels/{CHANNEL}/messages"
    status, body = await rest(fake, "POST", path, {"content": "x" * 2001})
    assert status == 400 and body["code"] == 50035 and "content" in body["errors"]
    status, body = await rest(
        fake, "POST", path, {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}
    )
    assert status == 400 and body["errors"]["embeds"]["_errors"][0]["code"] == "MAX_EMBED_SIZE_EXCEEDED"
    row = {"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": "c" * 101}]}
    status, body = await rest(fake, "POST", path, {"content": "x", "components": [row]})
    assert status == 400 and "custom_id" in body["errors"]["components"]["0"]["components"]["0"]
    assert await rest(fake, "POST", path, {}) == (
        400,
        {"code": 50006, "message": "Cannot send an empty message"},
    )
    assert await rest(fake, "GET", "/channels/1/messages") == (
        404,
        {"code": 10003, "message": "Unknown Channel"},
    )
    assert await rest(fake, "GET", "/users/@me", auth=False) == (
        401,
        {"code": 0, "message": "401: Unauthorized"},
    )
    assert await rest(fake, "GET", "/no/such/route") == (404, {"code": 0, "message": "404: Not Found"})
    assert (await rest(fake, "DELETE", "/users/@me"))[0] == 405
    assert fake.unknown_routes == [("GET", "/no/such/route"), ("DELETE", "/users/@me")]

    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps({"content": "big"}), content_type="application/json")
    form.add_field("files[0]", b"\0" * (10 * 1024 * 1024 + 1), filename="big.bin")
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.api_base + path, data=form, headers={"Authorization": f"Bot {fake.token}"}) as resp,
    ):
        assert resp.status == 413 and await resp.json() == {
            "code": 40005,
            "message": "Request entity too large",
        }


async def test_fault_injection_and_cdn_expiry(fake: FakeDiscord) -> None:
    fake.fail_next(
        "GET",
        r"^/users/@me$",
        429,
        {"message": "You are being rate limited.", "retry_after": 0.1, "global": False},
    )
    status, _ = await rest(fake, "GET", "/users/@me")
    assert status == 429 and fake.requests[-1].status == 429
    assert (await rest(fake, "GET", "/users/@me"))[0] == 200, "a fault fires only `times` times"

    att = fake.add_attachment("lie.png", b"not a png", "image/png")
    async with aiohttp.ClientSession() as session:
        async with session.get(att["url"]) as resp:
            assert (
                resp.status == 200 and resp.content_type == "image/png" and await resp.read() == b"not a png"
            )
        fake.expire_attachments()
        async with session.get(att["url"]) as resp:
            assert resp.status == 403
        async with session.get(att["url"].replace(att["id"], "1")) as resp:
            assert resp.status == 404


async def test_spec_checker_rejects_bad_requests(fake: FakeDiscord) -> None:
    if SPEC is None:
        pytest.skip("Discord OpenAPI spec not available")
    checker = get_checker(SPEC)
    auth = {"Authorization": "Bot x"}
    ok = checker.check(
        "POST",
        f"/channels/{CHANNEL}/messages",
        {},
        {"content": "hi", "attachments": [{"id": 0, "filename": "a.png"}]},
        auth,
    )
    assert ok == []
    [bad_title] = checker.check("POST", f"/channels/{CHANNEL}/messages", {}, {"embeds": [{"title": 5}]}, auth)
    assert "embeds/0/title" in bad_title
    assert checker.check("GET", "/not/in/spec", {}, None, auth), "unknown paths are violations, not passes"

    await rest(fake, "POST", f"/channels/{CHANNEL}/messages", {"content": 12345})
    assert any(
        "content" in v and v.startswith(f"POST /channels/{CHANNEL}/messages") for v in fake.spec_violations
    )


@asynccontextmanager
async def raw_gateway(fake: FakeDiscord, intents: int = 515) -> AsyncIterator[list[dict[str, Any]]]:
    """A bare gateway client: IDENTIFY, then collect every frame the fake sends."""
    frames: list[dict[str, Any]] = []

    async def collect(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            frames.append(json.loads(msg.data))

    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(fake.gateway_url + "?v=10&encoding=json") as ws,
    ):
        frames.append(await ws.receive_json())
        await ws.send_json({"op": 1, "d": None})
        await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": intents, "properties": {}}})
        reader = asyncio.create_task(collect(ws))
        await fake.wait_ready(timeout=5)
        try:
            yield frames
        finally:
            reader.cancel()


async def multipart(
    fake: FakeDiscord, method: str, path: str, payload: dict[str, Any], files: list[tuple[str, bytes]]
) -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps(payload), content_type="application/json")
    for i, (name, data) in enumerate(files):
        form.add_field(f"files[{i}]", data, filename=name, content_type="application/octet-stream")
    headers = {"Authorization": f"Bot {fake.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, fake.api_base + path, data=form, headers=headers) as resp,
    ):
        return resp.status, await resp.json()


async def test_gateway_handshake_subcommands_and_placeholder_followup(fake: FakeDiscord) -> None:
    app = fake.application_id
    balance = {
        "type": 1,
        "name": "balance",
        "description": "Show",
        "options": [{"type": 6, "name": "user", "description": "Whose"}],
    }
    commands_ = [{"name": "credits", "description": "Credits", "type": 1, "options": [balance]}]
    status, [echoed] = await rest(fake, "PUT", f"/applications/{app}/guilds/{GUILD}/commands", commands_)
    assert status == 200 and echoed["guild_id"] == str(GUILD) and echoed["application_id"] == str(app)

    async with raw_gateway(fake) as frames:
        hello, ack, ready, guild_create = frames[:4]
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] == 41250 and ack == {"op": 11}
        assert ready["t"] == "READY" and ready["d"]["resume_gateway_url"] == fake.gateway_url
        assert guild_create["t"] == "GUILD_CREATE"
        # With the GUILD_MEMBERS intent every member is sent, so discord.py has no reason to chunk.
        assert (
            guild_create["d"]["member_count"] == len(guild_create["d"]["members"]) == 3
        )  # bot, owner, alice

        with pytest.raises(LookupError, match="never registered"):
            await fake.slash(GUILD, CHANNEL, USER, "imagine", {"prompt": "x"})
        with pytest.raises(LookupError, match="no option"):
            await fake.slash(GUILD, CHANNEL, USER, "credits", {"nope": 1}, subcommand="balance")
        inter = await fake.slash(GUILD, CHANNEL, USER, "credits", {"user": USER}, subcommand="balance")
        data = inter.payload["data"]
        assert data["id"] == echoed["id"] and data["guild_id"] == str(GUILD)
        assert data["options"] == [
            {"type": 1, "name": "balance", "options": [{"name": "user", "type": 6, "value": str(USER)}]}
        ]
        assert set(data["resolved"]) == {"users", "members"}
        assert inter.payload["member"]["permissions"] == "2248473465835073"
        await fake.wait_for(lambda: any(f.get("t") == "INTERACTION_CREATE" for f in frames))
        seqs = [f["s"] for f in frames if f["op"] == 0]
        assert seqs == sorted(seqs) == list(range(1, len(seqs) + 1))

        status, deferred = await rest(
            fake, "POST", f"/interactions/{inter.id}/{inter.token}/callback?with_response=true",
            {"type": 5, "data": {"flags": 64}}, auth=False,
        )  # fmt: skip
        assert status == 200 and deferred["interaction"]["response_message_loading"] is True
        assert deferred["resource"]["message"]["flags"] == 64 | 128
        status, filled = await rest(
            fake, "POST", f"/webhooks/{app}/{inter.token}?wait=true", {"content": "42"}, auth=False
        )
        assert filled["id"] == deferred["interaction"]["response_message_id"], (
            "first followup fills the placeholder"
        )
        assert filled["flags"] == 64 and filled["content"] == "42"
        status, second = await rest(
            fake, "POST", f"/webhooks/{app}/{inter.token}?wait=true", {"content": "more"}, auth=False
        )
        assert second["id"] != filled["id"] and fake.followups(inter) == [second]

        # Deleting the placeholder first (to answer privately instead) makes the followup a new message.
        other = await fake.slash(GUILD, CHANNEL, USER, "credits", {}, subcommand="balance")
        await rest(
            fake,
            "POST",
            f"/interactions/{other.id}/{other.token}/callback?with_response=1",
            {"type": 5},
            auth=False,
        )
        original = f"/webhooks/{app}/{other.token}/messages/@original"
        assert (await rest(fake, "DELETE", original, auth=False))[0] == 204
        status, private = await rest(
            fake, "POST", f"/webhooks/{app}/{other.token}", {"content": "no", "flags": 64}, auth=False
        )
        assert status == 200 and private["flags"] == 64 and fake.original_response(other) is None
    assert_spec_clean(fake)


async def test_edit_keeps_only_listed_attachments(fake: FakeDiscord) -> None:
    path = f"/channels/{CHANNEL}/messages"
    payload = {
        "content": "two",
        "attachments": [{"id": 0, "filename": "a.png"}, {"id": 1, "filename": "b.txt"}],
    }
    status, msg = await multipart(fake, "POST", path, payload, [("a.png", PNG), ("b.txt", b"hello")])
    assert status == 200
    a, b = msg["attachments"]
    assert (a["content_type"], a["width"], b["content_type"]) == ("image/png", 1, "text/plain")

    edit = {"attachments": [a, {"id": 0, "filename": "c.txt"}]}
    status, edited = await multipart(fake, "PATCH", f"{path}/{msg['id']}", edit, [("c.txt", b"new")])
    assert status == 200 and [x["filename"] for x in edited["attachments"]] == ["a.png", "c.txt"]
    assert edited["content"] == "two" and edited["edited_timestamp"] is not None
    assert fake.attachment_bytes(edited["attachments"][1]) == b"new"
    assert_spec_clean(fake)
