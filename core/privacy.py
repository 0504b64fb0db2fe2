"""What the bot keeps about people, for how long, and how it forgets.

The rule (README, "Privacy"):
- Prompts and requester ids of finished jobs are kept PROMPT_RETENTION_DAYS (default 90): then the
  prompt is replaced by "[removed]" and the user id by 0 in the job, its review request and its
  reservation, and the ledger rows keep their amounts with the user id erased (NULL). The ledger
  stays append-only: migration 4 lets an UPDATE do nothing but erase `user_id` and `reason`.
- A member's `/privacy forget` does the same at once for every job of theirs that has finished,
  and removes the stored images (results and references) no one else's job or a pending review
  needs; a result held or hidden for review is kept until a moderator decides. The user id on the
  rows of the last ALLOWANCE_WINDOW_DAYS stays until they are that old (spending limits count
  those rows: forgetting must not reset an allowance); the daily sweep erases it then.
- When the bot leaves a server its data is kept GUILD_DATA_GRACE_DAYS (default 30; a rejoin cancels
  it), then removed: moderation settings and records, spending rules, stored images, prompts and
  user ids. The books stay: ledger amounts and job prices, anonymised.
Undeliverable jobs keep their requester until the image is fetched (it is theirs, and paid).
Every bulk change reads the ids to change in a worker thread, then updates them in small
transactions by primary key, so the event loop never stalls on a big table.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from core.blobs import BlobStore
from core.db import Database, Transaction
from core.guild_cache import forget_guild

log = logging.getLogger(__name__)

DAY = 86_400
ALLOWANCE_WINDOW_DAYS = 31  # the longest allowance period (monthly) plus a day
REMOVED = "[removed]"
CHUNK = 200


@dataclass(frozen=True)
class Forgotten:
    prompts: int
    images: int
    kept_for_review: int


_GONE = (
    "INSERT INTO guild_departures (guild_id, left_at)"
    " SELECT guild_id, ? FROM (SELECT guild_id FROM guild_credits UNION SELECT guild_id FROM guild_policies"
    " UNION SELECT guild_id FROM credit_settings UNION SELECT guild_id FROM allowances) AS known"
    " WHERE guild_id NOT IN (SELECT value FROM json_each(?)) ON CONFLICT(guild_id) DO NOTHING"
)
# The same, among the guilds whose events arrive on the given shards ((guild_id >> 22) % SHARD_COUNT).
_GONE_FROM_SHARDS = (
    "INSERT INTO guild_departures (guild_id, left_at)"
    " SELECT guild_id, ? FROM (SELECT guild_id FROM guild_credits UNION SELECT guild_id FROM guild_policies"
    " UNION SELECT guild_id FROM credit_settings UNION SELECT guild_id FROM allowances) AS known"
    " WHERE guild_id NOT IN (SELECT value FROM json_each(?))"
    " AND (guild_id >> 22) % ? IN (SELECT value FROM json_each(?)) ON CONFLICT(guild_id) DO NOTHING"
)


class Privacy:
    """Every statement is a literal with bound parameters; id lists travel as one JSON parameter."""

    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self._db = db
        self._blobs = blobs

    # --- a member's request -------------------------------------------------------------------------

    async def forget_member(self, user_id: int, now: float) -> Forgotten:
        held = {r["job_id"] for r in await self._db.fetchall_in_thread(
            "SELECT job_id FROM result_reviews WHERE status IN ('held', 'hidden')"
        )}
        rows = await self._db.fetchall_in_thread(
            "SELECT id, result_blob, spec FROM jobs WHERE user_id = ?"
            " AND state IN ('posted', 'refunded', 'undeliverable')",
            (user_id,),
        )
        jobs = [r["id"] for r in rows if r["id"] not in held]
        kept = len(rows) - len(jobs)
        await self._in_chunks(jobs, _scrub_jobs)
        requests = await self._db.fetchall_in_thread(
            "SELECT id FROM review_requests WHERE user_id = ? AND status != 'pending'", (user_id,)
        )
        await self._in_chunks([r["id"] for r in requests], _scrub_requests)
        images = await self._remove_blobs(_blobs_of(r for r in rows if r["id"] not in held), other_than_user=user_id)
        async with self._db.transaction() as tx:
            # Personal defaults and open quotes (which hold a prompt) go; styles keep no author.
            await tx.execute("DELETE FROM member_preferences WHERE user_id = ?", (user_id,))
            await tx.execute("DELETE FROM quotes WHERE user_id = ?", (user_id,))
            await tx.execute("UPDATE guild_styles SET created_by = 0 WHERE created_by = ?", (user_id,))
            await tx.execute(
                "INSERT INTO forget_requests (user_id, requested_at) VALUES (?, ?)"
                " ON CONFLICT(user_id) DO UPDATE SET requested_at = excluded.requested_at",
                (user_id, now),
            )
        await self._erase_user(user_id, before=now - ALLOWANCE_WINDOW_DAYS * DAY)
        log.info("forgot a member's data: %d prompt(s), %d image(s), %d kept for review", len(jobs), images, kept)
        return Forgotten(len(jobs), images, kept)

    async def _erase_user(self, user_id: int, *, before: float) -> None:
        """The member's id on rows older than `before` (finished jobs, reservations, the ledger)."""
        rows = await self._db.fetchall_in_thread(
            "SELECT id FROM jobs WHERE user_id = ? AND created_at < ? AND state IN ('posted', 'refunded')",
            (user_id, before),
        )
        await self._in_chunks([r["id"] for r in rows], _erase_jobs)
        rows = await self._db.fetchall_in_thread(
            "SELECT id FROM review_requests WHERE user_id = ? AND created_at < ? AND status != 'pending'",
            (user_id, before),
        )
        await self._in_chunks([r["id"] for r in rows], _erase_requests)
        rows = await self._db.fetchall_in_thread(
            "SELECT job_id FROM reservations WHERE user_id = ? AND created_at < ? AND state != 'held'",
            (user_id, before),
        )
        await self._in_chunks([r["job_id"] for r in rows], _erase_reservations)
        rows = await self._db.fetchall_in_thread(
            "SELECT id FROM ledger_entries WHERE user_id = ? AND created_at < ?", (user_id, before)
        )
        await self._in_chunks([r["id"] for r in rows], _erase_ledger)

    # --- leaving and rejoining a server -------------------------------------------------------------

    async def guild_left(self, guild_id: int, now: float) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO guild_departures (guild_id, left_at) VALUES (?, ?) ON CONFLICT(guild_id) DO NOTHING",
                (guild_id, now),
            )

    async def guild_joined(self, guild_id: int) -> bool:
        """The bot is (back) in the guild: a pending removal is cancelled. True if there was one."""
        async with self._db.transaction() as tx:
            cursor = await tx.execute("DELETE FROM guild_departures WHERE guild_id = ?", (guild_id,))
            return cursor.rowcount > 0

    async def guilds_present(
        self, guild_ids: list[int], now: float, shards: tuple[int, tuple[int, ...]] | None = None
    ) -> int:
        """The bot connected and is in exactly these guilds (READY lists every one, unavailable ones
        too): removals pending for them are cancelled, and a guild it holds settings or credits for
        but is no longer in (removed while the bot was offline) starts its grace period now.
        With `shards` (SHARD_COUNT, this process's SHARD_IDS) the list covers only those shards'
        guilds, so only guilds of those shards can be found gone (the others are other processes').
        Returns how many departures were recorded."""
        present = json.dumps(guild_ids)
        async with self._db.transaction() as tx:
            await tx.execute(
                "DELETE FROM guild_departures WHERE guild_id IN (SELECT value FROM json_each(?))", (present,)
            )
            if shards is None:
                cursor = await tx.execute(_GONE, (now, present))
            else:
                count, ids = shards
                cursor = await tx.execute(_GONE_FROM_SHARDS, (now, present, count, json.dumps(list(ids))))
            return cursor.rowcount

    async def purge_departed(self, now: float, grace_days: float) -> list[int]:
        """Remove the data of every server the bot left more than `grace_days` ago."""
        rows = await self._db.fetchall(
            "SELECT guild_id FROM guild_departures WHERE left_at <= ?", (now - grace_days * DAY,)
        )
        for row in rows:
            await self._purge_guild(row["guild_id"])
        return [row["guild_id"] for row in rows]

    async def _purge_guild(self, guild_id: int) -> None:
        rows = await self._db.fetchall_in_thread(
            "SELECT id, result_blob, spec FROM jobs WHERE guild_id = ?", (guild_id,)
        )
        requests = await self._db.fetchall_in_thread(
            "SELECT NULL AS result_blob, spec FROM review_requests WHERE guild_id = ?", (guild_id,)
        )
        images = await self._remove_blobs(_blobs_of([*rows, *requests]), other_than_guild=guild_id)
        await self._in_chunks([r["id"] for r in rows], _erase_jobs_prompts)
        entries = await self._db.fetchall_in_thread(
            "SELECT id FROM ledger_entries WHERE guild_id = ? AND (user_id IS NOT NULL OR reason IS NOT NULL)",
            (guild_id,),
        )
        await self._in_chunks([r["id"] for r in entries], _erase_ledger)
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE reservations SET user_id = 0 WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM review_requests WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM reports WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM result_reviews WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM member_blocks WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM guild_policies WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM allowances WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM credit_settings WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM guild_styles WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM member_preferences WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM guild_presentation WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM quotes WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM guild_departures WHERE guild_id = ?", (guild_id,))
        forget_guild(guild_id)  # the settings kept in memory (core/guild_cache.py) went with the rows
        log.info("removed the data of guild %d after the grace period (%d stored image(s))", guild_id, images)

    # --- the daily sweep ----------------------------------------------------------------------------

    async def sweep(self, *, now: float, prompt_days: float, grace_days: float) -> None:
        """PROMPT_RETENTION_DAYS, forget requests that still wait for their window, departed guilds."""
        if prompt_days > 0:
            cutoff = now - prompt_days * DAY
            rows = await self._db.fetchall_in_thread(
                "SELECT id FROM jobs WHERE created_at < ? AND user_id != 0 AND state IN ('posted', 'refunded')",
                (cutoff,),
            )
            await self._in_chunks([r["id"] for r in rows], _erase_jobs_prompts)
            rows = await self._db.fetchall_in_thread(
                "SELECT id FROM review_requests WHERE created_at < ? AND user_id != 0 AND status != 'pending'",
                (cutoff,),
            )
            await self._in_chunks([r["id"] for r in rows], _erase_requests_prompts)
            rows = await self._db.fetchall_in_thread(
                "SELECT job_id FROM reservations WHERE created_at < ? AND user_id != 0 AND state != 'held'", (cutoff,)
            )
            await self._in_chunks([r["job_id"] for r in rows], _erase_reservations)
            rows = await self._db.fetchall_in_thread(
                "SELECT id FROM ledger_entries WHERE created_at < ? AND user_id IS NOT NULL", (cutoff,)
            )
            await self._in_chunks([r["id"] for r in rows], _erase_ledger)
        window = now - ALLOWANCE_WINDOW_DAYS * DAY
        for row in await self._db.fetchall("SELECT user_id, requested_at FROM forget_requests"):
            await self._erase_user(row["user_id"], before=window)
            if row["requested_at"] < window:
                async with self._db.transaction() as tx:
                    await tx.execute("DELETE FROM forget_requests WHERE user_id = ?", (row["user_id"],))
        await self.purge_departed(now, grace_days)

    # --- helpers ----------------------------------------------------------------------------------

    async def _in_chunks(self, ids: list[int], apply: Callable[[Transaction, str], Awaitable[object]]) -> None:
        for start in range(0, len(ids), CHUNK):
            async with self._db.transaction() as tx:
                await apply(tx, json.dumps(ids[start : start + CHUNK]))
            await asyncio.sleep(0)  # let Discord's traffic through between chunks

    async def _remove_blobs(
        self, candidates: set[str], *, other_than_guild: int | None = None, other_than_user: int | None = None
    ) -> int:
        """Remove these blobs unless a job of another guild (or user), a job not finished or held for
        review, or a pending review request still uses them."""
        if not candidates:
            return 0
        rows = await self._db.fetchall_in_thread(
            "WITH live AS (SELECT result_blob, spec FROM jobs WHERE"
            " (CAST(? AS BIGINT) IS NOT NULL AND guild_id != ?) OR (CAST(? AS BIGINT) IS NOT NULL AND user_id != ?)"
            " OR state NOT IN ('posted', 'refunded', 'undeliverable')"
            " OR id IN (SELECT job_id FROM result_reviews WHERE status IN ('held', 'hidden'))"
            " UNION ALL SELECT NULL, spec FROM review_requests WHERE status = 'pending')"
            " SELECT result_blob AS blob FROM live WHERE result_blob IS NOT NULL"
            " UNION SELECT r.value FROM live, json_each(live.spec, '$.references') AS r",
            (other_than_guild, other_than_guild, other_than_user, other_than_user),
        )
        keep = {r["blob"] for r in rows if isinstance(r["blob"], str)}
        return await asyncio.to_thread(self._unlink, candidates - keep)

    def _unlink(self, digests: Iterable[str]) -> int:
        removed = 0
        for digest in digests:
            try:
                self._blobs.path(digest).unlink()
                removed += 1
            except (FileNotFoundError, ValueError):
                continue
        return removed


