"""Several images from one command (`count`): one job per image, all shown in one message.

Each image is its own job: reserved, charged, scheduled fairly and rate-limited on its own. The jobs
of one command form a batch (core/batches.py): the command's message shows a line of progress per
image and, once every job is final (succeeded, or refunded), becomes one message with all the
images and numbered buttons per image (cogs/ui/gallery.py). The batch lives in the database, so a
batch whose jobs end after a restart is still posted, once.

Results held for moderator review are the exception: each is held and released on its own, so
those jobs keep one message each (the command's response, then followups).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import discord

from cogs.ui import batch_texts, messages
from cogs.ui.error_texts import localised_error
from cogs.ui.errors import NO_MENTIONS
from cogs.ui.i18n import tr
from cogs.ui.member_texts import batch_part
from cogs.ui.requests import origin
from core.admission import Admitted, NeedsReview, Outcome
from core.errors import BotError
from core.generation import GenerationService
from core.jobs import InteractionRef, JobKind
from core.models import SEED_MAX, GenerationSpec


@dataclass(frozen=True)
class _Order:
    """One command's `count` images, as create_jobs was asked for them."""

    generation: GenerationService
    interaction: discord.Interaction
    outcome: Admitted
    kind: JobKind
    parent_job_id: int | None
    count: int

    def spec(self, n: int) -> GenerationSpec:
        spec = self.outcome.spec
        if n and spec.seed is not None:
            # The same seed would draw the same image again.
            spec = spec.model_copy(update={"seed": (spec.seed + n) % (SEED_MAX + 1)})
        return spec

    async def create(self, spec: GenerationSpec, ref: InteractionRef, **batch) -> None:
        await self.generation.create_job(
            **origin(self.interaction),
            kind=self.kind,
            spec=spec,
            parent_job_id=self.parent_job_id,
            interaction=ref,
            limits=self.outcome.limits.spend,
            pace=self.outcome.limits.pace,
            **batch,
        )


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
    balance, the allowance or a pace limit, each checked again per job) ends the batch: it is
    raised for the first image, and the batch's message says it for the others."""
    order = _Order(generation, interaction, outcome, kind, parent_job_id, count)
    if count > 1 and not outcome.spec.hold_for_review:
        return await _create_batch(order, ref)
    return await _create_one_by_one(order, ref)


async def _create_batch(order: _Order, ref: InteractionRef) -> int:
    generation, count = order.generation, order.count
    locale = order.outcome.spec.locale  # the batch's message is public: the server's language
    await order.interaction.followup.edit_message(
        ref.message_id, content=tr(batch_texts.MAKING, locale, count=count), allowed_mentions=NO_MENTIONS
    )
    batch_id = await generation.open_batch(count)
    created = 0
    stop_note: str | None = None
    try:
        for n in range(count):
            try:
                await order.create(order.spec(n), ref, batch=(batch_id, n + 1))
            except BotError as error:
                if not n:
                    raise
                stop_note = localised_error(error, locale) or messages.describe_error(error)
                break
            created += 1
    finally:
        # Also on a refusal or a crash of this task: the jobs already created are shown together.
        await generation.close_batch(batch_id, stop_note=stop_note)
    return created


async def _create_one_by_one(order: _Order, ref: InteractionRef) -> int:
    """Each job in its own message: image 1 fills the command's response, images 2… followups."""
    interaction, count = order.interaction, order.count
    if count > 1:
        # The first followup after a defer would replace the "thinking…" response itself.
        await interaction.followup.edit_message(
            ref.message_id, content=batch_part(1, count, order.spec(0).locale), allowed_mentions=NO_MENTIONS
        )
    created = 0
    for n in range(count):
        spec = order.spec(n)
        if n:
            placeholder = await interaction.followup.send(
                batch_part(n + 1, count, spec.locale),
                wait=True,
                ephemeral=spec.private,
                allowed_mentions=NO_MENTIONS,
            )
            ref = replace(ref, message_id=placeholder.id)
        try:
            await order.create(spec, ref)
        except BotError as error:
            if not n:
                raise
            await interaction.followup.edit_message(
                ref.message_id,
                content=f"❌ {localised_error(error, spec.locale) or messages.describe_error(error)}",
                allowed_mentions=NO_MENTIONS,
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
