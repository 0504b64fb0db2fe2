"""The world: users, guilds, channels, threads, members, permissions, and what tests read back."""

from __future__ import annotations

import asyncio
import copy
import inspect
from collections.abc import Callable, Iterable, Sequence

from tests.fakes.discord import payloads as p
from tests.fakes.discord.payloads import JSON
from tests.fakes.discord.records import Interaction, T, _Guild


class StateMixin:
    """World building (users, guilds, channels, threads, members, permission overwrites), the
    accessors tests assert on, and the wire payloads of members and guilds."""

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
