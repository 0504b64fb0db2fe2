"""Privacy (core/privacy.py) on a real SQLite file and a real blob directory."""

from __future__ import annotations

import json
import time

import pytest

from core.blobs import BlobStore
from core.jobs import JobKind, JobStore
from core.ledger import Ledger
from core.models import GenerationSpec, ModelId
from core.moderation import ModerationStore
from core.privacy import ALLOWANCE_WINDOW_DAYS, DAY, REMOVED, Privacy

GUILD, OTHER_GUILD, CHANNEL, ALICE, BOB = 1, 9, 2, 3, 4
NOW = time.time()


@pytest.fixture
def world(db, tmp_path):
    blobs = BlobStore(tmp_path / "blobs")
    return db, blobs, JobStore(db), Ledger(db), ModerationStore(db), Privacy(db, blobs)


async def paid_job(db, jobs, ledger, *, user, guild=GUILD, state="posted", result=None, references=(), prompt="a fox"):
    spec = GenerationSpec(prompt=prompt, negative_prompt="blur", model=ModelId.KLEIN, references=list(references))
    async with db.transaction() as tx:
        job_id = await jobs.insert_in(
            tx, guild_id=guild, channel_id=CHANNEL, user_id=user, kind=JobKind.IMAGINE, spec=spec, price=2,
            parent_job_id=None, interaction=None,
        )
        await ledger.reserve_in(tx, job_id=job_id, guild_id=guild, user_id=user, amount=2)
        await ledger.capture_in(tx, job_id)
        await tx.execute("UPDATE jobs SET state = ?, result_blob = ? WHERE id = ?", (state, result, job_id))
    return job_id


async def job_row(db, job_id):
    # The committed state, as another connection reads it.
    return await db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))


async def test_forget_removes_prompts_and_images_but_keeps_the_books(world):
    db, blobs, jobs, ledger, moderation, privacy = world
    await ledger.grant(GUILD, 20, user_id=None, reason=None)
    mine, ref, shared, held_img = [await blobs.put(f"img {n}".encode()) for n in range(4)]
    alice_job = await paid_job(db, jobs, ledger, user=ALICE, result=mine, references=[ref, shared])
    held = await paid_job(db, jobs, ledger, user=ALICE, result=held_img)
    await moderation.set_result_status(GUILD, held, "held", by=None)
    bob_job = await paid_job(db, jobs, ledger, user=BOB, references=[shared], prompt="bob's own")

    result = await privacy.forget_member(ALICE, NOW)

    assert (result.prompts, result.images, result.kept_for_review) == (1, 2, 1)
    assert not blobs.exists(mine) and not blobs.exists(ref)
    assert blobs.exists(shared), "Bob's job still uses it"
    assert blobs.exists(held_img), "a moderator has not decided yet"
    spec = json.loads((await job_row(db, alice_job))["spec"])
    assert spec["prompt"] == REMOVED and "negative_prompt" not in spec
    assert (await jobs.get(alice_job)).spec.prompt == REMOVED  # still a readable job
    assert json.loads((await job_row(db, held))["spec"])["prompt"] == "a fox"
    assert json.loads((await job_row(db, bob_job))["spec"])["prompt"] == "bob's own"
    assert (await ledger.balance(GUILD)).balance == 14


async def test_forget_erases_the_id_once_the_allowance_window_has_passed(world):
    db, blobs, jobs, ledger, moderation, privacy = world
    await ledger.grant(GUILD, 20, user_id=None, reason=None)
    job = await paid_job(db, jobs, ledger, user=ALICE)
    await privacy.forget_member(ALICE, NOW)
    # Still counted against her allowance this month:
    assert (await job_row(db, job))["user_id"] == ALICE
    assert await db.fetchone("SELECT 1 FROM ledger_entries WHERE user_id = ?", (ALICE,)) is not None

    books = "SELECT kind, SUM(amount) AS s, COUNT(*) AS n FROM ledger_entries GROUP BY kind ORDER BY kind"
    before = [tuple(r) for r in await db.fetchall(books)]
    later = NOW + (ALLOWANCE_WINDOW_DAYS + 1) * DAY
    await privacy.sweep(now=later, prompt_days=0, grace_days=30)

    assert (await job_row(db, job))["user_id"] == 0
    assert await db.fetchone("SELECT 1 FROM ledger_entries WHERE user_id = ?", (ALICE,)) is None
    assert await db.fetchone("SELECT 1 FROM reservations WHERE user_id = ?", (ALICE,)) is None
    assert await db.fetchone("SELECT 1 FROM forget_requests") is None
    assert [tuple(r) for r in await db.fetchall(books)] == before, "amounts are kept for the books"


async def test_prompt_retention_anonymises_old_finished_jobs_only(world):
    db, blobs, jobs, ledger, moderation, privacy = world
    await ledger.grant(GUILD, 20, user_id=None, reason=None)
    old = await paid_job(db, jobs, ledger, user=ALICE)
    undeliverable = await paid_job(db, jobs, ledger, user=ALICE, state="undeliverable")
    await privacy.sweep(now=NOW + 91 * DAY, prompt_days=90, grace_days=30)
    row = (await job_row(db, old))
    assert (json.loads(row["spec"])["prompt"], row["user_id"]) == (REMOVED, 0)
    assert (await job_row(db, undeliverable))["user_id"] == ALICE, "kept until the image is fetched"
    assert await db.fetchone("SELECT 1 FROM ledger_entries WHERE user_id = ? AND job_id = ?", (ALICE, old)) is None


