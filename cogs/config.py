"""/config: each guild's policy, edited by members with Manage Server (checked here, server-side)."""

from __future__ import annotations

from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui import config_texts as c
from cogs.ui import reply_texts as r
from cogs.ui.checks import require_manage_guild
from cogs.ui.errors import NO_MENTIONS
from cogs.ui.i18n import tr
from core.errors import InvalidRequest
from core.events import ModeratorAction
from core.policy import MAX_GUILD_TERMS, GuildPolicy, ReviewMode
from core.safety import LABELS, MOST_PERMISSIVE, STRICTEST
from core.screening import MAX_TERM_LENGTH, clean_term
from core.services import Services

LIST_ACTIONS = [app_commands.Choice(name=n, value=n) for n in ("add", "remove", "reset")]
FILTER_ACTIONS = [app_commands.Choice(name=n, value=n) for n in ("add", "remove", "clear")]
REVIEW_MODES = [app_commands.Choice(name=m.value, value=m.value) for m in ReviewMode]
Tolerance = app_commands.Range[int, STRICTEST, MOST_PERMISSIVE]
# The fields of a confirmation that are words (translated with it) rather than numbers or mentions.
_WORDS = frozenset({"list", "action", "mode"})


def _edit_ids(ids: list[int], action: str, target: int | None, option: str) -> list[int]:
    if action == "reset":
        return []
    if target is None:
        raise InvalidRequest(option, f"is needed to {action}")
    if action == "add":
        return ids if target in ids else [*ids, target]
    return [i for i in ids if i != target]


def _setting(field: str, value: object) -> Callable[[GuildPolicy], GuildPolicy]:
    """The policy change of a command that sets one field."""

    def change(p: GuildPolicy) -> GuildPolicy:
        setattr(p, field, value)
        return p

    return change


def _ids(ids: list[int], kind: str, locale=None) -> str:
    if not ids:
        return tr(c.EVERYONE if kind == "role" else c.ALL_CHANNELS, locale)
    return " ".join(f"<@&{i}>" if kind == "role" else f"<#{i}>" for i in ids)


def _either(value, text: str, otherwise: str, locale, **fields) -> str:
    return tr(text, locale, **fields) if value else tr(otherwise, locale)


def describe_policy(policy: GuildPolicy, locale=None) -> discord.Embed:
    def _(text: str, **fields) -> str:
        return tr(text, locale, **fields)

    embed = discord.Embed(title=_(c.TITLE), colour=discord.Colour.blurple())
    embed.add_field(name=_(c.CHANNELS), value=_ids(policy.channels, "channel", locale), inline=False)
    embed.add_field(name=_(c.WHO_GENERATES), value=_ids(policy.generator_roles, "role", locale), inline=False)
    embed.add_field(name=_(c.WHO_PRO), value=_ids(policy.pro_roles, "role", locale), inline=False)
    embed.add_field(
        name=_(c.SAFETY),
        value=_(
            c.SAFETY_VALUE,
            ordinary=_(LABELS[policy.safety_tolerance]),
            age_restricted=_(LABELS[policy.nsfw_safety_tolerance]),
        ),
        inline=False,
    )
    embed.add_field(name=_(c.BLOCKED_TERMS), value=_(c.TERMS_VALUE, count=len(policy.blocked_terms)))
    embed.add_field(
        name=_(c.ADULT), value=_(c.REFUSED_EVERYWHERE if policy.adult_filter_in_nsfw else c.REFUSED_OUTSIDE)
    )
    embed.add_field(name=_(c.EDIT_OTHERS), value=_(r.ALLOWED if policy.edit_others_images else c.OWN_ONLY))
    pace = [
        _either(policy.cooldown_seconds, c.COOLDOWN, c.NO_COOLDOWN, locale, seconds=policy.cooldown_seconds),
        _either(policy.max_running_per_member, c.AT_A_TIME, c.NO_AT_A_TIME, locale, count=policy.max_running_per_member),
        _either(
            policy.daily_jobs_per_member, c.IMAGES_PER_DAY, c.NO_IMAGES_PER_DAY, locale, count=policy.daily_jobs_per_member
        ),
        _either(
            policy.daily_credits_per_member, c.CREDITS_PER_DAY, c.NO_CREDITS_PER_DAY, locale,
            count=policy.daily_credits_per_member,
        ),
    ]
    embed.add_field(name=_(c.PACE), value="; ".join(pace), inline=False)
    nobody = _(c.NOBODY)
    embed.add_field(name=_(c.EXEMPT), value=_ids(policy.exempt_roles, "role") if policy.exempt_roles else nobody)
    embed.add_field(name=_(c.TRUSTED), value=_ids(policy.trusted_roles, "role") if policy.trusted_roles else nobody)
    review = ", ".join(
        f"<#{ch}> {_(m.value)}" for ch, m in policy.review.items() if m is not ReviewMode.OFF
    ) or _(c.REVIEW_OFF)
    embed.add_field(name=_(c.REVIEW), value=review, inline=False)
    embed.add_field(name=_(c.MODLOG), value=f"<#{policy.modlog_channel}>" if policy.modlog_channel else _(c.NOT_SET))
    embed.add_field(name=_(c.REPORTS), value=str(policy.report_threshold))
    return embed


