"""Wire-level building blocks for the fake Discord: payload builders, errors and documented limits.

Everything here is pure (no sockets, no server state) so the shapes can be read and checked in one
place.  The shapes follow Discord's API docs and the official OpenAPI spec; the keys that discord.py
2.7.1 actually requires are listed in ``shared/reference/discord-e2e.md``.  Snowflakes are ints in
Python and strings on the wire, exactly like Discord.
"""

from __future__ import annotations

import io
import itertools
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
SEND_MESSAGES_IN_THREADS = 1 << 38

# Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types).
PUBLIC_THREAD, PRIVATE_THREAD, GUILD_FORUM = 11, 12, 15
THREAD_TYPES = (10, PUBLIC_THREAD, PRIVATE_THREAD)
# The default @everyone permissions Discord gives a new guild.
DEFAULT_EVERYONE_PERMISSIONS = 2_248_473_465_835_073
# discord.Permissions.all().value in discord.py 2.7.1: what Discord reports for administrators/owners.
ALL_PERMISSIONS = 8_866_461_766_385_663

# Upload limits: 10 MiB per file by default, more for boosted guilds (discord.py guild.py:454-460).
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
PREMIUM_UPLOAD_LIMITS = {
    0: DEFAULT_UPLOAD_LIMIT,
    1: DEFAULT_UPLOAD_LIMIT,
    2: 50 * 1024 * 1024,
    3: 100 * 1024 * 1024,
}

# Message flags.
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15
# Flags a sender may set on create / change on edit; the rest are server-owned.
SETTABLE_FLAGS = SUPPRESS_EMBEDS | EPHEMERAL | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2

# Gateway intents that gate events the fake sends.
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12

# Application command option types.
OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP = 1, 2
OPT_STRING, OPT_INTEGER, OPT_BOOLEAN, OPT_USER = 3, 4, 5, 6
OPT_CHANNEL, OPT_ROLE, OPT_MENTIONABLE, OPT_NUMBER, OPT_ATTACHMENT = 7, 8, 9, 10, 11


def snowflake_time_ms(snowflake: int) -> int:
    """Unix milliseconds encoded in a snowflake (what discord.py's ``snowflake_time`` reads)."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


class SnowflakeFactory:
    """Makes strictly increasing, time-based snowflakes so ``created_at`` values look real."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            candidate = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (1 << 17)
            self._last = max(candidate, self._last + 1)
            return self._last


def iso_now() -> str:
    """A Discord-style ISO 8601 timestamp (microseconds, explicit UTC offset)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


# --------------------------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error response exactly as Discord sends it: ``{"code": ..., "message": ...[, "errors"]}``."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: JSON | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})

    def body(self) -> JSON:
        body: JSON = {"code": self.code, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def form_error(path: Sequence[str | int], code: str, message: str) -> ApiError:
    """A 50035 Invalid Form Body with a single field error."""
    errors = FormErrors()
    errors.add(path, code, message)
    return ApiError(400, 50035, "Invalid Form Body", errors=errors.tree)


def unauthorized() -> ApiError:
    return ApiError(401, 0, "401: Unauthorized")


def not_found_route() -> ApiError:
    return ApiError(404, 0, "404: Not Found")


def unknown(kind: str) -> ApiError:
    """404 for an unknown entity, with Discord's JSON error code for it."""
    codes = {
        "Application": 10002,
        "Channel": 10003,
        "Guild": 10004,
        "Member": 10007,
        "Message": 10008,
        "Role": 10011,
        "User": 10013,
        "Webhook": 10015,
        "interaction": 10062,
        "application command": 10063,
    }
    return ApiError(404, codes[kind], f"Unknown {kind}")


def invalid_webhook_token() -> ApiError:
    return ApiError(401, 50027, "Invalid Webhook Token")


def already_acknowledged() -> ApiError:
    return ApiError(400, 40060, "Interaction has already been acknowledged.")


def entity_too_large() -> ApiError:
    return ApiError(413, 40005, "Request entity too large")


def empty_message() -> ApiError:
    return ApiError(400, 50006, "Cannot send an empty message")


def invalid_json() -> ApiError:
    return ApiError(400, 50109, "The request body contains invalid JSON.")