# The prompt is replaced by REMOVED (so the spec still reads as a job) and the negative prompt dropped.


async def _scrub_jobs(tx: Transaction, ids: str) -> None:
    await tx.execute(
        "UPDATE jobs SET spec = json_set(json_remove(spec, '$.negative_prompt'), '$.prompt', '[removed]'),"
        " interaction_token = NULL WHERE id IN (SELECT value FROM json_each(?))",
        (ids,),
    )


async def _erase_jobs_prompts(tx: Transaction, ids: str) -> None:
    await tx.execute(
        "UPDATE jobs SET spec = json_set(json_remove(spec, '$.negative_prompt'), '$.prompt', '[removed]'),"
        " interaction_token = NULL, error_detail = NULL, user_id = 0 WHERE id IN (SELECT value FROM json_each(?))",
        (ids,),
    )


async def _erase_jobs(tx: Transaction, ids: str) -> None:
    await tx.execute(
        "UPDATE jobs SET user_id = 0, interaction_token = NULL WHERE id IN (SELECT value FROM json_each(?))", (ids,)
    )


async def _scrub_requests(tx: Transaction, ids: str) -> None:
    await tx.execute(
        "UPDATE review_requests SET spec = json_set(json_remove(spec, '$.negative_prompt'), '$.prompt',"
        " '[removed]'), interaction_token = NULL WHERE id IN (SELECT value FROM json_each(?))",
        (ids,),
    )


