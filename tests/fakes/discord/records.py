"""What the fake Discord keeps and records: requests, interactions, stored messages, guilds, CDN files,
armed faults, gateway connections and sessions; plus the wire constants every part shares."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from tests.fakes.discord import payloads as p
from tests.fakes.discord.payloads import JSON

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
    wall: float = field(default_factory=time.time)  # arrival, comparable with other processes' clocks


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
