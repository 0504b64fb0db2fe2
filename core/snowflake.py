"""Discord ids (snowflakes) carry their own creation time."""

from __future__ import annotations

DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_time(snowflake: int) -> float:
    """Unix time (seconds) at which Discord created the object with this id.

    An interaction token lives 15 minutes from the interaction's creation, not from when the bot
    got round to reading it (a backlog after a reconnect can eat minutes of that)."""
    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000
