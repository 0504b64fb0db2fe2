"""A faithful fake of Discord (REST + WebSocket gateway + CDN) for end-to-end tests of the bot.

An *unmodified* discord.py 2.7.1 bot, in this process or another one, connects to it over real
sockets once ``discord.http.Route.BASE`` points at :attr:`FakeDiscord.api_base` and
``DiscordWebSocket.DEFAULT_GATEWAY`` at :attr:`FakeDiscord.gateway_url`.  The fake follows Discord's
documented contract rather than what would be convenient: status codes, ``{"code", "message"}``
error bodies, full message objects, the 3 s acknowledgement deadline, 15 min interaction tokens,
upload/embed/component limits and ``allowed_mentions`` semantics.  Wire facts and their sources are
collected in ``shared/reference/discord-e2e.md``; payload builders and limits live in
:mod:`tests.fakes.discord_payloads`.

Tests drive it from the user's side (:meth:`FakeDiscord.slash`, :meth:`~FakeDiscord.click`,
:meth:`~FakeDiscord.submit_modal` ...) and assert on what the bot did (:meth:`~FakeDiscord.messages_in`,
:meth:`~FakeDiscord.original_response`, :attr:`~FakeDiscord.requests`, :attr:`~FakeDiscord.pings`,
:attr:`~FakeDiscord.spec_violations`)::

    fake = FakeDiscord(spec_path=default_spec_path())
    fake.add_user(USER, "alice")
    fake.add_guild(GUILD, channels=[fake.make_channel(CHANNEL, "general")], members=[USER])
    await fake.start()
    # start the bot with DISCORD_API_BASE=fake.api_base, DISCORD_GATEWAY_URL=fake.gateway_url
    await fake.wait_ready()
    interaction = await fake.slash(GUILD, CHANNEL, USER, "imagine", {"prompt": "a cat"})
    reply = await fake.wait_for(lambda: fake.original_response(interaction))
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import inspect
import json
import re
import secrets
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from aiohttp import WSMsgType, hdrs, web

from tests.fakes import discord_payloads as p
from tests.fakes.discord_payloads import JSON, ApiError, FormErrors
from tests.fakes.openapi_check import SpecChecker, get_checker

API_PREFIX = "/api/v10"
HEARTBEAT_INTERVAL_MS = 41250
CDN_URL_LIFETIME_S = 24 * 3600  # community-reported; Discord does not document it

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Per-request storage: the decoded JSON (or payload_json) body and the files[n] parts.
BODY_KEY = web.RequestKey("fake_body", object)
UPLOADS_KEY: web.RequestKey[list[_Upload]] = web.RequestKey("fake_uploads", list)
RESPONSE_JSON_KEY = web.ResponseKey("fake_json", object)


# ------------------------------------------------------------------------------------------- records


@dataclass
class RecordedRequest:
    """One HTTP request as the fake saw it. ``path`` is relative to ``/api/v10`` for REST calls."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes, str]]
    headers: dict[str, str]
    kind: str = "rest"  # "rest" or "cdn"
    status: int | None = None
    response: Any = None


@dataclass(eq=False)
class Interaction:
    """An interaction the fake dispatched, and what the bot did with it."""

    id: int
    token: str
    payload: JSON
    type: int
    guild_id: int | None
    channel_id: int
    user_id: int
    attachment_size_limit: int
    dispatched_at: float  # time.monotonic()
    source_message_id: int | None = None  # the message a component/modal interaction came from
    triggering: Interaction | None = None  # for modal submits: the interaction that opened the modal
    callback_type: int | None = None
    callbacks: list[JSON] = field(default_factory=list)
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    autocomplete_choices: list[JSON] | None = None
    expired: bool = False
    ack_deadline: float | None = None  # overrides FakeDiscord.callback_deadline for this one
    acknowledged_elsewhere: bool = False  # another client already answered it (a retry, a twin)


@dataclass
class _StoredMessage:
    data: JSON
    guild_id: int | None
    allowed_mentions: JSON | None = None
    interaction_id: int | None = None
    deleted: bool = False

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def ephemeral(self) -> bool:
        return bool(self.data["flags"] & p.EPHEMERAL)


@dataclass
class _Guild:
    id: int
    name: str
    owner_id: int
    premium_tier: int
    joined_at: str
    roles: dict[int, JSON]
    channel_ids: list[int]
    members: dict[int, list[int]]  # user id -> role ids (without @everyone)
    thread_ids: list[int] = field(default_factory=list)  # active threads and forum posts


@dataclass
class _CdnFile:
    attachment: JSON
    data: bytes
    content_type: str | None
    expires_at: float
    signature: str


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int | None  # None: the normal answer (after `delay`)
    body: JSON
    headers: dict[str, str]
    remaining: int
    when: Callable[[RecordedRequest], bool] | None = None
    process: bool = False  # handle the request first (Discord did it), then answer with the fault
    delay: float = 0.0
    label: str | None = None  # who armed it (e.g. a fault run's job marker), for fired/pending reports
    fired: int = 0

    def describe(self) -> str:
        what = f"{self.method} {self.pattern.pattern} -> {self.status}"
        return f"{self.label}: {what}" if self.label else what


@dataclass
class _Upload:
    index: str  # the n of files[n]
    filename: str
    data: bytes
    content_type: str


@dataclass
class _Modal:
    data: JSON
    interaction: Interaction


