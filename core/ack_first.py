"""Acknowledgements first: a request's follow-up work waits while other requests still wait for theirs.

Everything on the one event loop shares it: after its acknowledgement a request creates its job
(a transaction and its fsync), posts progress and submits to Segmind, and in a burst of commands
that work of the first ones ran between the admissions and acknowledgements of the later ones,
which Discord needs within 3 s (tests/perf, scenario 1). So the Discord layer reports each
request from its arrival (`arrived`) to its acknowledgement (`answered`), and a request's work
after its acknowledgement starts with `turn()`: at once when fewer than `burst` other
acknowledgements are pending, otherwise once none is, or after `max_wait` seconds at the latest, so that a steady
stream of new commands cannot hold earlier jobs back for longer than that.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any

# Seconds a started request's work yields to others' acknowledgements at most: Discord's own
# deadline for an acknowledgement (after it, a pending one is lost anyway). Under load a burst's
# acknowledgements took longer than 1 s, and jobs then started among them again.
MAX_WAIT = 3.0
# Only a burst is worth the wait: with a few commands at once each starts as soon as it is
# acknowledged, so they queue in the order they came (a later one no longer catches up).
BURST = 4


class AckFirst:
    def __init__(self, max_wait: float = MAX_WAIT, burst: int = BURST) -> None:
        self.max_wait = max_wait
        self.burst = burst
        self._pending: set[int] = set()
        self._waiting = 0  # requests inside turn()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def arrived(self, request_id: int) -> None:
        self._pending.add(request_id)
        self._idle.clear()

    def answered(self, request_id: int) -> None:
        """Acknowledged, refused or failed (repeating it is harmless)."""
        self._pending.discard(request_id)
        if not self._pending:
            self._idle.set()

    @staticmethod
    def reported(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """For a method `(self, interaction, ...)` of an object with an `acks: AckFirst`: the
        interaction is pending from the call until the method returns or raises (or until it
        reports `answered` itself, as a start does right after its acknowledgement)."""

        @functools.wraps(method)
        async def wrapper(owner: Any, interaction: Any, *args: Any, **kwargs: Any) -> Any:
            owner.acks.arrived(interaction.id)
            try:
                return await method(owner, interaction, *args, **kwargs)
            finally:
                owner.acks.answered(interaction.id)

        return wrapper

    async def turn(self) -> None:
        """In order of arrival: a request that finds others still waiting for their turn goes after
        them, even when no acknowledgement is pending any more (they were woken, not yet run)."""
        if len(self._pending) < self.burst and not self._waiting:
            return
        self._waiting += 1
        try:
            if self._pending:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.max_wait):
                        await self._idle.wait()
            else:
                await asyncio.sleep(0)  # behind the waiters already woken
        finally:
            self._waiting -= 1
