"""How a guild lets its credits be spent: allowances, quotes and the low-balance alert.

Owner of the `allowances` and `credit_settings` tables. Resolving which allowance applies is a
pure function (`effective_limits`); enforcing it happens inside the reservation transaction
(core/ledger.py), so concurrent requests from one member cannot overspend it.

Which limit applies: a member-specific allowance always applies. Role allowances (including the
@everyone role, whose id is the guild id) apply unless one of the member's roles is marked
unlimited. Of all that apply, the tightest daily and the tightest monthly limit win.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.db import Database
from core.guild_cache import GuildCache
from core.invalidation import Invalidations


@dataclass(frozen=True)
class Allowance:
    scope: str  # "member" | "role"
    target_id: int
    daily: int | None
    monthly: int | None
    unlimited: bool = False


@dataclass(frozen=True)
class SpendLimits:
    daily: int | None = None
    monthly: int | None = None
    day_start: float = 0.0
    month_start: float = 0.0

    @property
    def any(self) -> bool:
        return self.daily is not None or self.monthly is not None


@dataclass(frozen=True)
class CreditSettings:
    quote_above: int | None = None
    confirm_all: bool = False
    low_balance_below: int | None = None

    def needs_quote(self, price: int) -> bool:
        return self.confirm_all or (self.quote_above is not None and price > self.quote_above)


def start_of_day(now: float) -> float:
    """Midnight UTC of `now`: daily allowances and pace limits reset then."""
    return period_starts(now)[0]


def period_starts(now: float) -> tuple[float, float]:
    day = dt.datetime.fromtimestamp(now, dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp(), day.replace(day=1).timestamp()


def _tightest(values: list[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def effective_limits(
    allowances: list[Allowance], *, user_id: int, role_ids: frozenset[int], guild_id: int, now: float
) -> SpendLimits:
    """The limits that apply to one member (pure; see the module docstring for the rule)."""
    member_roles = role_ids | {guild_id}
    mine = [a for a in allowances if a.scope == "member" and a.target_id == user_id]
    roles = [a for a in allowances if a.scope == "role" and a.target_id in member_roles]
    applicable = list(mine)
    if not any(a.unlimited for a in roles):
        applicable += roles
    applicable = [a for a in applicable if not a.unlimited]
    day_start, month_start = period_starts(now)
    return SpendLimits(
        daily=_tightest([a.daily for a in applicable]),
        monthly=_tightest([a.monthly for a in applicable]),
        day_start=day_start,
        month_start=month_start,
    )


class CreditRules:
    """Both tables are read before every acknowledgement, so each guild's rows are kept in memory
    (core/guild_cache.py) and dropped when one of the writes below commits."""

    def __init__(self, db: Database, invalidations: Invalidations | None = None) -> None:
        self._db = db
        self._invalidations = invalidations or Invalidations()  # other processes' changes (core/invalidation.py)
        reliable = lambda: self._invalidations.reliable  # noqa: E731
        self._allowances: GuildCache[tuple[Allowance, ...]] = GuildCache(keep=reliable)
        self._settings: GuildCache[CreditSettings] = GuildCache(keep=reliable)
        self._invalidations.on("allowances", self._allowances.drop)
        self._invalidations.on("credit_settings", self._settings.drop)

    def prefetch(self, guild_id: int) -> None:
        """Start reading the guild's allowances and settings if they are not in memory."""
        self._allowances.prefetch(guild_id, lambda: self._read_allowances(guild_id))
        self._settings.prefetch(guild_id, lambda: self._read_settings(guild_id))

    async def allowances(self, guild_id: int) -> list[Allowance]:
        return list(await self._allowances.get(guild_id, lambda: self._read_allowances(guild_id)))

    async def _read_allowances(self, guild_id: int) -> tuple[Allowance, ...]:
        rows = await self._db.fetchall(
            "SELECT scope, target_id, daily, monthly, unlimited FROM allowances WHERE guild_id = ?",
            (guild_id,),
        )
        return tuple(
            Allowance(r["scope"], r["target_id"], r["daily"], r["monthly"], bool(r["unlimited"]))
            for r in rows
        )

    async def limits_for(
        self, guild_id: int, user_id: int, role_ids: frozenset[int], now: float
    ) -> SpendLimits:
        return effective_limits(
            await self.allowances(guild_id), user_id=user_id, role_ids=role_ids, guild_id=guild_id, now=now
        )

    async def set_allowance(self, guild_id: int, allowance: Allowance) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO allowances (guild_id, scope, target_id, daily, monthly, unlimited) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(guild_id, scope, target_id) DO UPDATE SET daily = excluded.daily,"
                " monthly = excluded.monthly, unlimited = excluded.unlimited",
                (
                    guild_id,
                    allowance.scope,
                    allowance.target_id,
                    allowance.daily,
                    allowance.monthly,
                    int(allowance.unlimited),
                ),
            )
            await self._invalidations.announce_in(tx, "allowances", str(guild_id))
        self._allowances.forget(guild_id)

    async def clear_allowance(self, guild_id: int, scope: str, target_id: int) -> bool:
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                "DELETE FROM allowances WHERE guild_id = ? AND scope = ? AND target_id = ?",
                (guild_id, scope, target_id),
            )
            await self._invalidations.announce_in(tx, "allowances", str(guild_id))
        self._allowances.forget(guild_id)
        return cursor.rowcount == 1

    async def settings(self, guild_id: int) -> CreditSettings:
        return await self._settings.get(guild_id, lambda: self._read_settings(guild_id))

    async def _read_settings(self, guild_id: int) -> CreditSettings:
        row = await self._db.fetchone(
            "SELECT quote_above, confirm_all, low_balance_below FROM credit_settings WHERE guild_id = ?",
            (guild_id,),
        )
        if row is None:
            return CreditSettings()
        return CreditSettings(row["quote_above"], bool(row["confirm_all"]), row["low_balance_below"])

    async def update_settings(
        self,
        guild_id: int,
        *,
        quote_above: int | None | type[...] = ...,
        confirm_all: bool | None = None,
        low_balance_below: int | None | type[...] = ...,
    ) -> CreditSettings:
        """Change the given fields (`...` = leave as is; None clears a threshold)."""
        current = await self.settings(guild_id)
        new = CreditSettings(
            current.quote_above if quote_above is ... else quote_above,
            current.confirm_all if confirm_all is None else confirm_all,
            current.low_balance_below if low_balance_below is ... else low_balance_below,
        )
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO credit_settings (guild_id, quote_above, confirm_all, low_balance_below) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(guild_id) DO UPDATE SET quote_above = excluded.quote_above,"
                " confirm_all = excluded.confirm_all, low_balance_below = excluded.low_balance_below",
                (guild_id, new.quote_above, int(new.confirm_all), new.low_balance_below),
            )
            await self._invalidations.announce_in(tx, "credit_settings", str(guild_id))
        self._settings.forget(guild_id)
        return new

    async def note_balance(self, guild_id: int, balance: int) -> bool:
        """True exactly once each time the balance falls below the guild's alert threshold."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT low_balance_below, low_balance_alerted FROM credit_settings WHERE guild_id = ?",
                (guild_id,),
            )
            if row is None or row["low_balance_below"] is None:
                return False
            below = balance < row["low_balance_below"]
            if below and not row["low_balance_alerted"]:
                await tx.execute(
                    "UPDATE credit_settings SET low_balance_alerted = 1 WHERE guild_id = ?", (guild_id,)
                )
                return True
            if not below and row["low_balance_alerted"]:
                await tx.execute(
                    "UPDATE credit_settings SET low_balance_alerted = 0 WHERE guild_id = ?", (guild_id,)
                )
            return False
