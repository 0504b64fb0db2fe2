"""A batch's one message (cogs/ui/gallery.py): numbered buttons for the images shown, within
Discord's limits, and what it says of the images it does not show."""

from __future__ import annotations

import discord

from cogs.ui.gallery import gallery_embed, gallery_view
from core.batches import Batch
from core.jobs import Job, JobKind, JobState
from core.models import GenerationSpec, ModelId


def job(job_id: int, state: JobState, *, model: ModelId = ModelId.KLEIN, error_kind: str | None = None) -> Job:
    made = state is JobState.POSTED
    return Job(
        id=job_id, guild_id=1, channel_id=2, user_id=3, kind=JobKind.IMAGINE, parent_job_id=None,
        spec=GenerationSpec(prompt="a fox", model=model), price=2, state=state, request_id=None, interaction=None,
        result_blob="b" * 64 if made else None, result_mime="image/png" if made else None,
        result_seed=job_id if made else None, cost_usd=None, result_channel_id=None, result_message_id=None,
        error_kind=error_kind, error_detail="Prediction failed" if error_kind else None, notified=True,
        delivery_attempts=0, created_at=0.0, started_at=None, finished_at=None,
    )


def labels(view: discord.ui.View) -> dict[str, str]:
    return {item.item.label: item.item.custom_id for item in view.children}


def rows(view: discord.ui.View) -> dict[int, int]:
    counted: dict[int, int] = {}
    for item in view.children:
        counted[item.row] = counted.get(item.row, 0) + 1
    return counted


def test_four_klein_images_fill_five_rows_within_discord_limits():
    batch = Batch(7, 4, "delivering", None, 0, tuple(job(i, JobState.POSTED) for i in (11, 12, 13, 14)))
    view = gallery_view(batch)
    assert len(view.children) == 21 and rows(view) == {0: 5, 1: 5, 2: 5, 3: 5, 4: 1}
    shown = labels(view)
    assert shown["Reroll 2"] == "flux:reroll:12" and shown["Pro 4"] == "flux:pro:14" and shown["Info 1"] == "flux:info:11"
    assert shown["Delete"] == "flux:delete:11"
    assert len(set(shown.values())) == len(shown), "custom ids are unique in a message"


def test_only_images_shown_get_buttons_and_keep_their_numbers():
    jobs = (job(11, JobState.REFUNDED, error_kind="ProviderError"), job(12, JobState.POSTED, model=ModelId.PRO),
            job(13, JobState.REFUNDED, error_kind="JobCancelled"))
    batch = Batch(7, 4, "delivering", "Not enough credits.", 0, jobs)
    shown = labels(gallery_view(batch))
    assert set(shown) == {"Reroll 2", "Edit 2", "Report 2", "Info 2", "Delete"}, "Pro has no Finalize with Pro"
    assert shown["Delete"] == "flux:delete:12", "Delete names a job whose message this is"
    embed = gallery_embed(batch, {12: (None, "image/png")}, balance_after=90, scrub=lambda text: text)
    not_made = next(f.value for f in embed.fields if f.name == "Not made")
    assert "Image 1 failed and its 2 credits were refunded" in not_made
    assert "Image 3 was cancelled" in not_made
    assert "Image 4 was not started, nothing was charged for it: Not enough credits." in not_made
    assert embed.footer.text.startswith("Batch 7 · jobs 11, 12, 13")


def test_a_batch_with_no_image_has_no_buttons():
    batch = Batch(7, 2, "delivering", None, 0, (job(11, JobState.REFUNDED, error_kind="ProviderError"),) * 2)
    assert gallery_view(batch) is None
