"""The gateway WebSocket: HELLO, IDENTIFY, RESUME, heartbeats and event dispatch."""

from __future__ import annotations

import asyncio
import json
import secrets
import traceback
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord import payloads as p
from tests.fakes.discord.payloads import JSON
from tests.fakes.discord.records import HEARTBEAT_INTERVAL_MS, _Connection, _Session


class GatewayMixin:
    """The gateway side: sessions, IDENTIFY/RESUME, heartbeats and dispatching events in order."""

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
        if session is None or not session.valid:
            return
        data = build(session)
        if self._shard_sessions:  # sharded: the event goes to the session of its guild's shard
            guild = data.get("guild_id") or (data.get("id") if event.startswith("GUILD_") else None)
            try:
                routed = self._route(int(guild) if guild else None)
            except LookupError:
                return  # nobody runs that shard yet; its session will get the guild when it IDENTIFYs
            if routed is not session:
                if not routed.valid:
                    return
                session, data = routed, build(routed)
        if not intent or session.intents & intent:
            self._dispatch(event, data, session)

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
        shard = self._admit_identify(conn, d.get("shard"))
        if shard is False:
            return
        session = _Session(secrets.token_hex(16), int(d.get("intents") or 0), shard)
        session.conn = conn
        conn.session = session
        self._sessions[session.id] = session
        self._current = session
        self._register_shard(session)
        guild_ids = self.guilds_of_shard(shard)
        ready = p.ready_payload(self.bot_user, guild_ids, session.id, self.gateway_url, session.shard)
        self._dispatch("READY", ready, session)
        for guild_id in guild_ids:
            guild = self.guilds[guild_id]
            self._dispatch(
                "GUILD_CREATE", self._guild_payload(guild, gateway=True, intents=session.intents), session
            )
        await conn.queue.join()
        self.identify_count += 1
        self._shard_ready(session)

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
