"""Quotes waiting for the member's answer, kept in the database so Confirm works after a restart.

Owner of the `quotes` table. A quote holds the request (spec, count, who and where), not the
admission outcome: the answer re-runs admission with the click, so a balance, allowance or policy
that changed in between is honoured, and a quote can start at most one batch however often and
from whichever process its buttons are clicked (`claim` is one conditional UPDATE).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.db import Database
from core.jobs import JobKind
from core.models import GenerationSpec
from core.rows import dataclass_from_row

QUOTE_SECONDS = 15 * 60  # as long as the interaction that shows it can be followed up


@dataclass(frozen=True)
class PendingQuote:
    id: int
    guild_id: int
    channel_id: int
    user_id: int
    kind: JobKind
    count: int
    spec: GenerationSpec
    parent_job_id: int | None
    reference_authors: frozenset[int]


class QuoteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open(
        self,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        kind: JobKind,
        count: int,
        spec: GenerationSpec,
        parent_job_id: int | None,
        reference_authors: frozenset[int],
    ) -> int:
        async with self._db.transaction() as tx:
            # Answered or expired quotes are of no use to anyone: cleared as new ones come.
            await tx.execute(
                "DELETE FROM quotes WHERE state = 'answered' OR created_at < ?", (tx.now - QUOTE_SECONDS,)
            )
            row = await tx.fetchone(
                "INSERT INTO quotes (guild_id, channel_id, user_id, kind, count, spec, parent_job_id,"
                " reference_authors, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?) RETURNING id",
                (
                    guild_id, channel_id, user_id, kind.value, count, spec.model_dump_json(), parent_job_id,
                    json.dumps(sorted(reference_authors)), tx.now,
                ),
            )
            return int(row["id"])

    async def claim(self, quote_id: int, user_id: int) -> PendingQuote | None:
        """The quote, answered now by its member; None if it was answered already, expired or is not theirs."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE quotes SET state = 'answered' WHERE id = ? AND user_id = ? AND state = 'open'"
                " AND created_at >= ? RETURNING *",
                (quote_id, user_id, tx.now - QUOTE_SECONDS),
            )
        if row is None:
            return None
        return dataclass_from_row(
            PendingQuote,
            row,
            kind=JobKind(row["kind"]),
            spec=GenerationSpec.model_validate_json(row["spec"]),
            reference_authors=frozenset(json.loads(row["reference_authors"])),
        )