class FormErrors:
    """Collects field errors and renders them in Discord's nested 50035 ``errors`` format.

    Discord nests errors by JSON path (list indexes as string keys) with an ``_errors`` leaf, e.g.
    ``{"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", ...}]}}}}``.
    """

    def __init__(self) -> None:
        self._tree: JSON = {}

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        node = self._tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: Sequence[str | int], limit: int) -> None:
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def bad_length(self, path: Sequence[str | int], low: int, high: int) -> None:
        self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    @property
    def tree(self) -> JSON:
        return self._tree

    def __bool__(self) -> bool:
        return bool(self._tree)

    def raise_if_any(self) -> None:
        if self._tree:
            raise ApiError(400, 50035, "Invalid Form Body", errors=self._tree)


# --------------------------------------------------------------------------------------- world objects


def user_object(user_id: int, username: str, *, bot: bool = False, global_name: str | None = None) -> JSON:
    """A full user object (the shape ``GET /users/{id}`` returns)."""
    user: JSON = {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": None,
        "avatar_decoration_data": None,
        "banner": None,
        "accent_color": None,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
        "collectibles": None,
    }
    if bot:
        user["bot"] = True
        user["global_name"] = None
    return user


def role_object(role_id: int, name: str, permissions: int, *, position: int = 0) -> JSON:
    return {
        "id": str(role_id),
        "name": name,
        "description": None,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }


def channel_object(channel_id: int, name: str, channel_type: int = 0, *, nsfw: bool = False) -> JSON:
    """A guild channel; ``guild_id`` and ``position`` are filled in when it joins a guild."""
    return {
        "id": str(channel_id),
        "type": channel_type,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": nsfw,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": None,
        "flags": 0,
    }


def thread_object(
    thread_id: int, name: str, parent_id: int, guild_id: int, owner_id: int, channel_type: int = PUBLIC_THREAD
) -> JSON:
    """A thread (11 public, 12 private), or a forum post (a public thread in a forum channel).

    As on Discord it has no ``nsfw`` flag and no permission overwrites of its own: its parent's
    apply. The fields are the OpenAPI spec's ThreadResponse (required ones all present).
    """
    created = iso_now()
    metadata: JSON = {
        "archived": False,
        "archive_timestamp": created,
        "auto_archive_duration": 4320,
        "locked": False,
        "create_timestamp": created,
    }
    if channel_type == PRIVATE_THREAD:
        metadata["invitable"] = True
    thread: JSON = {
        "id": str(thread_id),
        "type": channel_type,
        "guild_id": str(guild_id),
        "parent_id": str(parent_id),
        "owner_id": str(owner_id),
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "thread_metadata": metadata,
    }
    return thread


def dm_channel_object(channel_id: int, recipient: JSON) -> JSON:
    return {
        "id": str(channel_id),
        "type": 1,
        "last_message_id": None,
        "flags": 0,
        "recipients": [recipient],
    }


def member_object(user: JSON, role_ids: Iterable[int], joined_at: str) -> JSON:
    return {
        "user": user,
        "nick": None,
        "avatar": None,
        "banner": None,
        "roles": [str(r) for r in role_ids],
        "joined_at": joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }


def compute_permissions(everyone_permissions: int, role_permissions: Iterable[int], *, is_owner: bool) -> int:
    """Guild-level permissions: @everyone OR each role; owners and administrators get everything.

    Channel permission overwrites are not modelled (the fake's channels have none).
    """
    if is_owner:
        return ALL_PERMISSIONS
    value = everyone_permissions
    for perms in role_permissions:
        value |= perms
    return ALL_PERMISSIONS if value & ADMINISTRATOR else value


def guild_object(guild_id: int, name: str, owner_id: int, premium_tier: int, roles: list[JSON]) -> JSON:
    """A guild as ``GET /guilds/{id}`` returns it (GUILD_CREATE adds members, channels, ...)."""
    return {
        "id": str(guild_id),
        "name": name,
        "owner_id": str(owner_id),
        "roles": roles,
        "premium_tier": premium_tier,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "features": [],
        "emojis": [],
        "stickers": [],
        "max_members": 500000,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "afk_timeout": 300,
        "system_channel_flags": 0,
        "nsfw": False,
        "widget_enabled": False,
        **dict.fromkeys(("verification_level", "default_message_notifications", "explicit_content_filter"), 0),
        **dict.fromkeys(("mfa_level", "nsfw_level"), 0),
        **dict.fromkeys(
            (
                "icon", "splash", "discovery_splash", "banner", "description", "afk_channel_id", "application_id",
                "system_channel_id", "rules_channel_id", "public_updates_channel_id", "safety_alerts_channel_id",
                "vanity_url_code", "widget_channel_id",
            ),
            None,
        ),
    }  # fmt: skip


