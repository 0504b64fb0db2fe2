"""A faithful fake of Discord (REST + WebSocket gateway + CDN) for end-to-end tests of the bot.

An *unmodified* discord.py 2.7.1 bot, in this process or another one, connects to it over real
sockets once ``discord.http.Route.BASE`` points at :attr:`FakeDiscord.api_base` and
``DiscordWebSocket.DEFAULT_GATEWAY`` at :attr:`FakeDiscord.gateway_url`.  The fake follows Discord's
documented contract rather than what would be convenient: status codes, ``{"code", "message"}``
error bodies, full message objects, the 3 s acknowledgement deadline, 15 min interaction tokens,
upload/embed/component limits and ``allowed_mentions`` semantics.  Wire facts and their sources are
collected in ``shared/reference/discord-e2e.md``; payload builders and limits live in
:mod:`tests.fakes.discord.payloads`.

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

import collections
import re
import secrets
from pathlib import Path

from aiohttp import web

from tests.fakes.discord import payloads as p
from tests.fakes.discord.cdn import CdnMixin
from tests.fakes.discord.gateway import GatewayMixin
from tests.fakes.discord.http import HttpMixin
from tests.fakes.discord.interactions import InteractionMixin
from tests.fakes.discord.messages import MessageMixin
from tests.fakes.discord.payloads import JSON
from tests.fakes.discord.records import (
    API_PREFIX,
    Handler,
    Interaction,
    RecordedRequest,
    _CdnFile,
    _Connection,
    _Fault,
    _Guild,
    _Modal,
    _Session,
    _StoredMessage,
)
from tests.fakes.discord.rest import RestMixin
from tests.fakes.discord.shards import ShardMixin
from tests.fakes.discord.state import StateMixin
from tests.fakes.discord.webhooks import WebhookMixin
from tests.fakes.openapi_check import SpecChecker, get_checker


class FakeDiscord(
    StateMixin, MessageMixin, CdnMixin, HttpMixin, GatewayMixin, ShardMixin, InteractionMixin, WebhookMixin,
    RestMixin,
):
    """Fake Discord server; see the module docstring.  Ids are ints here and strings on the wire.

    One shared state (set up in ``__init__``), behaviour by responsibility in the mixins:
    :class:`StateMixin` (world, accessors), :class:`MessageMixin`, :class:`CdnMixin`, :class:`HttpMixin`
    (middleware, faults), :class:`GatewayMixin`, :class:`InteractionMixin` (the user's side),
    :class:`WebhookMixin` (the bot's answers) and :class:`RestMixin`.
    """

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
        # None: every REST request is checked against the OpenAPI spec; n: the first n per route only.
        self.spec_checks_per_route: int | None = None
        self._spec_checked: collections.Counter[tuple[str, str]] = collections.Counter()

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
        self._init_shards()

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
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
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
