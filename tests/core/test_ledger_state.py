"""The ledger against a model small enough to be obviously right, driven by hypothesis' state machine.

The same few jobs are reserved, captured, released and refunded again and again in any order, with
grants in between; after every step the real SQLite ledger must agree with the model to the credit.
A double settlement (a capture of a released or already captured job, a second refund) shows up as
a balance or reserved figure the model does not have, so hypothesis finds it within a few steps and
shrinks it to the shortest story (reserve, capture, capture).

LEDGER_STATE_EXAMPLES lowers the number of examples (the mutation run uses it to stay fast).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from core.db import Database
from core.errors import InsufficientCredits, NotRefundable
from core.ledger import GuildBalance, Ledger

GUILDS = (101, 202)
JOBS = st.integers(1, 4)  # few ids, so every operation keeps landing on jobs it already touched
EXAMPLES = int(os.environ.get("LEDGER_STATE_EXAMPLES", "300"))


@dataclass
class Held:
    guild: int
    amount: int
    state: str = "held"  # held -> captured | released
    refunded: bool = False


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = Path(tempfile.mkdtemp(prefix="ledger-state-"))
        self.db = self.run(Database.open(self.dir / "l.db"))
        self.ledger = Ledger(self.db)
        self.balance = dict.fromkeys(GUILDS, 0)
        self.reservations: dict[int, Held] = {}
        self.entries: dict[tuple[int, str], int] = {}  # (job, kind) -> count, from the model's side

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.db.close())
        self.loop.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def reserved(self, guild: int) -> int:
        return sum(r.amount for r in self.reservations.values() if r.guild == guild and r.state == "held")

    def count(self, job: int, kind: str) -> None:
        self.entries[(job, kind)] = self.entries.get((job, kind), 0) + 1

    def now(self, guild: int) -> GuildBalance:
        return GuildBalance(guild, self.balance[guild], self.reserved(guild))

    def newest_entry_is(self, **expected) -> None:
        """The entry the operation just appended, field by field (who, why, the balance after)."""
        row = self.run(self.db.fetchone("SELECT * FROM ledger_entries ORDER BY id DESC LIMIT 1"))
        got = {key: row[key] for key in expected}
        assert got == expected, f"ledger entry {dict(row)}"

    # --- the operations ------------------------------------------------------------------------

    @rule(guild=st.sampled_from(GUILDS), amount=st.integers(1, 20))
    def grant(self, guild: int, amount: int) -> None:
        result = self.run(self.ledger.grant(guild, amount, user_id=1, reason=f"top-up {amount}"))
        self.balance[guild] += amount
        assert result == self.now(guild)
        self.newest_entry_is(
            guild_id=guild, kind="grant", amount=amount, balance_after=self.balance[guild], job_id=None,
            user_id=1, reason=f"top-up {amount}",
        )

    @rule(job=JOBS, guild=st.sampled_from(GUILDS), amount=st.integers(0, 12))
    def reserve(self, job: int, guild: int, amount: int) -> None:
        async def go():
            async with self.db.transaction() as tx:
                return await self.ledger.reserve_in(tx, job_id=job, guild_id=guild, user_id=5, amount=amount)

        known = job in self.reservations
        available = self.balance[guild] - self.reserved(guild)
        try:
            result = self.run(go())
        except InsufficientCredits as refused:
            assert not known and available < amount, f"job {job}: refused with {available} available for {amount}"
            assert (refused.balance, refused.cost) == (available, amount)
            return
        assert known or available >= amount, f"job {job}: held {amount} with only {available} available"
        if not known:  # a second reserve of the same job is a no-op, whatever guild or amount it names
            self.reservations[job] = Held(guild, amount)
            self.count(job, "reserve")
            self.newest_entry_is(
                guild_id=guild, kind="reserve", amount=amount, balance_after=self.balance[guild], job_id=job,
                user_id=5, reason=None,
            )
        assert result == self.now(guild)

    @rule(job=JOBS)
    def capture(self, job: int) -> None:
        async def go():
            async with self.db.transaction() as tx:
                return await self.ledger.capture_in(tx, job)

        done = self.run(go())
        held = self.reservations.get(job)
        expected = held is not None and held.state == "held"
        assert done == expected, f"capture of job {job} ({held}) returned {done}"
        if expected:
            held.state = "captured"
            self.balance[held.guild] -= held.amount
            self.count(job, "capture")
            self.newest_entry_is(
                guild_id=held.guild, kind="capture", amount=held.amount, balance_after=self.balance[held.guild],
                job_id=job, user_id=5, reason=None,
            )

    @rule(job=JOBS)
    def release(self, job: int) -> None:
        async def go():
            async with self.db.transaction() as tx:
                return await self.ledger.release_in(tx, job)

        done = self.run(go())
        held = self.reservations.get(job)
        expected = held is not None and held.state == "held"
        assert done == expected, f"release of job {job} ({held}) returned {done}"
        if expected:
            held.state = "released"
            self.count(job, "release")
            self.newest_entry_is(
                guild_id=held.guild, kind="release", amount=held.amount, balance_after=self.balance[held.guild],
                job_id=job, user_id=5, reason=None,
            )

    @precondition(lambda self: self.reservations)
    @rule(job=JOBS, other_guild=st.booleans())
    def refund(self, job: int, other_guild: bool) -> None:
        held = self.reservations.get(job)
        guild = held.guild if held else GUILDS[0]
        if other_guild:  # a refund asked for in the wrong guild must never pay out
            guild = GUILDS[1] if guild == GUILDS[0] else GUILDS[0]
        refundable = held is not None and held.state == "captured" and not held.refunded and guild == held.guild
        try:
            result = self.run(self.ledger.refund(job, guild_id=guild, by=9, reason="blurry"))
        except NotRefundable as refused:
            assert not refundable, f"refund of job {job} ({held}) in guild {guild} was refused"
            why = "already_refunded" if held and held.refunded and guild == held.guild else "not_charged"
            assert (refused.job_id, refused.why) == (job, why)
            return
        assert refundable, f"refund of job {job} ({held}) in guild {guild} paid out"
        held.refunded = True
        self.balance[guild] += held.amount
        self.count(job, "refund")
        assert result == self.now(guild)
        self.newest_entry_is(
            guild_id=guild, kind="refund", amount=held.amount, balance_after=self.balance[guild], job_id=job,
            user_id=9, reason="blurry",
        )

    # --- what must hold after every step -------------------------------------------------------

    @invariant()
    def balances_match_the_model(self) -> None:
        for guild in GUILDS:
            got = self.run(self.ledger.balance(guild))
            assert got == self.now(guild), (
                f"guild {guild}: ledger says balance {got.balance} reserved {got.reserved}, model says "
                f"{self.balance[guild]} and {self.reserved(guild)}"
            )

    @invariant()
    def every_entry_the_model_expects_and_no_other(self) -> None:
        rows = self.run(
            self.db.fetchall(
                "SELECT job_id, kind, COUNT(*) AS n FROM ledger_entries WHERE job_id IS NOT NULL GROUP BY job_id, kind"
            )
        )
        assert {(r["job_id"], r["kind"]): r["n"] for r in rows} == self.entries

    @invariant()
    def reservation_rows_match(self) -> None:
        rows = self.run(self.db.fetchall("SELECT job_id, guild_id, amount, state FROM reservations"))
        got = {r["job_id"]: (r["guild_id"], r["amount"], r["state"]) for r in rows}
        assert got == {job: (h.guild, h.amount, h.state) for job, h in self.reservations.items()}


LedgerMachine.TestCase.settings = settings(max_examples=EXAMPLES, stateful_step_count=40, deadline=None)
TestLedgerStateMachine = LedgerMachine.TestCase
