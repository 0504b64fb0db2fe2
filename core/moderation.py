"""Moderation data (owner of guild_policies, member_blocks, reports, result_reviews, review_requests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.db import Database
from core.guild_cache import GuildCache
from core.invalidation import Invalidations
from core.jobs import InteractionRef, JobKind
from core.models import GenerationSpec
from core.policy import GuildPolicy
from core.rows import dataclass_from_row
from core.screening import prepare as prepare_terms


@dataclass(frozen=True)
class NewRequest:
    """What a member asked for that a moderator approves before anything is generated or charged."""

    guild_id: int
    channel_id: int
    user_id: int
    kind: JobKind
    spec: GenerationSpec
    interaction: InteractionRef | None


@dataclass(frozen=True)
class ReviewRequest(NewRequest):
    id: int
    status: str
    job_id: int | None


# Whether a member is blocked (a row, `blocked` = 1) and why; also part of admission's one read
# about a member (core/ledger.py `member_snapshot`).
BLOCK_OF = "SELECT 1 AS blocked, reason FROM member_blocks WHERE guild_id = ? AND user_id = ?"


class ModerationStore:
    def __init__(self, db: Database, invalidations: Invalidations | None = None) -> None:
        self._db = db
        # Other processes' policy changes drop this one's copy (core/invalidation.py); while
        # announcements may be missed, nothing is kept.
        self._invalidations = invalidations or Invalidations()
        self._policies: GuildCache[GuildPolicy] = GuildCache(keep=lambda: self._invalidations.reliable)
        self._invalidations.on("policy", self._policies.drop)

    # --- policy ------------------------------------------------------------------------------

    async def policy(self, guild_id: int) -> GuildPolicy:
        policy = await self._policies.get(guild_id, lambda: self._read_policy(guild_id))
        await prepare_terms(policy.blocked_terms)  # compiled off the loop, before decide() needs it
        return policy

    def prefetch_policy(self, guild_id: int) -> None:
        """Start reading the guild's policy if it is not in memory."""
        self._policies.prefetch(guild_id, lambda: self._read_policy(guild_id))

    async def _read_policy(self, guild_id: int) -> GuildPolicy:
        row = await self._db.fetchone("SELECT policy FROM guild_policies WHERE guild_id = ?", (guild_id,))
        return GuildPolicy() if row is None else GuildPolicy.model_validate_json(row["policy"])

    async def update_policy(
        self, guild_id: int, by: int, change: Callable[[GuildPolicy], GuildPolicy]
    ) -> GuildPolicy:
        """Apply `change` to the stored policy in one transaction (validated before it is saved)."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT policy FROM guild_policies WHERE guild_id = ?", (guild_id,))
            current = GuildPolicy() if row is None else GuildPolicy.model_validate_json(row["policy"])
            updated = GuildPolicy.model_validate(change(current.model_copy(deep=True)).model_dump())
            await tx.execute(
                "INSERT INTO guild_policies (guild_id, policy, updated_by, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(guild_id) DO UPDATE SET policy = excluded.policy, updated_by = excluded.updated_by,"
                " updated_at = excluded.updated_at",
                (guild_id, updated.model_dump_json(), by, tx.now),
            )
            await self._invalidations.announce_in(tx, "policy", str(guild_id))
        self._policies.forget(guild_id)
        await prepare_terms(updated.blocked_terms)
        return updated

    # --- blocks ------------------------------------------------------------------------------

    async def block(self, guild_id: int, user_id: int, *, by: int, reason: str | None) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO member_blocks (guild_id, user_id, reason, blocked_by, created_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(guild_id, user_id) DO UPDATE SET reason = excluded.reason, blocked_by = excluded.blocked_by",
                (guild_id, user_id, reason, by, tx.now),
            )

    async def unblock(self, guild_id: int, user_id: int) -> bool:
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                "DELETE FROM member_blocks WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
            return cursor.rowcount == 1

    async def block_of(self, guild_id: int, user_id: int) -> tuple[bool, str | None]:
        row = await self._db.fetchone(BLOCK_OF, (guild_id, user_id))
        return (row is not None, row["reason"] if row else None)

    async def blocked_members(self, guild_id: int) -> list[int]:
        rows = await self._db.fetchall("SELECT user_id FROM member_blocks WHERE guild_id = ?", (guild_id,))
        return [r["user_id"] for r in rows]

    # --- reports and the visibility of results -------------------------------------------------

    async def add_report(self, guild_id: int, job_id: int, reporter_id: int) -> int | None:
        """Record a report; returns the job's report count, or None if this member already reported it."""
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                "INSERT INTO reports (guild_id, job_id, reporter_id, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (job_id, reporter_id) DO NOTHING",
                (guild_id, job_id, reporter_id, tx.now),
            )
            if cursor.rowcount == 0:
                return None
            row = await tx.fetchone("SELECT COUNT(*) AS n FROM reports WHERE job_id = ?", (job_id,))
            return int(row["n"])

    async def result_status(self, job_id: int) -> str:
        row = await self._db.fetchone("SELECT status FROM result_reviews WHERE job_id = ?", (job_id,))
        return row["status"] if row else "visible"

    async def set_result_status(
        self,
        guild_id: int,
        job_id: int,
        status: str,
        *,
        by: int | None,
        only_from: tuple[str, ...] | None = None,
    ) -> bool:
        """Set a result's status; with `only_from`, only when its current status is one of those."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT status FROM result_reviews WHERE job_id = ?", (job_id,))
            current = row["status"] if row else "visible"
            if only_from is not None and current not in only_from:
                return False
            await tx.execute(
                "INSERT INTO result_reviews (job_id, guild_id, status, decided_by, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(job_id) DO UPDATE SET status = excluded.status, decided_by = excluded.decided_by,"
                " updated_at = excluded.updated_at",
                (job_id, guild_id, status, by, tx.now),
            )
            return True

    # --- requests waiting for a moderator ------------------------------------------------------

    async def blobs_in_use(self) -> tuple[set[str], set[int]]:
        """What moderation may still need: the reference blobs of pending review requests, and the
        ids of jobs whose result is held or hidden (a moderator may release or restore it)."""
        references = await self._db.fetchall_in_thread(
            "SELECT value FROM review_requests, json_each(review_requests.spec, '$.references')"
            " WHERE status = 'pending'"
        )
        held = await self._db.fetchall_in_thread("SELECT job_id FROM result_reviews WHERE status IN ('held', 'hidden')")
        return {r["value"] for r in references if isinstance(r["value"], str)}, {r["job_id"] for r in held}

    async def create_request(self, request: NewRequest) -> int:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "INSERT INTO review_requests (guild_id, channel_id, user_id, kind, spec, application_id,"
                " interaction_token, interaction_at, progress_message_id, upload_limit, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
                (
                    request.guild_id,
                    request.channel_id,
                    request.user_id,
                    request.kind.value,
                    request.spec.model_dump_json(),
                    *InteractionRef.columns(request.interaction),
                    tx.now,
                    tx.now,
                ),
            )
            return int(row["id"])

    async def request(self, request_id: int) -> ReviewRequest | None:
        row = await self._db.fetchone("SELECT * FROM review_requests WHERE id = ?", (request_id,))
        if row is None:
            return None
        return dataclass_from_row(
            ReviewRequest,
            row,
            kind=JobKind(row["kind"]),
            spec=GenerationSpec.model_validate_json(row["spec"]),
            interaction=InteractionRef.from_row(row),
        )

    async def decide_request(self, request_id: int, status: str, *, by: int) -> bool:
        """Move a pending request to approved/rejected; False if someone already decided it."""
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                "UPDATE review_requests SET status = ?, decided_by = ?, updated_at = ? WHERE id = ? AND status = 'pending'",
                (status, by, tx.now, request_id),
            )
            return cursor.rowcount == 1

    async def fail_request(self, request_id: int) -> None:
        """An approved request that could not run ends rejected (its requester was told why)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE review_requests SET status = 'rejected', updated_at = ? WHERE id = ? AND status = 'approved'",
                (tx.now, request_id),
            )

    async def link_request_job(self, request_id: int, job_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE review_requests SET job_id = ? WHERE id = ?", (job_id, request_id))
