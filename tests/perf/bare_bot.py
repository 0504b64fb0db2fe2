"""A bare discord.py bot that only defers /imagine: the floor discord.py itself sets (a benchmark fixture).

Configured like the real bot through DISCORD_TOKEN, DISCORD_API_BASE and DISCORD_GATEWAY_URL.
    python -m tests.perf.bare_bot
"""

from __future__ import annotations

import logging
import os

import discord
import yarl
from discord import app_commands
from discord.ext import commands

log = logging.getLogger("bare")


class BareBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default(), help_command=None)

        @app_commands.command(name="imagine", description="Only defers")
        @app_commands.guild_only()
        async def imagine(interaction: discord.Interaction, prompt: str) -> None:
            await interaction.response.defer(thinking=True)

        self.tree.add_command(imagine)

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guilds", self.user, len(self.guilds))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
    BareBot().run(os.environ["DISCORD_TOKEN"], log_handler=None)


if __name__ == "__main__":
    main()
