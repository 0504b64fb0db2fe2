"""What a command costs before its acknowledgement: one read about the member, the guild's settings
from memory (dropped by every write to them), and no job work while others wait for theirs
(tests/perf, scenario 1, measures the effect; these tests pin the behaviour)."""

from __future__ import annotations

import asyncio

import pytest

from core.ack_first import AckFirst
from core.blobs import BlobStore
from core.credit_rules import Allowance, CreditRules, CreditSettings
from core.guild_cache import GuildCache, forget_guild
from core.jobs import JobKind, JobStore
from core.ledger import GuildBalance, Ledger
from core.models import GenerationSpec
from core.moderation import ModerationStore
from core.policy import MemberUsage
from core.preferences import PreferenceStore
from core.privacy import Privacy

GUILD, OTHER_GUILD, CHANNEL = 1_400_000_000_000_000_001, 1_400_000_000_000_000_002, 3
ALICE, BOB, MOD = 1_400_000_000_000_000_021, 1_400_000_000_000_000_022, 6
NOW = 1_750_000_000.0


async def held_job(db, jobs: JobStore, ledger: Ledger, *, user: int, amount: int) -> int:
    async with db.transaction() as tx:
        job_id = await jobs.insert_in(
            tx, guild_id=GUILD, channel_id=CHANNEL, user_id=user, kind=JobKind.IMAGINE,
            spec=GenerationSpec(prompt="a fox"), price=amount, parent_job_id=None, interaction=None,
        )
        await ledger.reserve_in(tx, job_id=job_id, guild_id=GUILD, user_id=user, amount=amount)
    return job_id


async def separate_reads(ledger: Ledger, jobs: JobStore, moderation: ModerationStore, user: int, since: float):
    running, last_at, recent = await jobs.member_usage(GUILD, user, since)
    blocked, reason = await moderation.block_of(GUILD, user)
    usage = MemberUsage(running, last_at, recent, await ledger.allowance_used(GUILD, user, since), blocked, reason)
    return await ledger.balance(GUILD), usage


# --- one read about the member ---------------------------------------------------------------------


async def test_the_member_snapshot_says_what_the_separate_reads_say(db):
    ledger, jobs, moderation = Ledger(db, starting_credits=7), JobStore(db), ModerationStore(db)
    snapshot = await ledger.member_snapshot(GUILD, ALICE, 0.0)
    assert (snapshot.balance, snapshot.usage) == (GuildBalance(GUILD, 7, 0), MemberUsage())
    assert (snapshot.balance, snapshot.usage) == await separate_reads(ledger, jobs, moderation, ALICE, 0.0)

    await ledger.grant(GUILD, 20, user_id=None, reason=None)
    await held_job(db, jobs, ledger, user=ALICE, amount=3)
    await held_job(db, jobs, ledger, user=ALICE, amount=2)
    await held_job(db, jobs, ledger, user=BOB, amount=4)
    await moderation.block(GUILD, ALICE, by=MOD, reason=None)  # blocked, and no reason given
    for user in (ALICE, BOB):
        snapshot = await ledger.member_snapshot(GUILD, user, 0.0)
        assert (snapshot.balance, snapshot.usage) == await separate_reads(ledger, jobs, moderation, user, 0.0)
    alice = (await ledger.member_snapshot(GUILD, ALICE, 0.0)).usage
    assert (alice.running, alice.jobs_today, alice.credits_today, alice.blocked, alice.block_reason) == (
        2, 2, 5, True, None
    )
    assert (await ledger.member_snapshot(GUILD, ALICE, 0.0)).balance == GuildBalance(GUILD, 27, 9)  # 7 to start with, 20 granted
    bob = (await ledger.member_snapshot(GUILD, BOB, 0.0)).usage
    assert (bob.running, bob.credits_today, bob.blocked) == (1, 4, False)

    await moderation.block(GUILD, BOB, by=MOD, reason="spam")
    assert (await ledger.member_snapshot(GUILD, BOB, 0.0)).usage.block_reason == "spam"
    later = (await ledger.member_snapshot(GUILD, ALICE, 2**40)).usage
    assert (later.running, later.jobs_today, later.credits_today) == (2, 0, 0), "only spend since `since` counts"