def application_object(bot_user: JSON, owner: JSON, *, guild_count: int, verify_key: str) -> JSON:
    """``GET /oauth2/applications/@me`` with every key the spec marks required.

    ``interactions_endpoint_url`` must stay null: otherwise discord.py warns that it will not receive
    interactions over the gateway.
    """
    return {
        "id": bot_user["id"],
        "name": bot_user["username"],
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": verify_key,
        "owner": owner,
        "team": None,
        "flags": 0,
        "flags_new": "0",
        "hook": True,
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "redirect_uris": [],
        "rpc_origins": [],
        "tags": [],
        "approximate_guild_count": guild_count,
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "eligible_oauth2_scopes": ["bot", "applications.commands"],
        "bot": bot_user,
        "integration_types_config": {"0": {}},
    }


def ready_payload(
    bot_user: JSON, guild_ids: Iterable[int], session_id: str, resume_url: str, shard: list[int] | None
) -> JSON:
    """READY: guilds start unavailable and arrive as GUILD_CREATE; RESUME goes to ``resume_url``."""
    ready: JSON = {
        "v": 10,
        "user": {**bot_user, "verified": True, "mfa_enabled": False, "email": None},
        "guilds": [{"id": str(gid), "unavailable": True} for gid in guild_ids],
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": resume_url,
        "application": {"id": bot_user["id"], "flags": 0},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["local"],
        "user_settings": {},
        "auth": {},
        "_trace": ["fake-discord"],
    }
    if shard is not None:
        ready["shard"] = shard
    return ready


# ------------------------------------------------------------------------------------------ attachments


def sniff_media(data: bytes, filename: str) -> tuple[str | None, int | None, int | None]:
    """Content type and image size the way Discord derives them: from the bytes, then the name.

    Discord ignores the part's ``Content-Type`` (discord.py always sends application/octet-stream).
    """
    try:
        from PIL import Image  # Pillow is a runtime dependency of the bot.

        with Image.open(io.BytesIO(data)) as image:
            mime = Image.MIME.get(image.format or "")
            if mime:
                return mime, image.width, image.height
    except Exception:  # not an image Pillow understands: fall back to the file name
        pass
    guessed, _ = mimetypes.guess_type(filename)
    return guessed, None, None


def attachment_object(
    attachment_id: int,
    filename: str,
    size: int,
    url: str,
    proxy_url: str,
    content_type: str | None,
    *,
    width: int | None = None,
    height: int | None = None,
    ephemeral: bool = False,
    description: str | None = None,
) -> JSON:
    att: JSON = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": proxy_url,
    }
    if content_type is not None:
        att["content_type"] = content_type
    if width is not None and height is not None:
        att["width"] = width
        att["height"] = height
        att["placeholder_version"] = 1
    if description:
        att["description"] = description
    if ephemeral:
        att["ephemeral"] = True
    return att


# --------------------------------------------------------------------------------------------- messages


def message_object(
    *,
    message_id: int,
    channel_id: int,
    author: JSON,
    content: str = "",
    message_type: int = 0,
    embeds: list[JSON] | None = None,
    components: list[JSON] | None = None,
    attachments: list[JSON] | None = None,
    flags: int = 0,
    tts: bool = False,
    webhook_id: int | None = None,
    application_id: int | None = None,
    interaction_metadata: JSON | None = None,
    interaction: JSON | None = None,
    message_reference: JSON | None = None,
) -> JSON:
    """A complete message object as the REST API returns it."""
    message: JSON = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "type": message_type,
        "content": content,
        "author": author,
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": tts,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "mention_channels": [],
        "attachments": attachments or [],
        "embeds": [normalise_embed(e) for e in embeds or []],
        "pinned": False,
        "flags": flags,
        "components": number_components(components or []),
    }
    if webhook_id is not None:
        message["webhook_id"] = str(webhook_id)
    if application_id is not None:
        message["application_id"] = str(application_id)
    if interaction_metadata is not None:
        message["interaction_metadata"] = interaction_metadata
    if interaction is not None:
        message["interaction"] = interaction
    if message_reference is not None:
        message["message_reference"] = message_reference
    return message


