"""Shared wire constants: the JSON alias, permission/flag/intent bits, snowflakes and timestamps."""

from __future__ import annotations

import threading
import time
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