# --- the guild's settings from memory --------------------------------------------------------------


async def test_commands_that_miss_together_share_one_read():
    cache: GuildCache[str] = GuildCache()
    loads, release = [], asyncio.Event()

    async def load() -> str:
        loads.append(1)
        await release.wait()
        return "settings"

    waiters = [asyncio.create_task(cache.get(GUILD, load)) for _ in range(10)]
    while not loads:
        await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiters) == ["settings"] * 10
    assert await cache.get(GUILD, load) == "settings"
    assert len(loads) == 1


async def test_a_read_that_a_write_overtook_is_not_kept():
    cache: GuildCache[str] = GuildCache()
    old_read_started, release_old = asyncio.Event(), asyncio.Event()
    reads: list[str] = []

    async def old() -> str:
        reads.append("old")
        old_read_started.set()
        await release_old.wait()
        return "before the write"

    async def new() -> str:
        reads.append("new")
        return "after the write"

    before = asyncio.create_task(cache.get(GUILD, old))
    await old_read_started.wait()
    cache.forget(GUILD)  # a write committed while that read was under way
    assert await cache.get(GUILD, new) == "after the write", "a read after the write does not join the older one"
    release_old.set()
    assert await before == "before the write"
    assert await cache.get(GUILD, old) == "after the write"
    assert reads == ["old", "new"]


async def test_a_waiter_cancelled_does_not_cancel_the_others_read():
    cache: GuildCache[int] = GuildCache()
    release = asyncio.Event()

    async def load() -> int:
        await release.wait()
        return 5

    first, second = (asyncio.create_task(cache.get(GUILD, load)) for _ in range(2))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == 5
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_every_write_to_a_guilds_settings_is_read_back_at_once(db):
    rules, prefs, moderation = CreditRules(db), PreferenceStore(db), ModerationStore(db)
    assert (await rules.allowances(GUILD), (await rules.settings(GUILD)).quote_above) == ([], None)
    assert not (await prefs.guild(GUILD)).private_results
    assert (await moderation.policy(GUILD)).cooldown_seconds == 0

    await rules.set_allowance(GUILD, Allowance("member", ALICE, 5, None))
    assert await rules.allowances(GUILD) == [Allowance("member", ALICE, 5, None)]
    await rules.set_allowance(GUILD, Allowance("member", ALICE, 8, 50))
    assert await rules.allowances(GUILD) == [Allowance("member", ALICE, 8, 50)]
    assert await rules.clear_allowance(GUILD, "member", ALICE)
    assert await rules.allowances(GUILD) == []
    await rules.update_settings(GUILD, quote_above=4)
    assert (await rules.settings(GUILD)).quote_above == 4
    await rules.update_settings(GUILD, confirm_all=True)
    assert await rules.settings(GUILD) == CreditSettings(4, True, None)
    await prefs.set_guild(GUILD, private_results=True)
    assert (await prefs.guild(GUILD)).private_results
    await moderation.update_policy(GUILD, MOD, lambda p: p.model_copy(update={"cooldown_seconds": 30}))
    assert (await moderation.policy(GUILD)).cooldown_seconds == 30
    assert (await moderation.policy(OTHER_GUILD)).cooldown_seconds == 0, "another guild's settings are its own"


async def test_a_returned_list_cannot_change_what_is_kept(db):
    rules = CreditRules(db)
    await rules.set_allowance(GUILD, Allowance("role", GUILD, 5, None))
    (await rules.allowances(GUILD)).clear()
    assert await rules.allowances(GUILD) == [Allowance("role", GUILD, 5, None)]


async def test_a_purged_guild_comes_back_with_the_defaults(db, tmp_path):
    rules, prefs, moderation = CreditRules(db), PreferenceStore(db), ModerationStore(db)
    privacy = Privacy(db, BlobStore(tmp_path / "blobs"))
    await rules.set_allowance(GUILD, Allowance("member", ALICE, 5, None))
    await rules.update_settings(GUILD, quote_above=4)
    await prefs.set_guild(GUILD, private_results=True)
    await moderation.update_policy(GUILD, MOD, lambda p: p.model_copy(update={"cooldown_seconds": 30}))
    assert await rules.allowances(GUILD) and (await prefs.guild(GUILD)).private_results  # now kept in memory

    await privacy.guild_left(GUILD, NOW)
    assert await privacy.purge_departed(NOW + 31 * 86_400, grace_days=30) == [GUILD]
    assert await rules.allowances(GUILD) == []
    assert (await rules.settings(GUILD)).quote_above is None
    assert not (await prefs.guild(GUILD)).private_results
    assert (await moderation.policy(GUILD)).cooldown_seconds == 0


