"""Server-side checks shared by the cogs.

`default_permissions` on a command only hides it in Discord's client; these checks are what
actually protect each command and button, whatever a (possibly forged) interaction claims.
`option_type_errors` does the same for option values: Discord only ever sends each option type's
own JSON type, and a forged payload that does not is refused before discord.py reads it (its
Namespace would otherwise fail with an error no handler sees, and the member would get no answer).
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands

from core.errors import InvalidRequest, JobNotFound
from core.jobs import Job, JobStore

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
_SNOWFLAKE_TYPES = (6, 7, 8, 9, 11)  # user, channel, role, mentionable, attachment


def option_type_errors(options: list[Any]) -> list[str]:
    """Names of options (walking into subcommands) whose value is not their type's JSON type."""
    wrong: list[str] = []
    for option in options if isinstance(options, list) else []:
        if not isinstance(option, dict):
            wrong.append("?")
            continue
        kind, value = option.get("type"), option.get("value")
        name = str(option.get("name", "?"))
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            wrong.extend(option_type_errors(option.get("options", [])))
        elif option.get("focused"):
            continue  # autocomplete sends what the member is typing
        elif not _value_fits(kind, value):
            wrong.append(name)
    return wrong


def _value_fits(kind: Any, value: Any) -> bool:
    if kind == 3:
        return isinstance(value, str)
    if kind == 4:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == 5:
        return isinstance(value, bool)
    if kind == 10:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind in _SNOWFLAKE_TYPES:
        return isinstance(value, str) and is_ascii_digits(value) and len(value) <= 20
    return False


def is_ascii_digits(text: str) -> bool:
    """Digits as Discord sends ids: 0-9 only. str.isdigit() also takes "²" and "١٢", which int()
    either rejects (an error no handler expects) or reads as a number nobody typed."""
    return text.isascii() and text.isdigit()


def require_well_typed_options(interaction: discord.Interaction) -> None:
    """Raise InvalidRequest, naming the option, when a slash command carries a forged option type."""
    data = interaction.data or {}
    if interaction.type is discord.InteractionType.application_command and data.get("type", 1) == 1:
        wrong = option_type_errors(data.get("options", []))
        if wrong:
            name = re.sub(r"[^\w-]", "", wrong[0])[:32] or "?"  # a forged name is shown to the member
            raise InvalidRequest(name, "has a value of the wrong type")


def require_guild(interaction: discord.Interaction) -> None:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()


async def job_of_guild(jobs: JobStore, interaction: discord.Interaction, job_id: int) -> Job:
    """The job a button or modal names, only if it is the interaction's server's: a custom_id can be
    copied anywhere, so another server's job is never revealed or acted on (JobNotFound)."""
    require_guild(interaction)
    job = await jobs.get(job_id)
    if job.guild_id != interaction.guild_id:
        raise JobNotFound(job_id)
    return job


def require_manage_guild(interaction: discord.Interaction) -> None:
    require_guild(interaction)
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
