"""/config: each guild's policy, edited by members with Manage Server (checked here, server-side)."""

from __future__ import annotations

from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui.checks import require_manage_guild
from cogs.ui.errors import NO_MENTIONS
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


def _edit_ids(ids: list[int], action: str, target: int | None, option: str) -> list[int]:
    if action == "reset":
        return []
    if target is None:
        raise InvalidRequest(option, f"is needed to {action}")
    if action == "add":
        return ids if target in ids else [*ids, target]
    return [i for i in ids if i != target]


def _ids(ids: list[int], kind: str) -> str:
    if not ids:
        return "everyone" if kind == "role" else "all channels"
    return " ".join(f"<@&{i}>" if kind == "role" else f"<#{i}>" for i in ids)


def describe_policy(policy: GuildPolicy) -> discord.Embed:
    embed = discord.Embed(title="Image bot settings for this server", colour=discord.Colour.blurple())
    embed.add_field(name="Channels", value=_ids(policy.channels, "channel"), inline=False)
    embed.add_field(name="Who may generate", value=_ids(policy.generator_roles, "role"), inline=False)
    embed.add_field(name="Who may use FLUX.2 Pro", value=_ids(policy.pro_roles, "role"), inline=False)
    embed.add_field(
        name="Safety (Pro)",
        value=f"ordinary channels {LABELS[policy.safety_tolerance]}; "
        f"age-restricted channels {LABELS[policy.nsfw_safety_tolerance]}",
        inline=False,
    )
    embed.add_field(name="Blocked terms", value=f"{len(policy.blocked_terms)} (plus the built-in safety list)")
    embed.add_field(
        name="Adult content",
        value="refused in every channel" if policy.adult_filter_in_nsfw else "refused outside age-restricted channels",
    )
    embed.add_field(name="Edit others' images", value="allowed" if policy.edit_others_images else "own images only")
    pace = [
        f"cooldown {policy.cooldown_seconds} s" if policy.cooldown_seconds else "no cooldown",
        f"{policy.max_running_per_member} at a time" if policy.max_running_per_member else "no limit at a time",
        f"{policy.daily_jobs_per_member} images/day" if policy.daily_jobs_per_member else "no daily image limit",
        f"{policy.daily_credits_per_member} credits/day" if policy.daily_credits_per_member else "no daily credit limit",
    ]
    embed.add_field(name="Pace per member", value="; ".join(pace), inline=False)
    embed.add_field(name="Exempt from pace", value=_ids(policy.exempt_roles, "role") if policy.exempt_roles else "nobody")
    embed.add_field(name="Trusted (skip review)", value=_ids(policy.trusted_roles, "role") if policy.trusted_roles else "nobody")
    review = ", ".join(f"<#{c}> {m.value}" for c, m in policy.review.items() if m is not ReviewMode.OFF) or "off everywhere"
    embed.add_field(name="Review", value=review, inline=False)
    embed.add_field(name="Mod log", value=f"<#{policy.modlog_channel}>" if policy.modlog_channel else "not set")
    embed.add_field(name="Reports hide a result at", value=str(policy.report_threshold))
    return embed


def _role_list(name: str, field: str, label: str, description: str) -> app_commands.Command:
    """`/config <name> action [role]`: one of the policy's role lists, all four edited alike."""

    async def edit(self: ConfigCog, interaction: discord.Interaction, action: str, role: discord.Role | None = None) -> None:
        target = role.id if role else None

        def change(p: GuildPolicy) -> GuildPolicy:
            setattr(p, field, _edit_ids(getattr(p, field), action, target, "role"))
            return p

        await self._update(interaction, change, f"{label}: {action} {role.mention if role else ''}".strip())

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

    async def _update(self, interaction: discord.Interaction, change: Callable[[GuildPolicy], GuildPolicy], done: str) -> None:
        await self.services.moderation.update_policy(interaction.guild_id, interaction.user.id, change)
        await interaction.response.send_message(done, ephemeral=True, allowed_mentions=NO_MENTIONS)
        await self.services.events.publish(
            ModeratorAction(interaction.guild_id, interaction.user.id, f"<@{interaction.user.id}> changed settings: {done}")
        )

    @app_commands.command(name="show", description="Show every setting")
    async def show(self, interaction: discord.Interaction) -> None:
        policy = await self.services.moderation.policy(interaction.guild_id)
        await interaction.response.send_message(embed=describe_policy(policy), ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="channels", description="Channels where the bot answers (reset = all)")
    @app_commands.choices(action=LIST_ACTIONS)
    async def channels(self, interaction: discord.Interaction, action: str, channel: discord.TextChannel | None = None) -> None:
        target = channel.id if channel else None

        def change(p: GuildPolicy) -> GuildPolicy:
            p.channels = _edit_ids(p.channels, action, target, "channel")
            return p

        await self._update(interaction, change, f"channels: {action} {channel.mention if channel else ''}".strip())

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

        await self._update(interaction, change, f"filter: {action} {len(cleaned)} term(s)")

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

        await self._update(interaction, change, f"safety: ordinary {ordinary}, age-restricted {age_restricted}")

    @app_commands.command(name="adult_filter", description="Refuse adult prompts in age-restricted channels too?")
    @app_commands.describe(in_age_restricted="Ordinary channels always refuse them")
    async def adult_filter(self, interaction: discord.Interaction, in_age_restricted: bool) -> None:
        def change(p: GuildPolicy) -> GuildPolicy:
            p.adult_filter_in_nsfw = in_age_restricted
            return p

        where = "every channel" if in_age_restricted else "ordinary channels only"
        await self._update(interaction, change, f"adult content refused in {where}")

    @app_commands.command(name="references", description="May members edit images other members posted?")
    async def references(self, interaction: discord.Interaction, others_allowed: bool) -> None:
        def change(p: GuildPolicy) -> GuildPolicy:
            p.edit_others_images = others_allowed
            return p

        await self._update(interaction, change, f"editing others' images: {'allowed' if others_allowed else 'not allowed'}")

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

        await self._update(interaction, change, "pace limits updated")

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

        await self._update(interaction, change, f"review in {channel.mention}: {mode}")

    @app_commands.command(name="modlog", description="Where moderation events go (leave empty to turn off)")
    async def modlog(self, interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        def change(p: GuildPolicy) -> GuildPolicy:
            p.modlog_channel = channel.id if channel else None
            if channel is None:
                p.review = {}
            return p

        await self._update(interaction, change, f"mod log: {channel.mention if channel else 'off (review turned off)'}")

    @app_commands.command(name="reports", description="How many reports hide a result until a moderator decides")
    async def reports(self, interaction: discord.Interaction, threshold: app_commands.Range[int, 1, 100]) -> None:
        def change(p: GuildPolicy) -> GuildPolicy:
            p.report_threshold = threshold
            return p

        await self._update(interaction, change, f"reports hide a result at {threshold}")