def number_components(components: list[JSON]) -> list[JSON]:
    """Give every component a numeric ``id`` (depth-first from 1) unless the sender chose one, as Discord does."""
    taken = {c["id"] for c in iter_components(components) if isinstance(c.get("id"), int)}
    counter = itertools.count(1)
    for comp in iter_components(components):
        if not isinstance(comp.get("id"), int):
            comp["id"] = next(i for i in counter if i not in taken)
    return components


def normalise_embed(embed: JSON) -> JSON:
    """Discord echoes embeds with ``type: rich`` and drops null fields."""
    out = {k: v for k, v in embed.items() if v is not None}
    out.setdefault("type", "rich")
    return out


def resolve_embed_attachments(embeds: list[JSON], attachments: list[JSON]) -> None:
    """Point ``attachment://name`` embed media at the uploaded file, as Discord rewrites them."""
    by_name = {a["filename"]: a for a in attachments}
    for embed in embeds:
        for key in ("image", "thumbnail"):
            media = embed.get(key)
            if isinstance(media, dict) and str(media.get("url", "")).startswith("attachment://"):
                att = by_name.get(media["url"][len("attachment://") :])
                if att is not None:
                    media.update(url=att["url"], proxy_url=att["proxy_url"])
                    if "width" in att:
                        media.update(width=att["width"], height=att["height"])


_USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
_ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")


def _str_list(value: Any, *, ids: bool = False) -> list[str]:
    """Strings (or snowflake strings) from a JSON list, ignoring junk the spec check reports anyway."""
    items = [str(v) for v in value] if isinstance(value, list) else []
    return [v for v in items if v.isdigit()] if ids else items


def resolve_mentions(
    content: str,
    allowed_mentions: JSON | None,
    *,
    replied_user_id: int | None = None,
) -> tuple[list[tuple[str, int | None]], set[int], set[int]]:
    """Who a message's content would ping, by Discord's allowed_mentions rules.

    Returns ``(pings, mentioned_user_ids, mentioned_role_ids)``; each ping is ``(kind, id)`` with kind
    ``everyone``/``here``/``user``/``role``/``reply``.  Without ``allowed_mentions`` Discord parses
    every mention type in the content (and pings a replied-to user); with it, only what ``parse``,
    ``users``, ``roles`` and ``replied_user`` allow.  Embeds never ping.
    """
    if allowed_mentions is None:
        parse = {"users", "roles", "everyone"}
        users: set[int] = set()
        roles: set[int] = set()
        replied = True
    else:
        parse = set(_str_list(allowed_mentions.get("parse")))
        users = {int(u) for u in _str_list(allowed_mentions.get("users"), ids=True)}
        roles = {int(r) for r in _str_list(allowed_mentions.get("roles"), ids=True)}
        replied = bool(allowed_mentions.get("replied_user", False))
    pings: list[tuple[str, int | None]] = []
    if "everyone" in parse:
        if "@everyone" in content:
            pings.append(("everyone", None))
        if "@here" in content:
            pings.append(("here", None))
    mentioned_users: set[int] = set()
    for match in _USER_MENTION.finditer(content):
        uid = int(match.group(1))
        if ("users" in parse or uid in users) and uid not in mentioned_users:
            mentioned_users.add(uid)
            pings.append(("user", uid))
    mentioned_roles: set[int] = set()
    for match in _ROLE_MENTION.finditer(content):
        rid = int(match.group(1))
        if ("roles" in parse or rid in roles) and rid not in mentioned_roles:
            mentioned_roles.add(rid)
            pings.append(("role", rid))
    if replied_user_id is not None and replied and replied_user_id not in mentioned_users:
        mentioned_users.add(replied_user_id)
        pings.append(("reply", replied_user_id))
    return pings, mentioned_users, mentioned_roles


# ----------------------------------------------------------------------------------------------- limits

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_ATTACHMENTS = 10
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_V2_COMPONENTS = 40


DICT_ERROR = {"code": "DICT_TYPE_CONVERT", "message": "Only dictionaries may be used in a DictType"}


def validate_message(body: Any) -> None:
    """Raise Discord's 400 (code 50035) for a message body it would refuse."""
    if not isinstance(body, dict):
        raise ApiError(400, 50035, "Invalid Form Body", {"_errors": [DICT_ERROR]})
    errors = FormErrors()
    check_message_fields(body, errors)
    errors.raise_if_any()