async def _erase_requests_prompts(tx: Transaction, ids: str) -> None:
    await tx.execute(
        "UPDATE review_requests SET spec = json_set(json_remove(spec, '$.negative_prompt'), '$.prompt',"
        " '[removed]'), interaction_token = NULL, user_id = 0 WHERE id IN (SELECT value FROM json_each(?))",
        (ids,),
    )


async def _erase_requests(tx: Transaction, ids: str) -> None:
    await tx.execute(
        "UPDATE review_requests SET user_id = 0, interaction_token = NULL WHERE id IN (SELECT value FROM json_each(?))",
        (ids,),
    )


async def _erase_reservations(tx: Transaction, ids: str) -> None:
    await tx.execute("UPDATE reservations SET user_id = 0 WHERE job_id IN (SELECT value FROM json_each(?))", (ids,))


async def _erase_ledger(tx: Transaction, ids: str) -> None:
    await tx.execute(
        "UPDATE ledger_entries SET user_id = NULL, reason = NULL WHERE id IN (SELECT value FROM json_each(?))", (ids,)
    )


def _blobs_of(rows: Iterable) -> set[str]:
    found: set[str] = set()
    for row in rows:
        if row["result_blob"]:
            found.add(row["result_blob"])
        try:
            refs = json.loads(row["spec"]).get("references") or []
        except (ValueError, AttributeError):
            continue
        found.update(r for r in refs if isinstance(r, str))
    return found
