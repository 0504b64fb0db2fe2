"""Several images from one command (`count`): one job per image, each with its own message.

Each image is its own job: reserved, charged, scheduled fairly and rate-limited on its own, and
posted with its own Reroll / Edit / Finalize buttons. They share the command's interaction:
image 1 fills its response, images 2… each fill a followup message of that interaction, so every
job's progress, result and failure is an edit of its own message and the presenter needs nothing
new (a job resumed after a restart is shown exactly like a live one).
"""

from __future__ import annotations

from dataclasses import replace

import discord

from cogs.ui import messages
from cogs.ui.errors import NO_MENTIONS
from cogs.ui.member_texts import batch_part
from core.admission import Admitted, NeedsReview, Outcome
from core.errors import BotError
from core.generation import GenerationService
from core.jobs import InteractionRef, JobKind
from core.models import SEED_MAX


async def create_jobs(
    generation: GenerationService,
    interaction: discord.Interaction,
    outcome: Admitted,
    kind: JobKind,
    ref: InteractionRef,
    *,
    parent_job_id: int | None,
    count: int,
) -> int:
    """Create `count` jobs of `outcome`; returns how many were created. The first refusal (the
    balance, the allowance or a pace limit, each checked again per job) ends the batch: it
    is raised for the first image and written into that image's message for the others."""
    if count > 1:
        # The first followup after a defer would replace the "thinking…" response itself.
        await interaction.followup.edit_message(
            ref.message_id, content=batch_part(1, count), allowed_mentions=NO_MENTIONS
        )
    created = 0
    for n in range(count):
        spec = outcome.spec
        if n and spec.seed is not None:
            # The same seed would draw the same image again.
            spec = spec.model_copy(update={"seed": (spec.seed + n) % (SEED_MAX + 1)})
        if n:
            placeholder = await interaction.followup.send(
                batch_part(n + 1, count), wait=True, ephemeral=spec.private, allowed_mentions=NO_MENTIONS
            )
            ref = replace(ref, message_id=placeholder.id)
        try:
            await generation.create_job(
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                user_id=interaction.user.id,
                kind=kind,
                spec=spec,
                parent_job_id=parent_job_id,
                interaction=ref,
                limits=outcome.limits.spend,
                pace=outcome.limits.pace,
            )
        except BotError as error:
            if not n:
                raise
            await interaction.followup.edit_message(
                ref.message_id, content=messages.failed(error), allowed_mentions=NO_MENTIONS
            )
            return created
        created += 1
    return created


def keep_private_only_unreviewed(outcome: Outcome) -> Outcome:
    """A result moderators review is never private: they approve it for the channel it was asked in."""
    spec = outcome.spec
    if spec.private and (isinstance(outcome, NeedsReview) or spec.hold_for_review):
        return replace(outcome, spec=spec.model_copy(update={"private": False}))
    return outcome