def check_message_fields(body: JSON, errors: FormErrors) -> None:
    """Content/embed/component/attachment limits shared by every message-creating route.

    Sources: resources/message.mdx (content 2000, embed limits), components/reference.mdx
    (custom_id 1-100, 5 rows x 5 buttons, label 80, 40 components in v2), OpenAPI (10 attachments).
    """
    _check_types(body, errors)
    content = body.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        errors.max_length(["content"], MAX_CONTENT)
    embeds = body.get("embeds")
    if isinstance(embeds, list):
        if len(embeds) > MAX_EMBEDS:
            errors.max_length(["embeds"], MAX_EMBEDS)
        _check_embeds(embeds, errors)
    attachments = body.get("attachments")
    if isinstance(attachments, list) and len(attachments) > MAX_ATTACHMENTS:
        errors.max_length(["attachments"], MAX_ATTACHMENTS)
    components = body.get("components")
    if isinstance(components, list):
        v2 = isinstance(body.get("flags"), int) and bool(body["flags"] & IS_COMPONENTS_V2)
        check_components(components, errors, v2=v2)
        if v2 and (content or embeds):
            errors.add(
                ["content" if content else "embeds"],
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "The 'content' and 'embeds' fields cannot be used when using components v2",
            )


_FIELD_TYPES: dict[str, tuple[type, str, str]] = {
    "content": (str, "BASE_TYPE_STRING", "Must be a string."),
    "embeds": (list, "BASE_TYPE_LIST", "Must be an array."),
    "components": (list, "BASE_TYPE_LIST", "Must be an array."),
    "attachments": (list, "BASE_TYPE_LIST", "Must be an array."),
    "allowed_mentions": (dict, DICT_ERROR["code"], DICT_ERROR["message"]),
    "flags": (int, "NUMBER_TYPE_COERCE", "Value is not int."),
    "tts": (bool, "BASE_TYPE_BOOLEAN", "Must be either true or false."),
}


def _check_types(body: JSON, errors: FormErrors) -> None:
    """Wrong JSON types get 50035 like on Discord; the other checks skip values of the wrong type."""
    for key, (expected, code, message) in _FIELD_TYPES.items():
        value = body.get(key)
        if value is not None and (
            not isinstance(value, expected) or (expected is int and isinstance(value, bool))
        ):
            errors.add([key], code, message)
    for key in ("embeds", "components", "attachments"):
        items = body.get(key)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                errors.add([key, i], DICT_ERROR["code"], DICT_ERROR["message"])
            elif key == "embeds":
                for field in ("title", "description", "url"):
                    if item.get(field) is not None and not isinstance(item[field], str):
                        errors.add([key, i, field], "BASE_TYPE_STRING", "Must be a string.")


def _check_embeds(embeds: list[Any], errors: FormErrors) -> None:
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        for key, limit in (("title", 256), ("description", 4096)):
            value = embed.get(key)
            if isinstance(value, str):
                total += len(value)
                if len(value) > limit:
                    errors.max_length(["embeds", i, key], limit)
        fields = embed.get("fields") if isinstance(embed.get("fields"), list) else []
        if len(fields) > 25:
            errors.max_length(["embeds", i, "fields"], 25)
        for j, field in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                value = field.get(key) if isinstance(field, dict) else None
                if isinstance(value, str):
                    total += len(value)
                    if len(value) > limit:
                        errors.max_length(["embeds", i, "fields", j, key], limit)
        for parent, key, limit in (("footer", "text", 2048), ("author", "name", 256)):
            section = embed.get(parent)
            value = section.get(key) if isinstance(section, dict) else None
            if isinstance(value, str):
                total += len(value)
                if len(value) > limit:
                    errors.max_length(["embeds", i, parent, key], limit)
    if total > MAX_EMBED_TOTAL:
        errors.add(
            ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"
        )


