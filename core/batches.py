"""Batches: the images of one command (`count` 2-4) shown together in one message.

Owner of the `batches` and `batch_jobs` tables. Each image stays its own job, reserved, charged,
scheduled and refunded on its own (core/generation.py); a batch only decides *when* and *where* its
images are shown: once every job of it is final (captured, or refunded), in the command's message.

    creating ──► open ──► delivering ──► posted
        │                     │  └─────► undeliverable (the paid images stay on disk, jobs marked)
        └──► abandoned        └──► open  (a failed post, retried; a crash, on resume)

`creating`: jobs are still being added (a job's membership is written in the job's own creation
transaction, so a job is never charged outside its batch). `claim` checks that every job is final
and moves `open → delivering` in one transaction, so two deliveries (two jobs ending at once, a
resume) can never both post.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

from core.db import Database, Transaction
from core.jobs import Job, JobState, JobStore

# A job a batch waits for no longer: it has an image (or had one posted), or its credits went back.
FINAL = (JobState.SUCCEEDED, JobState.POSTED, JobState.REFUNDED, JobState.UNDELIVERABLE)
MADE = (JobState.SUCCEEDED, JobState.POSTED, JobState.UNDELIVERABLE)
BATCH_MAX = 10  # Discord's attachments per message
MEMBERS_REMEMBERED = 4096  # jobs whose membership is kept in memory (the ones still showing progress)


class Member(NamedTuple):
    """Where a job sits in its batch (1-based `number`, as members read it): a membership row, kept
    by the thousand in BatchStore's cache, so a plain tuple."""

    batch_id: int
    number: int
    size: int


@dataclass(frozen=True)
class Batch:
    id: int
    size: int  # images asked for
    state: str
    stop_note: str | None  # why images after the created ones were not made (nothing charged)
    attempts: int
    jobs: tuple[Job, ...]  # in the order they were asked for

    def made(self, job: Job) -> bool:
        return job.state in MADE and job.result_blob is not None


