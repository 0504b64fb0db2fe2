"""Reports and the two review modes in Discord: a service (not a cog) that the moderation cog,
the generate cog (a report), the mod buttons and the reviewing presenter are handed by bot.py.

Decisions about requests are made in core/policy.py; this only renders them and carries out what a
moderator clicks. Every moderator action is checked here, server-side, whatever the command's
default permissions say. Posts go through the mod log service (cogs/ui/modlog.py).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any, ClassVar

import discord
from discord.ext import commands

from cogs.ui import messages
from cogs.ui import reply_texts as r
from cogs.ui.checks import require_guild
from cogs.ui.error_texts import localised_error
from cogs.ui.errors import NO_MENTIONS, report_error
from cogs.ui.i18n import tr
from cogs.ui.mentions import only_user
from cogs.ui.modlog import ModLog
from cogs.ui.notices import channel_or_none, edit_interaction_message, tell_requester
from cogs.ui.render import render_result, result_view
from cogs.ui.requests import origin, request_of_member
from cogs.ui.wiring import wired
from core.errors import BotError, JobNotFound, NotAllowed
from core.events import ModeratorAction
from core.generation import Delivery, DeliveryFailed
from core.jobs import InteractionRef, Job, JobState
from core.services import Services

log = logging.getLogger(__name__)

MOD_ACTIONS = {
    "remove": ("Remove", discord.ButtonStyle.danger),
    "dismiss": ("Dismiss", discord.ButtonStyle.secondary),
    "block": ("Block member", discord.ButtonStyle.danger),
    "approve": ("Approve", discord.ButtonStyle.success),
    "reject": ("Reject", discord.ButtonStyle.danger),
    "rqok": ("Approve request", discord.ButtonStyle.success),
    "rqno": ("Reject request", discord.ButtonStyle.danger),
}


def is_moderator(interaction: discord.Interaction) -> bool:
    perms = interaction.permissions
    return perms.manage_guild or perms.manage_messages


def require_moderator(interaction: discord.Interaction) -> None:
    if not is_moderator(interaction):
        raise NotAllowed("do that (it needs Manage Messages or Manage Server)")


class ModButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"flux:mod:(?P<action>remove|dismiss|block|approve|reject|rqok|rqno):(?P<id>[1-9][0-9]{0,18})",
):
    # discord.py builds the item from the custom_id of each click, so the service cannot reach an
    # instance: bot.py hands it to the class once.
    review: ClassVar[Review | None] = None

    def __init__(self, action: str, target_id: int) -> None:
        label, style = MOD_ACTIONS[action]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"flux:mod:{action}:{target_id}"))
        self.action = action
        self.target_id = target_id

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /) -> ModButton:
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await wired(self.review, "ModButton.review").on_mod_button(interaction, self.action, self.target_id)
        except Exception as error:
            await report_error(interaction, error)


def mod_view(target_id: int, *actions: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in actions:
        view.add_item(ModButton(action, target_id))
    return view


class Review:
    def __init__(self, bot: commands.Bot, services: Services, mod_log: ModLog) -> None:
        self.bot = bot
        self.services = services
        self.mod_log = mod_log

    # --- the mod log (a service: cogs/ui/modlog.py) ---------------------------------------------

    async def modlog(self, guild_id: int) -> discord.abc.Messageable | None:
        return await self.mod_log.channel(guild_id)

    async def post_modlog(self, guild_id: int, **fields) -> discord.Message | None:
        return await self.mod_log.post(guild_id, **fields)

    async def log_action(self, guild_id: int, text: str, reason: str | None, by: int | None = None) -> None:
        await self.services.events.publish(ModeratorAction(guild_id, by, text, reason))

    # --- reports ---------------------------------------------------------------------------------

    async def report(self, interaction: discord.Interaction, job: Job) -> None:
        count = await self.services.moderation.add_report(job.guild_id, job.id, interaction.user.id)
        if count is None:
            await interaction.response.send_message(tr(messages.ALREADY_REPORTED, interaction.locale), ephemeral=True)
            return
        await interaction.response.send_message(tr(messages.REPORTED, interaction.locale), ephemeral=True)
        policy = await self.services.moderation.policy(job.guild_id)
        hidden = False
        if count >= policy.report_threshold:
            hidden = await self.services.moderation.set_result_status(
                job.guild_id, job.id, "hidden", by=None, only_from=("visible", "approved")
            )
            if hidden:
                await self._replace_result(job, tr(messages.RESULT_HIDDEN, job.spec.locale))
        embed = discord.Embed(
            title=f"Report · job {job.id}" + (" · hidden" if hidden else ""),
            description=messages.clip(messages.plain(job.spec.prompt), 1000),
            colour=discord.Colour.dark_red(),
        )
        embed.add_field(name="Reported by", value=f"<@{interaction.user.id}>")
        embed.add_field(name="Requester", value=f"<@{job.user_id}>")
        embed.add_field(name="Reports", value=f"{count} (hides at {policy.report_threshold})")
        if job.result_message_id:
            link = f"https://discord.com/channels/{job.guild_id}/{job.result_channel_id}/{job.result_message_id}"
            embed.add_field(name="Result", value=f"[open]({link})")
        await self.post_modlog(job.guild_id, embed=embed, view=mod_view(job.id, "remove", "dismiss", "block"))

    async def _result_message(self, job: Job) -> discord.PartialMessage | None:
        if not job.result_channel_id or not job.result_message_id:
            return None
        channel = self.bot.get_channel(job.result_channel_id)
        if channel is None:
            return None
        return channel.get_partial_message(job.result_message_id)

    async def _replace_result(self, job: Job, notice: str) -> None:
        message = await self._result_message(job)
        if message is None:
            return
        try:
            await message.edit(content=notice, embeds=[], attachments=[], view=None, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("could not hide result of job %d: %r", job.id, exc)

    async def _restore_result(self, job: Job) -> None:
        message = await self._result_message(job)
        if message is None or job.result_blob is None:
            return
        file, embed = await self._render(job, limit=message.guild.filesize_limit if message.guild else 10 << 20)
        await message.edit(
            content=None, embed=embed, attachments=[file], view=result_view(job), allowed_mentions=NO_MENTIONS
        )

    async def _render(self, job: Job, *, limit: int) -> tuple[discord.File, discord.Embed]:
        balance = (await self.services.ledger.balance(job.guild_id)).balance
        return await render_result(
            job,
            self.services.blobs.path(job.result_blob),
            job.result_mime or "image/png",
            limit=limit,
            balance_after=balance,
            now=time.time(),
        )

    # --- moderator buttons ------------------------------------------------------------------------

    async def on_mod_button(self, interaction: discord.Interaction, action: str, target_id: int) -> None:
        require_guild(interaction)
        require_moderator(interaction)
        if action in ("rqok", "rqno"):
            await self._decide_request(interaction, action == "rqok", target_id)
            return
        job = await self.services.jobs.get(target_id)
        if job.guild_id != interaction.guild_id:
            raise JobNotFound(target_id)
        moderation = self.services.moderation
        mod = interaction.user.id
        if action == "remove":
            await moderation.set_result_status(job.guild_id, job.id, "removed", by=mod)
            await self._replace_result(job, tr(messages.RESULT_REMOVED, job.spec.locale))
            text = f"<@{mod}> removed job {job.id}"
        elif action == "dismiss":
            if await moderation.set_result_status(job.guild_id, job.id, "visible", by=mod, only_from=("hidden",)):
                await self._restore_result(job)
            text = f"<@{mod}> dismissed the reports on job {job.id}"
        elif action == "block":
            await moderation.block(job.guild_id, job.user_id, by=mod, reason=f"reported image (job {job.id})")
            text = f"<@{mod}> blocked <@{job.user_id}>"
        elif action == "approve":
            text = await self._approve_held(job, mod)
        else:
            text = await self._reject_held(job, mod)
        # An approved image with nowhere to go stays held: its buttons stay for another try.
        held = action == "approve" and await moderation.result_status(job.id) == "held"
        view = mod_view(job.id, "approve", "reject") if held else None
        await interaction.response.edit_message(view=view, content=text, allowed_mentions=NO_MENTIONS)
        await self.log_action(job.guild_id, text, None)

    # --- review: results held until approved --------------------------------------------------------

    async def hold(self, job: Job) -> Delivery:
        """Post a finished image to the mod log instead of the channel. Fails closed: without a
        mod log that takes it, the image stays held (never posted publicly) and the requester is told."""
        channel = await self.modlog(job.guild_id)
        # Held before the buttons exist, so a moderator's click can never find it undecided-but-unheld.
        await self.services.moderation.set_result_status(job.guild_id, job.id, "held", by=None)
        try:
            if channel is None:
                raise DeliveryFailed("no mod log channel", permanent=True)
            file, embed = await self._render(job, limit=channel.guild.filesize_limit)
            text = f"Held for review: requested by <@{job.user_id}> in <#{job.channel_id}>"
            view = mod_view(job.id, "approve", "reject")
            message = await channel.send(text, embed=embed, file=file, view=view, allowed_mentions=NO_MENTIONS)
        except (discord.Forbidden, discord.NotFound, DeliveryFailed) as exc:
            log.warning("job %d is held for review but the mod log cannot take it: %r", job.id, exc)
            await self._tell_requester(job.channel_id, job.user_id, job.interaction, tr(messages.HELD_NO_MODLOG, job.spec.locale))
            raise DeliveryFailed(f"held for review, mod log unusable: {exc}", permanent=True) from exc
        await edit_interaction_message(
            self.bot, job.interaction, self.services.settings.interaction_token_seconds,
            content=tr(messages.HELD_FOR_REVIEW, job.spec.locale),
        )
        return Delivery(message.channel.id, message.id)

    async def _approve_held(self, job: Job, mod: int) -> str:
        moderation = self.services.moderation
        if not await moderation.set_result_status(job.guild_id, job.id, "approved", by=mod, only_from=("held",)):
            return f"Job {job.id} was already decided."
        message = None
        try:
            message = await self._release(job)
        finally:
            if message is None:
                # Nowhere to put it: keep it held (and its file kept) so a moderator can try again.
                await moderation.set_result_status(job.guild_id, job.id, "held", by=mod)
        if message is None:
            return f"Job {job.id} could not be delivered (its channel is gone and the requester takes no DMs); it stays held."
        await self.services.jobs.set_result_message(job.id, channel_id=message.channel.id, message_id=message.id)
        await edit_interaction_message(
            self.bot, job.interaction, self.services.settings.interaction_token_seconds,
            content=tr(messages.RESULT_APPROVED, job.spec.locale),
        )
        return f"<@{mod}> approved job {job.id}"

    async def _release(self, job: Job) -> discord.Message | None:
        """Post an approved image in its channel, or by DM when that channel is gone or closed."""
        channel = await channel_or_none(self.bot, job.channel_id)
        if channel is not None:
            file, embed = await self._render(job, limit=channel.guild.filesize_limit)
            mention, view = only_user(job.user_id), result_view(job)
            try:
                return await channel.send(f"<@{job.user_id}>", embed=embed, file=file, view=view, allowed_mentions=mention)
            except (discord.Forbidden, discord.NotFound) as exc:
                log.info("job %d: cannot post the approved image in its channel (%s); sending it by DM", job.id, exc.code)
        try:
            user = self.bot.get_user(job.user_id) or await self.bot.fetch_user(job.user_id)
            file, embed = await self._render(job, limit=10 << 20)
            text = tr(messages.DM_FALLBACK, job.spec.locale, channel=f"<#{job.channel_id}>")
            return await user.send(text, embed=embed, file=file, allowed_mentions=NO_MENTIONS)
        except (discord.Forbidden, discord.NotFound):
            return None

    async def _reject_held(self, job: Job, mod: int) -> str:
        if not await self.services.moderation.set_result_status(
            job.guild_id, job.id, "rejected", by=mod, only_from=("held",)
        ):
            return f"Job {job.id} was already decided."
        await self._tell_requester(job.channel_id, job.user_id, job.interaction, tr(messages.RESULT_REJECTED, job.spec.locale))
        return f"<@{mod}> rejected job {job.id}"

    # --- review: requests approved before anything is generated ----------------------------------------

    async def hold_request(self, interaction: discord.Interaction, request_id: int, facts_text: str) -> bool:
        message = await self.post_modlog(
            interaction.guild_id,
            content=f"Request {request_id} from <@{interaction.user.id}> in <#{interaction.channel_id}>",
            embed=discord.Embed(description=messages.clip(messages.plain(facts_text), 2000)),
            view=mod_view(request_id, "rqok", "rqno"),
        )
        return message is not None

    async def _decide_request(self, interaction: discord.Interaction, approve: bool, request_id: int) -> None:
        moderation = self.services.moderation
        request = await moderation.request(request_id)
        if request is None or request.guild_id != interaction.guild_id:
            raise JobNotFound(request_id)
        mod = interaction.user.id
        if not await moderation.decide_request(request_id, "approved" if approve else "rejected", by=mod):
            await interaction.response.send_message(tr(r.ALREADY_DECIDED, interaction.locale), ephemeral=True)
            return
        await interaction.response.defer()  # admission and the job's transaction come next
        if approve:
            try:
                job = await self._start_approved(interaction.guild, request)
            except BotError as error:
                # The moderator said yes but the request cannot run (allowance, pace, balance, a full
                # queue, the image service's account): the requester hears why, nothing is charged.
                await moderation.fail_request(request_id)
                text = messages.describe_error(error)
                told = localised_error(error, request.spec.locale) or text
                await self._tell_requester(request.channel_id, request.user_id, request.interaction, told)
                text = f"<@{mod}> approved request {request_id}, but it cannot run: {text}"
            else:
                await moderation.link_request_job(request_id, job.id)
                text = f"<@{mod}> approved request {request_id} (job {job.id})"
        else:
            rejected = tr(messages.REQUEST_REJECTED, request.spec.locale)
            await self._tell_requester(request.channel_id, request.user_id, request.interaction, rejected)
            text = f"<@{mod}> rejected request {request_id}"
        await interaction.edit_original_response(content=text, view=None, allowed_mentions=NO_MENTIONS)
        await self.log_action(request.guild_id, text, None)

    async def _start_approved(self, guild: discord.Guild, request) -> Job:
        """The approved request's job, under any request's rules (with the requester's current roles)."""
        facts = await request_of_member(self.bot, guild, request.user_id, request.channel_id)
        if facts is None:
            raise NotAllowed("run it: the member has left the server")
        admitted = await self.services.admission.evaluate(facts, request.spec, approved=True)
        return await self.services.generation.create_job(
            **origin(request),
            kind=request.kind,
            spec=admitted.spec,
            interaction=request.interaction,
            limits=admitted.limits.spend,
            pace=admitted.limits.pace,
        )

    async def _tell_requester(self, channel_id: int, user_id: int, ref: InteractionRef | None, text: str) -> bool:
        token_seconds = self.services.settings.interaction_token_seconds

        async def edit(ref: InteractionRef | None, **fields) -> bool:
            return await edit_interaction_message(self.bot, ref, token_seconds, **fields)

        return await tell_requester(self.bot, edit, channel_id, user_id, ref, text)


class ReviewingPresenter:
    """Wraps the Discord presenter: results of jobs held for review go to the mod log instead."""

    def __init__(self, inner, review: Review) -> None:
        self._inner = inner
        self._review = review

    async def show_queued(self, job: Job, position: int) -> None:
        await self._inner.show_queued(job, position)

    async def show_running(self, job: Job, elapsed: float) -> None:
        await self._inner.show_running(job, elapsed)

    async def show_failed(self, job: Job, error) -> None:
        await self._inner.show_failed(job, error)

    async def deliver(self, job: Job, image: Path, mime: str, balance_after: int) -> Delivery:
        if job.spec.hold_for_review and job.state is JobState.SUCCEEDED:
            return await self._review.hold(job)
        return await self._inner.deliver(job, image, mime, balance_after)

    # Batches are never held for review (cogs/ui/batch.py makes held jobs one by one): passed through.
    async def deliver_batch(self, batch, images, balance_after: int) -> Delivery:
        return await self._inner.deliver_batch(batch, images, balance_after)

    async def show_batch_part(self, job: Job) -> None:
        await self._inner.show_batch_part(job)
