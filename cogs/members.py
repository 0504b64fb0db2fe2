"""What members reach for first: /queue (with Cancel), /settings, /mine, /show, /help, the Info button,
server styles (/config style …) and the setup message when the bot joins a server.

Thin glue over core/generation.py (cancel), core/jobs.py (a member's jobs and results),
core/styles.py and core/preferences.py. Nothing here calls Segmind: a stored image is posted from
the blob store, free.
"""

from __future__ import annotations

import logging
import time

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui import batch_texts as b
from cogs.ui import member_texts as t
from cogs.ui import reply_texts as r
from cogs.ui.checks import job_of_guild, require_guild
from cogs.ui.defaults import style_choices
from cogs.ui.errors import NO_MENTIONS
from cogs.ui.i18n import CatalogueTranslator, tr
from cogs.ui.member_buttons import CancelButton, MinePage
from cogs.ui.messages import clip, plain
from cogs.ui.options import MODEL_CHOICES, RATIO_CHOICES
from cogs.ui.render import render_result, result_view
from cogs.ui.styles import StyleGroup, results_command
from core.errors import InvalidRequest, NotAllowed
from core.jobs import JobState
from core.models import ModelId
from core.preferences import Preferences
from core.services import Services

log = logging.getLogger(__name__)

MINE_PAGE = 10
# Results anyone in the server may see again; the others were hidden, removed or never approved.
SHOWN_STATUSES = ("visible", "approved")