async def test_prompt_retention_leaves_recent_jobs(world):
    db, blobs, jobs, ledger, moderation, privacy = world
    await ledger.grant(GUILD, 20, user_id=None, reason=None)
    job = await paid_job(db, jobs, ledger, user=ALICE)
    await privacy.sweep(now=NOW + 89 * DAY, prompt_days=90, grace_days=30)
    assert json.loads((await job_row(db, job))["spec"])["prompt"] == "a fox" and (await job_row(db, job))["user_id"] == ALICE


async def test_ledger_still_refuses_every_other_update_and_deletes(world, integrity_error):
    db, *_ = world
    await world[3].grant(GUILD, 5, user_id=ALICE, reason="thanks")
    for sql in (
        "UPDATE ledger_entries SET amount = 500",
        "UPDATE ledger_entries SET user_id = 42",
        "UPDATE ledger_entries SET reason = 'rewritten'",
        "DELETE FROM ledger_entries",
    ):
        with pytest.raises(integrity_error, match="append-only"):
            async with db.transaction() as tx:
                await tx.execute(sql)
    async with db.transaction() as tx:
        await tx.execute("UPDATE ledger_entries SET user_id = NULL, reason = NULL")
    row = await db.fetchone("SELECT amount, user_id, reason FROM ledger_entries")
    assert (row["amount"], row["user_id"], row["reason"]) == (5, None, None)


async def test_a_departed_guild_is_purged_after_the_grace_period_unless_it_returns(world):
    db, blobs, jobs, ledger, moderation, privacy = world
    for guild in (GUILD, OTHER_GUILD):
        await ledger.grant(guild, 20, user_id=ALICE, reason="welcome")
    img, other_img = await blobs.put(b"guild image"), await blobs.put(b"other guild image")
    job = await paid_job(db, jobs, ledger, user=ALICE, result=img)
    await paid_job(db, jobs, ledger, user=ALICE, guild=OTHER_GUILD, result=other_img)
    await moderation.block(GUILD, BOB, by=ALICE, reason="spam")

    await privacy.guild_left(GUILD, NOW)
    await privacy.guild_left(OTHER_GUILD, NOW)
    assert await privacy.guild_joined(OTHER_GUILD), "rejoining cancels the removal"
    assert await privacy.purge_departed(NOW + 29 * DAY, grace_days=30) == []
    assert await privacy.purge_departed(NOW + 31 * DAY, grace_days=30) == [GUILD]

    assert not blobs.exists(img) and blobs.exists(other_img)
    row = (await job_row(db, job))
    assert (json.loads(row["spec"])["prompt"], row["user_id"], row["price"]) == (REMOVED, 0, 2)
    assert await db.fetchone("SELECT 1 FROM member_blocks WHERE guild_id = ?", (GUILD,)) is None
    entries = await db.fetchall("SELECT kind, user_id, reason, amount FROM ledger_entries WHERE guild_id = ?", (GUILD,))
    assert entries and all(e["user_id"] is None and e["reason"] is None for e in entries)
    assert [e["amount"] for e in entries if e["kind"] == "grant"] == [20]
    assert (await ledger.balance(GUILD)).balance == 18
    other = await db.fetchall("SELECT user_id FROM ledger_entries WHERE guild_id = ?", (OTHER_GUILD,))
    assert all(e["user_id"] == ALICE for e in other)


async def test_guilds_seen_at_connect_cancel_removals_and_missing_ones_start_theirs(world):
    db, blobs, jobs, ledger, moderation, privacy = world
    for guild in (GUILD, OTHER_GUILD):
        await ledger.grant(guild, 5, user_id=None, reason=None)
    await privacy.guild_left(GUILD, NOW - DAY)

    assert await privacy.guilds_present([GUILD], NOW) == 1

    rows = await db.fetchall("SELECT guild_id, left_at FROM guild_departures")
    assert [(r["guild_id"], r["left_at"]) for r in rows] == [(OTHER_GUILD, NOW)]
    assert await privacy.guilds_present([GUILD], NOW + 5) == 0, "an earlier departure keeps its time"
    assert (await db.fetchone("SELECT left_at FROM guild_departures"))["left_at"] == NOW


async def test_a_process_over_a_shard_range_finds_gone_only_guilds_of_its_shards(world):
    db, _, _, ledger, _, privacy = world
    mine_here, mine_gone, elsewhere = (4 << 22) | 1, (6 << 22) | 2, (5 << 22) | 3  # shards 0, 2, 1 of 4
    for guild in (mine_here, mine_gone, elsewhere):
        await ledger.grant(guild, 5, user_id=None, reason=None)
    # This process runs shards 0 and 2 of 4: it sees mine_here only; `elsewhere` is another process's.
    assert await privacy.guilds_present([mine_here], NOW, (4, (0, 2))) == 1
    rows = await db.fetchall("SELECT guild_id FROM guild_departures")
    assert [r["guild_id"] for r in rows] == [mine_gone]
