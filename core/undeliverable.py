"""Paid images that reached no one: listed for the owners, and put back in line for delivery.

A job becomes undeliverable when the interaction, the channel and a DM all refused its image (or
Discord failed for ~43 minutes of retries). The image stays stored (core/retention.py keeps it), the
requester and the owners are told (cogs/ui/undeliverable.py), and `/owner redeliver` reopens the job
so the ordinary delivery path tries again.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.db import Database


@dataclass(frozen=True)
class Undeliverable:
    job_id: int
    guild_id: int
    channel_id: int
    user_id: int
    price: int
    detail: str | None
    finished_at: float | None


class UndeliverableJobs:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def latest(self, limit: int = 25) -> list[Undeliverable]:
        # jobs_unfinished is a partial index that leaves undeliverable out; these are few, by design.
        rows = await self._db.fetchall_in_thread(
            "SELECT id, guild_id, channel_id, user_id, price, error_detail, finished_at FROM jobs"
            " WHERE state = 'undeliverable' ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [Undeliverable(r["id"], r["guild_id"], r["channel_id"], r["user_id"], r["price"],
                              r["error_detail"], r["finished_at"]) for r in rows]

    async def image_of(self, job_id: int) -> str | None:
        """The stored image of an undeliverable job (None if the job is not undeliverable)."""
        row = await self._db.fetchone(
            "SELECT result_blob FROM jobs WHERE id = ? AND state = 'undeliverable'", (job_id,)
        )
        return None if row is None else row["result_blob"]

    async def reopen(self, job_id: int) -> bool:
        """Undeliverable → succeeded, with a fresh set of delivery attempts. False if it was not undeliverable."""
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                "UPDATE jobs SET state = 'succeeded', delivery_attempts = 0, updated_at = ?"
                " WHERE id = ? AND state = 'undeliverable' AND result_blob IS NOT NULL",
                (tx.now, job_id),
            )
            return cursor.rowcount == 1