class MembersCog(commands.Cog, name="Members"):
    def __init__(self, bot: commands.Bot, services: Services, config: app_commands.Group) -> None:
        self.bot = bot
        self.services = services
        # `/config style …` and `/config results` belong with the other server settings (the /config
        # group bot.py hands in); their handlers live in cogs/ui/styles.py.
        self.config = config
        self.styles = StyleGroup(services)
        self.results = results_command(services)

    async def cog_load(self) -> None:
        await self.bot.tree.set_translator(CatalogueTranslator())
        self.config.add_command(self.styles)
        self.config.add_command(self.results)

    async def cog_unload(self) -> None:
        self.config.remove_command(self.styles.name)
        self.config.remove_command(self.results.name)

    async def older(self, interaction: discord.Interaction, before: int) -> None:
        """The "Older ▶" button of /mine."""
        await self.mine_page(interaction, before, edit=True)

    # --- /queue and Cancel --------------------------------------------------------------------

    @app_commands.command(name="queue", description="Your images waiting or being generated here, with their place")
    @app_commands.guild_only()
    async def queue(self, interaction: discord.Interaction) -> None:
        require_guild(interaction)
        jobs = await self.services.jobs.active_of(interaction.guild_id, interaction.user.id)
        if not jobs:
            await interaction.response.send_message(tr(t.QUEUE_EMPTY, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        generation = self.services.generation
        locale = interaction.locale
        lines = [t.queue_line(job.id, job.spec.prompt, job.state.value, generation.place(job.id), locale) for job in jobs]
        view = discord.ui.View(timeout=None)
        for job in jobs:
            if generation.place(job.id) is not None and len(view.children) < 25:
                view.add_item(CancelButton(job.id, locale))
        await interaction.response.send_message(
            "\n".join(lines), view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def cancel(self, interaction: discord.Interaction, job_id: int) -> None:
        """Cancel a queued job (its requester, or a moderator); refused once it has been sent."""
        job = await job_of_guild(self.services.jobs, interaction, job_id)
        if interaction.user.id != job.user_id and not interaction.permissions.manage_messages:
            raise NotAllowed("cancel someone else's image (that needs Manage Messages)")
        if job.state is not JobState.QUEUED or self.services.generation.place(job.id) is None:
            await interaction.response.send_message(tr(t.TOO_LATE, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        job = await self.services.generation.cancel(job.id)
        text = tr(t.CANCELLED, interaction.locale, price=job.price)
        # A batch's message is shared by its images and the presenter redraws their lines: it is left
        # alone, the answer is private.
        in_batch = await self.services.generation.batches.member(job.id) is not None
        if not in_batch and interaction.message is not None and interaction.message.id == (
            job.interaction and job.interaction.message_id
        ):
            await interaction.response.edit_message(content=text, view=None, allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        ref = job.interaction
        if not in_batch and ref is not None and ref.message_id is not None:
            # The job's own progress message would otherwise still say "queued" (best effort).
            try:
                webhook = discord.Webhook.partial(ref.application_id, ref.token, client=self.bot)
                await webhook.edit_message(ref.message_id, content=text, view=None, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.info("job %d: could not mark its message cancelled: %s", job.id, exc)

    # --- /settings ----------------------------------------------------------------------------

    @app_commands.command(name="settings", description="Your defaults in this server, used when you leave an option out")
    @app_commands.guild_only()
    @app_commands.describe(
        model="Your default model",
        aspect_ratio="Your default shape",
        style="Your default style (type none to clear)",
        spoiler="Post your results behind a spoiler",
        private="Results only you see (where this server allows them)",
        reset="Forget all your defaults here",
    )
    @app_commands.choices(model=MODEL_CHOICES, aspect_ratio=RATIO_CHOICES)
    async def settings(
        self,
        interaction: discord.Interaction,
        model: str | None = None,
        aspect_ratio: str | None = None,
        style: app_commands.Range[str, 1, 32] | None = None,
        spoiler: bool | None = None,
        private: bool | None = None,
        reset: bool = False,
    ) -> None:
        require_guild(interaction)
        store = self.services.preferences
        prefs = await store.get(interaction.guild_id, interaction.user.id)
        changing = reset or any(v is not None for v in (model, aspect_ratio, style, spoiler, private))
        if reset:
            prefs = Preferences()
        if model is not None and model not in {m.value for m in ModelId}:
            raise InvalidRequest("model", "must be FLUX.2 Pro or FLUX.2 Klein 9B")
        if style is not None and style.strip().lower() != "none":
            style = (await self.services.styles.get(interaction.guild_id, style)).name
        elif style is not None:
            style = ""
        prefs = prefs.with_changes(
            model=model, aspect_ratio=aspect_ratio, style=style, spoiler=spoiler, private=private
        )
        if changing:
            await store.put(interaction.guild_id, interaction.user.id, prefs)
        await interaction.response.send_message(
            t.settings_text(
                prefs,
                saved=changing,
                locale=interaction.locale,
                private_allowed=(await self.services.preferences.guild(interaction.guild_id)).private_results,
            ),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @settings.autocomplete("style")
    async def _settings_style(self, interaction: discord.Interaction, current: str):
        return await style_choices(self.services, interaction, current)

    # --- /mine, /show and Info ----------------------------------------------------------------

    @app_commands.command(name="mine", description="Your recent images in this server (free)")
    @app_commands.guild_only()
    async def mine(self, interaction: discord.Interaction) -> None:
        await self.mine_page(interaction, None, edit=False)

    async def mine_page(self, interaction: discord.Interaction, before: int | None, *, edit: bool) -> None:
        require_guild(interaction)
        jobs = await self.services.jobs.results_of(
            interaction.guild_id, interaction.user.id, before=before, limit=MINE_PAGE + 1
        )
        more, jobs = len(jobs) > MINE_PAGE, jobs[:MINE_PAGE]
        text = "\n".join(t.mine_line(job) for job in jobs) or tr(t.MINE_EMPTY, interaction.locale)
        if jobs:
            text += "\n" + tr(r.MINE_HINT, interaction.locale)
        view = discord.ui.View(timeout=None)
        if more:
            view.add_item(MinePage(jobs[-1].id, interaction.locale))
        if edit:
            await interaction.response.edit_message(content=text, view=view, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="show", description="Bring back a stored image (yours; any, for moderators). Free")
    @app_commands.guild_only()
    @app_commands.describe(job_id="The number in the image's footer (see /mine)")
    async def show(self, interaction: discord.Interaction, job_id: app_commands.Range[int, 1, 2**31]) -> None:
        job = await job_of_guild(self.services.jobs, interaction, job_id)
        moderator = interaction.permissions.manage_messages
        if job.user_id != interaction.user.id and not moderator:
            raise NotAllowed("bring back someone else's image (that needs Manage Messages)")
        if not moderator and await self.services.moderation.result_status(job.id) not in SHOWN_STATUSES:
            raise NotAllowed("bring back an image the moderators have not let through")
        if job.result_blob is None or not self.services.blobs.exists(job.result_blob):
            raise InvalidRequest("job_id", "names an image that is no longer stored")
        # Public only where it was made: elsewhere (another channel's rules, age restriction) only you
        # see it; a private result stays private, whoever brings it back.
        private = interaction.channel_id != job.channel_id or job.spec.private
        await interaction.response.defer(ephemeral=private, thinking=True)
        balance = (await self.services.ledger.balance(interaction.guild_id)).balance
        file, embed = await render_result(
            job,
            self.services.blobs.path(job.result_blob),
            job.result_mime or "image/png",
            limit=interaction.filesize_limit,
            balance_after=balance,
            now=time.time(),
            png_text=(await self.services.preferences.guild(interaction.guild_id)).png_metadata,
        )
        await interaction.followup.send(
            embed=embed, file=file, view=result_view(job), ephemeral=private, allowed_mentions=NO_MENTIONS
        )

    async def info(self, interaction: discord.Interaction, job_id: int) -> None:
        job = await job_of_guild(self.services.jobs, interaction, job_id)
        seed = job.result_seed if job.result_seed is not None else job.spec.seed
        embed = discord.Embed(title=tr(t.INFO_TITLE, interaction.locale), colour=discord.Colour.blurple())
        embed.description = f"```\n{clip(t.repeat_command(job).replace('`', 'ˋ'), 3900)}\n```"
        locale = interaction.locale
        embed.add_field(name=tr(r.MODEL, locale), value=job.model.display_name)
        embed.add_field(name=tr(b.SEED, locale), value=str(seed))
        if job.spec.style:
            embed.add_field(name=tr(r.STYLE, locale), value=plain(job.spec.style))
        embed.set_footer(text=tr(r.JOB, locale, job=job.id))
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # --- /help and the setup message ------------------------------------------------------------

    @app_commands.command(name="help", description="What the image bot can do, on one screen")
    @app_commands.guild_only()
    async def help(self, interaction: discord.Interaction) -> None:
        locale = interaction.locale
        embed = discord.Embed(title=tr(r.HELP_TITLE, locale), description=tr(t.HELP, locale), colour=discord.Colour.blurple())
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Tell the server's admins the three first steps: in the system channel, else to the owner."""
        log.info("joined guild %d; sending the setup message", guild.id)
        channel = guild.system_channel
        text = tr(t.SETUP, guild.preferred_locale)
        try:
            if channel is not None and channel.permissions_for(guild.me).send_messages:
                await channel.send(text, allowed_mentions=NO_MENTIONS)
                return
            owner = guild.owner or (await self.bot.fetch_user(guild.owner_id) if guild.owner_id else None)
            if owner is not None:
                await owner.send(text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.info("could not send the setup message to guild %d: %s", guild.id, exc)
