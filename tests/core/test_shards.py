"""Shard ranges: SHARD_COUNT / SHARD_IDS settings, one process per shard on PostgreSQL, and IDENTIFY
slots shared by every process through the database (on both backends)."""

from __future__ import annotations

import pytest

from cogs.ui import startup
from core.config import load_settings
from core.db_postgres import PgDatabase
from core.errors import ConfigError
from core.shards import IdentifyGate, parse_shard_ids, shard_of
from tests.pg import fresh_schema


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("ENV_FILE", "")
    monkeypatch.setenv("DISCORD_TOKEN", "token")
    monkeypatch.setenv("SEGMIND_API_KEY", "key")
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.db"))
    for name in ("SHARD_COUNT", "SHARD_IDS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_ranges_and_lists_are_read():
    assert parse_shard_ids("0-3") == (0, 1, 2, 3)
    assert parse_shard_ids("0,2,5") == (0, 2, 5)
    assert parse_shard_ids(" 6, 0-1 ,1") == (0, 1, 6)


@pytest.mark.parametrize("text", ["a", "3-1", "-2", "1-x", ","])
def test_malformed_ids_are_refused(text):
    with pytest.raises(ValueError):
        parse_shard_ids(text)


def test_sharding_settings_on_postgresql(env):
    env.setenv("DATABASE_URL", "postgresql://bot@db/bot")
    env.setenv("SHARD_COUNT", "8")
    env.setenv("SHARD_IDS", "4-7")
    settings = load_settings()
    assert settings.shard_count == 8
    assert settings.shard_ids == (4, 5, 6, 7)
    assert settings.job_lease_seconds == 30.0


def test_shard_ids_without_a_count_is_a_configuration_error(env):
    env.setenv("DATABASE_URL", "postgresql://bot@db/bot")
    env.setenv("SHARD_IDS", "0-3")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.names == ["SHARD_IDS"]
    assert "needs SHARD_COUNT" in str(caught.value)


def test_ids_out_of_range_are_named(env):
    env.setenv("DATABASE_URL", "postgresql://bot@db/bot")
    env.setenv("SHARD_COUNT", "4")
    env.setenv("SHARD_IDS", "2-5")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "shard 4 is out of range" in str(caught.value) and "0-3" in str(caught.value)


def test_sqlite_with_part_of_the_shards_needs_postgresql(env):
    env.setenv("SHARD_COUNT", "4")
    env.setenv("SHARD_IDS", "0-1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "several processes need PostgreSQL" in str(caught.value)


def test_sqlite_may_run_every_shard_in_one_process(env):
    env.setenv("SHARD_COUNT", "4")
    env.setenv("SHARD_IDS", "0-3")
    assert load_settings().shard_ids == (0, 1, 2, 3)
    env.delenv("SHARD_IDS")
    assert load_settings().shard_ids is None  # every shard


def test_a_guild_lives_on_discords_shard():
    assert shard_of(41771983423143937, 1) == 0
    assert shard_of((5 << 22) | 123, 4) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_identify_slots_are_spaced_per_bucket_across_processes(db, backend):
    """Two processes (two databases handles on one database) IDENTIFY 6 shards with max_concurrency 2:
    each bucket's IDENTIFYs are at least the period apart, and the buckets do not wait on each other."""
    other = db
    if backend == "postgres":
        other = await PgDatabase.open(db.url)
    clock = Clock()
    first = IdentifyGate(db, period=5.5, clock=clock, sleep=clock.sleep)
    second = IdentifyGate(other, period=5.5, clock=clock, sleep=clock.sleep)
    starts: dict[int, list[float]] = {0: [], 1: []}
    try:
        for shard, gate in [(0, first), (1, second), (2, second), (3, first), (4, first), (5, second)]:
            await gate.wait_turn(shard, 2)
            starts[shard % 2].append(clock.now)
    finally:
        if other is not db:
            await other.close()
    for times in starts.values():
        assert all(later - earlier >= 5.5 for earlier, later in zip(times, times[1:], strict=False)), starts
    assert starts[1][0] == starts[0][0]  # bucket 1 did not wait for bucket 0
    assert len(starts[0]) == len(starts[1]) == 3


async def test_one_process_per_shard_on_postgresql(pg_url, tmp_path):
    async with fresh_schema(pg_url) as url:
        first = await startup.open_database(tmp_path / "unused.db", url, (0, 1))
        try:
            with pytest.raises(startup.StartupFailure) as caught:
                await startup.open_database(tmp_path / "unused.db", url, (1, 2))
            assert caught.value.exit_code == startup.EXIT_ALREADY_RUNNING
            assert str(caught.value).startswith("Shard 1 is already run by another bot process")
            # A process without shard ranges would run every shard: refused while any shard runs.
            with pytest.raises(startup.StartupFailure) as whole:
                await startup.open_database(tmp_path / "unused.db", url)
            assert "Another bot process is already using" in str(whole.value)
            second = await startup.open_database(tmp_path / "unused.db", url, (2, 3))  # disjoint: fine
            await second.close()
        finally:
            await first.close()
        # The first process gone, its shards are free again (the locks died with its connection).
        again = await startup.open_database(tmp_path / "unused.db", url, (0, 1))
        await again.close()
        whole = await startup.open_database(tmp_path / "unused.db", url)
        try:
            with pytest.raises(startup.StartupFailure) as caught:
                await startup.open_database(tmp_path / "unused.db", url, (0,))
            assert "without SHARD_IDS is already using" in str(caught.value)
        finally:
            await whole.close()


async def test_every_process_must_use_the_same_shard_count(pg_url, tmp_path):
    async with fresh_schema(pg_url) as url:
        first = await startup.open_database(tmp_path / "unused.db", url, (0,), 2)
        try:
            with pytest.raises(startup.StartupFailure) as caught:
                await startup.open_database(tmp_path / "unused.db", url, (2, 3), 4)
            assert caught.value.exit_code == startup.EXIT_CONFIG
            assert "SHARD_COUNT=4, but the bot processes running" in str(caught.value)
            assert "use SHARD_COUNT=2" in str(caught.value)
            same = await startup.open_database(tmp_path / "unused.db", url, (1,), 2)  # the same count: welcome
            await same.close()
        finally:
            await first.close()
        # Everything stopped: the count may change.
        resharded = await startup.open_database(tmp_path / "unused.db", url, (2, 3), 4)
        assert await resharded.get_meta("shard_count") == "4"
        await resharded.close()
