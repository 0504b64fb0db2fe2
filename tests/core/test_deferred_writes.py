"""Deferred writes (`tx.defer`): a write whose result nobody reads goes to the database with the
transaction's next statement or its COMMIT. Order, atomicity and the hop count they save, on both
backends (the hop count on SQLite, where a hop is one trip to the writer's thread)."""

from __future__ import annotations

import pytest

import core.db_thread
from core.db import Database
from core.ledger import Ledger

GUILD = 7


async def test_a_failing_deferred_write_fails_the_commit_and_nothing_is_kept(db, integrity_error):
    ledger = Ledger(db)
    await ledger.grant(GUILD, 10, user_id=1, reason=None)
    with pytest.raises(integrity_error):
        async with db.transaction() as tx:
            tx.defer("INSERT INTO meta (key, value) VALUES ('deferred', 'x')")
            await tx.execute("INSERT INTO meta (key, value) VALUES ('before', 'x')")
            # More held than the balance: the guild's CHECK refuses it, at the COMMIT's hop.
            tx.defer("UPDATE guild_credits SET reserved = 11 WHERE guild_id = ?", (GUILD,))
    assert await db.get_meta("before") is None
    assert await db.get_meta("deferred") is None
    assert (await ledger.balance(GUILD)).reserved == 0
    async with db.transaction() as tx:  # the writer is usable again, outside any transaction
        await tx.execute("INSERT INTO meta (key, value) VALUES ('after', 'y')")
    assert await db.get_meta("after") == "y"


async def test_a_deferred_write_that_fails_at_the_next_statement_loses_the_transaction_even_if_caught(
    db, integrity_error
):
    await db.set_meta("k", "old")
    caught = []
    with pytest.raises(integrity_error):
        async with db.transaction() as tx:
            await tx.execute("UPDATE meta SET value = 'new' WHERE key = 'k'")
            tx.defer("INSERT INTO meta (key, value) VALUES ('k', 'duplicate')")  # primary key taken
            try:
                await tx.fetchone("SELECT value FROM meta WHERE key = 'k'")
            except integrity_error as exc:
                caught.append(exc)  # the caller cannot tell this from its own statement's failure
    assert len(caught) == 1
    assert await db.get_meta("k") == "old"


async def test_deferred_writes_run_before_the_next_statement_in_order(db):
    async with db.transaction() as tx:
        tx.defer("INSERT INTO meta (key, value) VALUES ('k', '1')")
        tx.defer("UPDATE meta SET value = value || '2' WHERE key = 'k'")
        first = await tx.fetchone("SELECT value FROM meta WHERE key = 'k'")
        tx.defer("UPDATE meta SET value = value || '3' WHERE key = 'k'")
        written = await tx.execute("UPDATE meta SET value = value || '4' WHERE key = 'k'")
    assert first["value"] == "12"
    assert written.rowcount == 1
    assert await db.get_meta("k") == "1234"


async def test_a_transaction_of_deferred_writes_only_commits_them(db):
    async with db.transaction() as tx:
        tx.defer("INSERT INTO meta (key, value) VALUES ('a', '1')")
        tx.defer("INSERT INTO meta (key, value) VALUES ('b', '2')")
    assert (await db.get_meta("a"), await db.get_meta("b")) == ("1", "2")


async def test_deferred_writes_are_dropped_when_the_body_raises(db):
    with pytest.raises(LookupError):
        async with db.transaction() as tx:
            tx.defer("INSERT INTO meta (key, value) VALUES ('a', '1')")
            raise LookupError
    with pytest.raises(LookupError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('b', '1')")
            tx.defer("INSERT INTO meta (key, value) VALUES ('c', '1')")
            raise LookupError
    assert [await db.get_meta(k) for k in "abc"] == [None, None, None]


# --- hops on SQLite ----------------------------------------------------------------------------------


@pytest.fixture
async def counted(tmp_path, monkeypatch):
    """A SQLite database and the list of hops to its writer's thread (one entry per `on_thread`)."""
    database = await Database.open(tmp_path / "hops.db")
    hops: list[str] = []
    real = core.db_thread.on_thread

    def counting(conn, fn, *args):
        if conn is database._conn:
            hops.append(fn.__name__)
        return real(conn, fn, *args)

    monkeypatch.setattr(core.db_thread, "on_thread", counting)
    yield database, hops
    await database.close()


async def test_a_reserve_and_capture_pair_costs_at_most_four_hops(counted):
    db, hops = counted
    ledger = Ledger(db)
    await ledger.grant(GUILD, 10, user_id=1, reason=None)
    hops.clear()
    async with db.transaction() as tx:
        await ledger.reserve_in(tx, job_id=1, guild_id=GUILD, user_id=5, amount=4)
    async with db.transaction() as tx:
        assert await ledger.capture_in(tx, 1) is True
    assert hops == ["fetchone", "commit", "fetchone", "commit"]
    balance = await ledger.balance(GUILD)
    assert (balance.balance, balance.reserved) == (6, 0)


async def test_deferred_writes_cost_no_hop_of_their_own(counted):
    db, hops = counted
    async with db.transaction():
        pass
    assert hops == [], "a transaction that did nothing ends without a hop"
    async with db.transaction() as tx:
        tx.defer("INSERT INTO meta (key, value) VALUES ('a', '1')")
        tx.defer("INSERT INTO meta (key, value) VALUES ('b', '2')")
    assert hops == ["commit"], "BEGIN, the writes and COMMIT in one hop"
    hops.clear()
    async with db.transaction() as tx:
        tx.defer("UPDATE meta SET value = '3' WHERE key = 'a'")
        await tx.fetchone("SELECT value FROM meta WHERE key = 'a'")
        tx.defer("UPDATE meta SET value = '4' WHERE key = 'b'")
    assert hops == ["fetchone", "commit"]
    assert (await db.get_meta("a"), await db.get_meta("b")) == ("3", "4")
