"""What an edit modal's submit starts: an edit of a stored result, or of a message's images.

Works from the modal's custom_id (cogs/ui/edit_modal.py), so a modal opened before a restart is
answered after it. The context menu's message is kept in memory while this process lives (its
attachments arrived with the menu's interaction); after a restart it is fetched again.
"""

from __future__ import annotations

from collections import OrderedDict

import discord

from cogs.ui import messages
from cogs.ui.checks import job_of_guild
from cogs.ui.edit_modal import EDIT_JOB, EDIT_MESSAGE
from core.errors import InvalidRequest
from core.jobs import JobKind
from core.models import DEFAULT_MODEL, GenerationSpec, ModelId

MENU_MESSAGES_KEPT = 500


class MenuMessages:
    """Messages the context menu was opened on, newest kept (their attachment URLs are signed)."""

    def __init__(self) -> None:
        self._messages: OrderedDict[int, discord.Message] = OrderedDict()

    def keep(self, message: discord.Message) -> None:
        self._messages[message.id] = message
        self._messages.move_to_end(message.id)
        while len(self._messages) > MENU_MESSAGES_KEPT:
            self._messages.popitem(last=False)

    async def get(self, client: discord.Client, channel_id: int, message_id: int) -> discord.Message:
        message = self._messages.get(message_id)
        if message is not None and message.channel.id == channel_id:
            return message
        try:
            channel = client.get_channel(channel_id) or await client.fetch_channel(channel_id)
            return await channel.fetch_message(message_id)
        except (discord.NotFound, discord.Forbidden):
            raise InvalidRequest("image", "is in a message that is gone or the bot cannot read") from None


def looks_like_image(attachment: discord.Attachment) -> bool:
    content_type = (attachment.content_type or "").split(";")[0].strip().lower()
    if content_type in ("image/png", "image/jpeg", "image/webp"):
        return True
    return attachment.filename.lower().endswith((".png", ".jpg", ".jpeg", ".webp"))


def draft_with(spec: GenerationSpec, attachments: list[discord.Attachment]) -> GenerationSpec:
    """The spec as it will be once the attachments are stored (for checks and prices before download)."""
    first = attachments[0] if attachments else None
    size = (first.width, first.height) if first is not None and first.width and first.height else None
    return spec.model_copy(update={"references": ["-"] * len(attachments), "reference_size": size})


async def answer_edit(cog, interaction: discord.Interaction, prompt: str, model: ModelId | None) -> None:
    """Start the edit an edit modal asked for (`cog` is GenerateCog)."""
    custom_id = (interaction.data or {}).get("custom_id", "")
    if match := EDIT_JOB.match(custom_id):
        job = await job_of_guild(cog.services.jobs, interaction, int(match["job"]))
        authors = {job.user_id} if job.spec.references else set()
        ref, size = await cog._result_as_reference(job)
        spec = GenerationSpec(model=job.model, prompt=prompt, references=[ref], reference_size=size)
        await cog.submit(interaction, spec, JobKind.EDIT, parent_job_id=job.id, reference_authors=authors)
        return
    match = EDIT_MESSAGE.match(custom_id)
    message = await cog.menu_messages.get(interaction.client, int(match["channel"]), int(match["message"]))
    model = model or DEFAULT_MODEL
    images = [a for a in message.attachments if looks_like_image(a)]
    if not images:
        raise InvalidRequest("image", "is gone from that message")
    used = images[: model.max_references]
    notice = messages.images_left_out(
        len(message.attachments) - len(images), len(images) - len(used), model.display_name, model.max_references,
        interaction.locale,
    )
    draft = draft_with(GenerationSpec(prompt=prompt, model=model), used)
    await cog.submit(
        interaction, draft, JobKind.EDIT, attachments=used, reference_authors={message.author.id}, notice=notice
    )