def iter_components(components: Iterable[Any]) -> Iterable[JSON]:
    """Every component in a tree (rows, sections, containers, labels and their children)."""
    for comp in components:
        if not isinstance(comp, dict):
            continue
        yield comp
        yield from iter_components(comp.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                yield from iter_components([comp[key]])


def check_components(components: list[Any], errors: FormErrors, *, v2: bool) -> None:
    if not v2:
        if len(components) > MAX_ACTION_ROWS:
            errors.max_length(["components"], MAX_ACTION_ROWS)
        for i, row in enumerate(components):
            children = row.get("components") if isinstance(row, dict) else None
            if isinstance(children, list):
                buttons = sum(1 for c in children if isinstance(c, dict) and c.get("type") == 2)
                if buttons > MAX_ROW_BUTTONS or len(children) > MAX_ROW_BUTTONS:
                    errors.max_length(["components", i, "components"], MAX_ROW_BUTTONS)
    elif sum(1 for _ in iter_components(components)) > MAX_V2_COMPONENTS:
        errors.max_length(["components"], MAX_V2_COMPONENTS)
    seen: set[str] = set()
    _check_component_fields(components, ["components"], errors, seen)


def _check_component_fields(
    components: list[Any], path: list[str | int], errors: FormErrors, seen: set[str], *, single: bool = False
) -> None:
    for i, comp in enumerate(components):
        if not isinstance(comp, dict):
            continue
        here = path if single else [*path, i]
        custom_id = comp.get("custom_id")
        if isinstance(custom_id, str):
            if not 1 <= len(custom_id) <= 100:
                errors.bad_length([*here, "custom_id"], 1, 100)
            elif custom_id in seen:
                errors.add(
                    [*here, "custom_id"],
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id)
        label = comp.get("label")
        if comp.get("type") == 2 and isinstance(label, str) and len(label) > 80:
            errors.max_length([*here, "label"], 80)
        if isinstance(comp.get("components"), list):
            _check_component_fields(comp["components"], [*here, "components"], errors, seen)
        for key in ("accessory", "component"):  # single child: its path has no list index
            if isinstance(comp.get(key), dict):
                _check_component_fields([comp[key]], [*here, key], errors, seen, single=True)


def check_modal(data: JSON) -> None:
    """Modal limits: title 1-45, custom_id 1-100, 1-5 top-level components."""
    errors = FormErrors()
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 45:
        errors.bad_length(["data", "title"], 1, 45)
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 100:
        errors.bad_length(["data", "custom_id"], 1, 100)
    components = data.get("components")
    if not isinstance(components, list) or not 1 <= len(components) <= 5:
        errors.bad_length(["data", "components"], 1, 5)
    else:
        _check_component_fields(components, ["data", "components"], errors, set())
    errors.raise_if_any()


_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


def check_commands(commands: list[Any]) -> None:
    """Bulk-overwrite limits from interactions/application-commands.mdx."""
    errors = FormErrors()
    counts: dict[int, int] = {}
    for i, cmd in enumerate(commands):
        if not isinstance(cmd, dict):
            errors.add([i], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        ctype = int(cmd.get("type") or 1)
        counts[ctype] = counts.get(ctype, 0) + 1
        name = cmd.get("name")
        # Slash command names are lowercase words; context-menu names may have spaces and capitals.
        if ctype == 1:
            valid = isinstance(name, str) and bool(_COMMAND_NAME.match(name)) and name == name.lower()
        else:
            valid = isinstance(name, str) and 1 <= len(name) <= 32
        if not valid:
            errors.add([i, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        description = cmd.get("description") or ""
        if ctype == 1 and not 1 <= len(description) <= 100:
            errors.bad_length([i, "description"], 1, 100)
        _check_options(cmd.get("options") or [], [i, "options"], errors)
    for ctype, limit in ((1, 100), (2, 15), (3, 15)):
        if counts.get(ctype, 0) > limit:
            errors.add(
                [],
                "APPLICATION_COMMANDS_TOO_MANY",
                f"Maximum number of application commands reached ({limit})",
            )
    errors.raise_if_any()


def _check_options(options: list[Any], path: list[str | int], errors: FormErrors) -> None:
    if len(options) > 25:
        errors.max_length(path, 25)
    for j, opt in enumerate(options):
        if not isinstance(opt, dict):
            continue
        if not 1 <= len(opt.get("description") or "") <= 100:
            errors.bad_length([*path, j, "description"], 1, 100)
        if len(opt.get("choices") or []) > 25:
            errors.max_length([*path, j, "choices"], 25)
        _check_options(opt.get("options") or [], [*path, j, "options"], errors)


def echo_command(
    cmd: JSON,
    application_id: int,
    guild_id: int | None,
    previous: Mapping[tuple[str, int], JSON],
    new_id: Callable[[], int],
) -> JSON:
    """A command as Discord stores and echoes it: ids stay stable per (name, type), versions bump on change."""
    ctype = int(cmd.get("type") or 1)
    out: JSON = {
        "type": ctype,
        "name": cmd["name"],
        "name_localizations": cmd.get("name_localizations"),
        "description": cmd.get("description") or "",
        "description_localizations": cmd.get("description_localizations"),
        "default_member_permissions": cmd.get("default_member_permissions"),
        "dm_permission": cmd.get("dm_permission", True),
        "nsfw": bool(cmd.get("nsfw", False)),
        "contexts": cmd.get("contexts") if guild_id is not None else cmd.get("contexts") or [0, 1, 2],
        "integration_types": cmd.get("integration_types") or [0],
    }
    if cmd.get("options"):
        out["options"] = cmd["options"]
    old = previous.get((out["name"], ctype))
    unchanged = old is not None and {k: old.get(k) for k in out} == out
    out = {
        "id": old["id"] if old else str(new_id()),
        "application_id": str(application_id),
        "version": old["version"] if old and unchanged else str(new_id()),
        **out,
    }
    if guild_id is not None:
        out["guild_id"] = str(guild_id)
    return out


# ------------------------------------------------------------------------------- interaction options


class OptionResolver:
    """Turns test-side option values into wire options plus ``data.resolved`` entries."""

    def __init__(
        self,
        *,
        user: Callable[[int], JSON],
        member: Callable[[int], JSON | None],
        role: Callable[[int], JSON],
        channel: Callable[[int], JSON],
        attachment: Callable[[Any], JSON],
    ) -> None:
        self._user, self._member, self._role, self._channel, self._attachment = (
            user,
            member,
            role,
            channel,
            attachment,
        )
        self.resolved: dict[str, dict[str, JSON]] = {}
        # False: send values as given, as a modified client could (no type/range/choice checks).
        self.validate = True

    def _add(self, kind: str, key: int | str, value: JSON) -> None:
        self.resolved.setdefault(kind, {})[str(key)] = value

    def wire_value(self, opt: JSON, value: Any) -> Any:
        """The JSON value Discord sends for ``value`` given the registered option definition."""
        otype, name = int(opt["type"]), opt["name"]
        if not self.validate and otype in (OPT_STRING, OPT_INTEGER, OPT_NUMBER, OPT_BOOLEAN):
            return value
        if otype == OPT_STRING:
            if not isinstance(value, str):
                raise TypeError(f"option {name!r} is a string option, got {value!r}")
            _check_range(opt, len(value), "min_length", "max_length", name)
        elif otype == OPT_INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"option {name!r} is an integer option, got {value!r}")
            _check_range(opt, value, "min_value", "max_value", name)
        elif otype == OPT_NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"option {name!r} is a number option, got {value!r}")
            _check_range(opt, value, "min_value", "max_value", name)
        elif otype == OPT_BOOLEAN:
            if not isinstance(value, bool):
                raise TypeError(f"option {name!r} is a boolean option, got {value!r}")
        elif otype in (OPT_USER, OPT_MENTIONABLE) and not (otype == OPT_MENTIONABLE and self._is_role(value)):
            uid = int(value)
            self._add("users", uid, self._user(uid))
            member = self._member(uid)
            if member is not None:
                self._add(
                    "members", uid, {k: v for k, v in member.items() if k not in ("user", "deaf", "mute")}
                )
            return str(uid)
        elif otype in (OPT_ROLE, OPT_MENTIONABLE):
            rid = int(value)
            self._add("roles", rid, self._role(rid))
            return str(rid)
        elif otype == OPT_CHANNEL:
            channel = self._channel(int(value))
            self._add("channels", int(value), channel)
            return str(int(value))
        elif otype == OPT_ATTACHMENT:
            att = self._attachment(value)
            self._add("attachments", att["id"], att)
            return att["id"]
        choices = opt.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"{value!r} is not one of the choices of option {name!r}: {choices}")
        return value

    def _is_role(self, value: Any) -> bool:
        try:
            self._role(int(value))
        except (LookupError, ValueError, TypeError):
            return False
        return True


def _check_range(opt: JSON, value: float, low_key: str, high_key: str, name: str) -> None:
    low, high = opt.get(low_key), opt.get(high_key)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"Discord would refuse {value!r} for option {name!r}: range is {low}..{high}")


