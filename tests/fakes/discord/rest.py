"""REST routes for users, the application, commands, channels, messages and guilds."""

from __future__ import annotations

import copy
import hashlib
import time

from aiohttp import web

from tests.fakes.discord import payloads as p
from tests.fakes.discord.payloads import ApiError
from tests.fakes.discord.records import BODY_KEY, UPLOADS_KEY, _Guild


class RestMixin:
    """REST handlers outside interactions; the route table is :meth:`FakeDiscord._routes`."""

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
        limit = self.session_start_limit()
        return self._json({"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limit})

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
