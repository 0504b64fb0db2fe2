"""The bot's own Segmind account (US dollars): watched, alerted on, and never overcommitted.

Segmind reports the balance in the `x-remaining-credits` header of v1 answers and on the account
endpoint; both feed `observe`. When the last known balance cannot cover the jobs already accepted
plus a new one (at each model's `usd_estimate`), the new job is refused with a clear message
instead of failing at Segmind with a 406.

Two incidents reach the bot's owners (through the event bus), once each however many jobs hit
them: the key refused (401/403), open until a generation succeeds again; and the account out of
credit (a 406, or a balance read of nothing left), during which new jobs are refused uncharged
until a balance read is positive again. Open incidents are kept in the database's meta table, so
a restart neither repeats the alert nor forgets to refuse.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from core.errors import AccountExhausted, ProviderAccountEmpty, ProviderAuthError, ProviderOutOfCredits
from core.events import (
    Event,
    EventBus,
    ProviderBalanceLow,
    ProviderCreditRestored,
    ProviderKeyAccepted,
    ProviderKeyRefused,
    ProviderOutOfCredit,
)

log = logging.getLogger(__name__)

KEY = "key"
CREDIT = "credit"
LOW = "low"  # below the alert threshold: told once per fall, not once per process start
INCIDENTS = (KEY, CREDIT, LOW)


def incident_meta_key(kind: str) -> str:
    return f"segmind_incident_{kind}"


class MetaStore(Protocol):
    async def get_meta(self, key: str) -> str | None: ...
    async def set_meta(self, key: str, value: str) -> None: ...


class AccountWatch:
    def __init__(
        self,
        *,
        low_threshold_usd: float,
        fetch: Callable[[], Awaitable[float | None]] | None = None,
        refresh_seconds: float = 600.0,
        outage_refresh_seconds: float = 60.0,
        events: EventBus | None = None,
        meta: MetaStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.low_threshold_usd = low_threshold_usd
        self.balance_usd: float | None = None
        self._fetch = fetch
        self._refresh_seconds = refresh_seconds
        # While the account is out of credit, read it more often: jobs wait on that read.
        self._outage_refresh_seconds = outage_refresh_seconds
        self._events = events or EventBus()
        self._meta = meta
        self._clock = clock
        self._fetched_at: float | None = None
        self._open: set[str] = set()
        self._wake = asyncio.Event()

    async def restore(self) -> None:
        """Reopen the incidents an earlier run left open (before the first job is admitted)."""
        if self._meta is None:
            return
        for kind in INCIDENTS:
            if await self._meta.get_meta(incident_meta_key(kind)) == "open":
                self._open.add(kind)
        if self._open:
            log.warning("Segmind incidents still open from an earlier run: %s", sorted(self._open))

    @property
    def out_of_credit(self) -> bool:
        return CREDIT in self._open

    @property
    def key_refused(self) -> bool:
        return KEY in self._open

    # --- what the account says ---------------------------------------------------------------

    async def observe(self, balance_usd: float | None) -> None:
        if balance_usd is None:
            return
        self.balance_usd = balance_usd
        if balance_usd <= 0:
            await self._begin(CREDIT, ProviderOutOfCredit(balance_usd))
        elif CREDIT in self._open:
            await self._end(CREDIT, ProviderCreditRestored(balance_usd))
        if balance_usd < self.low_threshold_usd:
            # "Out of credit" already says it all: no second alert about the same empty account.
            low = None if CREDIT in self._open else ProviderBalanceLow(balance_usd, self.low_threshold_usd)
            await self._begin(LOW, low)
        else:
            await self._end(LOW, None)

    async def note_failure(self, error: BaseException) -> None:
        """A Segmind call failed: open the incident it belongs to, if any."""
        if isinstance(error, ProviderOutOfCredits):
            # Ask the account before refusing anyone: a read of nothing left opens the incident (in
            # `observe`); a positive one means the 406 was not about money (or the balance now
            # covers only cheaper jobs, which `ensure_can_cover` sorts out), so nobody is refused.
            balance = await self._read()
            if balance is None:
                await self._begin(CREDIT, ProviderOutOfCredit(None))
                self._wake.set()  # read again soon, not at the next routine check
            elif balance > 0:
                log.error("Segmind answered 406 (%s) but the account reads $%.2f", error, balance)
        elif isinstance(error, ProviderAuthError):
            await self._begin(KEY, ProviderKeyRefused(error.status, error.message))

    async def note_success(self) -> None:
        """A generation went through: whatever refused the key has been fixed."""
        if KEY in self._open:
            await self._end(KEY, ProviderKeyAccepted())

    async def _begin(self, kind: str, event: Event | None) -> None:
        if kind in self._open:
            return
        self._open.add(kind)  # before any await: concurrent failures make one incident, one alert
        log.warning("Segmind incident %s began: %r", kind, event)
        if self._meta is not None:
            await self._meta.set_meta(incident_meta_key(kind), "open")
        if event is not None:
            await self._events.publish(event)

    async def _end(self, kind: str, event: Event | None) -> None:
        if kind not in self._open:
            return
        self._open.discard(kind)
        log.warning("Segmind incident %s is over: %r", kind, event)
        if self._meta is not None:
            await self._meta.set_meta(incident_meta_key(kind), "")
        if event is not None:
            await self._events.publish(event)

    # --- reading the balance ---------------------------------------------------------------------

    async def refresh(self, *, force: bool = False) -> None:
        """Ask Segmind's account endpoint, at most every `refresh_seconds` unless forced."""
        if self._fetch is None:
            return
        now = self._clock()
        if not force and self._fetched_at is not None and now - self._fetched_at < self._refresh_seconds:
            return
        self._fetched_at = now
        await self._read()

    async def _read(self) -> float | None:
        """Read and observe the balance; None when it could not be read."""
        if self._fetch is None:
            return None
        try:
            balance = await self._fetch()
        except ProviderAuthError as exc:
            await self.note_failure(exc)
            return None
        except Exception as exc:  # the account endpoint is optional information
            log.info("could not read the Segmind account balance: %r", exc)
            return None
        await self.observe(balance)
        return balance

    def next_refresh_in(self) -> float:
        return self._outage_refresh_seconds if self.out_of_credit else self._refresh_seconds

    async def watch(self) -> None:
        """Read the balance now and then, sooner while the account is out of credit; runs until cancelled."""
        if self._fetch is None:
            return
        while True:
            await self.refresh(force=True)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.next_refresh_in())
            except TimeoutError:
                pass

    # --- admitting new jobs ------------------------------------------------------------------------

    def ensure_can_cover(self, committed_usd: float, new_usd: float) -> None:
        if CREDIT in self._open:
            raise ProviderAccountEmpty(self.balance_usd)
        if self.balance_usd is not None and self.balance_usd < committed_usd + new_usd:
            raise AccountExhausted(self.balance_usd, committed_usd + new_usd)
