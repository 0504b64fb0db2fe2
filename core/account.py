"""The bot's own Segmind account balance (US dollars): watched, alerted on, and never overcommitted.

Segmind reports the balance in the `x-remaining-credits` header of v1 answers and on the account
endpoint; both feed `observe`. When the last known balance cannot cover the jobs already accepted
plus a new one (at each model's `usd_estimate`), the new job is refused with a clear message
instead of failing at Segmind with a 406.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from core.errors import AccountExhausted

log = logging.getLogger(__name__)


class AccountWatch:
    def __init__(
        self,
        *,
        low_threshold_usd: float,
        fetch: Callable[[], Awaitable[float | None]] | None = None,
        refresh_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.low_threshold_usd = low_threshold_usd
        self.balance_usd: float | None = None
        self._fetch = fetch
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._fetched_at: float | None = None
        self._alerted = False
        # Called with the balance once each time it falls below the threshold.
        self.listeners: list[Callable[[float], Awaitable[None]]] = []

    async def observe(self, balance_usd: float | None) -> None:
        if balance_usd is None:
            return
        self.balance_usd = balance_usd
        below = balance_usd < self.low_threshold_usd
        if below and not self._alerted:
            self._alerted = True
            log.warning("Segmind account balance is low: $%.2f (alert below $%.2f)", balance_usd, self.low_threshold_usd)
            for listener in self.listeners:
                try:
                    await listener(balance_usd)
                except Exception as exc:
                    log.warning("account alert listener failed: %r", exc)
        elif not below:
            self._alerted = False

    async def refresh(self, *, force: bool = False) -> None:
        """Ask Segmind's account endpoint, at most every `refresh_seconds` unless forced."""
        if self._fetch is None:
            return
        now = self._clock()
        if not force and self._fetched_at is not None and now - self._fetched_at < self._refresh_seconds:
            return
        self._fetched_at = now
        try:
            await self.observe(await self._fetch())
        except Exception as exc:  # the account endpoint is optional information
            log.info("could not read the Segmind account balance: %r", exc)

    def ensure_can_cover(self, committed_usd: float, new_usd: float) -> None:
        if self.balance_usd is not None and self.balance_usd < committed_usd + new_usd:
            raise AccountExhausted(self.balance_usd, committed_usd + new_usd)
