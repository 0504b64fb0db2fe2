"""Shard ranges across processes: SHARD_COUNT / SHARD_IDS, and IDENTIFY coordinated through the database
(owner of the `identify_slots` table).

Discord lets a bot start at most `max_concurrency` sessions per 5 seconds, one per bucket
`shard_id % max_concurrency`, counted across every process of the bot. Each process's
`before_identify_hook` asks `IdentifyGate.wait_turn`: one short transaction reserves the bucket's next
slot (5 s after the last one reserved, by any process) and the process sleeps outside the transaction
until then. The row is read and written inside one write transaction, which runs alone on both
backends (SQLite's write lock; PostgreSQL's transaction advisory lock, core/db_postgres.py), so two
processes never reserve the same slot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from core.db import Database

log = logging.getLogger(__name__)

# Discord's window per bucket, plus a margin: the IDENTIFY leaves after the hook returns (a
# connection and a HELLO later), and that delay differs between sessions.
IDENTIFY_PERIOD = 5.0
IDENTIFY_MARGIN = 0.5


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """"0-3", "0,2,5" or "0-3,8" -> sorted distinct ids; ValueError names what is wrong."""
    ids: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        first, dash, last = part.partition("-")
        try:
            low = int(first)
            high = int(last) if dash else low
        except ValueError:
            raise ValueError(f"{part!r} is not a shard id or a range such as 0-3") from None
        if low < 0 or high < low:
            raise ValueError(f"{part!r} is not a shard id or a range such as 0-3 (low to high, from 0)")
        ids.update(range(low, high + 1))
    if not ids:
        raise ValueError("names no shard (e.g. 0-3 or 0,2,5)")
    return tuple(sorted(ids))


def check_shard_ids(ids: tuple[int, ...], count: int | None, *, postgres: bool) -> None:
    """ValueError (shown as a configuration error) unless this process may run shards `ids` of `count`."""
    if count is None:
        raise ValueError("needs SHARD_COUNT (the number of shards across all processes)")
    outside = [i for i in ids if i >= count]
    if outside:
        raise ValueError(
            f"shard {outside[0]} is out of range: SHARD_COUNT={count} numbers the shards 0-{count - 1}"
        )
    if not postgres and len(ids) < count:
        raise ValueError(
            "covers only some of the shards, which needs other processes on the same database: several"
            " processes need PostgreSQL (set DATABASE_URL), or leave SHARD_IDS unset to run every shard here"
        )


def shown(ids: tuple[int, ...] | range | None) -> str:
    """The ids as the `ready shards=...` log line shows them: comma-separated."""
    return ",".join(str(i) for i in ids) if ids else "0"


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard a guild's events arrive on (Discord's formula)."""
    return (guild_id >> 22) % shard_count


class IdentifyGate:
    """At most one IDENTIFY per bucket per IDENTIFY_PERIOD across every process on the database."""

    def __init__(
        self,
        db: Database,
        *,
        period: float = IDENTIFY_PERIOD + IDENTIFY_MARGIN,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._db = db
        self._period = period
        self._clock = clock
        self._sleep = sleep

    async def reserve(self, bucket: int) -> float:
        """Reserve the bucket's next slot; returns its time (on `clock`, a wall clock every process shares)."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT last_at FROM identify_slots WHERE bucket = ?", (bucket,))
            # Read the clock once the transaction runs alone: the wait for it must not age `now`.
            now = self._clock()
            at = now if row is None else max(now, row["last_at"] + self._period)
            await tx.execute(
                "INSERT INTO identify_slots (bucket, last_at) VALUES (?, ?)"
                " ON CONFLICT (bucket) DO UPDATE SET last_at = excluded.last_at",
                (bucket, at),
            )
        return at

    async def wait_turn(self, shard_id: int, max_concurrency: int) -> None:
        bucket = shard_id % max(1, max_concurrency)
        at = await self.reserve(bucket)
        wait = at - self._clock()
        if wait > 0:
            log.info("shard %d: IDENTIFY in %.1f s (bucket %d)", shard_id, wait, bucket)
            await self._sleep(wait)
