"""A guild's settings kept in this process's memory: read before every acknowledgement, written rarely.

Admission reads a guild's policy, allowances and credit settings, and /imagine its presentation
settings, before each acknowledgement; from the database each was a hop to the reader's thread and back,
and in a 500-command burst those hops delayed the acknowledgements (tests/perf, scenario 1).

The store that owns a table keeps one `GuildCache` for it and calls `forget(guild_id)` once a
write to it has committed; a purge that deletes a guild's rows everywhere (core/privacy.py) calls
`forget_guild`. A read that was already under way when a write committed is returned to those
who asked before the write but not kept, so the cache never holds a value older than the last
`forget`.

Across processes (several on one PostgreSQL database): the owner announces each change in its
writing transaction (core/invalidation.py) and registers `drop` for its kind, so other processes
forget their copy once it commits; while announcements may be missed (`keep` is False) nothing is kept.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_ALL: weakref.WeakSet[GuildCache] = weakref.WeakSet()


class GuildCache(Generic[T]):
    def __init__(self, keep: Callable[[], bool] = lambda: True) -> None:
        self._keep = keep  # False while another process's writes may go unannounced: keep nothing
        self._values: dict[int, T] = {}
        # One read per guild at a time: the commands of a burst that all miss share it.
        self._loading: dict[int, asyncio.Future[T]] = {}
        self._writes: dict[int, int] = {}  # forget() calls per guild, to drop reads a write overtook
        _ALL.add(self)

    async def get(self, guild_id: int, load: Callable[[], Awaitable[T]]) -> T:
        if guild_id in self._values:
            return self._values[guild_id]
        # Shielded: one waiter's cancellation must not cancel the read the others wait for.
        return await asyncio.shield(self._start(guild_id, load))

    def prefetch(self, guild_id: int, load: Callable[[], Awaitable[T]]) -> None:
        """Start reading the guild's value unless it is in memory or on its way: a caller about to
        read several things sends them to the database together, not one after another."""
        if guild_id not in self._values:
            self._start(guild_id, load)

    def _start(self, guild_id: int, load: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        loading = self._loading.get(guild_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(guild_id, load))
            # A prefetch nobody awaited in the end (the request was refused first) must not leave
            # a failed read to be reported as "never retrieved": the next get() reads again.
            loading.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._loading[guild_id] = loading
        return loading

    async def _load(self, guild_id: int, load: Callable[[], Awaitable[T]]) -> T:
        writes = self._writes.get(guild_id, 0)
        try:
            value = await load()
        finally:
            if self._loading.get(guild_id) is asyncio.current_task():
                del self._loading[guild_id]
        if self._writes.get(guild_id, 0) == writes and self._keep():
            self._values[guild_id] = value
        return value

    def forget(self, guild_id: int) -> None:
        self._values.pop(guild_id, None)
        self._loading.pop(guild_id, None)  # a read under way may predate the write: later gets read again
        self._writes[guild_id] = self._writes.get(guild_id, 0) + 1


    def forget_all(self) -> None:
        for guild_id in {*self._values, *self._loading}:
            self.forget(guild_id)

    def drop(self, key: str | None) -> None:
        """An `Invalidations` handler (core/invalidation.py): another process changed guild `key`
        (None: anything, announcements may have been missed)."""
        if key is None:
            self.forget_all()
        else:
            self.forget(int(key))


def forget_guild(guild_id: int) -> None:
    """Every cache drops what it holds for `guild_id` (its rows were deleted outside their stores)."""
    for cache in list(_ALL):
        cache.forget(guild_id)
