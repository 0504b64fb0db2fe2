"""The two allowed_mentions every message of the bot uses: nobody, or only the member it is for.
Neither can ever ping @everyone, @here or a role, whatever the text says."""

from __future__ import annotations

import discord

NO_MENTIONS = discord.AllowedMentions.none()


def only_user(user_id: int) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(user_id)], replied_user=False)