async def test_forget_guild_reaches_every_cache():
    caches = [GuildCache(), GuildCache()]
    for n, cache in enumerate(caches):
        assert await cache.get(GUILD, lambda n=n: asyncio.sleep(0, result=n)) == n
    forget_guild(GUILD)
    assert [await cache.get(GUILD, lambda: asyncio.sleep(0, result="read again")) for cache in caches] == [
        "read again", "read again"
    ]


# --- acknowledgements first ------------------------------------------------------------------------


async def test_work_after_an_acknowledgement_waits_for_the_others_to_be_answered():
    acks = AckFirst(max_wait=60, burst=1)
    await acks.turn()  # nothing pending: at once
    acks.arrived(1)
    acks.arrived(2)
    waiting = asyncio.create_task(acks.turn())
    acks.answered(1)
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done(), "request 2 still waits for its acknowledgement"
    acks.answered(2)
    await waiting
    assert acks.pending == 0


async def test_no_stream_of_commands_holds_work_back_beyond_max_wait():
    acks = AckFirst(max_wait=0.01, burst=1)
    acks.arrived(1)
    await acks.turn()
    assert acks.pending == 1


async def test_a_request_that_fails_before_its_acknowledgement_is_no_longer_pending():
    class Cog:
        acks = AckFirst()

        @AckFirst.reported
        async def submit(self, interaction, fail: bool) -> int:
            assert self.acks.pending == 1
            if fail:
                raise ValueError("refused")
            return interaction.id

    class Interaction:
        id = 42

    cog = Cog()
    assert await cog.submit(Interaction(), False) == 42
    with pytest.raises(ValueError, match="refused"):
        await cog.submit(Interaction(), True)
    assert cog.acks.pending == 0


async def test_work_starts_in_the_order_the_requests_were_acknowledged():
    """The last one answered finds nothing pending, yet goes after the one woken before it (their
    jobs are created, queued and run in that order)."""
    acks, started = AckFirst(max_wait=60, burst=1), []

    async def request(request_id: int) -> None:
        acks.answered(request_id)
        await acks.turn()
        started.append(request_id)

    acks.arrived(1)
    acks.arrived(2)
    first = asyncio.create_task(request(1))
    while acks.pending == 2:
        await asyncio.sleep(0)
    await request(2)
    await first
    assert started == [1, 2]


async def test_a_prefetch_is_the_read_a_later_get_shares():
    cache: GuildCache[str] = GuildCache()
    loads: list[int] = []

    async def load() -> str:
        loads.append(1)
        return "settings"

    cache.prefetch(GUILD, load)
    assert await cache.get(GUILD, load) == "settings"
    cache.prefetch(GUILD, load)  # in memory: nothing to read
    assert await cache.get(GUILD, load) == "settings"
    assert len(loads) == 1


async def test_a_failed_prefetch_is_read_again_by_the_next_get():
    cache: GuildCache[str] = GuildCache()
    answers = iter([RuntimeError("database gone"), "settings"])

    async def load() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    cache.prefetch(GUILD, load)
    while cache._loading:  # the failed read is finished and forgotten
        await asyncio.sleep(0)
    assert await cache.get(GUILD, load) == "settings"


async def test_a_few_commands_at_once_start_as_soon_as_each_is_acknowledged():
    acks = AckFirst(max_wait=60, burst=3)
    acks.arrived(1)
    acks.arrived(2)
    await acks.turn()  # two pending, fewer than a burst: no wait
    acks.arrived(3)
    waiting = asyncio.create_task(acks.turn())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done(), "three pending is a burst"
    for request_id in (1, 2, 3):
        acks.answered(request_id)
    await waiting
