"""The Discord side of running the bot as several processes over shard ranges (SHARD_COUNT / SHARD_IDS).

`ShardedIdentify` is mixed into the auto-sharded bot (bot.py): every IDENTIFY of every shard waits for
its slot in the database (core/shards.py), so all processes together keep Discord's
`max_concurrency` sessions per 5 s. `max_concurrency` comes from GET /gateway/bot's
`session_start_limit`, which discord.py reads only when it picks the shard count itself; with
SHARD_COUNT set it does not, so it is fetched here once (`fetch_session_start_limits`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket

import aiohttp
import discord

from core.chores import Chores
from core.config import Settings
from core.db import Database
from core.generation import GenerationService
from core.invalidation import Invalidations, PgInvalidations
from core.leases import JobLeases
from core.ratelimit import SlidingWindowLimiter
from core.shards import IDENTIFY_PERIOD, IdentifyGate
from core.shared_queue import SharedQueue
from core.shared_window import SharedWindowLimiter

log = logging.getLogger("bot")


def process_name(settings: Settings) -> str:
    return settings.process_name or f"{socket.gethostname()}:{os.getpid()}"


def lease_owner(name: str) -> str:
    """Unique to this run of the process: a restarted process must not mistake its predecessor's
    job leases for its own (they are taken over, with a new fence)."""
    return f"{name}/{secrets.token_hex(4)}"


def shard_ids(settings: Settings) -> tuple[int, ...] | None:
    """The shards this process runs, or None without SHARD_COUNT (one process, no sharding)."""
    if settings.shard_count is None:
        return None
    return settings.shard_ids or tuple(range(settings.shard_count))


def shared(settings: Settings) -> bool:
    """Processes over shard ranges on PostgreSQL share jobs, chores, the queue and the key's window.
    (Without SHARD_COUNT a process holds the whole database alone: nothing to share.)"""
    return settings.database_url is not None and settings.shard_count is not None


async def invalidations(settings: Settings) -> Invalidations:
    """Listening for other processes' cache changes (PostgreSQL with shard ranges), started."""
    if not shared(settings):
        return Invalidations()
    listening = PgInvalidations(settings.database_url.get_secret_value())  # type: ignore[union-attr]
    await listening.start()
    return listening


def partial_area(settings: Settings) -> str:
    """Processes sharing BLOB_DIR each stream downloads into a folder of their own: named after the
    process (PROCESS_NAME, or the first of its shards), so a restart clears what its predecessor left."""
    if not shared(settings):
        return ""
    return settings.process_name or f"shards-{(shard_ids(settings) or (0,))[0]}"


def rate_limiter(settings: Settings, db: Database) -> SlidingWindowLimiter:
    rate, period = settings.segmind_requests_per_minute, settings.segmind_rate_period_seconds
    if shared(settings):
        return SharedWindowLimiter(db, rate, period)
    return SlidingWindowLimiter(rate, period)


def share(
    settings: Settings, db: Database, generation: GenerationService, limiter: SlidingWindowLimiter, name: str
) -> Chores:
    """Wire this process to the others: job leases, the shared queue; returns the chore leases."""
    owner, lease = lease_owner(name), settings.job_lease_seconds
    generation.leases = leases = JobLeases(db, owner, lease_seconds=lease)
    # Jobs wait in the database's queue, not this process's; the queue also runs the lease keeper.
    generation.scheduler = SharedQueue(  # type: ignore[assignment]
        generation.scheduler.run, db=db, leases=leases, global_limit=settings.max_concurrent_jobs,
        per_guild_limit=settings.max_concurrent_jobs_per_guild, gate=limiter,
        keep=lambda: leases.keep(generation.resume),
    )
    return Chores(db, owner, shared=True, lease_seconds=lease)


def shard_options(settings: Settings) -> dict[str, object]:
    """The auto-sharded bot's options; the connect timeout covers the wait for IDENTIFY slots, which
    other processes may hold (every shard of the bot, at worst, before this one)."""
    count = settings.shard_count or 1
    return {
        "shard_count": count,
        "shard_ids": list(shard_ids(settings) or ()),
        "shard_connect_timeout": 180.0 + count * (IDENTIFY_PERIOD + 1.0),
    }


class ShardedIdentify:
    """Mixin for discord.AutoShardedClient: IDENTIFY through the database's slots."""

    identify_gate: IdentifyGate | None = None
    max_concurrency: int | None = None

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if self.identify_gate is None:
            self.identify_gate = IdentifyGate(self.services.db)  # type: ignore[attr-defined]
        if self.max_concurrency is None:
            try:
                limits = await self.fetch_session_start_limits()  # type: ignore[attr-defined]
                self.max_concurrency = max(1, int(limits.max_concurrency))
            except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
                # One per 5 s is always within Discord's limit: only slower for large bots.
                log.warning("could not read max_concurrency from GET /gateway/bot (%r); using 1", exc)
                self.max_concurrency = 1
        await self.identify_gate.wait_turn(shard_id or 0, self.max_concurrency)
