"""Sharding: which shard a guild lives on, IDENTIFY's shard field and rate limit, and routing.

Discord's rules, as the fake enforces them (``shared/reference/discord-e2e.md``, discord.py's
``gateway.py``/``shard.py``):

- a guild's events (interactions included) go to shard ``(guild_id >> 22) % shard_count``; DMs
  to shard 0. Each session's own ``[shard_id, shard_count]`` decides what it is sent;
- ``shard`` must be ``[id, count]`` with ``0 <= id < count``, else close 4010 (Invalid shard);
  a session that would hold more than 2,500 guilds is closed 4011 (Sharding required);
- IDENTIFY is rate limited per bucket ``shard_id % max_concurrency``: one per 5 s across every
  process of the bot. Over the limit Discord answers op 9 INVALID_SESSION (d=false); the fake
  always records the violation in :attr:`identify_violations`, and answers like Discord when
  :attr:`enforce_identify_rate` is set (off by default: single-bot tests restart the bot at will);
- ``GET /gateway/bot`` reports :attr:`shard_count` and ``session_start_limit`` (the daily
  ``total`` counts down with every IDENTIFY).
"""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.discord.records import _Session

MAX_GUILDS_PER_SHARD = 2500
IDENTIFY_WINDOW_S = 5.0


class ShardMixin:
    """Shard bookkeeping of :class:`~tests.fakes.discord.server.FakeDiscord`; state set up in
    :meth:`_init_shards` (called from its ``__init__``)."""

    def _init_shards(self) -> None:
        # Knobs: what GET /gateway/bot recommends and allows.
        self.shard_count = 1
        self.max_concurrency = 1
        self.session_start_total = 1000
        self.max_guilds_per_shard = MAX_GUILDS_PER_SHARD
        self.enforce_identify_rate = False
        # Observations: every IDENTIFY attempt (monotonic time, shard id or None), and those that
        # broke the 5 s bucket rule; when each shard last finished sending its guilds.
        self.identify_log: list[tuple[float, int | None]] = []
        self.identify_violations: list[str] = []
        self.shard_ready_at: dict[int, float] = {}
        self._shard_sessions: dict[int, _Session] = {}
        self._bucket_last: dict[int, float] = {}

    @staticmethod
    def shard_of(guild_id: int | None, shard_count: int) -> int:
        return 0 if guild_id is None else (guild_id >> 22) % shard_count

    def guilds_of_shard(self, shard: list[int] | None) -> list[int]:
        """The guild ids a session with this ``shard`` field is sent (all of them when unsharded)."""
        if shard is None:
            return list(self.guilds)
        shard_id, count = shard
        return [gid for gid in self.guilds if (gid >> 22) % count == shard_id]

    def session_start_limit(self) -> dict[str, int]:
        return {
            "total": self.session_start_total,
            "remaining": max(0, self.session_start_total - len(self.identify_log)),
            "reset_after": 86_400_000,
            "max_concurrency": self.max_concurrency,
        }

    def connected_shards(self) -> set[int]:
        """Shard ids whose latest session is valid, connected and has been sent all its guilds."""
        return {
            sid
            for sid, s in self._shard_sessions.items()
            if s.valid and s.conn is not None and not s.conn.closed and sid in self.shard_ready_at
        }

    def _admit_identify(self, conn: Any, shard: Any) -> list[int] | None | bool:
        """The IDENTIFY's valid shard field, None when unsharded, or False when the fake refused it
        (the connection is then closed or told INVALID_SESSION, as Discord does)."""
        now = time.monotonic()
        if shard is not None:
            if (
                not isinstance(shard, list)
                or len(shard) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in shard)
                or not 0 <= shard[0] < shard[1]
            ):
                self.identify_log.append((now, None))
                conn.send((4010, "Invalid shard."))
                return False
        shard_id = shard[0] if shard is not None else 0
        self.identify_log.append((now, shard_id))
        bucket = shard_id % max(1, self.max_concurrency)
        last = self._bucket_last.get(bucket)
        if last is not None and now - last < IDENTIFY_WINDOW_S:
            self.identify_violations.append(
                f"shard {shard_id} IDENTIFYed {now - last:.2f}s after another IDENTIFY of bucket {bucket}"
            )
            if self.enforce_identify_rate:
                conn.send('{"op": 9, "d": false}')
                return False
        self._bucket_last[bucket] = now
        if len(self.guilds_of_shard(shard)) > self.max_guilds_per_shard:
            conn.send((4011, "Sharding required."))
            return False
        return shard

    def _register_shard(self, session: _Session) -> None:
        if session.shard is not None:
            self._shard_sessions.pop(session.shard[0], None)  # re-inserted last: the latest wins
            self._shard_sessions[session.shard[0]] = session

    def _shard_ready(self, session: _Session) -> None:
        self.shard_ready_at[session.shard[0] if session.shard else 0] = time.monotonic()

    def _route(self, guild_id: int | None) -> _Session | None:
        """The session a guild's events go to: its shard's latest session (connected or not: Discord
        keeps a dropped session's events for its RESUME; an invalidated one makes dispatching fail
        loudly). An unsharded bot: the current session."""
        if not self._shard_sessions:
            return self._current
        for session in reversed(self._shard_sessions.values()):
            shard_id, count = session.shard
            if self.shard_of(guild_id, count) == shard_id:
                return session
        raise LookupError(f"no session has IDENTIFYed for the shard of guild {guild_id}")