def build_command_options(
    command: JSON,
    options: Mapping[str, Any],
    resolver: OptionResolver,
    *,
    subcommand: str | None = None,
    group: str | None = None,
    focused: str | None = None,
) -> list[JSON]:
    """``data.options`` for a slash command invocation, typed from the registered definition.

    Raises ``LookupError`` for names the bot did not register and ``ValueError`` for values the
    Discord client would not let a user submit (missing required option, out of range, not a choice).
    """
    defs: list[JSON] = command.get("options") or []
    cmd_name = command["name"]
    wrap: list[tuple[int, str]] = []
    for kind, wanted in ((OPT_SUB_COMMAND_GROUP, group), (OPT_SUB_COMMAND, subcommand)):
        if wanted is None:
            continue
        match = next((o for o in defs if o["name"] == wanted and int(o["type"]) == kind), None)
        if match is None:
            known = [o["name"] for o in defs if int(o["type"]) == kind]
            raise LookupError(
                f"/{cmd_name} has no {'group' if kind == 2 else 'subcommand'} {wanted!r} (has {known})"
            )
        wrap.append((kind, wanted))
        defs = match.get("options") or []
    if any(int(o["type"]) in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP) for o in defs):
        raise LookupError(f"/{cmd_name} needs subcommand=/group= (has {[o['name'] for o in defs]})")
    by_name = {o["name"]: o for o in defs}
    unknown_names = set(options) - set(by_name)
    if unknown_names:
        raise LookupError(
            f"/{cmd_name} has no option(s) {sorted(unknown_names)}; registered: {sorted(by_name)}"
        )
    if focused is None:
        missing = [o["name"] for o in defs if o.get("required") and o["name"] not in options]
        if missing:
            raise ValueError(f"/{cmd_name}: required option(s) {missing} missing")
    wire: list[JSON] = []
    for name, value in options.items():
        opt = by_name[name]
        item: JSON = {"name": name, "type": int(opt["type"])}
        if name == focused:
            item["value"] = value  # autocomplete sends the partial text as typed
            item["focused"] = True
        else:
            item["value"] = resolver.wire_value(opt, value)
        wire.append(item)
    for kind, name in reversed(wrap):
        wire = [{"type": kind, "name": name, "options": wire}]
    return wire