class _Connection:
    """One gateway WebSocket; a writer task drains ``queue`` so frame order is the dispatch order."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str | tuple[int, str]] = asyncio.Queue()
        self.session: _Session | None = None
        self.closed = False

    def send(self, item: str | tuple[int, str]) -> None:
        if not self.closed:
            self.queue.put_nowait(item)

    async def writer(self) -> None:
        try:
            while True:
                item = await self.queue.get()
                try:
                    if isinstance(item, tuple):
                        await self.ws.close(code=item[0], message=item[1].encode())
                        return
                    await self.ws.send_str(item)
                finally:
                    self.queue.task_done()
        except (ConnectionResetError, RuntimeError):
            return  # the peer went away (e.g. the bot process was SIGKILLed)
        finally:
            self.closed = True
            while not self.queue.empty():
                self.queue.get_nowait()
                self.queue.task_done()


@dataclass
class _Session:
    id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    history: list[tuple[int, str]] = field(default_factory=list)
    conn: _Connection | None = None
    valid: bool = True


# ------------------------------------------------------------------------------------------ the fake


class FakeDiscord:
    """Fake Discord server; see the module docstring.  Ids are ints here and strings on the wire."""

    def __init__(
        self,
        token: str = "test-token",
        application_id: int = 1_100_000_000_000_000_001,
        owner_id: int = 1_100_000_000_000_000_002,
        spec_path: Path | str | None = None,
        *,
        bot_username: str = "FakeBot",
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.owner_id = owner_id
        self._checker: SpecChecker | None = get_checker(spec_path) if spec_path else None
        self._snowflakes = p.SnowflakeFactory()
        self._secret = secrets.token_bytes(16)

        # Knobs tests may change.
        self.callback_deadline = 3.0
        self.token_lifetime = 900.0
        # While True the gateway answers 503 to new connections (an outage the bot must wait out).
        self.gateway_refusing = False

        # Observations.
        self.requests: list[RecordedRequest] = []
        self.unknown_routes: list[tuple[str, str]] = []
        self.spec_violations: list[str] = []
        self.server_errors: list[str] = []  # tracebacks of bugs in the fake itself
        self.fired_faults: list[str] = []  # one entry per request a fault of fail_next() answered
        self.pings: list[tuple[int, str, int | None]] = []
        self.interactions: list[Interaction] = []
        self.commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.command_syncs = 0
        self.identify_count = 0
        self.resume_count = 0
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id

        # World state.
        self.users: dict[int, JSON] = {}
        self.guilds: dict[int, _Guild] = {}
        self.guild_locales: dict[int, str] = {}  # a guild's preferred locale (default en-US)
        self.channels: dict[int, JSON] = {}
        self._channel_guild: dict[int, int | None] = {}
        self._messages: dict[int, _StoredMessage] = {}
        self._channel_messages: dict[int, list[int]] = {}
        self._cdn: dict[int, _CdnFile] = {}
        self._modals: dict[str, _Modal] = {}
        self._interactions_by_id: dict[int, Interaction] = {}
        self._interactions_by_token: dict[str, Interaction] = {}
        self._faults: list[_Fault] = []
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}  # (channel, nonce) -> (message, time)
        self.nonce_window = 300.0  # Discord: "the past few minutes"
        self._ping_keys: set[tuple[int, str, int | None]] = set()
        self._dm_blocked: set[int] = set()
        self._sessions: dict[str, _Session] = {}
        self._current: _Session | None = None
        self._connections: set[_Connection] = set()

        self.bot_user = p.user_object(application_id, bot_username, bot=True)
        self.users[application_id] = self.bot_user
        self.users.setdefault(owner_id, p.user_object(owner_id, "owner"))

        self._runner: web.AppRunner | None = None
        self._route_patterns: list[re.Pattern[str]] = []
        self.base_url = ""

    # -------------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on an ephemeral port of 127.0.0.1 in the running event loop."""
        # aiohttp recognises new-style middlewares by the decorator's marker, which a bound method lacks.
        middleware = web.middleware(lambda request, handler: self._middleware(request, handler))
        app = web.Application(client_max_size=256 * 1024 * 1024, middlewares=[middleware])
        app.router.add_get("/gateway", self._gateway)
        for prefix in ("cdn", "media"):
            app.router.add_get(f"/{prefix}/{{kind}}/{{channel}}/{{attachment}}/{{filename}}", self._cdn_get)
        for method, path, handler, auth in self._routes():
            app.router.add_route(method, API_PREFIX + path, self._authed(handler) if auth else handler)
            self._route_patterns.append(re.compile(re.sub(r"\{\w+\}", "[^/]+", path)))
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._unknown_route)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        for conn in list(self._connections):
            conn.send((1001, "Fake Discord shutting down"))
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return "ws" + self.base_url[len("http") :] + "/gateway"

    # ----------------------------------------------------------------------------- world building

    def add_user(self, user_id: int, username: str, *, bot: bool = False) -> JSON:
        self.users[user_id] = p.user_object(user_id, username, bot=bot)
        return self.users[user_id]

    @staticmethod
    def make_role(role_id: int, name: str, permissions: int = 0) -> JSON:
        return p.role_object(role_id, name, permissions)

    @staticmethod
    def make_channel(channel_id: int, name: str, type: int = 0, nsfw: bool = False) -> JSON:  # noqa: A002
        return p.channel_object(channel_id, name, type, nsfw=nsfw)

    def add_guild(
        self,
        guild_id: int,
        name: str = "Guild",
        *,
        roles: Sequence[JSON] = (),
        channels: Sequence[JSON] = (),
        members: Iterable[int | tuple[int, Sequence[int]]] = (),
        premium_tier: int = 0,
        owner_id: int | None = None,
    ) -> None:
        """Create a guild the bot is in.  ``members`` are user ids or ``(user_id, role_ids)``.

        The @everyone role (id == guild id) is added unless given; the bot and the owner (default:
        the application owner) are always members, and the owner has every permission, as on Discord.
        """
        role_map = {guild_id: p.role_object(guild_id, "@everyone", p.DEFAULT_EVERYONE_PERMISSIONS)}
        for position, role in enumerate(roles, start=1):
            role = copy.deepcopy(role)
            if int(role["id"]) != guild_id:
                role["position"] = position
            role_map[int(role["id"])] = role
        guild = _Guild(guild_id, name, owner_id or self.owner_id, premium_tier, p.iso_now(), role_map, [], {})
        self.guilds[guild_id] = guild
        for position, channel in enumerate(channels):
            channel = copy.deepcopy(channel)
            channel["position"] = position
            channel["guild_id"] = str(guild_id)
            self._add_channel(channel, guild_id)
            guild.channel_ids.append(int(channel["id"]))
        guild.members[self.application_id] = []
        self._ensure_user(guild.owner_id)
        guild.members[guild.owner_id] = []  # a guild's owner is always one of its members
        for member in members:
            uid, role_ids = (member, ()) if isinstance(member, int) else member
            self._ensure_user(uid)
            guild.members[uid] = [int(r) for r in role_ids]
        # A guild added while the bot is connected is one it joins: Discord's GUILD_CREATE for a join
        # has no `unavailable` (READY never listed the guild), which is how discord.py tells a join
        # (on_guild_join) from a guild coming back after an outage (on_guild_available).
        self._dispatch_if_connected(
            "GUILD_CREATE",
            lambda s: {
                k: v for k, v in self._guild_payload(guild, gateway=True, intents=s.intents).items()
                if k != "unavailable"
            },
        )

    def add_member(self, guild_id: int, user_id: int, roles: Sequence[int] = ()) -> None:
        """Add (or update the roles of) a guild member; the bot's own roles can be set this way too."""
        guild = self._guild(guild_id)
        for rid in roles:
            if rid not in guild.roles:
                raise LookupError(f"guild {guild_id} has no role {rid}")
        self._ensure_user(user_id)
        is_new = user_id not in guild.members
        guild.members[user_id] = list(roles)
        if is_new:
            payload = {**self._member_payload(guild, user_id), "guild_id": str(guild_id)}
            self._dispatch_if_connected("GUILD_MEMBER_ADD", lambda s: payload, intent=p.INTENT_GUILD_MEMBERS)

    def remove_guild(self, guild_id: int) -> None:
        """The bot is kicked from (or leaves) a guild: it is gone, and a connected bot gets GUILD_DELETE."""
        guild = self.guilds.pop(guild_id)
        for channel_id in guild.channel_ids:
            self._channel_guild.pop(channel_id, None)
            self.channels.pop(channel_id, None)
        self._dispatch_if_connected("GUILD_DELETE", lambda s: {"id": str(guild_id)})

    def delete_channel(self, channel_id: int) -> None:
        """Delete a channel (its messages go too) and tell a connected bot with CHANNEL_DELETE."""
        channel = self._channel(channel_id)
        guild_id = self._channel_guild.pop(channel_id)
        del self.channels[channel_id]
        if guild_id is not None:
            guild = self.guilds[guild_id]
            (guild.thread_ids if channel_id in guild.thread_ids else guild.channel_ids).remove(channel_id)
        self.dm_channels = {u: c for u, c in self.dm_channels.items() if c != channel_id}
        for mid in self._channel_messages.pop(channel_id, []):
            self._messages[mid].deleted = True
        deleted = "THREAD_DELETE" if int(channel["type"]) in p.THREAD_TYPES else "CHANNEL_DELETE"
        self._dispatch_if_connected(deleted, lambda s: channel)

    def block_dms(self, user_id: int) -> None:
        """Make DMs to this user fail like a user who closed DMs (403, code 50007)."""
        self._dm_blocked.add(user_id)

    def unblock_dms(self, user_id: int) -> None:
        self._dm_blocked.discard(user_id)

    def add_attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str | None,
        *,
        width: int | None = None,
        height: int | None = None,
        channel_id: int | None = None,
        declared_size: int | None = None,
        url: str | None = None,
    ) -> JSON:
        """Store bytes on the fake CDN as a user upload and return its attachment object.

        ``content_type`` is served as given (tests can lie about a file's type); ``declared_size``
        is the ``size`` the payload announces (default: the real size), for a CDN that serves
        more than the payload said; ``url`` replaces the attachment's URLs, as a forged
        interaction naming another host could.
        """
        att = self._cdn_store(
            channel_id or self._snowflakes.next(), filename, data, content_type, width, height
        )
        if declared_size is not None:
            att["size"] = declared_size
        if url is not None:
            att["url"] = att["proxy_url"] = url
        return copy.deepcopy(att)

    def expire_attachments(self) -> None:
        """Make every CDN URL issued so far expired (the signed ``ex`` is in the past)."""
        for item in self._cdn.values():
            item.expires_at = 0.0

    def add_message(
        self, channel_id: int, author_id: int, content: str = "", attachments: Sequence[JSON] = ()
    ) -> JSON:
        """A message a user already posted in a channel (e.g. the target of a context-menu command)."""
        self._channel(channel_id)
        author = self._ensure_user(author_id)
        data = p.message_object(
            message_id=self._snowflakes.next(),
            channel_id=channel_id,
            author=author,
            content=content,
            attachments=[copy.deepcopy(a) for a in attachments],
        )
        stored = self._store(data, allowed_mentions=None)
        return copy.deepcopy(stored.data)

    # --------------------------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int | None,
        body: JSON = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        *,
        when: Callable[[RecordedRequest], bool] | None = None,
        process: bool = False,
        delay: float = 0.0,
        label: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``/``body`` instead of handling them.

        ``method`` may be ``"*"``; ``path_regex`` is searched in the path with and without ``/api/v10``;
        ``when`` (given the recorded request, body parsed) narrows the match further.
        ``process=True``: the request is handled first (Discord did it) and the answer is then
        replaced, i.e. "done, but the answer was lost", what a 502 from an edge proxy can mean.
        ``label`` names the fault in :attr:`fired_faults` and :meth:`pending_faults`.
        ``delay`` waits before answering; with ``status=None`` the normal answer comes after it.
        For a 429 without explicit ``headers`` a ``Via`` header is added, because discord.py only
        treats a 429 as a rate limit when ``Via`` is present (else it is a "Cloudflare ban").
        """
        if headers is None:
            headers = {"Via": "1.1 google"} if status == 429 else {}
        if body is None and status is not None:
            body = {"code": 0, "message": f"{status}: fault injected by the test"}
        self._faults.append(
            _Fault(
                method.upper(), re.compile(path_regex), status, body, dict(headers), times, when, process, delay,
                label,
            )
        )

    def pending_faults(self) -> list[str]:
        """Armed faults no request ever matched (a fault that never fired proves nothing)."""
        return [f"{fault.describe()} (never fired)" for fault in self._faults if not fault.fired]

    def add_channel(self, guild_id: int, channel: JSON) -> None:
        """Create a channel in a guild the bot is in (CHANNEL_CREATE is dispatched)."""
        guild = self._guild(guild_id)
        channel = copy.deepcopy(channel)
        channel["position"] = len(guild.channel_ids)
        channel["guild_id"] = str(guild_id)
        self._add_channel(channel, guild_id)
        guild.channel_ids.append(int(channel["id"]))
        self._dispatch_if_connected("CHANNEL_CREATE", lambda s: copy.deepcopy(channel))

    def add_thread(
        self, guild_id: int, parent_id: int, thread_id: int, name: str, *, owner_id: int | None = None,
        type: int = p.PUBLIC_THREAD,  # noqa: A002
    ) -> JSON:
        """Start a thread in a text channel, or a post in a forum channel (THREAD_CREATE is dispatched).

        Interactions from it carry the thread as their ``channel`` (with ``parent_id``), as on Discord.
        """
        guild = self._guild(guild_id)
        if parent_id not in guild.channel_ids:
            raise LookupError(f"guild {guild_id} has no channel {parent_id} to start a thread in")
        parent_type = int(self.channels[parent_id]["type"])
        if parent_type not in (0, 5, p.GUILD_FORUM) or (parent_type == p.GUILD_FORUM and type != p.PUBLIC_THREAD):
            raise ValueError(f"Discord has no type-{type} thread in a type-{parent_type} channel")
        thread = p.thread_object(thread_id, name, parent_id, guild_id, owner_id or self.owner_id, type)
        self._add_channel(thread, guild_id)
        guild.thread_ids.append(thread_id)
        self._dispatch_if_connected("THREAD_CREATE", lambda s: {**copy.deepcopy(thread), "newly_created": True})
        return copy.deepcopy(thread)

    def set_permission_overwrite(
        self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0, member: bool = True
    ) -> None:
        """Set a channel permission overwrite for a member (or a role) and dispatch CHANNEL_UPDATE,
        e.g. ``set_permission_overwrite(cid, fake.application_id, deny=SEND_MESSAGES)``."""
        channel = self._channel(channel_id)
        overwrites = [o for o in channel.setdefault("permission_overwrites", []) if int(o["id"]) != target_id]
        overwrites.append({"id": str(target_id), "type": 1 if member else 0, "allow": str(allow), "deny": str(deny)})
        channel["permission_overwrites"] = overwrites
        self._dispatch_if_connected("CHANNEL_UPDATE", lambda s: copy.deepcopy(channel))

    def channel_permissions(self, channel_id: int, user_id: int) -> int:
        """A member's permissions in a guild channel, overwrites applied as Discord does."""
        guild_id = self._channel_guild.get(channel_id)
        if guild_id is None:
            return p.ALL_PERMISSIONS
        guild = self.guilds[guild_id]
        base = self._permissions(guild, user_id)
        if base & p.ADMINISTRATOR:
            return p.ALL_PERMISSIONS
        channel = self.channels[channel_id]
        if int(channel["type"]) in p.THREAD_TYPES:  # a thread has no overwrites: its parent's apply
            channel = self.channels[int(channel["parent_id"])]
        overwrites = {int(o["id"]): o for o in channel.get("permission_overwrites", [])}
        everyone = overwrites.get(guild_id)
        if everyone:
            base = (base & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for rid in guild.members.get(user_id, []):
            o = overwrites.get(rid)
            if o and int(o.get("type", 0)) == 0:
                allow |= int(o["allow"])
                deny |= int(o["deny"])
        base = (base & ~deny) | allow
        own = overwrites.get(user_id)
        if own and int(own.get("type", 1)) == 1:
            base = (base & ~int(own["deny"])) | int(own["allow"])
        return base

    def all_messages(self) -> list[tuple[JSON, bool]]:
        """Every message ever stored, DMs and ephemeral ones included, with its ``deleted`` flag."""
        return [(copy.deepcopy(m.data), m.deleted) for m in self._messages.values()]

    def expire_interaction(self, interaction: Interaction | str) -> None:
        """Expire an interaction token now (webhook calls then get 401 / 50027)."""
        token = interaction.token if isinstance(interaction, Interaction) else interaction
        self._interactions_by_token[token].expired = True

    # ------------------------------------------------------------------------------ accessors

    def messages_in(self, channel_id: int, *, include_ephemeral: bool = False) -> list[JSON]:
        """Current (non-deleted) messages of a channel, oldest first; ephemeral ones only on request."""
        out = []
        for mid in self._channel_messages.get(channel_id, []):
            stored = self._messages[mid]
            if not stored.deleted and (include_ephemeral or not stored.ephemeral):
                out.append(copy.deepcopy(stored.data))
        return out

    def message(self, message_id: int | str) -> JSON | None:
        stored = self._messages.get(int(message_id))
        return None if stored is None or stored.deleted else copy.deepcopy(stored.data)

    def allowed_mentions_of(self, message_id: int | str) -> JSON | None:
        """The ``allowed_mentions`` the bot last sent for a message (None when it sent none)."""
        return copy.deepcopy(self._messages[int(message_id)].allowed_mentions)

    def original_response(self, interaction: Interaction) -> JSON | None:
        if interaction.original_message_id is None:
            return None
        return self.message(interaction.original_message_id)

    def followups(self, interaction: Interaction) -> list[JSON]:
        return [m for m in (self.message(mid) for mid in interaction.followup_ids) if m is not None]

    def interaction_messages(self, interaction: Interaction) -> list[JSON]:
        original = self.original_response(interaction)
        return ([original] if original else []) + self.followups(interaction)

    def callbacks(self, interaction: Interaction) -> list[JSON]:
        return copy.deepcopy(interaction.callbacks)

    @property
    def dms(self) -> list[JSON]:
        """Every current message in a DM channel, oldest first."""
        return [m for cid in self.dm_channels.values() for m in self.messages_in(cid)]

    def dms_to(self, user_id: int) -> list[JSON]:
        cid = self.dm_channels.get(user_id)
        return [] if cid is None else self.messages_in(cid)

    def attachment_bytes(self, attachment: JSON) -> bytes:
        return self._cdn[int(attachment["id"])].data

    @property
    def connected(self) -> bool:
        """Whether a bot session is identified and its WebSocket is open."""
        return bool(
            self._current and self._current.valid and self._current.conn and not self._current.conn.closed
        )

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02) -> T:
        """Poll ``predicate`` until it returns something truthy and return that."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if loop.time() >= deadline:
                raise AssertionError(self._timeout_report(predicate, timeout, value))
            await asyncio.sleep(interval)

    def _timeout_report(self, predicate: Callable[[], object], timeout: float, value: object) -> str:
        try:
            what = inspect.getsource(predicate).strip()
        except (OSError, TypeError):
            what = repr(predicate)
        recent = (
            "\n".join(f"    {r.method} {r.path} -> {r.status}" for r in self.requests[-8:]) or "    (none)"
        )
        return (
            f"timed out after {timeout}s waiting for: {what}\n  last value: {value!r}\n"
            f"  gateway connected: {self.connected}; identifies: {self.identify_count}\n"
            f"  unknown routes: {self.unknown_routes}\n  spec violations: {self.spec_violations}\n"
            f"  fake's own errors: {len(self.server_errors)}\n"
            f"  last requests:\n{recent}"
        )

    async def wait_ready(self, timeout: float = 10.0, *, count: int = 1) -> None:
        """Wait until ``identify_count >= count`` and that session is connected with its guilds sent.

        After restarting the bot, pass ``count=previous_count + 1`` to wait for the new IDENTIFY.
        """
        await self.wait_for(lambda: self.identify_count >= count and self.connected, timeout)

    # ------------------------------------------------------------------------------ gateway API

    async def send_op(self, op: int, d: Any = None) -> None:
        """Send a raw gateway op to the connected bot (e.g. 7 RECONNECT, 9 INVALID_SESSION).

        ``send_op(9, False)`` also invalidates the session, so a RESUME attempt is refused.
        """
        session = self._require_session()
        if op == 9 and not d:
            session.valid = False
        await self._send_and_flush(session, json.dumps({"op": op, "d": d}))

    async def drop_connection(self, code: int = 4000, reason: str = "Unknown error") -> None:
        """Close the bot's WebSocket from the server side; with a resumable code it RESUMEs."""
        session = self._require_session()
        await self._send_and_flush(session, (code, reason))

    def _require_session(self) -> _Session:
        if self._current is None or self._current.conn is None:
            raise RuntimeError("no bot is connected to the fake gateway")
        return self._current

    async def _send_and_flush(self, session: _Session, item: str | tuple[int, str]) -> None:
        conn = session.conn
        if conn is not None and not conn.closed:
            conn.send(item)
            await conn.queue.join()

    def _dispatch(self, event: str, data: JSON, session: _Session | None = None) -> _Session:
        """Send a DISPATCH with the session's next sequence number; kept for RESUME replay."""
        session = session or self._current
        if session is None or not session.valid:
            raise RuntimeError(
                f"cannot dispatch {event}: no bot session has IDENTIFYed with the fake gateway"
            )
        session.seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": session.seq, "d": data})
        session.history.append((session.seq, frame))
        if session.conn is not None:
            session.conn.send(frame)
        return session

    def _dispatch_if_connected(self, event: str, build: Callable[[_Session], JSON], intent: int = 0) -> None:
        session = self._current
        if session is not None and session.valid and (not intent or session.intents & intent):
            self._dispatch(event, build(session), session)

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.gateway_refusing:
            return web.Response(status=503, text="gateway unavailable")
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.add(conn)
        writer = asyncio.create_task(conn.writer())
        conn.send(
            json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["fake"]}})
        )
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    conn.send((4002, "Error while decoding payload."))  # the fake speaks JSON text only
                    continue
                try:
                    frame = json.loads(msg.data)
                    op = frame["op"]
                except (ValueError, KeyError, TypeError):
                    conn.send((4002, "Error while decoding payload."))
                    continue
                try:
                    await self._on_gateway_op(conn, op, frame.get("d"))
                except Exception:  # a bug in the fake: make it visible, close like Discord's 4000
                    self.server_errors.append(f"gateway op {op}\n{traceback.format_exc()}")
                    conn.send((4000, "Unknown error."))
        finally:
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if ws.close_code in (1000, 1001):  # a clean client close ends the session, as on Discord
                    session.valid = False
            conn.closed = True
            writer.cancel()
            self._connections.discard(conn)
        return ws

    async def _on_gateway_op(self, conn: _Connection, op: int, d: Any) -> None:
        if op == 1:
            conn.send(json.dumps({"op": 11}))
        elif op == 2:
            await self._identify(conn, d or {})
        elif op == 6:
            self._resume(conn, d or {})
        elif conn.session is None:
            conn.send((4003, "Not authenticated."))
        elif op == 8:
            self._request_members(conn.session, d or {})
        elif op not in (3, 4):  # presence and voice state updates are accepted and ignored
            conn.send((4001, "Unknown opcode."))

    def _token_ok(self, token: Any) -> bool:
        return token in (self.token, f"Bot {self.token}")

    async def _identify(self, conn: _Connection, d: JSON) -> None:
        if conn.session is not None:
            conn.send((4005, "Already authenticated."))
            return
        if not self._token_ok(d.get("token")):
            conn.send((4004, "Authentication failed."))
            return
        session = _Session(secrets.token_hex(16), int(d.get("intents") or 0), d.get("shard"))
        session.conn = conn
        conn.session = session
        self._sessions[session.id] = session
        self._current = session
        ready = p.ready_payload(self.bot_user, self.guilds, session.id, self.gateway_url, session.shard)
        self._dispatch("READY", ready, session)
        for guild in self.guilds.values():
            self._dispatch(
                "GUILD_CREATE", self._guild_payload(guild, gateway=True, intents=session.intents), session
            )
        await conn.queue.join()
        self.identify_count += 1

    def _resume(self, conn: _Connection, d: JSON) -> None:
        session = self._sessions.get(d.get("session_id", ""))
        if session is None or not session.valid or not self._token_ok(d.get("token")):
            conn.send(json.dumps({"op": 9, "d": False}))
            return
        if session.conn is not None and session.conn is not conn:
            session.conn.send((4000, "Session resumed elsewhere."))
        session.conn = conn
        conn.session = session
        self._current = session
        last_seen = int(d.get("seq") or 0)
        for seq, frame in session.history:
            if seq > last_seen:
                conn.send(frame)
        self._dispatch("RESUMED", {"_trace": ["fake-discord"]}, session)
        self.resume_count += 1

    def _request_members(self, session: _Session, d: JSON) -> None:
        guild = self.guilds.get(int(d.get("guild_id") or 0))
        if guild is None:
            return
        members = [self._member_payload(guild, uid) for uid in guild.members]
        chunk = {"guild_id": str(guild.id), "members": members, "chunk_index": 0, "chunk_count": 1}
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        self._dispatch("GUILD_MEMBERS_CHUNK", chunk, session)

    # ------------------------------------------------------------------------------ interactions

    async def slash(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        group: str | None = None,
        attachment_size_limit: int = p.DEFAULT_UPLOAD_LIMIT,
        locale: str = "en-US",
        forge: bool = False,
        ack_deadline: float | None = None,
        acknowledged_elsewhere: bool = False,
    ) -> Interaction:
        """Invoke a slash command the bot registered; option types come from its registration.

        ``guild_id=None`` (and ``channel_id=None``) invokes it in the user's DM with the bot.
        ``forge=True`` sends it even where Discord would not offer it, with option values the
        Discord client would refuse (out of range, not a choice, wrong type): a modified client or
        a request sent straight to the interactions endpoint, to test the bot's own checks.
        ``ack_deadline`` overrides the 3 s acknowledgement deadline for this interaction (0: any
        answer is late, 10062); ``acknowledged_elsewhere`` makes its first callback 40060.
        Attachment options take the dict from :meth:`add_attachment`.
        """
        command = self._find_command(name, guild_id, command_type=1, forge=forge)
        resolver = self._resolver(guild_id)
        resolver.validate = not forge
        wire = p.build_command_options(command, options or {}, resolver, subcommand=subcommand, group=group)
        data = self._command_data(command, wire, resolver.resolved)
        return await self._interact(
            2,
            guild_id,
            channel_id,
            user_id,
            data,
            attachment_size_limit,
            locale,
            ack_deadline=ack_deadline,
            acknowledged_elsewhere=acknowledged_elsewhere,
        )

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        subcommand: str | None = None,
        group: str | None = None,
    ) -> Interaction:
        """An APPLICATION_COMMAND_AUTOCOMPLETE interaction; the bot's choices land in ``.autocomplete_choices``."""
        command = self._find_command(name, guild_id, command_type=1)
        resolver = self._resolver(guild_id)
        wire = p.build_command_options(
            command, options, resolver, subcommand=subcommand, group=group, focused=focused
        )
        data = self._command_data(command, wire, resolver.resolved)
        return await self._interact(4, guild_id, channel_id, user_id, data, p.DEFAULT_UPLOAD_LIMIT, "en-US")

    async def message_command(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        target_message: JSON,
        *,
        attachment_size_limit: int = p.DEFAULT_UPLOAD_LIMIT,
    ) -> Interaction:
        """Invoke a message context-menu command on ``target_message``."""
        command = self._find_command(name, guild_id, command_type=3)
        target = self.message(target_message["id"]) or copy.deepcopy(target_message)
        resolved = {"messages": {target["id"]: target}}
        data = {**self._command_data(command, [], resolved), "target_id": target["id"]}
        return await self._interact(2, guild_id, channel_id, user_id, data, attachment_size_limit, "en-US")

    async def user_command(
        self, guild_id: int | None, channel_id: int | None, user_id: int, name: str, target_user_id: int
    ) -> Interaction:
        """Invoke a user context-menu command on ``target_user_id``."""
        command = self._find_command(name, guild_id, command_type=2)
        resolver = self._resolver(guild_id)
        target = resolver.wire_value({"type": p.OPT_USER, "name": "target"}, target_user_id)
        data = {**self._command_data(command, [], resolver.resolved), "target_id": target}
        return await self._interact(2, guild_id, channel_id, user_id, data, p.DEFAULT_UPLOAD_LIMIT, "en-US")

    async def click(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        message: JSON,
        custom_id: str,
        *,
        values: Sequence[str] | None = None,
        attachment_size_limit: int = p.DEFAULT_UPLOAD_LIMIT,
        forge: bool = False,
    ) -> Interaction:
        """Click a button (or pick ``values`` in a select) on a message the bot sent.

        ``forge=True`` sends ``custom_id`` as a button click even if the message has no such
        component: a modified client replaying or inventing an id, to test the bot's checks.
        """
        stored = self._messages.get(int(message["id"]))
        if stored is None or stored.deleted:
            raise LookupError(f"message {message['id']} does not exist (deleted?) so it cannot be clicked")
        if forge:
            # The interaction's `message` carries the forged button too, as a copied or altered
            # message would (discord.py ignores a custom_id its message does not have).
            forged = copy.deepcopy(stored)
            button = {"type": 2, "style": 2, "label": "forged", "custom_id": custom_id}
            forged.data["components"] = [*forged.data.get("components", []), {"type": 1, "components": [button]}]
            return await self._interact(
                3,
                guild_id,
                channel_id,
                user_id,
                {"custom_id": custom_id, "component_type": 2},
                attachment_size_limit,
                "en-US",
                source=forged,
            )
        component = p.find_component(stored.data["components"], custom_id)
        if component is None:
            ids = [
                c.get("custom_id") for c in p.iter_components(stored.data["components"]) if c.get("custom_id")
            ]
            raise LookupError(f"message {stored.id} has no component {custom_id!r}; it has {ids}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; Discord would not let a user use it")
        data: JSON = {"custom_id": custom_id, "component_type": int(component["type"])}
        if component["type"] != 2:
            data["values"] = list(values or [])
            resolver = self._resolver(guild_id)
            opt_type = {5: p.OPT_USER, 6: p.OPT_ROLE, 7: p.OPT_MENTIONABLE, 8: p.OPT_CHANNEL}.get(
                component["type"]
            )
            if opt_type is not None:
                data["values"] = [
                    resolver.wire_value({"type": opt_type, "name": custom_id}, v) for v in values or []
                ]
                data["resolved"] = resolver.resolved
        return await self._interact(
            3, guild_id, channel_id, user_id, data, attachment_size_limit, "en-US", source=stored
        )

    async def submit_modal(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        custom_id: str,
        values: Mapping[str, Any],
        message: JSON | None = None,
        *,
        attachment_size_limit: int = p.DEFAULT_UPLOAD_LIMIT,
    ) -> Interaction:
        """Submit a modal the bot showed to this user, mirroring its layout (rows or labels)."""
        modal = self._modals.get(custom_id)
        if modal is None:
            raise LookupError(f"the bot never showed a modal {custom_id!r}; shown: {sorted(self._modals)}")
        if modal.interaction.user_id != user_id:
            raise ValueError(
                f"modal {custom_id!r} was shown to user {modal.interaction.user_id}, not {user_id}"
            )
        data = {
            "custom_id": custom_id,
            "components": p.modal_submit_components(modal.data["components"], values),
        }
        source_id = int(message["id"]) if message else modal.interaction.source_message_id
        source = self._messages.get(source_id) if source_id else None
        return await self._interact(
            5,
            guild_id,
            channel_id,
            user_id,
            data,
            attachment_size_limit,
            "en-US",
            source=source,
            triggering=modal.interaction,
        )

    async def _interact(
        self,
        itype: int,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        data: JSON,
        attachment_size_limit: int,
        locale: str,
        *,
        source: _StoredMessage | None = None,
        triggering: Interaction | None = None,
        ack_deadline: float | None = None,
        acknowledged_elsewhere: bool = False,
    ) -> Interaction:
        payload, channel_id = self._interaction_payload(
            itype, guild_id, channel_id, user_id, attachment_size_limit, locale
        )
        payload["data"] = data
        if source is not None:
            # Deliberately not checked against channel_id: tests may replay a copied custom_id from
            # another guild or channel, as a modified client could.
            payload["message"] = copy.deepcopy(source.data)
        session = self._dispatch("INTERACTION_CREATE", payload)
        interaction = Interaction(
            id=int(payload["id"]),
            token=payload["token"],
            payload=payload,
            type=itype,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            attachment_size_limit=attachment_size_limit,
            dispatched_at=time.monotonic(),
            source_message_id=source.id if source else None,
            triggering=triggering,
            ack_deadline=ack_deadline,
            acknowledged_elsewhere=acknowledged_elsewhere,
        )
        self.interactions.append(interaction)
        self._interactions_by_id[interaction.id] = interaction
        self._interactions_by_token[interaction.token] = interaction
        if session.conn is not None and not session.conn.closed:
            await session.conn.queue.join()  # handed to the socket: the 3 s clock is now running
            interaction.dispatched_at = time.monotonic()
        return interaction

    def _interaction_payload(
        self,
        itype: int,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        attachment_size_limit: int,
        locale: str,
    ) -> tuple[JSON, int]:
        user = self._ensure_user(user_id)
        payload: JSON = {
            "id": str(self._snowflakes.next()),
            "application_id": str(self.application_id),
            "type": itype,
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(96),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": attachment_size_limit,
        }
        if guild_id is None:
            channel_id = self._dm_channel_for(user_id)
            payload.update(
                user=user,
                channel=copy.deepcopy(self.channels[channel_id]),
                channel_id=str(channel_id),
                context=1,
                authorizing_integration_owners={"0": "0"},
                app_permissions=str(p.DEFAULT_EVERYONE_PERMISSIONS),
            )
            return payload, channel_id
        guild = self._guild(guild_id)
        if channel_id is None or channel_id not in (*guild.channel_ids, *guild.thread_ids):
            raise LookupError(f"guild {guild_id} has no channel {channel_id}")
        if user_id not in guild.members:
            raise LookupError(f"user {user_id} is not a member of guild {guild_id}; use add_member first")
        member = self._member_payload(guild, user_id)
        member["permissions"] = str(self._permissions(guild, user_id))
        payload.update(
            guild_id=str(guild_id),
            guild={"id": str(guild_id), "locale": self.guild_locales.get(guild_id, "en-US"), "features": []},
            guild_locale=self.guild_locales.get(guild_id, "en-US"),
            member=member,
            channel=copy.deepcopy(self.channels[channel_id]),
            channel_id=str(channel_id),
            context=0,
            authorizing_integration_owners={"0": str(guild_id)},
            app_permissions=str(self._permissions(guild, self.application_id)),
        )
        return payload, channel_id

    def _find_command(
        self, name: str, guild_id: int | None, *, command_type: int, forge: bool = False
    ) -> JSON:
        scopes = ([("guild", c) for c in self.guild_commands.get(guild_id, [])] if guild_id else []) + [
            ("global", c) for c in self.commands
        ]
        for _scope, cmd in scopes:
            if cmd["name"] == name and int(cmd.get("type", 1)) == command_type:
                if guild_id is None and not forge:
                    contexts = cmd.get("contexts")
                    if cmd.get("dm_permission") is False or (contexts is not None and 1 not in contexts):
                        raise LookupError(
                            f"command {name!r} has contexts={contexts}: Discord does not offer it in DMs, "
                            "so no user can invoke it there"
                        )
                return cmd
        registered = [f"{scope}:{c['name']}(type {c.get('type', 1)})" for scope, c in scopes]
        raise LookupError(
            f"the bot never registered a type-{command_type} command {name!r} "
            f"{'for guild ' + str(guild_id) + ' or ' if guild_id else ''}globally; registered: {registered}"
        )

    @staticmethod
    def _command_data(command: JSON, options: list[JSON], resolved: Mapping[str, Any]) -> JSON:
        data: JSON = {"id": command["id"], "name": command["name"], "type": int(command.get("type", 1))}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        if options:
            data["options"] = options
        if resolved:
            data["resolved"] = dict(resolved)
        return data

    def _resolver(self, guild_id: int | None) -> p.OptionResolver:
        guild = self.guilds.get(guild_id) if guild_id else None

        def member(uid: int) -> JSON | None:
            if guild is None or uid not in guild.members:
                return None
            return {**self._member_payload(guild, uid), "permissions": str(self._permissions(guild, uid))}

        def role(rid: int) -> JSON:
            if guild is None or rid not in guild.roles:
                raise LookupError(f"no role {rid} in guild {guild_id}")
            return copy.deepcopy(guild.roles[rid])

        def channel(cid: int) -> JSON:
            chan = copy.deepcopy(self._channel(cid))
            return {k: chan[k] for k in ("id", "type", "name", "nsfw", "parent_id") if k in chan} | {
                "permissions": str(p.ALL_PERMISSIONS)
            }

        def attachment(value: Any) -> JSON:
            att_id = int(value["id"] if isinstance(value, dict) else value)
            if att_id not in self._cdn:
                raise LookupError(f"attachment {att_id} was not created with add_attachment()")
            return {**copy.deepcopy(self._cdn[att_id].attachment), "ephemeral": True}

        return p.OptionResolver(
            user=lambda uid: copy.deepcopy(self._ensure_user(uid)),
            member=member,
            role=role,
            channel=channel,
            attachment=attachment,
        )

    # ------------------------------------------------------------------------- world helpers

    def _ensure_user(self, user_id: int) -> JSON:
        if user_id not in self.users:
            self.users[user_id] = p.user_object(user_id, f"user{user_id}")
        return self.users[user_id]

    def _guild(self, guild_id: int) -> _Guild:
        if guild_id not in self.guilds:
            raise LookupError(f"no guild {guild_id}; use add_guild first")
        return self.guilds[guild_id]

    def _channel(self, channel_id: int) -> JSON:
        if channel_id not in self.channels:
            raise LookupError(f"no channel {channel_id}")
        return self.channels[channel_id]

    def _add_channel(self, channel: JSON, guild_id: int | None) -> None:
        cid = int(channel["id"])
        self.channels[cid] = channel
        self._channel_guild[cid] = guild_id
        self._channel_messages.setdefault(cid, [])

    def _dm_channel_for(self, user_id: int) -> int:
        if user_id not in self.dm_channels:
            cid = self._snowflakes.next()
            self._add_channel(p.dm_channel_object(cid, self._ensure_user(user_id)), None)
            self.dm_channels[user_id] = cid
        return self.dm_channels[user_id]

    def _permissions(self, guild: _Guild, user_id: int) -> int:
        everyone = int(guild.roles[guild.id]["permissions"])
        roles = (int(guild.roles[r]["permissions"]) for r in guild.members.get(user_id, []))
        return p.compute_permissions(everyone, roles, is_owner=user_id == guild.owner_id)

    def _member_payload(self, guild: _Guild, user_id: int) -> JSON:
        return p.member_object(copy.deepcopy(self.users[user_id]), guild.members[user_id], guild.joined_at)

    def _guild_payload(self, guild: _Guild, *, gateway: bool = False, intents: int = 0) -> JSON:
        """REST guild object, or the full GUILD_CREATE (members only with the GUILD_MEMBERS intent)."""
        roles = copy.deepcopy(list(guild.roles.values()))
        payload = p.guild_object(guild.id, guild.name, guild.owner_id, guild.premium_tier, roles)
        if gateway:
            with_members = intents & p.INTENT_GUILD_MEMBERS
            member_ids = list(guild.members) if with_members else [self.application_id]
            payload.update(
                joined_at=guild.joined_at,
                large=False,
                unavailable=False,
                member_count=len(guild.members),
                members=[self._member_payload(guild, uid) for uid in member_ids],
                channels=[
                    {k: v for k, v in self.channels[c].items() if k != "guild_id"} for c in guild.channel_ids
                ],
                threads=[copy.deepcopy(self.channels[t]) for t in guild.thread_ids],
                presences=[],
                voice_states=[],
                stage_instances=[],
                guild_scheduled_events=[],
                soundboard_sounds=[],
            )
        return payload

    # ------------------------------------------------------------------------------- messages

    def _store(
        self, data: JSON, *, allowed_mentions: JSON | None, interaction_id: int | None = None
    ) -> _StoredMessage:
        cid = int(data["channel_id"])
        stored = _StoredMessage(data, self._channel_guild.get(cid), allowed_mentions, interaction_id)
        self._messages[stored.id] = stored
        self._channel_messages[cid].append(stored.id)
        self.channels[cid]["last_message_id"] = data["id"]
        return stored

    def _store_uploads(
        self,
        channel_id: int,
        body: JSON,
        uploads: list[_Upload],
        existing: list[JSON],
        *,
        size_limit: int,
        ephemeral: bool,
        keep_unlisted: bool,
    ) -> list[JSON]:
        """The new ``attachments`` array: kept existing ones plus every uploaded file.

        ``attachments`` entries whose id matches an upload's ``n`` describe that upload; other ids
        must name an existing attachment to keep.  Without an ``attachments`` key, existing ones are
        kept only when ``keep_unlisted`` (edits append; replacements and creates do not).
        """
        for up in uploads:
            if len(up.data) > size_limit:
                raise p.entity_too_large()
        meta = body.get("attachments")
        by_index = {up.index: up for up in uploads}
        existing_by_id = {a["id"]: a for a in existing}
        described: dict[str, JSON] = {}
        kept: list[JSON] = []
        errors = FormErrors()
        for i, entry in enumerate(meta if isinstance(meta, list) else []):
            key = str(entry.get("id")) if isinstance(entry, dict) else ""
            if key in by_index:
                described[key] = entry
            elif key in existing_by_id:
                kept.append(existing_by_id[key])
            else:
                errors.add(["attachments", i, "id"], "ATTACHMENT_NOT_FOUND", "Unknown attachment")
        errors.raise_if_any()
        if not isinstance(meta, list) and keep_unlisted:
            kept = list(existing)
        if len(kept) + len(uploads) > p.MAX_ATTACHMENTS:
            raise p.form_error(
                ["attachments"], "BASE_TYPE_MAX_LENGTH", f"Must be {p.MAX_ATTACHMENTS} or fewer in length."
            )
        new = []
        for up in uploads:
            entry = described.get(up.index, {})
            filename = entry.get("filename") or up.filename
            att = self._cdn_store(
                channel_id, filename, up.data, None, None, None, ephemeral=ephemeral, sniff=True
            )
            if entry.get("description"):
                att["description"] = entry["description"]
            new.append(copy.deepcopy(att))
        return kept + new

    def _cdn_store(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        content_type: str | None,
        width: int | None,
        height: int | None,
        *,
        ephemeral: bool = False,
        sniff: bool = False,
    ) -> JSON:
        """Keep bytes behind a signed CDN URL; ``sniff`` derives type/size from the bytes like Discord."""
        att_id = self._snowflakes.next()
        if sniff:
            content_type, width, height = p.sniff_media(data, filename)
        issued = int(time.time())
        expires = issued + CDN_URL_LIFETIME_S
        signature = self._sign(att_id, expires, issued)
        kind = "ephemeral-attachments" if ephemeral else "attachments"
        tail = f"{kind}/{channel_id}/{att_id}/{quote(filename)}?ex={expires:x}&is={issued:x}&hm={signature}&"
        att = p.attachment_object(
            att_id,
            filename,
            len(data),
            f"{self.base_url}/cdn/{tail}",
            f"{self.base_url}/media/{tail}",
            content_type,
            width=width,
            height=height,
            ephemeral=ephemeral,
        )
        self._cdn[att_id] = _CdnFile(att, data, content_type, float(expires), signature)
        return att

    def _sign(self, att_id: int, expires: int, issued: int) -> str:
        return hmac.new(self._secret, f"{att_id}:{expires:x}:{issued:x}".encode(), hashlib.sha256).hexdigest()

    def _create_message(
        self,
        channel_id: int,
        body: JSON,
        uploads: list[_Upload],
        *,
        size_limit: int,
        message_type: int = 0,
        interaction: Interaction | None = None,
        extra_flags: int = 0,
        reference: _StoredMessage | None = None,
        allow_empty: bool = False,
        followup_of: int | None = None,
    ) -> _StoredMessage:
        """Validate and store a new message from the bot, record its pings and announce it."""
        p.validate_message(body)
        flags = (int(body.get("flags") or 0) & p.SETTABLE_FLAGS) | extra_flags
        if interaction is None:
            flags &= ~p.EPHEMERAL  # only interaction responses can be ephemeral
        attachments = self._store_uploads(
            channel_id,
            body,
            uploads,
            [],
            size_limit=size_limit,
            ephemeral=bool(flags & p.EPHEMERAL),
            keep_unlisted=False,
        )
        empty = not (body.get("content") or body.get("embeds") or attachments or body.get("components"))
        if empty and not (allow_empty or body.get("sticker_ids") or body.get("poll")):
            raise p.empty_message()
        embeds = copy.deepcopy(body.get("embeds") or [])
        p.resolve_embed_attachments(embeds, attachments)
        data = p.message_object(
            message_id=self._snowflakes.next(),
            channel_id=channel_id,
            author=copy.deepcopy(self.bot_user),
            content=body.get("content") or "",
            message_type=message_type,
            embeds=embeds,
            components=copy.deepcopy(body.get("components") or []),
            attachments=attachments,
            flags=flags,
            tts=bool(body.get("tts")),
            webhook_id=self.application_id if interaction else None,
            application_id=self.application_id if interaction else None,
            interaction_metadata=self._interaction_metadata(interaction, followup_of=followup_of)
            if interaction
            else None,
            interaction=self._legacy_interaction(interaction) if interaction else None,
        )
        if body.get("nonce") is not None:
            data["nonce"] = body["nonce"]
        if body.get("poll"):
            data["poll"] = copy.deepcopy(body["poll"])
        if reference is not None:
            data["message_reference"] = {
                "type": 0,
                "message_id": reference.data["id"],
                "channel_id": reference.data["channel_id"],
                **({"guild_id": str(reference.guild_id)} if reference.guild_id else {}),
            }
            data["referenced_message"] = copy.deepcopy(reference.data)
        stored = self._store(
            data,
            allowed_mentions=body.get("allowed_mentions"),
            interaction_id=interaction.id if interaction else None,
        )
        # A reply pings its target's author; interaction responses reference their message without a ping.
        replied = int(reference.data["author"]["id"]) if reference and interaction is None else None
        self._apply_mentions(stored, replied_user_id=replied)
        self._announce("MESSAGE_CREATE", stored)
        return stored

    def _edit_message(
        self,
        stored: _StoredMessage,
        body: JSON,
        uploads: list[_Upload],
        *,
        size_limit: int,
        replace: bool = False,
    ) -> _StoredMessage:
        """PATCH semantics: only fields present change.  ``replace`` is the followup-fills-placeholder case."""
        if stored.deleted:
            raise p.unknown("Message")
        p.validate_message(body)
        data = stored.data
        flags_after = data["flags"]
        if body.get("flags") is not None:
            editable = p.SUPPRESS_EMBEDS | p.IS_COMPONENTS_V2
            flags_after = (flags_after & ~editable) | (body["flags"] & editable)
        attachments = self._store_uploads(
            int(data["channel_id"]),
            body,
            uploads,
            [] if replace else data["attachments"],
            size_limit=size_limit,
            ephemeral=stored.ephemeral,
            keep_unlisted=not replace,
        )
        new = copy.deepcopy(data)
        for key, empty in (("content", ""), ("embeds", []), ("components", [])):
            if key in body or replace:
                new[key] = copy.deepcopy(body.get(key)) or empty
        new["embeds"] = [p.normalise_embed(e) for e in new["embeds"]]
        new["components"] = p.number_components(new["components"])
        new["attachments"] = attachments
        p.resolve_embed_attachments(new["embeds"], attachments)
        if not (
            new["content"] or new["embeds"] or new["attachments"] or new["components"] or new.get("poll")
        ):
            raise p.empty_message()
        was_loading = bool(data["flags"] & p.LOADING)
        new["flags"] = flags_after & ~p.LOADING
        if not was_loading:
            new["edited_timestamp"] = p.iso_now()
        stored.data = new
        if "allowed_mentions" in body or replace:
            stored.allowed_mentions = body.get("allowed_mentions")
        self._apply_mentions(stored)
        self._announce("MESSAGE_UPDATE", stored)
        return stored

    def _delete_message(self, stored: _StoredMessage) -> None:
        stored.deleted = True
        if not stored.ephemeral:
            self._dispatch_message_event(
                "MESSAGE_DELETE", stored, {"id": stored.data["id"], "channel_id": stored.data["channel_id"]}
            )

    def _apply_mentions(self, stored: _StoredMessage, replied_user_id: int | None = None) -> None:
        """Fill mention fields and record who would be pinged (ephemeral messages notify nobody)."""
        data = stored.data
        pings, users, roles = p.resolve_mentions(
            data["content"], stored.allowed_mentions, replied_user_id=replied_user_id
        )
        data["mentions"] = [copy.deepcopy(self.users[u]) for u in sorted(users) if u in self.users]
        data["mention_roles"] = [str(r) for r in sorted(roles)]
        data["mention_everyone"] = any(kind in ("everyone", "here") for kind, _ in pings)
        if stored.ephemeral:
            return
        scope = stored.guild_id or int(data["channel_id"])
        for kind, target in pings:
            key = (stored.id, kind, target if target is not None else scope)
            if key not in self._ping_keys:
                self._ping_keys.add(key)
                self.pings.append(key)

    def _announce(self, event: str, stored: _StoredMessage) -> None:
        if not stored.ephemeral:
            self._dispatch_message_event(event, stored, copy.deepcopy(stored.data))

    def _dispatch_message_event(self, event: str, stored: _StoredMessage, payload: JSON) -> None:
        if stored.guild_id is not None:
            payload["guild_id"] = str(stored.guild_id)
        intent = p.INTENT_GUILD_MESSAGES if stored.guild_id is not None else p.INTENT_DIRECT_MESSAGES
        self._dispatch_if_connected(event, lambda s: payload, intent=intent)

    def _interaction_metadata(self, interaction: Interaction, *, followup_of: int | None = None) -> JSON:
        meta: JSON = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": copy.deepcopy(self.users[interaction.user_id]),
            "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"],
        }
        data = interaction.payload.get("data", {})
        if interaction.type == 2:
            meta["name"] = data.get("name")
            meta["command_type"] = data.get("type", 1)
            if data.get("type") == 3:
                meta["target_message_id"] = data["target_id"]
            elif data.get("type") == 2:
                meta["target_user"] = copy.deepcopy(self.users[int(data["target_id"])])
        if interaction.type == 3 and interaction.source_message_id:
            meta["interacted_message_id"] = str(interaction.source_message_id)
        if interaction.type == 5 and interaction.triggering is not None:
            meta["triggering_interaction_metadata"] = self._interaction_metadata(interaction.triggering)
        if followup_of is not None:
            meta["original_response_message_id"] = str(followup_of)
        return meta

    def _legacy_interaction(self, interaction: Interaction) -> JSON | None:
        """The deprecated ``message.interaction`` field Discord still sends for command replies."""
        if interaction.type != 2:
            return None
        return {
            "id": str(interaction.id),
            "type": 2,
            "name": interaction.payload["data"]["name"],
            "user": copy.deepcopy(self.users[interaction.user_id]),
        }

    @staticmethod
    def _reply_type(interaction: Interaction) -> int:
        """20 CHAT_INPUT_COMMAND, 23 CONTEXT_MENU_COMMAND, 19 REPLY for component/modal responses."""
        if interaction.type == 2:
            return 20 if interaction.payload["data"].get("type", 1) == 1 else 23
        return 19 if interaction.source_message_id else 20

    # ------------------------------------------------------------------------------ HTTP plumbing

    @staticmethod
    def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
        # Exactly "application/json": discord.py only parses JSON for that exact header value.
        response = web.Response(
            body=json.dumps(body).encode(),
            status=status,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response[RESPONSE_JSON_KEY] = body
        return response

    async def _parse_body(self, request: web.Request) -> tuple[Any, list[_Upload]]:
        """The JSON body, or a multipart body's payload_json and files (as Discord reads them)."""
        if request.content_type == "multipart/form-data":
            body: Any = None
            uploads: list[_Upload] = []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.name == "payload_json":
                    body = json.loads(await part.text())  # type: ignore[union-attr]
                elif part.name and (m := re.fullmatch(r"files\[(\d+)\]", part.name)):
                    data = await _read_part(part)
                    ctype = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
                    uploads.append(_Upload(m.group(1), part.filename or "file", data, ctype))
            return body, uploads
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record, spec-check and fault-inject every REST/CDN request, then map ApiError to JSON."""
        path = request.path
        if path == "/gateway":
            return await handler(request)
        is_rest = path.startswith(API_PREFIX)
        record = RecordedRequest(
            method=request.method,
            path=path[len(API_PREFIX) :] if is_rest else path,
            query=dict(request.query),
            json=None,
            files=[],
            headers=dict(request.headers),
            kind="rest" if is_rest else "cdn",
        )
        self.requests.append(record)
        parse_error: ApiError | None = None
        try:
            record.json, uploads = await self._parse_body(request)
            record.files = [(u.filename, u.data, u.content_type) for u in uploads]
            request[BODY_KEY], request[UPLOADS_KEY] = record.json, uploads
        except (ValueError, UnicodeDecodeError):
            parse_error = p.invalid_json()
        if is_rest and self._checker is not None:
            for violation in self._checker.check(
                record.method, record.path, record.query, record.json, record.headers
            ):
                self.spec_violations.append(f"{record.method} {record.path}: {violation}")
        try:
            fault = self._take_fault(record, path)
            if fault is not None and fault.delay and not fault.process:
                await asyncio.sleep(fault.delay)
            if fault is not None and fault.status is not None and not fault.process:
                response: web.StreamResponse = self._json(fault.body, fault.status, fault.headers)
            elif parse_error is not None:
                raise parse_error
            else:
                response = await handler(request)
                if fault is not None and fault.process:
                    if fault.delay:
                        await asyncio.sleep(fault.delay)
                    if fault.status is not None:
                        response = self._json(fault.body, fault.status, fault.headers)
        except ApiError as err:
            response = self._json(err.body(), err.status, err.headers)
        except web.HTTPException:
            raise
        except Exception:  # a bug in the fake: answer like Discord's 500 and make it visible to tests
            self.server_errors.append(f"{record.method} {record.path}\n{traceback.format_exc()}")
            response = self._json({"code": 0, "message": "500: Internal Server Error"}, 500)
        record.status = response.status
        record.response = response.get(RESPONSE_JSON_KEY)
        return response

    def _take_fault(self, record: RecordedRequest, full_path: str) -> _Fault | None:
        for fault in self._faults:
            if (
                fault.method in ("*", record.method)
                and (fault.pattern.search(record.path) or fault.pattern.search(full_path))
                and (fault.when is None or fault.when(record))
            ):
                fault.remaining -= 1
                fault.fired += 1
                self.fired_faults.append(fault.describe())
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _authed(self, handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            if request.headers.get("Authorization") != f"Bot {self.token}":
                raise p.unauthorized()
            return await handler(request)

        return wrapped

    async def _unknown_route(self, request: web.Request) -> web.StreamResponse:
        """404 (or 405 for a known path with the wrong method); either way the bot called something wrong."""
        path = request.path[len(API_PREFIX) :]
        self.unknown_routes.append((request.method, path))
        if any(pattern.fullmatch(path) for pattern in self._route_patterns):
            raise ApiError(405, 0, "405: Method Not Allowed")
        raise p.not_found_route()

    @staticmethod
    def _snowflake_param(request: web.Request, name: str, kind: str) -> int:
        value = request.match_info[name]
        if not value.isdigit():
            raise p.unknown(kind)
        return int(value)

    def _routes(self) -> list[tuple[str, str, Handler, bool]]:
        """(method, path under /api/v10, handler, needs bot Authorization)."""
        return [
            ("GET", "/users/@me", self._get_me, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", "/users/{user_id}", self._get_user, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/applications/{app_id}/commands", self._get_commands, True),
            ("PUT", "/applications/{app_id}/commands", self._put_commands, True),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands, True),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands, True),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback, False),
            ("POST", "/webhooks/{app_id}/{token}", self._followup, False),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_message, False),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_message, False),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_message, False),
            ("GET", "/channels/{channel_id}", self._get_channel, True),
            ("POST", "/channels/{channel_id}/typing", self._typing, True),
            ("GET", "/channels/{channel_id}/messages", self._list_messages, True),
            ("POST", "/channels/{channel_id}/messages", self._post_message, True),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._channel_message, True),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._channel_message, True),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._channel_message, True),
            ("GET", "/guilds/{guild_id}", self._get_guild, True),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels, True),
            ("GET", "/guilds/{guild_id}/roles", self._get_guild_roles, True),
            ("GET", "/guilds/{guild_id}/members", self._get_guild_members, True),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_guild_member, True),
        ]

    # -------------------------------------------------------------------------------------- CDN

    async def _cdn_get(self, request: web.Request) -> web.Response:
        """Serve stored bytes with the stated content type; signed URLs expire like Discord's."""
        raw_id = request.match_info["attachment"]
        item = self._cdn.get(int(raw_id)) if raw_id.isdigit() else None
        expected = item.attachment["url"].split("/cdn/", 1)[1].split("?", 1)[0] if item else ""
        kind, channel = request.match_info["kind"], request.match_info["channel"]
        requested = f"{kind}/{channel}/{raw_id}/{quote(request.match_info['filename'])}"
        if item is None or requested != expected:
            return web.Response(status=404, text="Not Found")
        try:
            expires, issued = int(request.query["ex"], 16), int(request.query["is"], 16)
            signed = hmac.compare_digest(request.query["hm"], self._sign(int(raw_id), expires, issued))
        except (KeyError, ValueError):
            signed = False
        now = time.time()
        if not signed or expires < now or item.expires_at < now:
            return web.Response(status=403, text="This content is no longer available.")
        return web.Response(
            body=item.data, headers={"Content-Type": item.content_type or "application/octet-stream"}
        )

    # ----------------------------------------------------------------------------- REST: users

    async def _get_me(self, request: web.Request) -> web.Response:
        return self._json(
            {**self.bot_user, "verified": True, "mfa_enabled": False, "locale": "en-US", "email": None}
        )

    async def _get_user(self, request: web.Request) -> web.Response:
        uid = self._snowflake_param(request, "user_id", "User")
        if uid not in self.users:
            raise p.unknown("User")
        return self._json(self.users[uid])

    async def _get_application(self, request: web.Request) -> web.Response:
        owner = copy.deepcopy(self.users[self.owner_id])
        verify_key = hashlib.sha256(self._secret).hexdigest()
        app = p.application_object(
            copy.deepcopy(self.bot_user), owner, guild_count=len(self.guilds), verify_key=verify_key
        )
        return self._json(app)

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return self._json({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {
            "total": 1000,
            "remaining": 1000 - self.identify_count,
            "reset_after": 86_400_000,
            "max_concurrency": 1,
        }
        return self._json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = request[BODY_KEY] or {}
        recipient = str(body.get("recipient_id", "")) if isinstance(body, dict) else ""
        if not recipient.isdigit():
            raise p.form_error(["recipient_id"], "BASE_TYPE_REQUIRED", "This field is required")
        uid = int(recipient)
        if uid not in self.users or uid == self.application_id:
            raise ApiError(400, 50033, "Invalid Recipient(s)")
        return self._json(self.channels[self._dm_channel_for(uid)])

    # -------------------------------------------------------------------------- REST: commands

    def _command_scope(self, request: web.Request) -> int | None:
        if self._snowflake_param(request, "app_id", "Application") != self.application_id:
            raise ApiError(403, 50001, "Missing Access")
        if "guild_id" not in request.match_info:
            return None
        guild_id = self._snowflake_param(request, "guild_id", "Guild")
        if guild_id not in self.guilds:
            raise ApiError(403, 50001, "Missing Access")
        return guild_id

    async def _get_commands(self, request: web.Request) -> web.Response:
        guild_id = self._command_scope(request)
        return self._json(self.commands if guild_id is None else self.guild_commands.get(guild_id, []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        guild_id = self._command_scope(request)
        body = request[BODY_KEY]
        if not isinstance(body, list):
            raise ApiError(
                400,
                50035,
                "Invalid Form Body",
                {"_errors": [{"code": "LIST_TYPE_CONVERT", "message": "Must be an array."}]},
            )
        p.check_commands(body)
        previous = {
            (c["name"], c["type"]): c
            for c in (self.commands if guild_id is None else self.guild_commands.get(guild_id, []))
        }
        echoed = [
            p.echo_command(cmd, self.application_id, guild_id, previous, self._snowflakes.next)
            for cmd in body
        ]
        if guild_id is None:
            self.commands = echoed
        else:
            self.guild_commands[guild_id] = echoed
        self.command_syncs += 1
        return self._json(echoed)

    # ----------------------------------------------------------------------- REST: interactions

    def _live_interaction(self, request: web.Request) -> Interaction:
        iid = request.match_info["interaction_id"]
        inter = self._interactions_by_id.get(int(iid)) if iid.isdigit() else None
        if inter is None or not hmac.compare_digest(inter.token, request.match_info["token"]):
            raise p.unknown("interaction")
        deadline = self.callback_deadline if inter.ack_deadline is None else inter.ack_deadline
        if inter.expired or time.monotonic() - inter.dispatched_at > deadline:
            raise p.unknown("interaction")
        return inter

    async def _callback(self, request: web.Request) -> web.Response:
        inter = self._live_interaction(request)
        if inter.acknowledged_elsewhere and inter.callback_type is None:
            # Someone else's answer got there first: a deferral (so followups work), not this one.
            inter.callback_type = 5
            stored = self._create_message(
                inter.channel_id,
                {},
                [],
                size_limit=inter.attachment_size_limit,
                message_type=self._reply_type(inter),
                interaction=inter,
                extra_flags=p.LOADING,
                allow_empty=True,
            )
            inter.original_message_id = stored.id
            raise p.already_acknowledged()
        if inter.callback_type is not None:
            raise p.already_acknowledged()
        body = request[BODY_KEY]
        if not isinstance(body, dict) or not isinstance(body.get("type"), int):
            raise p.form_error(["type"], "BASE_TYPE_REQUIRED", "This field is required")
        ctype: int = body["type"]
        data = body.get("data") or {}
        if not isinstance(data, dict):
            raise ApiError(400, 50035, "Invalid Form Body", {"data": {"_errors": [p.DICT_ERROR]}})
        # Modal submits may ACK with 6 (discord.py's default defer()); 7 needs a message to update.
        allowed = {
            2: {4, 5, 9},
            3: {4, 5, 6, 7, 9},
            4: {8},
            5: {4, 5, 6} | ({7} if inter.source_message_id else set()),
        }
        if ctype not in allowed.get(inter.type, set()):
            raise p.form_error(
                ["type"],
                "INTERACTION_RESPONSE_TYPE_INVALID",
                "Interaction response type is invalid for this interaction",
            )
        if ctype in (4, 5, 7):
            p.validate_message(data)
        uploads: list[_Upload] = request[UPLOADS_KEY]
        channel_id = inter.channel_id
        if channel_id not in self.channels:
            raise p.unknown("Channel")
        result: JSON = {"id": str(inter.id), "type": inter.type}
        resource: JSON | None = None
        limit = inter.attachment_size_limit
        if ctype in (4, 5):
            stored = self._create_message(
                channel_id,
                data if ctype == 4 else {"flags": int(data.get("flags") or 0) & p.EPHEMERAL},
                uploads if ctype == 4 else [],
                size_limit=limit,
                message_type=self._reply_type(inter),
                interaction=inter,
                extra_flags=p.LOADING if ctype == 5 else 0,
                reference=self._messages.get(inter.source_message_id or 0),
                allow_empty=ctype == 5,
            )
            inter.original_message_id = stored.id
            resource = {"type": ctype, "message": copy.deepcopy(stored.data)}
        elif ctype in (6, 7) and inter.source_message_id is not None:
            source = self._messages[inter.source_message_id]
            if ctype == 7:
                self._edit_message(source, data, uploads, size_limit=limit)
                resource = {"type": 7, "message": copy.deepcopy(source.data)}
            inter.original_message_id = source.id
        elif ctype == 8:
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise p.form_error(
                    ["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            inter.autocomplete_choices = copy.deepcopy(choices)
        elif ctype == 9:
            p.check_modal(data)
            modal = copy.deepcopy(data)
            p.number_components(modal["components"])  # the submission echoes these ids
            self._modals[data["custom_id"]] = _Modal(modal, inter)
        if inter.original_message_id is not None:
            original = self._messages[inter.original_message_id]
            result.update(
                response_message_id=str(original.id),
                response_message_loading=bool(original.data["flags"] & p.LOADING),
                response_message_ephemeral=original.ephemeral,
            )
        inter.callback_type = ctype
        inter.callbacks.append(copy.deepcopy(body))
        if str(request.query.get("with_response", "")).lower() not in ("1", "true"):
            return web.Response(status=204)
        return self._json({"interaction": result, **({"resource": resource} if resource else {})})

    def _webhook_interaction(self, request: web.Request) -> Interaction:
        app = request.match_info["app_id"]
        if not app.isdigit() or int(app) != self.application_id:
            raise p.unknown("Webhook")
        inter = self._interactions_by_token.get(request.match_info["token"])
        if inter is None or inter.expired or time.monotonic() - inter.dispatched_at > self.token_lifetime:
            raise p.invalid_webhook_token()
        if inter.callback_type is None:
            raise p.unknown("Webhook")  # the interaction webhook exists only after the initial response
        if inter.channel_id not in self.channels:
            raise p.unknown("Channel")
        return inter

    async def _followup(self, request: web.Request) -> web.Response:
        inter = self._webhook_interaction(request)
        body = request[BODY_KEY] or {}
        uploads: list[_Upload] = request[UPLOADS_KEY]
        limit = inter.attachment_size_limit
        original = self._messages.get(inter.original_message_id or 0)
        if (
            inter.callback_type == 5
            and original
            and not original.deleted
            and original.data["flags"] & p.LOADING
        ):
            # Documented (deprecated) behaviour: the first followup after a defer fills the placeholder.
            stored = self._edit_message(original, body, uploads, size_limit=limit, replace=True)
        else:
            stored = self._create_message(
                inter.channel_id,
                body,
                uploads,
                size_limit=limit,
                message_type=self._reply_type(inter),
                interaction=inter,
                followup_of=inter.original_message_id,
            )
            inter.followup_ids.append(stored.id)
        return self._json(stored.data)

    async def _webhook_message(self, request: web.Request) -> web.StreamResponse:
        inter = self._webhook_interaction(request)
        raw = request.match_info["message_id"]
        if raw == "@original":
            mid = inter.original_message_id
        else:
            mid = int(raw) if raw.isdigit() else None
            if mid != inter.original_message_id and mid not in inter.followup_ids:
                mid = None
        stored = self._messages.get(mid) if mid is not None else None
        if stored is None or stored.deleted:
            raise p.unknown("Message")
        if request.method == "GET":
            return self._json(stored.data)
        if request.method == "DELETE":
            self._delete_message(stored)
            return web.Response(status=204)
        self._edit_message(
            stored, request[BODY_KEY] or {}, request[UPLOADS_KEY], size_limit=inter.attachment_size_limit
        )
        return self._json(stored.data)

    # --------------------------------------------------------------------------- REST: channels

    def _channel_param(self, request: web.Request) -> int:
        cid = self._snowflake_param(request, "channel_id", "Channel")
        if cid not in self.channels:
            raise p.unknown("Channel")
        return cid

    async def _get_channel(self, request: web.Request) -> web.Response:
        return self._json(self.channels[self._channel_param(request)])

    async def _typing(self, request: web.Request) -> web.Response:
        self._channel_param(request)
        return web.Response(status=204)

    def _upload_limit(self, channel_id: int) -> int:
        guild_id = self._channel_guild.get(channel_id)
        tier = self.guilds[guild_id].premium_tier if guild_id is not None else 0
        return p.PREMIUM_UPLOAD_LIMITS.get(tier, p.DEFAULT_UPLOAD_LIMIT)

    def _require(self, channel_id: int, needed: int) -> None:
        """403 like Discord when the bot lacks a permission in a guild channel."""
        if self._channel_guild.get(channel_id) is None:
            return
        have = self.channel_permissions(channel_id, self.application_id)
        if not have & p.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        if needed & ~have:
            raise ApiError(403, 50013, "Missing Permissions")

    async def _post_message(self, request: web.Request) -> web.Response:
        cid = self._channel_param(request)
        recipient = next((uid for uid, dm in self.dm_channels.items() if dm == cid), None)
        if recipient in self._dm_blocked:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        body = request[BODY_KEY] or {}
        in_thread = int(self.channels[cid].get("type", 0)) in p.THREAD_TYPES
        send = p.SEND_MESSAGES_IN_THREADS if in_thread else p.SEND_MESSAGES
        self._require(cid, send | (p.ATTACH_FILES if request[UPLOADS_KEY] else 0))
        nonce = body.get("nonce") if isinstance(body, dict) else None
        if nonce is not None and body.get("enforce_nonce"):
            # Discord: with enforce_nonce, a nonce seen in the past few minutes returns that
            # message instead of creating a second one.
            seen = self._nonces.get((cid, str(nonce)))
            if seen is not None and time.monotonic() - seen[1] < self.nonce_window:
                existing = self._messages.get(seen[0])
                if existing is not None and not existing.deleted:
                    return self._json(existing.data)
        p.validate_message(body)
        reference = None
        ref = body.get("message_reference")
        if isinstance(ref, dict) and ref.get("message_id"):
            raw = str(ref["message_id"])
            reference = self._messages.get(int(raw)) if raw.isdigit() else None
            if reference is None or reference.deleted or int(reference.data["channel_id"]) != cid:
                if ref.get("fail_if_not_exists", True):
                    raise p.form_error(["message_reference"], "REPLIES_UNKNOWN_MESSAGE", "Unknown message")
                reference = None
        stored = self._create_message(
            cid,
            body,
            request[UPLOADS_KEY],
            size_limit=self._upload_limit(cid),
            message_type=19 if reference else 0,
            reference=reference,
        )
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(cid, str(nonce))] = (stored.id, time.monotonic())
        return self._json(stored.data)

    async def _list_messages(self, request: web.Request) -> web.Response:
        cid = self._channel_param(request)
        self._require(cid, p.READ_MESSAGE_HISTORY)
        try:
            limit = int(request.query.get("limit", 50))
            before = int(request.query.get("before", 0)) or None
            after = int(request.query.get("after", 0)) or None
        except ValueError as exc:
            raise ApiError(400, 50035, "Invalid Form Body") from exc
        if not 1 <= limit <= 100:
            raise p.form_error(["limit"], "NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")
        messages = [m for m in self.messages_in(cid) if (before is None or int(m["id"]) < before)]
        messages = [m for m in messages if after is None or int(m["id"]) > after]
        newest_first = list(reversed(messages))
        return self._json(newest_first[:limit] if after is None else messages[:limit][::-1])

    async def _channel_message(self, request: web.Request) -> web.StreamResponse:
        cid = self._channel_param(request)
        mid = self._snowflake_param(request, "message_id", "Message")
        stored = self._messages.get(mid)
        if request.method == "GET":
            self._require(cid, p.READ_MESSAGE_HISTORY)
        if stored is None or stored.deleted or stored.ephemeral or int(stored.data["channel_id"]) != cid:
            raise p.unknown("Message")
        if request.method == "GET":
            return self._json(stored.data)
        if request.method == "DELETE":
            self._delete_message(stored)
            return web.Response(status=204)
        if int(stored.data["author"]["id"]) != self.application_id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._edit_message(
            stored, request[BODY_KEY] or {}, request[UPLOADS_KEY], size_limit=self._upload_limit(cid)
        )
        return self._json(stored.data)

    # ----------------------------------------------------------------------------- REST: guilds

    def _guild_param(self, request: web.Request) -> _Guild:
        gid = self._snowflake_param(request, "guild_id", "Guild")
        if gid not in self.guilds:
            raise p.unknown("Guild")
        return self.guilds[gid]

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild_param(request)
        payload = self._guild_payload(guild)
        if request.query.get("with_counts", "").lower() in ("1", "true"):
            payload.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return self._json(payload)

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild_param(request)
        return self._json([self.channels[c] for c in guild.channel_ids])

    async def _get_guild_roles(self, request: web.Request) -> web.Response:
        return self._json(list(self._guild_param(request).roles.values()))

    async def _get_guild_members(self, request: web.Request) -> web.Response:
        guild = self._guild_param(request)
        limit = int(request.query.get("limit", "1")) if request.query.get("limit", "1").isdigit() else 1
        return self._json([self._member_payload(guild, uid) for uid in sorted(guild.members)][:limit])

    async def _get_guild_member(self, request: web.Request) -> web.Response:
        guild = self._guild_param(request)
        uid = self._snowflake_param(request, "user_id", "Member")
        if uid not in guild.members:
            raise p.unknown("Member")
        return self._json(self._member_payload(guild, uid))


async def _read_part(part: Any) -> bytes:
    """A multipart file's bytes, read 256 KiB at a time (BodyPartReader.read() takes 8 KiB steps,
    which made the fake, not the bot, the slow side of every upload)."""
    data = bytearray()
    while chunk := await part.read_chunk(256 * 1024):
        data += chunk
    return bytes(data)
