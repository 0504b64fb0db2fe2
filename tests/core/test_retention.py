"""Stored-image retention (core/retention.py) on a real SQLite file and a real blob directory."""

from __future__ import annotations

import os
import time

import pytest

from core.blobs import BlobStore
from core.jobs import JobKind, JobStore
from core.models import GenerationSpec, ModelId
from core.moderation import ModerationStore, NewRequest
from core.retention import DAY, sweep_blobs

GUILD, CHANNEL, USER = 1, 2, 3
NOW = time.time()
OLD = NOW - 100 * DAY  # past a 90-day retention


@pytest.fixture
def stores(db, tmp_path):
    return BlobStore(tmp_path / "blobs"), JobStore(db), ModerationStore(db)


async def _blob(blobs: BlobStore, name: str, *, written_at: float) -> str:
    digest = await blobs.put(f"image {name}".encode())
    os.utime(blobs.path(digest), (written_at, written_at))
    return digest


async def _job(db, jobs: JobStore, *, created_at: float, state: str, result: str | None = None, references=()):
    spec = GenerationSpec(prompt="a lighthouse", model=ModelId.KLEIN, references=list(references))
    async with db.transaction() as tx:
        job_id = await jobs.insert_in(
            tx, guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE, spec=spec, price=2,
            parent_job_id=None, interaction=None,
        )
        # Test set-up only: age the row and put it in the state under test.
        await tx.execute(
            "UPDATE jobs SET created_at = ?, state = ?, result_blob = ? WHERE id = ?", (created_at, state, result, job_id)
        )
    return job_id


async def test_old_images_go_unless_something_may_still_need_them(db, stores):
    blobs, jobs, moderation = stores
    b = {name: await _blob(blobs, name, written_at=OLD) for name in "posted undeliverable hidden ref review orphan reused".split()}
    b["recent"] = await _blob(blobs, "recent", written_at=NOW)
    b["new_orphan"] = await _blob(blobs, "new orphan", written_at=NOW)

    await _job(db, jobs, created_at=OLD, state="posted", result=b["posted"])
    await _job(db, jobs, created_at=OLD, state="undeliverable", result=b["undeliverable"])  # paid, never delivered
    hidden = await _job(db, jobs, created_at=OLD, state="posted", result=b["hidden"])
    await moderation.set_result_status(GUILD, hidden, "hidden", by=None)  # a moderator may restore it
    await _job(db, jobs, created_at=NOW - DAY, state="posted", result=b["recent"], references=[b["ref"]])
    await moderation.create_request(
        NewRequest(
            guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.EDIT,
            spec=GenerationSpec(prompt="edit it", model=ModelId.KLEIN, references=[b["review"]]), interaction=None,
        )
    )
    await blobs.put(b"image reused")  # stored again just now (an edit about to use it)

    sweep = await sweep_blobs(blobs=blobs, jobs=jobs, moderation=moderation, keep_days=90, now=NOW)

    gone = {name for name, digest in b.items() if not blobs.exists(digest)}
    assert gone == {"posted", "orphan"}
    assert sweep.removed == 2 and sweep.freed_bytes == len(b"image posted") + len(b"image orphan")


async def test_a_job_still_running_keeps_its_references_whatever_their_age(db, stores):
    blobs, jobs, moderation = stores
    ref = await _blob(blobs, "ref", written_at=OLD)
    await _job(db, jobs, created_at=OLD, state="submitted", references=[ref])
    sweep = await sweep_blobs(blobs=blobs, jobs=jobs, moderation=moderation, keep_days=90, now=NOW)
    assert blobs.exists(ref) and sweep.removed == 0


async def test_partial_downloads_are_not_swept_as_blobs(stores):
    blobs, jobs, moderation = stores
    writer = blobs.writer()
    writer.write(b"half")
    assert blobs.sweep(set(), older_than=NOW + DAY) == (0, 0)
    writer.discard()