def _role_list(name: str, field: str, label: str, description: str) -> app_commands.Command:
    """`/config <name> action [role]`: one of the policy's role lists, all four edited alike."""

    async def edit(self: ConfigCog, interaction: discord.Interaction, action: str, role: discord.Role | None = None) -> None:
        target = role.id if role else None

        def change(p: GuildPolicy) -> GuildPolicy:
            setattr(p, field, _edit_ids(getattr(p, field), action, target, "role"))
            return p

        await self._update(interaction, change, r.CHANGED_LIST, list=label, action=action, target=role.mention if role else "")

    # A method's name, so discord.py takes `self` for the cog (as for a `def` in the class), not an option.
    edit.__qualname__ = f"ConfigCog.{name}"
    return app_commands.choices(action=LIST_ACTIONS)(app_commands.command(name=name, description=description)(edit))


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ConfigCog(commands.GroupCog, name="Config", group_name="config", group_description="Image bot settings"):
    def __init__(self, bot: commands.Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        require_manage_guild(interaction)
        return True

    async def _update(
        self, interaction: discord.Interaction, change: Callable[[GuildPolicy], GuildPolicy], done: str, **fields: str
    ) -> None:
        """Saves the change, then says `done` in the admin's language; the mod log gets it in English.
        Words among the fields (a list, an action, a mode) are translated with the sentence."""
        await self.services.moderation.update_policy(interaction.guild_id, interaction.user.id, change)
        words = {k: tr(v, interaction.locale) if k in _WORDS else v for k, v in fields.items()}
        reply = tr(done, interaction.locale, **words).strip()
        await interaction.response.send_message(reply, ephemeral=True, allowed_mentions=NO_MENTIONS)
        done = done.format(**fields).strip()
        await self.services.events.publish(
            ModeratorAction(interaction.guild_id, interaction.user.id, f"<@{interaction.user.id}> changed settings: {done}")
        )

    @app_commands.command(name="show", description="Show every setting")
    async def show(self, interaction: discord.Interaction) -> None:
        policy = await self.services.moderation.policy(interaction.guild_id)
        await interaction.response.send_message(
            embed=describe_policy(policy, interaction.locale), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="channels", description="Channels where the bot answers (reset = all)")
    @app_commands.choices(action=LIST_ACTIONS)
    async def channels(self, interaction: discord.Interaction, action: str, channel: discord.TextChannel | None = None) -> None:
        target = channel.id if channel else None

        def change(p: GuildPolicy) -> GuildPolicy:
            p.channels = _edit_ids(p.channels, action, target, "channel")
            return p

        target_text = channel.mention if channel else ""
        await self._update(interaction, change, r.CHANGED_LIST, list="channels", action=action, target=target_text)

    roles = _role_list("roles", "generator_roles", "roles", "Roles allowed to generate (reset = everyone)")
    pro_roles = _role_list("pro_roles", "pro_roles", "pro roles", "Roles allowed to use FLUX.2 Pro (reset = everyone)")
    exempt = _role_list("exempt", "exempt_roles", "exempt roles", "Roles exempt from the pace limits")
    trusted = _role_list("trusted", "trusted_roles", "trusted roles", "Roles whose requests and results skip review")

    @app_commands.command(name="filter", description="This server's blocked terms (words, or wildcards like gore*)")
    @app_commands.describe(terms="Comma-separated words or phrases; * matches any letters")
    @app_commands.choices(action=FILTER_ACTIONS)
    async def filter(
        self, interaction: discord.Interaction, action: str, terms: app_commands.Range[str, 1, 4000] | None = None
    ) -> None:
        cleaned = [t for t in (clean_term(raw) for raw in (terms or "").split(",")) if t]
        if action != "clear" and not cleaned:
            raise InvalidRequest("terms", "needs at least one word")
        if any(len(t) > MAX_TERM_LENGTH for t in cleaned):
            raise InvalidRequest("terms", f"can be at most {MAX_TERM_LENGTH} characters each")

        def change(p: GuildPolicy) -> GuildPolicy:
            if action == "clear":
                p.blocked_terms = []
            elif action == "add":
                known = set(p.blocked_terms)
                p.blocked_terms = p.blocked_terms + [t for t in cleaned if t not in known]
                if len(p.blocked_terms) > MAX_GUILD_TERMS:
                    raise InvalidRequest("terms", f"would make more than {MAX_GUILD_TERMS} terms")
            else:
                drop = set(cleaned)
                p.blocked_terms = [t for t in p.blocked_terms if t not in drop]
            return p

        await self._update(interaction, change, r.CHANGED_FILTER, action=action, count=str(len(cleaned)))

    @app_commands.command(name="safety", description="FLUX.2 Pro's safety tolerance: 0 strictest … 5 most permissive")
    @app_commands.describe(ordinary="For ordinary channels", age_restricted="For channels Discord marks age-restricted")
    async def safety(
        self, interaction: discord.Interaction, ordinary: Tolerance | None = None, age_restricted: Tolerance | None = None
    ) -> None:
        def change(p: GuildPolicy) -> GuildPolicy:
            if ordinary is not None:
                p.safety_tolerance = ordinary
            if age_restricted is not None:
                p.nsfw_safety_tolerance = age_restricted
            return p

        await self._update(interaction, change, r.CHANGED_SAFETY, ordinary=str(ordinary), age_restricted=str(age_restricted))

    @app_commands.command(name="adult_filter", description="Refuse adult prompts in age-restricted channels too?")
    @app_commands.describe(in_age_restricted="Ordinary channels always refuse them")
    async def adult_filter(self, interaction: discord.Interaction, in_age_restricted: bool) -> None:
        answer = r.ADULT_EVERYWHERE if in_age_restricted else r.ADULT_ORDINARY_ONLY
        await self._update(interaction, _setting("adult_filter_in_nsfw", in_age_restricted), answer)

    @app_commands.command(name="references", description="May members edit images other members posted?")
    async def references(self, interaction: discord.Interaction, others_allowed: bool) -> None:
        answer = r.OTHERS_ALLOWED if others_allowed else r.OTHERS_NOT_ALLOWED
        await self._update(interaction, _setting("edit_others_images", others_allowed), answer)

    @app_commands.command(name="pace", description="Per-member limits (0 = no limit)")
    async def pace(
        self,
        interaction: discord.Interaction,
        cooldown_seconds: app_commands.Range[int, 0, 86_400] | None = None,
        max_running: app_commands.Range[int, 0, 100] | None = None,
        daily_images: app_commands.Range[int, 0, 100_000] | None = None,
        daily_credits: app_commands.Range[int, 0, 1_000_000_000] | None = None,
    ) -> None:
        def change(p: GuildPolicy) -> GuildPolicy:
            for name, value in (
                ("cooldown_seconds", cooldown_seconds),
                ("max_running_per_member", max_running),
                ("daily_jobs_per_member", daily_images),
                ("daily_credits_per_member", daily_credits),
            ):
                if value is not None:
                    setattr(p, name, value)
            return p

        await self._update(interaction, change, r.PACE_UPDATED)

    @app_commands.command(name="review", description="Review in a channel: off, requests (before) or results (after)")
    @app_commands.choices(mode=REVIEW_MODES)
    async def review(self, interaction: discord.Interaction, channel: discord.TextChannel, mode: str) -> None:
        policy = await self.services.moderation.policy(interaction.guild_id)
        if mode != ReviewMode.OFF and policy.modlog_channel is None:
            raise InvalidRequest("mode", "needs a mod log channel first (/config modlog)")

        def change(p: GuildPolicy) -> GuildPolicy:
            if mode == ReviewMode.OFF:
                p.review.pop(channel.id, None)
            else:
                p.review[channel.id] = ReviewMode(mode)
            return p

        await self._update(interaction, change, r.CHANGED_REVIEW, channel=channel.mention, mode=mode)

    @app_commands.command(name="modlog", description="Where moderation events go (leave empty to turn off)")
    async def modlog(self, interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        def change(p: GuildPolicy) -> GuildPolicy:
            p.modlog_channel = channel.id if channel else None
            if channel is None:
                p.review = {}
            return p

        if channel is None:
            await self._update(interaction, change, r.MODLOG_OFF)
        else:
            await self._update(interaction, change, r.MODLOG_SET, channel=channel.mention)

    @app_commands.command(name="reports", description="How many reports hide a result until a moderator decides")
    async def reports(self, interaction: discord.Interaction, threshold: app_commands.Range[int, 1, 100]) -> None:
        await self._update(interaction, _setting("report_threshold", threshold), r.CHANGED_REPORTS, threshold=str(threshold))

