"""/imagine, /edit, the "Edit with FLUX" context menu and the result buttons.

Thin glue: acknowledge at once, turn options and attachments into a `GenerationSpec`, hand it to
`GenerationService`, and let the presenter show what happens. Every error goes to cogs/ui/errors.py.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui import messages, patches
from cogs.ui.batch import create_jobs, keep_private_only_unreviewed
from cogs.ui.checks import job_of_guild, require_guild
from cogs.ui.defaults import choose, style_choices
from cogs.ui.edit_flow import MenuMessages, answer_edit, draft_with, looks_like_image
from cogs.ui.edit_modal import EditPromptModal, submitted
from cogs.ui.errors import NO_MENTIONS, report_error
from cogs.ui.i18n import tr
from cogs.ui.member_texts import STARTING
from cogs.ui.options import EDIT_IMAGES, EDIT_RATIO_CHOICES, generation_options, model_or_default
from cogs.ui.quote import show_quote, show_stored_quote
from cogs.ui.requests import origin, request_of
from cogs.ui.review import Review
from core.ack_first import AckFirst
from core.admission import NeedsQuote, NeedsReview, Outcome, with_references
from core.downloads import DownloadError, HostNotAllowed, TooLarge
from core.errors import InvalidAttachment, InvalidRequest, NotAllowed
from core.events import ResultDeleted
from core.generation import spec_for_finalize
from core.images import ImageInfo
from core.jobs import InteractionRef, Job, JobKind
from core.models import GenerationSpec
from core.moderation import NewRequest
from core.services import Services
from core.snowflake import snowflake_time

log = logging.getLogger(__name__)


class GenerateCog(commands.Cog, name="Generate"):
    def __init__(self, bot: commands.Bot, services: Services, review: Review) -> None:
        self.bot = bot
        self.services = services
        self.review = review  # reports and held requests go to the review service
        self.menu_messages = MenuMessages()
        self.acks = AckFirst()  # jobs start once no other command waits for its acknowledgement
        self.context_menu = app_commands.ContextMenu(
            name="Edit with FLUX",
            callback=self.edit_with_flux,
            allowed_contexts=app_commands.AppCommandContext(guild=True),
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.context_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.context_menu.name, type=self.context_menu.type)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        require_guild(interaction)
        return True

    # --- commands ----------------------------------------------------------------------------

    @app_commands.command(name="imagine", description="Generate an image with FLUX.2")
    @app_commands.guild_only()
    @generation_options()
    async def imagine(self, interaction: discord.Interaction, **options) -> None:
        spec, count = await self._spec(interaction, options)
        await self.submit(interaction, spec, JobKind.IMAGINE, count=count)

    @app_commands.command(name="edit", description="Edit images you attach with FLUX.2")
    @app_commands.guild_only()
    @generation_options(*EDIT_IMAGES, aspect_ratio=EDIT_RATIO_CHOICES)
    async def edit(self, interaction: discord.Interaction, **options) -> None:
        attachments = [a for a in (options.pop(o.name) for o in EDIT_IMAGES) if a is not None]
        spec, count = await self._spec(interaction, options)
        for attachment in attachments:
            _precheck(attachment, self.services.settings.max_input_image_bytes)
        await self.submit(
            interaction, draft_with(spec, attachments), JobKind.EDIT, attachments=attachments, count=count
        )

    async def _spec(self, interaction: discord.Interaction, options: dict) -> tuple[GenerationSpec, int]:
        """The spec of /imagine's or /edit's options (the member's defaults filled in) and the count."""
        options = dict(options)
        count = options.pop("count")
        chosen = await choose(
            self.services, interaction, **{k: options.pop(k) for k in ("prompt", "model", "aspect_ratio", "style", "spoiler")}
        )
        spec = GenerationSpec(
            model=model_or_default(chosen.model),
            prompt=chosen.prompt,
            aspect_ratio=chosen.aspect_ratio,
            spoiler=chosen.spoiler,
            style=chosen.style,
            locale=str(interaction.guild_locale) if interaction.guild_locale else None,
            private=chosen.private,
            **options,  # the rest of the table's options are spec fields of the same name
        )
        return spec, count

    @imagine.autocomplete("style")
    @edit.autocomplete("style")
    async def _style_autocomplete(self, interaction: discord.Interaction, current: str):
        return await style_choices(self.services, interaction, current)

    async def edit_with_flux(self, interaction: discord.Interaction, message: discord.Message) -> None:
        require_guild(interaction)
        images = [a for a in message.attachments if looks_like_image(a)]
        if not images:
            await interaction.response.send_message(tr(messages.EDIT_NEEDS_IMAGE, interaction.locale), ephemeral=True)
            return
        self.menu_messages.keep(message)
        modal = EditPromptModal(f"flux:editmsg:{message.channel.id}:{message.id}", images=len(images), locale=interaction.locale)
        await interaction.response.send_modal(modal)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Edit modals are answered here, from their custom_id, so they work across a restart."""
        answer = submitted(interaction)
        if answer is None:
            return
        try:
            await answer_edit(self, interaction, *answer)
        except Exception as error:
            await report_error(interaction, error)

    # --- result buttons ----------------------------------------------------------------------

    async def on_result_button(self, interaction: discord.Interaction, action: str, job_id: int) -> None:
        job = await job_of_guild(self.services.jobs, interaction, job_id)
        # A result made from reference images is only as open as those images: someone else's
        # click follows the context menu's "own images only" rule (core/policy.py).
        authors = {job.user_id} if job.spec.references else set()
        if action == "delete":
            await self._delete_result(interaction, job)
        elif action == "edit":
            await interaction.response.send_modal(EditPromptModal(f"flux:editjob:{job.id}", locale=interaction.locale))
        elif action == "reroll":
            spec = job.spec.model_copy(update={"seed": self.services.generation.new_seed()})
            await self.submit(interaction, spec, JobKind.REROLL, parent_job_id=job.id, reference_authors=authors)
        elif action == "pro":
            spec = spec_for_finalize(job.spec)
            await self.submit(interaction, spec, JobKind.FINALIZE, parent_job_id=job.id, reference_authors=authors)
        elif action == "report":
            await self.review.report(interaction, job)

    async def _delete_result(self, interaction: discord.Interaction, job: Job) -> None:
        perms = interaction.permissions
        if interaction.user.id != job.user_id and not perms.manage_messages:
            raise NotAllowed("delete someone else's image (that needs Manage Messages)")
        # The job id comes from the button's custom_id, which a client can copy onto any message:
        # act only on the message that holds that job's result.
        if interaction.message is None or interaction.message.id != job.result_message_id:
            raise NotAllowed("delete this message with that button (it does not hold that image)")
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.message.delete()
        await interaction.followup.send(tr(messages.DELETED, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS)
        await self.services.events.publish(ResultDeleted(job, interaction.user.id))

    async def _result_as_reference(self, job: Job) -> tuple[str, tuple[int, int] | None]:
        if job.result_blob is None or not self.services.blobs.exists(job.result_blob):
            raise InvalidRequest("image", "this result is no longer stored")
        info = await self.services.generation.references.check(
            self.services.blobs.path(job.result_blob), f"flux-{job.id}", max_bytes=self.services.settings.max_result_image_bytes
        )
        return job.result_blob, (info.width, info.height)

    # --- shared pipeline ---------------------------------------------------------------------

    async def _store_attachments(
        self, attachments: list[discord.Attachment]
    ) -> tuple[list[str], tuple[int, int] | None]:
        limit = self.services.settings.max_input_image_bytes
        refs: list[str] = []
        first_size: tuple[int, int] | None = None
        for attachment in attachments:
            _precheck(attachment, limit)
            ref, info = await self._download(attachment, limit)
            refs.append(ref)
            if first_size is None:
                first_size = (info.width, info.height)
        return refs, first_size

    async def _download(self, attachment: discord.Attachment, limit: int) -> tuple[str, ImageInfo]:
        """The attachment streamed into the blob store and checked, fetched only from Discord's CDN
        (+ DOWNLOAD_ALLOWED_HOSTS), capped: (blob, info)."""
        downloads = self.services.downloads
        if downloads is None:
            raise InvalidAttachment(attachment.filename, "could not be downloaded from Discord")
        try:
            return await self.services.generation.references.download(
                downloads, attachment.url, attachment.filename, max_bytes=limit
            )
        except HostNotAllowed:
            log.warning("attachment %s names a host off the download allowlist; not fetched", attachment.id)
            raise InvalidAttachment(attachment.filename, "is not a file on Discord's CDN") from None
        except TooLarge:
            raise InvalidAttachment(attachment.filename, f"is larger than {limit // (1024 * 1024)} MiB") from None
        except DownloadError:
            raise InvalidAttachment(attachment.filename, "could not be downloaded from Discord") from None

    @AckFirst.reported  # from here until it is acknowledged (`_start`), refused or failed
    async def submit(
        self,
        interaction: discord.Interaction,
        spec: GenerationSpec,
        kind: JobKind,
        *,
        attachments: list[discord.Attachment] | None = None,
        parent_job_id: int | None = None,
        reference_authors: set[int] = frozenset(),
        count: int = 1,
        notice: str | None = None,
    ) -> None:
        """Admit the request (core/admission.py), show a quote if the guild asks for one, then start it.

        Admission is local and fast and comes before the acknowledgement, so refusals are private
        and nothing is reserved until the job (or the quote's Confirm) goes ahead. A `notice` (what
        the context menu left out) is said privately with the quote, or before the job's message.
        """
        request = await request_of(interaction, reference_authors)
        outcome = await self.services.admission.evaluate(request, spec, count=count)
        if count > 1 and isinstance(getattr(outcome, "chosen", outcome), NeedsReview):
            raise InvalidRequest("count", "must be 1 here: a moderator approves each request in this channel")

        async def start(answer: discord.Interaction, chosen: Outcome) -> None:
            await self._start(answer, chosen, kind, attachments, parent_job_id, count)

        if notice is not None and not isinstance(outcome, NeedsQuote):
            # Answered with the notice, the job gets a message of its own (see _start).
            await interaction.response.send_message(notice, ephemeral=True, allowed_mentions=NO_MENTIONS)

        if isinstance(outcome, NeedsQuote) and not attachments:
            quote_id = await self.services.quotes.open(
                **origin(interaction), kind=kind, count=count, spec=spec, parent_job_id=parent_job_id,
                reference_authors=frozenset(reference_authors),
            )
            await show_stored_quote(interaction, outcome, quote_id)
        elif isinstance(outcome, NeedsQuote):
            await show_quote(interaction, outcome, start, notice)  # fresh attachments: answered while this process lives
        else:
            await start(interaction, outcome)

    async def _start(
        self,
        interaction: discord.Interaction,
        outcome: Outcome,
        kind: JobKind,
        attachments: list[discord.Attachment] | None,
        parent_job_id: int | None,
        count: int = 1,
    ) -> None:
        """Acknowledge, store the attachments, then create the jobs (or the review request)."""
        outcome = keep_private_only_unreviewed(outcome)
        private = outcome.spec.private
        if interaction.response.is_done():
            # Answered already (a stored quote's click edits the quote): the images get a message of their own.
            placeholder = await interaction.followup.send(
                tr(STARTING, outcome.spec.locale), wait=True, ephemeral=private, allowed_mentions=NO_MENTIONS
            )
            message_id = placeholder.id
        else:
            message_id = await _defer(interaction, ephemeral=private)
        self.acks.answered(interaction.id)
        await self.acks.turn()  # what follows can wait for the acknowledgements still queued
        if attachments:
            outcome = with_references(outcome, *await self._store_attachments(attachments))
        if message_id is None:
            message_id = (await interaction.original_response()).id
        ref = InteractionRef(
            application_id=interaction.application_id,
            token=interaction.token,
            # The token's 15 minutes run from the interaction's creation (its snowflake), not from when
            # the bot got round to it (a download or a slow acknowledgement comes out of them).
            created_at=snowflake_time(interaction.id),
            message_id=message_id,
            upload_limit=interaction.filesize_limit,
        )
        if isinstance(outcome, NeedsReview):
            await self._hold_for_review(interaction, outcome.spec, kind, ref)
            return
        await create_jobs(
            self.services.generation, interaction, outcome, kind, ref, parent_job_id=parent_job_id, count=count
        )

    async def start_answered(
        self, interaction: discord.Interaction, outcome: Outcome, kind: JobKind, parent_job_id: int | None, count: int
    ) -> None:
        """Start what a stored quote's click confirmed (its interaction is already answered)."""
        await self._start(interaction, outcome, kind, None, parent_job_id, count)

    async def _hold_for_review(
        self, interaction: discord.Interaction, spec: GenerationSpec, kind: JobKind, ref: InteractionRef
    ) -> None:
        request_id = await self.services.moderation.create_request(
            NewRequest(**origin(interaction), kind=kind, spec=spec, interaction=ref)
        )
        summary = f"{spec.model.display_name}: {spec.prompt}"
        if spec.references:
            summary += f" ({len(spec.references)} reference image(s))"
        if not await self.review.hold_request(interaction, request_id, summary):
            # No moderator can see it: closed, not left pending forever (nothing was generated or charged).
            await self.services.moderation.decide_request(request_id, "rejected", by=self.bot.user.id)
            await interaction.edit_original_response(content=tr(messages.REQUEST_NO_MODLOG, spec.locale), allowed_mentions=NO_MENTIONS)
            return
        await interaction.edit_original_response(content=tr(messages.REQUEST_PENDING, spec.locale), allowed_mentions=NO_MENTIONS)


async def _defer(interaction: discord.Interaction, *, ephemeral: bool = False) -> int | None:
    """Acknowledge at once with a "thinking…" message (public unless the result is private); returns
    that message's id if Discord said."""
    try:
        callback = await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    except discord.HTTPException as exc:
        if exc.code != 40060:
            raise
        # An earlier try of this very callback reached Discord (its answer was lost and discord.py
        # sent it again): the interaction is acknowledged, so carry on. discord.py has no public way
        # to record an acknowledgement it did not see; without it, errors would be answered with a
        # second callback (40060 again) instead of a followup.
        log.info("interaction %s was already acknowledged; carrying on", interaction.id)
        patches.mark_deferred(interaction)
        return None
    return callback.message_id if callback is not None else None


def _precheck(attachment: discord.Attachment, limit: int) -> None:
    """What Discord tells us about a file before download: its declared size and type."""
    if attachment.size > limit:
        raise InvalidAttachment(attachment.filename, f"is larger than {limit // (1024 * 1024)} MiB")
    content_type = (attachment.content_type or "").split(";")[0].strip().lower()
    if content_type and not content_type.startswith("image/"):
        raise InvalidAttachment(attachment.filename, "is not a PNG, JPEG or WebP image")