def find_component(components: Iterable[Any], custom_id: str) -> JSON | None:
    return next((c for c in iter_components(components) if c.get("custom_id") == custom_id), None)


def modal_submit_components(modal_components: list[JSON], values: Mapping[str, Any]) -> list[JSON]:
    """Mirror the modal the bot sent, filling in what the user typed or picked.

    discord.py 2.7 wraps a bare ``TextInput`` in an action row (type 1) and a ``Label`` is type 18 with
    a single ``component``; the submission comes back in the same structure (text displays keep
    only type/id).  Raises ``ValueError`` for inputs the Discord client would reject.
    """
    counter = itertools.count(1)

    def mirror(comp: JSON) -> JSON:
        ctype = int(comp["type"])
        cid = comp.get("id") or next(counter)
        if ctype == 1:
            return {"type": 1, "id": cid, "components": [mirror(c) for c in comp.get("components") or []]}
        if ctype == 18:
            return {"type": 18, "id": cid, "component": mirror(comp["component"])}
        if ctype == 10:
            return {"type": 10, "id": cid}
        custom_id = comp.get("custom_id")
        if ctype == 4:
            value = values.get(custom_id, comp.get("value") or "")
            if not isinstance(value, str):
                raise TypeError(f"text input {custom_id!r} takes a string, got {value!r}")
            if comp.get("required", True) and not value:
                raise ValueError(f"text input {custom_id!r} is required")
            low, high = comp.get("min_length"), comp.get("max_length")
            if value and ((low is not None and len(value) < low) or (high is not None and len(value) > high)):
                raise ValueError(f"text input {custom_id!r}: length {len(value)} outside {low}..{high}")
            return {"type": 4, "id": cid, "custom_id": custom_id, "value": value}
        picked = values.get(custom_id, [])
        return {"type": ctype, "id": cid, "custom_id": custom_id, "values": list(picked)}

    mirrored = [mirror(c) for c in modal_components]
    known = {c.get("custom_id") for c in iter_components(modal_components)}
    stray = set(values) - known
    if stray:
        raise LookupError(f"modal has no input(s) {sorted(stray)}; it has {sorted(k for k in known if k)}")
    return mirrored
