"""Guild credits: balances, reservations and the append-only ledger (owner of those three tables).

Money moves in three steps keyed by the job id: `reserve` before Segmind is called, `capture`
when an image came back, `release` when the job failed. Each is idempotent for its job id, so a
replay after a crash never charges twice, and each runs inside a caller's transaction so it can
be committed together with the job's own state change. Every write here whose result nobody
reads is deferred (`tx.defer`: it reaches the database with the transaction's next statement or
its COMMIT), so a reservation costs one read and the COMMIT, a capture or release one
UPDATE ... RETURNING and the COMMIT; the guild's CHECK (reserved <= balance) still refuses an
overspend, at the COMMIT.

    balance  = grants − captures + refunds          never negative
    reserved = sum of held reservations            never above balance
    available = balance − reserved
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.credit_rules import SpendLimits
from core.db import Database, Transaction
from core.errors import AllowanceExceeded, InsufficientCredits, InvalidAmount, NotRefundable
from core.jobs import _MEMBER_USAGE, _member_usage, _member_usage_params
from core.moderation import BLOCK_OF
from core.policy import MemberUsage

MAX_GRANT = 10**9


@dataclass(frozen=True)
class GuildBalance:
    guild_id: int
    balance: int
    reserved: int

    @property
    def available(self) -> int:
        return self.balance - self.reserved


_MEMBER_SPEND = (
    "SELECT COALESCE(SUM(r.amount), 0) AS total FROM reservations r"
    " WHERE r.guild_id = ? AND r.user_id = ? AND r.state IN ('held', 'captured') AND r.created_at >= ?"
    " AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.job_id = r.job_id AND e.kind = 'refund')"
)

_BALANCE = "SELECT balance, reserved FROM guild_credits WHERE guild_id = ?"

# What a reservation decides from, as one read: the guild's row (NULLs when it has none yet) and
# whether the job already holds one.
_GUILD_AND_HOLD = (
    "SELECT EXISTS (SELECT 1 FROM reservations WHERE job_id = ?) AS held, g.balance, g.reserved"
    " FROM (SELECT 1 AS one) AS o LEFT JOIN guild_credits g ON g.guild_id = ?"
)

# Admission's reads about one member, as one statement: the owners' own statements (the member's
# jobs from jobs.py, their spend and the guild's balance from here, their block from
# moderation.py) joined as one-row subqueries. Each was a hop to the reader's thread and back;
# in a 500-command burst those hops, not the queries, delayed the acknowledgements.
_MEMBER_SNAPSHOT = (  # composed of the module constants above; every value is a bound parameter
    "SELECT u.running, u.last_at, u.recent, s.total, g.balance, g.reserved, b.blocked, b.reason"  # noqa: S608
    f" FROM ({_MEMBER_USAGE}) AS u CROSS JOIN ({_MEMBER_SPEND}) AS s"
    f" LEFT JOIN ({_BALANCE}) AS g ON 1 = 1 LEFT JOIN ({BLOCK_OF}) AS b ON 1 = 1"
)


@dataclass(frozen=True)
class MemberSnapshot:
    """The guild's balance and the member's usage (what `Gate.usage` reports), read together."""

    balance: GuildBalance
    usage: MemberUsage


class Ledger:
    def __init__(self, db: Database, *, starting_credits: int = 0) -> None:
        self._db = db
        self._starting_credits = starting_credits

    # --- inside a caller's transaction -------------------------------------------------------

    async def _guild_row(self, tx: Transaction, guild_id: int) -> GuildBalance:
        return self._guild_of(tx, guild_id, await tx.fetchone(_BALANCE, (guild_id,)))

    def _guild_of(self, tx: Transaction, guild_id: int, row) -> GuildBalance:
        """The guild's balance from a row with its `balance` and `reserved` (None, or NULLs, when the
        guild has none yet: then one with the starting credits is written)."""
        if row is None or row["balance"] is None:
            start = self._starting_credits
            tx.defer(
                "INSERT INTO guild_credits (guild_id, balance, reserved, created_at) VALUES (?, ?, 0, ?)",
                (guild_id, start, tx.now),
            )
            if start:
                self._append(tx, guild_id, "grant", start, start, reason="starting credits")
            return GuildBalance(guild_id, start, 0)
        return GuildBalance(guild_id, row["balance"], row["reserved"])

    @staticmethod
    def _append(
        tx: Transaction,
        guild_id: int,
        kind: str,
        amount: int,
        balance_after: int | None,
        *,
        job_id: int | None = None,
        user_id: int | None = None,
        reason: str | None = None,
    ) -> None:
        """Deferred. `balance_after` None: the guild's balance once the writes queued before this one are done."""
        tx.defer(
            "INSERT INTO ledger_entries (guild_id, kind, amount, balance_after, job_id, user_id, reason, created_at)"
            " VALUES (?, ?, ?, COALESCE(?, (SELECT balance FROM guild_credits WHERE guild_id = ?)), ?, ?, ?, ?)",
            (guild_id, kind, amount, balance_after, guild_id, job_id, user_id, reason, tx.now),
        )

    async def reserve_in(
        self,
        tx: Transaction,
        *,
        job_id: int,
        guild_id: int,
        user_id: int,
        amount: int,
        limits: SpendLimits | None = None,
    ) -> GuildBalance:
        """Hold `amount` for `job_id`, or raise InsufficientCredits / AllowanceExceeded.

        Idempotent per job id. The member's allowance is checked in the same transaction as the
        hold, so concurrent requests from one member cannot overspend it.
        """
        if amount < 0:
            raise InvalidAmount(amount)
        # One read (this runs for every image); the writes below go with the COMMIT.
        row = await tx.fetchone(_GUILD_AND_HOLD, (job_id, guild_id))
        current = self._guild_of(tx, guild_id, row)
        if row["held"]:
            return current
        if current.available < amount:
            raise InsufficientCredits(current.available, amount)
        if limits is not None and limits.any:
            await self._check_allowance(tx, guild_id, user_id, amount, limits)
        tx.defer("UPDATE guild_credits SET reserved = reserved + ? WHERE guild_id = ?", (amount, guild_id))
        tx.defer(
            "INSERT INTO reservations (job_id, guild_id, user_id, amount, state, created_at) VALUES (?, ?, ?, ?, 'held', ?)",
            (job_id, guild_id, user_id, amount, tx.now),
        )
        self._append(tx, guild_id, "reserve", amount, current.balance, job_id=job_id, user_id=user_id)
        return GuildBalance(guild_id, current.balance, current.reserved + amount)

    async def _check_allowance(
        self, tx: Transaction, guild_id: int, user_id: int, amount: int, limits: SpendLimits
    ) -> None:
        for period, limit, since in (
            ("day", limits.daily, limits.day_start),
            ("month", limits.monthly, limits.month_start),
        ):
            if limit is None:
                continue
            used = await self.member_spend_in(tx, guild_id, user_id, since)
            if used + amount > limit:
                raise AllowanceExceeded(period, limit, used, amount)

    @staticmethod
    async def member_spend_in(tx: Transaction, guild_id: int, user_id: int, since: float) -> int:
        """Credits held or charged for the member's jobs since `since`, less what was refunded."""
        row = await tx.fetchone(_MEMBER_SPEND, (guild_id, user_id, since))
        return int(row["total"]) if row else 0

    async def allowance_used(self, guild_id: int, user_id: int, since: float) -> int:
        """The same sum read outside any transaction (what a quote or a refusal shows). A write
        transaction here would queue every /imagine behind the writer and its commit's fsync."""
        row = await self._db.fetchone(_MEMBER_SPEND, (guild_id, user_id, since))
        return int(row["total"]) if row else 0

    async def refund(self, job_id: int, *, guild_id: int, by: int | None, reason: str | None) -> GuildBalance:
        """Give back what a job was charged. Once per job; only for a charged job of this guild."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT user_id, amount, state FROM reservations WHERE job_id = ? AND guild_id = ?",
                (job_id, guild_id),
            )
            if row is None or row["state"] != "captured":
                raise NotRefundable(job_id, "not_charged")
            done = await tx.fetchone(
                "SELECT 1 FROM ledger_entries WHERE job_id = ? AND kind = 'refund'", (job_id,)
            )
            if done is not None:
                raise NotRefundable(job_id, "already_refunded")
            current = await self._guild_row(tx, guild_id)
            amount = row["amount"]
            tx.defer("UPDATE guild_credits SET balance = balance + ? WHERE guild_id = ?", (amount, guild_id))
            self._append(
                tx,
                guild_id,
                "refund",
                amount,
                current.balance + amount,
                job_id=job_id,
                user_id=by,
                reason=reason,
            )
            return GuildBalance(guild_id, current.balance + amount, current.reserved)

    async def capture_in(self, tx: Transaction, job_id: int) -> bool:
        """Turn the job's held reservation into a charge. False if there was nothing held."""
        return await self._settle_in(tx, job_id, "captured", "capture", charge=True)

    async def release_in(self, tx: Transaction, job_id: int) -> bool:
        """Give the job's held reservation back. False if there was nothing held."""
        return await self._settle_in(tx, job_id, "released", "release", charge=False)

    async def _settle_in(self, tx: Transaction, job_id: int, state: str, kind: str, *, charge: bool) -> bool:
        # One hop (UPDATE ... RETURNING): this runs once for every image.
        row = await tx.fetchone(
            "UPDATE reservations SET state = ?, settled_at = ? WHERE job_id = ? AND state = 'held'"
            " RETURNING guild_id, user_id, amount",
            (state, tx.now, job_id),
        )
        if row is None:
            return False
        guild_id, amount = row["guild_id"], row["amount"]
        # The hold ends either way; only a capture takes the amount from the balance. Both writes go
        # with the COMMIT; the entry reads the balance the UPDATE left.
        tx.defer(
            "UPDATE guild_credits SET balance = balance - ?, reserved = reserved - ? WHERE guild_id = ?",
            (amount if charge else 0, amount, guild_id),
        )
        self._append(tx, guild_id, kind, amount, None, job_id=job_id, user_id=row["user_id"])
        return True

    # --- standalone operations --------------------------------------------------------------

    async def grant(
        self, guild_id: int, amount: int, *, user_id: int | None, reason: str | None
    ) -> GuildBalance:
        if amount <= 0 or amount > MAX_GRANT:
            raise InvalidAmount(amount)
        async with self._db.transaction() as tx:
            current = await self._guild_row(tx, guild_id)
            if current.balance + amount > 2**62:
                raise InvalidAmount(amount)
            tx.defer("UPDATE guild_credits SET balance = balance + ? WHERE guild_id = ?", (amount, guild_id))
            self._append(
                tx, guild_id, "grant", amount, current.balance + amount, user_id=user_id, reason=reason
            )
            return GuildBalance(guild_id, current.balance + amount, current.reserved)

    async def balance(self, guild_id: int) -> GuildBalance:
        row = await self._db.fetchone(_BALANCE, (guild_id,))
        if row is None:
            return GuildBalance(guild_id, self._starting_credits, 0)
        return GuildBalance(guild_id, row["balance"], row["reserved"])

    async def member_snapshot(self, guild_id: int, user_id: int, since: float) -> MemberSnapshot:
        """`balance(guild_id)` and the member's usage since `since` (their jobs, the credits held
        or charged for them as `allowance_used` counts them, their block) in one read."""
        row = await self._db.fetchone(
            _MEMBER_SNAPSHOT,
            (*_member_usage_params(guild_id, user_id, since), guild_id, user_id, since, guild_id, guild_id, user_id),
        )
        running, last_at, recent = _member_usage(row)
        if row["balance"] is None:  # a guild with no row yet has the starting credits, as in balance()
            balance = GuildBalance(guild_id, self._starting_credits, 0)
        else:
            balance = GuildBalance(guild_id, row["balance"], row["reserved"])
        blocked = row["blocked"] is not None
        usage = MemberUsage(running, last_at, recent, int(row["total"] or 0), blocked, row["reason"])
        return MemberSnapshot(balance, usage)

    async def spent_since(self, guild_id: int, user_id: int, since: float) -> int:
        row = await self._db.fetchone(
            "SELECT COALESCE(SUM(amount), 0) AS total FROM ledger_entries"
            " WHERE guild_id = ? AND user_id = ? AND kind = 'capture' AND created_at >= ?",
            (guild_id, user_id, since),
        )
        return int(row["total"]) if row else 0

    async def spent_today(self, guild_id: int, user_id: int, now: float) -> int:
        midnight = dt.datetime.fromtimestamp(now, dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return await self.spent_since(guild_id, user_id, midnight.timestamp())

    async def guild_summaries(self) -> list[tuple[int, int, int]]:
        """(guild id, balance, credits spent net of refunds) for every guild, richest first.
        Reads every guild's whole ledger (0.7 s at a million entries): on its own connection, so the
        reads an /imagine makes do not queue behind it."""
        rows = await self._db.fetchall_in_thread(
            "SELECT g.guild_id, g.balance,"
            " COALESCE((SELECT SUM(CASE kind WHEN 'capture' THEN amount WHEN 'refund' THEN -amount ELSE 0 END)"
            " FROM ledger_entries e WHERE e.guild_id = g.guild_id), 0) AS spent"
            " FROM guild_credits g ORDER BY g.balance DESC, g.guild_id"
        )
        return [(r["guild_id"], r["balance"], r["spent"]) for r in rows]

    async def totals(self, guild_id: int) -> dict[str, int]:
        """Sum of every entry kind for the guild (used by audits and tests of the invariant)."""
        rows = await self._db.fetchall(
            "SELECT kind, COALESCE(SUM(amount), 0) AS total FROM ledger_entries WHERE guild_id = ? GROUP BY kind",
            (guild_id,),
        )
        return {r["kind"]: int(r["total"]) for r in rows}
