"""Jobs: durable rows, written before any money or HTTP moves (owner of the `jobs` table).

    queued ──► submitting ──► submitted ──► succeeded ──► posted
       │            │              │             └──────► undeliverable (paid image kept on disk)
       └────────────┴──────────────┴──► refunded  (reservation released, requester told)

`submitting` means the billed POST may be on the wire: after a crash in that state nobody can
know whether Segmind accepted it, and it is never re-posted. Every transition that moves money
is written in the same transaction as the ledger change (see core/generation.py).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass

from core.db import Database, Transaction
from core.errors import JobNotFound
from core.leases import fence_params
from core.models import GenerationSpec, ModelId
from core.rows import dataclass_from_row


class JobState(enum.StrEnum):
    QUEUED = "queued"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    SUCCEEDED = "succeeded"
    POSTED = "posted"
    REFUNDED = "refunded"
    UNDELIVERABLE = "undeliverable"

    @property
    def final(self) -> bool:
        return self in (JobState.POSTED, JobState.REFUNDED, JobState.UNDELIVERABLE)


class JobKind(enum.StrEnum):
    IMAGINE = "imagine"
    EDIT = "edit"
    REROLL = "reroll"
    FINALIZE = "finalize"


@dataclass(frozen=True)
class InteractionRef:
    """Enough of a Discord interaction to keep editing its response after a restart."""

    application_id: int
    token: str
    created_at: float
    message_id: int | None = None
    upload_limit: int | None = None  # the interaction's attachment_size_limit

    @staticmethod
    def columns(ref: InteractionRef | None) -> tuple:
        """Values for the interaction columns jobs and review requests share (all None without one)."""
        if ref is None:
            return (None, None, None, None, None)
        return (ref.application_id, ref.token, ref.created_at, ref.message_id, ref.upload_limit)

    @classmethod
    def from_row(cls, row) -> InteractionRef | None:
        """From the interaction columns that jobs and review requests share (None without a token)."""
        if not row["interaction_token"]:
            return None
        return cls(
            row["application_id"],
            row["interaction_token"],
            row["interaction_at"],
            row["progress_message_id"],
            row["upload_limit"],
        )


@dataclass(frozen=True)
class Job:
    id: int
    guild_id: int
    channel_id: int
    user_id: int
    kind: JobKind
    parent_job_id: int | None
    spec: GenerationSpec
    price: int
    state: JobState
    request_id: str | None
    interaction: InteractionRef | None
    result_blob: str | None
    result_mime: str | None
    result_seed: int | None
    cost_usd: float | None
    result_channel_id: int | None
    result_message_id: int | None
    error_kind: str | None
    error_detail: str | None
    notified: bool
    delivery_attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None

    @property
    def model(self) -> ModelId:
        return self.spec.model

    @classmethod
    def from_row(cls, row) -> Job:
        return dataclass_from_row(
            cls,
            row,
            kind=JobKind(row["kind"]),
            spec=GenerationSpec.model_validate_json(row["spec"]),
            state=JobState(row["state"]),
            interaction=InteractionRef.from_row(row),
            notified=bool(row["notified"]),
        )


@dataclass(frozen=True)
class Undeliverable:
    """A paid image that reached no one: the interaction, the channel and a DM all refused it (or
    Discord failed for ~43 minutes of retries). The image stays stored (core/retention.py keeps it)."""

    job_id: int
    guild_id: int
    channel_id: int
    user_id: int
    price: int
    detail: str | None
    finished_at: float | None


class JobStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert_in(
        self,
        tx: Transaction,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        kind: JobKind,
        spec: GenerationSpec,
        price: int,
        parent_job_id: int | None,
        interaction: InteractionRef | None,
    ) -> int:
        row = await tx.fetchone(
            "INSERT INTO jobs (guild_id, channel_id, user_id, kind, parent_job_id, model, spec, price, state,"
            " application_id, interaction_token, interaction_at, progress_message_id, upload_limit, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                guild_id,
                channel_id,
                user_id,
                kind.value,
                parent_job_id,
                spec.model.value,
                spec.model_dump_json(),
                price,
                *InteractionRef.columns(interaction),
                tx.now,
                tx.now,
            ),
        )
        return int(row["id"])

    async def get(self, job_id: int) -> Job:
        row = await self._db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if row is None:
            raise JobNotFound(job_id)
        return Job.from_row(row)

    async def get_in(self, tx: Transaction, job_id: int) -> Job:
        row = await tx.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if row is None:
            raise JobNotFound(job_id)
        return Job.from_row(row)

    async def unfinished(self) -> list[Job]:
        rows = await self._db.fetchall(
            "SELECT * FROM jobs WHERE state NOT IN ('posted', 'refunded', 'undeliverable')"
            " OR (state = 'refunded' AND notified = 0) ORDER BY id"
        )
        return [Job.from_row(r) for r in rows]

    async def count_waiting(self, guild_id: int) -> int:
        row = await self._db.fetchone(
            # Without statistics the planner prefers the covering member index, which walks every job
            # the guild ever had; the partial index holds only the unanswered ones (migration 6).
            "SELECT COUNT(*) AS n FROM jobs INDEXED BY jobs_in_flight"
            " WHERE guild_id = ? AND state IN ('queued', 'submitting', 'submitted')",
            (guild_id,),
        )
        return int(row["n"]) if row else 0

    async def _update(self, job_id: int, sql_set: str, params: tuple, *, expect: tuple[JobState, ...]) -> bool:
        """Apply `sql_set` only if the job is in one of `expect`; False when it was not."""
        placeholders = ", ".join("?" for _ in expect)
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                f"UPDATE jobs SET {sql_set}, updated_at = ? WHERE id = ? AND state IN ({placeholders})"  # noqa: S608 - fixed fragments
                " AND (CAST(? AS BIGINT) IS NULL OR fence = ?)",  # core/leases.py: a lost job changes nothing
                (*params, tx.now, job_id, *(s.value for s in expect), *fence_params()),
            )
            return cursor.rowcount == 1

    async def mark_submitting(self, job_id: int, now: float) -> bool:
        return await self._update(
            job_id, "state = 'submitting', started_at = COALESCE(started_at, ?)", (now,), expect=(JobState.QUEUED,)
        )

    async def mark_submitted(self, job_id: int, request_id: str) -> bool:
        return await self._update(
            job_id, "state = 'submitted', request_id = ?", (request_id,), expect=(JobState.SUBMITTING,)
        )

    async def set_progress_message(self, job_id: int, message_id: int) -> None:
        async with self._db.transaction() as tx:
            tx.defer(
                "UPDATE jobs SET progress_message_id = ?, updated_at = ? WHERE id = ?", (message_id, tx.now, job_id)
            )

    async def succeed_in(
        self,
        tx: Transaction,
        job_id: int,
        *,
        blob: str,
        mime: str,
        seed: int | None,
        cost_usd: float | None,
        request_id: str | None = None,
    ) -> bool:
        """The image is stored: the job succeeded. `request_id` is Segmind's id when the job has none
        yet (a v1 call names its request only in the answer)."""
        cursor = await tx.execute(
            "UPDATE jobs SET state = 'succeeded', result_blob = ?, result_mime = ?, result_seed = ?, cost_usd = ?,"
            " request_id = COALESCE(request_id, ?), finished_at = ?, updated_at = ?"
            " WHERE id = ? AND state IN ('queued', 'submitting', 'submitted') AND (CAST(? AS BIGINT) IS NULL OR fence = ?)",
            (blob, mime, seed, cost_usd, request_id, tx.now, tx.now, job_id, *fence_params()),
        )
        return cursor.rowcount == 1

    async def refund_in(self, tx: Transaction, job_id: int, *, error_kind: str, error_detail: str) -> bool:
        cursor = await tx.execute(
            "UPDATE jobs SET state = 'refunded', error_kind = ?, error_detail = ?, finished_at = ?, updated_at = ?"
            " WHERE id = ? AND state IN ('queued', 'submitting', 'submitted') AND (CAST(? AS BIGINT) IS NULL OR fence = ?)",
            (error_kind, error_detail[:500], tx.now, tx.now, job_id, *fence_params()),
        )
        return cursor.rowcount == 1

    async def cancel_in(self, tx: Transaction, job_id: int) -> bool:
        """A queued job its requester (or a moderator) cancelled: nothing was sent to Segmind."""
        cursor = await tx.execute(
            "UPDATE jobs SET state = 'refunded', error_kind = 'JobCancelled', error_detail = 'cancelled',"
            " notified = 1, finished_at = ?, updated_at = ? WHERE id = ? AND state = 'queued'",
            (tx.now, tx.now, job_id),
        )
        return cursor.rowcount == 1

    async def mark_posted(self, job_id: int, *, channel_id: int, message_id: int) -> bool:
        return await self._update(
            job_id,
            # The token is kept: it expires by itself after 15 minutes, and a result held for review
            # still needs it to tell the requester what the moderators decided.
            "state = 'posted', result_channel_id = ?, result_message_id = ?",
            (channel_id, message_id),
            expect=(JobState.SUCCEEDED,),
        )

    async def mark_delivery_failed(self, job_id: int, *, give_up: bool, detail: str) -> None:
        state = "'undeliverable'" if give_up else "state"
        async with self._db.transaction() as tx:
            tx.defer(
                f"UPDATE jobs SET state = {state}, delivery_attempts = delivery_attempts + 1,"  # noqa: S608 - fixed
                " error_detail = ?, updated_at = ? WHERE id = ? AND state = 'succeeded'"
                " AND (CAST(? AS BIGINT) IS NULL OR fence = ?)",
                (detail[:500], tx.now, job_id, *fence_params()),
            )

    async def mark_notified(self, job_id: int) -> None:
        async with self._db.transaction() as tx:
            tx.defer(
                "UPDATE jobs SET notified = 1, interaction_token = NULL, updated_at = ? WHERE id = ?", (tx.now, job_id)
            )

    async def set_result_message(self, job_id: int, *, channel_id: int, message_id: int) -> None:
        """Where a posted result now lives (e.g. after a moderator released it from review)."""
        async with self._db.transaction() as tx:
            tx.defer(
                "UPDATE jobs SET result_channel_id = ?, result_message_id = ?, updated_at = ? WHERE id = ?",
                (channel_id, message_id, tx.now, job_id),
            )

    async def usd_by_guild(self) -> dict[int, float]:
        """What Segmind reported charging (US dollars), per guild, for jobs that produced an image.
        Every job's row (0.5 s at 500 k jobs): on its own connection, like `Ledger.guild_summaries`."""
        rows = await self._db.fetchall_in_thread(
            "SELECT guild_id, SUM(cost_usd) AS usd FROM jobs WHERE cost_usd IS NOT NULL GROUP BY guild_id"
        )
        return {r["guild_id"]: float(r["usd"] or 0.0) for r in rows}

    async def blobs_in_use(self, *, since: float, job_ids: Iterable[int] = ()) -> set[str]:
        """Blobs jobs may still need: the results and references of every job created since
        `since`, of every job whose image has not reached its requester (queued … succeeded,
        undeliverable), and of `job_ids` (results a moderator may still restore)."""
        rows = await self._db.fetchall_in_thread(
            "WITH live AS (SELECT result_blob, spec FROM jobs WHERE created_at >= ?"
            " OR state NOT IN ('posted', 'refunded') OR id IN (SELECT value FROM json_each(?)))"
            " SELECT result_blob AS blob FROM live WHERE result_blob IS NOT NULL"
            " UNION SELECT r.value FROM live, json_each(live.spec, '$.references') AS r",
            (since, json.dumps(sorted(set(job_ids)))),
        )
        return {r["blob"] for r in rows if isinstance(r["blob"], str)}

    async def in_flight_by_model(self) -> dict[ModelId, int]:
        """Accepted jobs Segmind has not answered yet, per model (what the account still owes)."""
        rows = await self._db.fetchall(
            "SELECT model, COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'submitting', 'submitted') GROUP BY model"
        )
        return {ModelId(r["model"]): int(r["n"]) for r in rows}

    async def member_usage(self, guild_id: int, user_id: int, since: float) -> tuple[int, float | None, int]:
        return _member_usage(await self._db.fetchone(_MEMBER_USAGE, _member_usage_params(guild_id, user_id, since)))

    @staticmethod
    async def member_usage_in(tx: Transaction, guild_id: int, user_id: int, since: float) -> tuple[int, float | None, int]:
        """(jobs not finished yet, time of the latest job, jobs created since `since` and not
        refunded) of one member, inside the transaction that creates their next job."""
        return _member_usage(await tx.fetchone(_MEMBER_USAGE, _member_usage_params(guild_id, user_id, since)))

    async def active_of(self, guild_id: int, user_id: int) -> list[Job]:
        """A member's jobs that have not reached Segmind's answer yet, oldest first (for /queue)."""
        rows = await self._db.fetchall(
            "SELECT * FROM jobs INDEXED BY jobs_member_running WHERE guild_id = ? AND user_id = ?"
            " AND state IN ('queued', 'submitting', 'submitted', 'succeeded') AND state != 'succeeded'"
            " ORDER BY id LIMIT 25",
            (guild_id, user_id),
        )
        return [Job.from_row(r) for r in rows]

    async def results_of(self, guild_id: int, user_id: int, *, before: int | None, limit: int) -> list[Job]:
        """A member's stored results in a server, newest first, paged by keyset (`before` = the
        last id of the previous page), through the index of migration 5."""
        rows = await self._db.fetchall(
            "SELECT * FROM jobs WHERE guild_id = ? AND user_id = ? AND id < ?"
            " AND state IN ('posted', 'succeeded', 'undeliverable') AND result_blob IS NOT NULL"
            " ORDER BY id DESC LIMIT ?",
            (guild_id, user_id, before if before is not None else 2**62, limit),
        )
        return [Job.from_row(r) for r in rows]

    async def by_result_message(self, message_id: int) -> Job | None:
        row = await self._db.fetchone("SELECT * FROM jobs WHERE result_message_id = ?", (message_id,))
        return None if row is None else Job.from_row(row)

    async def unfinished_by_state(self) -> dict[str, int]:
        """How many jobs are in each state that is not final (for the metrics)."""
        rows = await self._db.fetchall(
            "SELECT state, COUNT(*) AS n FROM jobs"
            " WHERE state NOT IN ('posted', 'refunded', 'undeliverable') GROUP BY state"
        )
        return {row["state"]: row["n"] for row in rows}

    # --- paid images that reached no one (/owner undeliverable, /owner redeliver) -------------------

    async def undeliverable(self, limit: int = 25) -> list[Undeliverable]:
        # jobs_unfinished is a partial index that leaves undeliverable out; these are few, by design.
        rows = await self._db.fetchall_in_thread(
            "SELECT id, guild_id, channel_id, user_id, price, error_detail, finished_at FROM jobs"
            " WHERE state = 'undeliverable' ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [Undeliverable(r["id"], r["guild_id"], r["channel_id"], r["user_id"], r["price"],
                              r["error_detail"], r["finished_at"]) for r in rows]

    async def undeliverable_image(self, job_id: int) -> str | None:
        """The stored image of an undeliverable job (None if the job is not undeliverable)."""
        row = await self._db.fetchone(
            "SELECT result_blob FROM jobs WHERE id = ? AND state = 'undeliverable'", (job_id,)
        )
        return None if row is None else row["result_blob"]

    async def reopen_undeliverable(self, job_id: int) -> bool:
        """Undeliverable → succeeded, with a fresh set of delivery attempts (the ordinary delivery
        path then tries again). False if it was not undeliverable."""
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                "UPDATE jobs SET state = 'succeeded', delivery_attempts = 0, updated_at = ?"
                " WHERE id = ? AND state = 'undeliverable' AND result_blob IS NOT NULL",
                (tx.now, job_id),
            )
            return cursor.rowcount == 1


# Each part reads an index (migration 4), so the cost does not grow with the member's history: the
# running count reads only the member's unfinished jobs (the planner, without statistics, would
# otherwise walk all of the member's jobs), the latest job is one index probe, today's jobs a range.
_MEMBER_USAGE = (
    "SELECT (SELECT COUNT(*) FROM jobs INDEXED BY jobs_member_running WHERE guild_id = ? AND user_id = ?"
    " AND state IN ('queued', 'submitting', 'submitted', 'succeeded')) AS running,"
    " (SELECT MAX(created_at) FROM jobs WHERE guild_id = ? AND user_id = ?) AS last_at,"
    " (SELECT COUNT(*) FROM jobs WHERE guild_id = ? AND user_id = ? AND created_at >= ?"
    " AND state != 'refunded') AS recent"
)


def _member_usage_params(guild_id: int, user_id: int, since: float) -> tuple:
    return (guild_id, user_id, guild_id, user_id, guild_id, user_id, since)


def _member_usage(row) -> tuple[int, float | None, int]:
    return int(row["running"] or 0), row["last_at"], int(row["recent"] or 0)
