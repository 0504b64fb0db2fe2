"""No paid image lost in silence: when a job's image reaches no one, its requester and the owners hear.

The requester is told by DM, or in the job's channel when a DM is refused (a text may pass where the
image could not: a channel that refuses files, an upload over the limit). The owners get a DM
naming the job, and `/owner redeliver` tries again. Best effort: if nothing can be sent, the log
says so and `/owner undeliverable` still lists the job.
"""

from __future__ import annotations

import logging

import discord

from cogs.ui import reply_texts as r
from cogs.ui.i18n import tr
from cogs.ui.mentions import NO_MENTIONS, only_user
from cogs.ui.owner_alerts import OwnerAlerts
from core import events as ev

log = logging.getLogger(__name__)


class UndeliverableNotices:
    def __init__(self, bot: discord.Client, alerts: OwnerAlerts) -> None:
        self._bot = bot
        self._alerts = alerts

    async def on_job_undeliverable(self, event: ev.JobUndeliverable) -> None:
        job = event.job
        told = await self._tell_requester(job.id, job.user_id, job.channel_id, job.spec.locale)
        await self._alerts.tell(
            f"📦 The image of job #{job.id} (server {job.guild_id}, requested by <@{job.user_id}>, "
            f"{job.price} credits) could not be delivered; it is kept. "
            f"Requester told: {'yes' if told else 'no'}. `/owner redeliver job_id:{job.id}` tries again; "
            "`/owner undeliverable` lists every such job."
        )

    async def _tell_requester(self, job_id: int, user_id: int, channel_id: int, locale: str | None) -> bool:
        where = {"job": job_id, "channel": f"<#{channel_id}>"}
        try:
            user = self._bot.get_user(user_id) or await self._bot.fetch_user(user_id)
            await user.send(tr(r.UNDELIVERABLE, locale, how=tr(r.HERE, locale), **where), allowed_mentions=NO_MENTIONS)
            return True
        except discord.HTTPException as exc:
            log.info("job %d: could not DM the requester about the undeliverable image (%r)", job_id, exc)
        try:
            channel = self._bot.get_channel(channel_id) or await self._bot.fetch_channel(channel_id)
            await channel.send(  # type: ignore[union-attr]
                f"<@{user_id}> {tr(r.UNDELIVERABLE, locale, how=tr(r.BY_DM, locale), **where)}",
                allowed_mentions=only_user(user_id),
            )
            return True
        except (discord.HTTPException, AttributeError) as exc:
            log.warning("job %d: the requester could not be told that the image is undeliverable (%r)", job_id, exc)
            return False