class BatchStore:
    def __init__(self, db: Database, jobs: JobStore) -> None:
        self._db = db
        self._jobs = jobs
        # Membership never changes once written, and progress asks for it on every tick: the recent
        # answers are kept (bounded: a long-running bot sees millions of jobs).
        self._members: OrderedDict[int, Member | None] = OrderedDict()

    async def open(self, size: int) -> int:
        if not 2 <= size <= BATCH_MAX:
            raise ValueError(f"a batch has 2-{BATCH_MAX} images, not {size}")
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "INSERT INTO batches (size, state, attempts, created_at, updated_at)"
                " VALUES (?, 'creating', 0, ?, ?) RETURNING id",
                (size, tx.now, tx.now),
            )
        return int(row["id"])

    async def add_in(self, tx: Transaction, batch_id: int, job_id: int, number: int) -> None:
        """Inside the job's creation transaction: a batch no longer being created takes no job."""
        row = await tx.fetchone("SELECT size FROM batches WHERE id = ? AND state = 'creating'", (batch_id,))
        if row is None or not 1 <= number <= row["size"]:
            raise ValueError(f"batch {batch_id} takes no image {number}")
        await tx.execute(
            "INSERT INTO batch_jobs (job_id, batch_id, number) VALUES (?, ?, ?)", (job_id, batch_id, number)
        )
        self._remember(job_id, Member(batch_id, number, row["size"]))

    async def close(self, batch_id: int, *, stop_note: str | None = None) -> bool:
        """No more jobs: `open` (True), or `abandoned` when not one was created (False)."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT COUNT(*) AS n FROM batch_jobs WHERE batch_id = ?", (batch_id,))
            state = "open" if row["n"] else "abandoned"
            await tx.execute(
                "UPDATE batches SET state = ?, stop_note = ?, updated_at = ? WHERE id = ? AND state = 'creating'",
                (state, stop_note, tx.now, batch_id),
            )
        return state == "open"

    async def member(self, job_id: int) -> Member | None:
        if job_id in self._members:
            self._members.move_to_end(job_id)
            return self._members[job_id]
        row = await self._db.fetchone(
            "SELECT m.batch_id, m.number, b.size FROM batch_jobs m JOIN batches b ON b.id = m.batch_id"
            " WHERE m.job_id = ?",
            (job_id,),
        )
        member = None if row is None else Member(row["batch_id"], row["number"], row["size"])
        self._remember(job_id, member)
        return member

    def _remember(self, job_id: int, member: Member | None) -> None:
        self._members[job_id] = member
        self._members.move_to_end(job_id)
        while len(self._members) > MEMBERS_REMEMBERED:
            self._members.popitem(last=False)

    async def state(self, batch_id: int) -> str | None:
        row = await self._db.fetchone("SELECT state FROM batches WHERE id = ?", (batch_id,))
        return None if row is None else row["state"]

    async def claim(self, batch_id: int) -> Batch | None:
        """The batch, now `delivering`, if it was open and every job of it is final; else None."""
        async with self._db.transaction() as tx:
            batch = await self._load_in(tx, batch_id)
            if batch is None or batch.state != "open" or any(j.state not in FINAL for j in batch.jobs):
                return None
            cursor = await tx.execute(
                "UPDATE batches SET state = 'delivering', updated_at = ? WHERE id = ? AND state = 'open'",
                (tx.now, batch_id),
            )
            if cursor.rowcount != 1:
                return None
        return Batch(batch.id, batch.size, "delivering", batch.stop_note, batch.attempts, batch.jobs)

    async def get(self, batch_id: int) -> Batch | None:
        async with self._db.transaction() as tx:
            return await self._load_in(tx, batch_id)

    async def _load_in(self, tx: Transaction, batch_id: int) -> Batch | None:
        row = await tx.fetchone("SELECT * FROM batches WHERE id = ?", (batch_id,))
        if row is None:
            return None
        members = await tx.fetchall("SELECT job_id FROM batch_jobs WHERE batch_id = ? ORDER BY number", (batch_id,))
        jobs = tuple([await self._jobs.get_in(tx, m["job_id"]) for m in members])
        return Batch(row["id"], row["size"], row["state"], row["stop_note"], row["attempts"], jobs)

    async def delivery_failed(self, batch_id: int, *, give_up: bool) -> None:
        """A failed post: back to `open` for the retry, or `undeliverable`."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE batches SET state = ?, attempts = attempts + 1, updated_at = ?"
                " WHERE id = ? AND state = 'delivering'",
                ("undeliverable" if give_up else "open", tx.now, batch_id),
            )

    async def mark_posted(self, batch_id: int, *, channel_id: int, message_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE batches SET state = 'posted', channel_id = ?, message_id = ?, updated_at = ?"
                " WHERE id = ? AND state = 'delivering'",
                (channel_id, message_id, tx.now, batch_id),
            )

    async def recover(self, *, older_than: float = 0.0) -> list[int]:
        """At start-up: batches a crash left being created or delivered (untouched for `older_than`
        seconds: 0 when this is the database's only process) are reopened; returns every open batch,
        to be settled (a claim lets only one process post it)."""
        pending: list[int] = []
        for row in await self._db.fetchall(
            "SELECT id, state FROM batches WHERE state IN ('creating', 'delivering') AND updated_at <= ?",
            (time.time() - older_than,),
        ):
            if row["state"] == "creating":
                await self.close(row["id"])
            else:
                async with self._db.transaction() as tx:
                    await tx.execute(
                        "UPDATE batches SET state = 'open', updated_at = ? WHERE id = ? AND state = 'delivering'",
                        (tx.now, row["id"]),
                    )
        for row in await self._db.fetchall("SELECT id FROM batches WHERE state = 'open' ORDER BY id"):
            pending.append(row["id"])
        return pending
