"""How long stored images are kept (RESULT_RETENTION_DAYS), and what is never removed.

Every result and reference image is a file in the blob store; without a limit the store grows by
every image ever made. Once a day, blobs older than the retention period are removed unless
something may still need them:
- a job's image that has not reached its requester (queued … succeeded, or undeliverable: paid
  for and never delivered, so it is kept for as long as the job exists);
- a result held for review or hidden by reports (a moderator may release or restore it);
- the references of a review request still pending;
- anything a job created within the retention period uses (its result, its references).
A posted image lives on in Discord; after the period its Reroll/Edit buttons answer that the
image is no longer stored, and nothing is charged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from core.blobs import BlobStore
from core.jobs import JobStore
from core.moderation import ModerationStore

log = logging.getLogger(__name__)

DAY = 86_400


@dataclass(frozen=True)
class Sweep:
    removed: int
    freed_bytes: int
    kept: int


async def sweep_blobs(
    *, blobs: BlobStore, jobs: JobStore, moderation: ModerationStore, keep_days: float, now: float
) -> Sweep:
    cutoff = now - keep_days * DAY
    references, held_jobs = await moderation.blobs_in_use()
    keep = references | await jobs.blobs_in_use(since=cutoff, job_ids=held_jobs)
    removed, freed = await asyncio.to_thread(blobs.sweep, keep, cutoff)
    if removed:
        log.info("removed %d stored image(s) older than %g days (%.1f MiB)", removed, keep_days, freed / 2**20)
    return Sweep(removed=removed, freed_bytes=freed, kept=len(keep))
