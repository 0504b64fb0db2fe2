"""Policy caches kept right across processes on PostgreSQL (LISTEN/NOTIFY): a change made by one
process is seen by the others' next read, and nothing is cached while announcements may be missed."""

from __future__ import annotations

import asyncio

import pytest

from core.db_postgres import PgDatabase
from core.invalidation import PgInvalidations
from core.moderation import ModerationStore
from tests.pg import fresh_schema

GUILD, MOD = 10, 40


def stricter(policy):
    policy.blocked_terms = ["dragon"]
    return policy


@pytest.fixture
async def two_connections(pg_url):
    """Two processes' view of one database: (database, listening invalidations) each."""
    async with fresh_schema(pg_url) as url:
        handles = [await PgDatabase.open(url), await PgDatabase.open(url)]
        listeners = [PgInvalidations(url), PgInvalidations(url)]
        for listener in listeners:
            await listener.start()
        try:
            yield list(zip(handles, listeners, strict=True))
        finally:
            for listener in listeners:
                await listener.close()
            for db in handles:
                await db.close()


@pytest.fixture
async def two_processes(two_connections):
    return [ModerationStore(db, listener) for db, listener in two_connections], [li for _, li in two_connections]


async def test_a_policy_changed_in_one_process_is_seen_by_the_other(two_processes):
    (first, second), _ = two_processes
    assert (await second.policy(GUILD)).blocked_terms == []  # now cached in the second process
    await first.update_policy(GUILD, MOD, stricter)

    async def seen() -> None:
        while (await second.policy(GUILD)).blocked_terms != ["dragon"]:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(seen(), 10)


async def test_nothing_is_cached_while_not_listening(two_processes):
    (first, second), listeners = two_processes
    await listeners[1]._conn.close()  # the listening connection dropped
    assert not listeners[1].reliable
    await second.policy(GUILD)
    await first.update_policy(GUILD, MOD, stricter)
    assert (await second.policy(GUILD)).blocked_terms == ["dragon"], "read from the database, not a copy"


async def test_a_guilds_spending_and_presentation_settings_changed_in_one_process_reach_the_other(two_connections):
    """The settings admission reads before every acknowledgement are kept in memory too
    (core/guild_cache.py): another process's change drops them."""
    from core.credit_rules import Allowance, CreditRules
    from core.preferences import PreferenceStore

    first, second = (CreditRules(db, listener) for db, listener in two_connections)
    prefs_first, prefs_second = (PreferenceStore(db, listener) for db, listener in two_connections)
    assert await second.allowances(GUILD) == [] and (await second.settings(GUILD)).quote_above is None
    assert not (await prefs_second.guild(GUILD)).private_results  # all three now kept by the second
    await first.set_allowance(GUILD, Allowance("role", GUILD, 5, None))
    await first.update_settings(GUILD, quote_above=3)
    await prefs_first.set_guild(GUILD, private_results=True)

    async def seen() -> None:
        while not (
            await second.allowances(GUILD) == [Allowance("role", GUILD, 5, None)]
            and (await second.settings(GUILD)).quote_above == 3
            and (await prefs_second.guild(GUILD)).private_results
        ):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(seen(), 10)
