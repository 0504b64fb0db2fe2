"""Builders for world objects on the wire: users, roles, channels, threads, members, guilds, READY."""

from __future__ import annotations

from collections.abc import Iterable

from tests.fakes.discord.payloads.base import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    JSON,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    iso_now,
)

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
