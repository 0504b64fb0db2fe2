"""Every place the bot reaches past discord.py's or aiohttp's public API, in one module.

Each patch says why it exists and which library code it relies on (`PATCHES`); tests/test_patches.py
pins that code by a digest of its source, so an upgrade that changes it fails a test instead of
breaking the bot quietly. Checked against the versions below (requirements.txt pins the same ones).
`apply()` is called once by bot.py, after the settings are read and before anything connects.
The reference upload body (core.segmind.upload_body) subclasses aiohttp's Payload the same way as
`StoredImagePayload` and is covered by the same pins.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import aiohttp.payload
import discord
import yarl
from discord.ext import commands

from cogs.ui.uploads import StoredImageFile, StoredImagePayload

DISCORD_PY = "2.7.1"
AIOHTTP = "3.14.5"


@dataclass(frozen=True)
class Patch:
    name: str
    why: str
    relies_on: tuple[str, ...]  # dotted names of the library code whose behaviour the patch assumes


PATCHES = (
    Patch(
        "point_discord_at",
        "DISCORD_API_BASE / DISCORD_GATEWAY_URL (a REST or gateway proxy, or the e2e tests' fake Discord): "
        "discord.py has no setting for either, only the class attributes every request and connection reads.",
        ("discord.http.Route.__init__", "discord.gateway.DiscordWebSocket.from_client"),
    ),
    Patch(
        "mark_deferred",
        "An interaction whose defer reached Discord but whose answer was lost (40060 on the retry) is "
        "acknowledged; discord.py has no public way to record that, and without it errors would be "
        "answered with a second callback instead of a followup.",
        (
            "discord.interactions.InteractionResponse.__init__",
            "discord.interactions.InteractionResponse.is_done",
        ),
    ),
    Patch(
        "reset_http",
        "A failed login leaves discord.py's session and the connector it owns open; the next attempt "
        "must start clean, and static_login makes a new connector only when the attribute is MISSING.",
        ("discord.http.HTTPClient.static_login",),
    ),
    Patch(
        "register_stored_image_payload",
        "aiohttp reads an ordinary file object in a worker thread chunk by chunk; a stored result is "
        "uploaded from its file on the loop instead (cogs/ui/uploads.py), through aiohttp's payload "
        "registry and the Payload internals the subclass uses (`_value`, `write_with_length`).",
        (
            "aiohttp.payload.PayloadRegistry.get",
            "aiohttp.payload.Payload.__init__",
            "aiohttp.payload.Payload.write_with_length",
            "aiohttp.client_reqrep.ClientRequest.write_bytes",
        ),
    ),
)

def apply(*, api_base: str, gateway_url: str | None) -> None:
    """Install the process-wide patches (calling it again changes nothing more)."""
    point_discord_at(api_base, gateway_url)
    register_stored_image_payload()


def point_discord_at(api_base: str, gateway_url: str | None) -> None:
    """REST and gateway traffic to `api_base` / `gateway_url` (None keeps Discord's gateway)."""
    discord.http.Route.BASE = api_base
    if gateway_url is not None:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def mark_deferred(interaction: discord.Interaction) -> None:
    """Record that `interaction` was acknowledged with a deferred message by an earlier try."""
    interaction.response._response_type = discord.InteractionResponseType.deferred_channel_message


async def reset_http(bot: commands.Bot) -> None:
    """Close discord.py's HTTP session and have the next login open a new connector."""
    await bot.http.close()
    bot.http.connector = discord_connector()


# Connections kept to Discord's REST API at once: aiohttp's own default (discord.py lifts the cap).
DISCORD_CONNECTIONS = 100


def discord_connector() -> aiohttp.TCPConnector:
    """The connection pool for discord.py's REST calls (`connector=`; made inside the running loop).

    discord.py's own pool has no cap, so a burst of commands opens one new connection (and, on
    Discord, one TLS handshake) per acknowledgement in flight: 500 at once in a 500-command burst,
    each built on the event loop while the later commands wait for theirs. With a cap, a request
    beyond it waits for a connection another has just finished with and reuses it: the loop CPU of
    a burst's acknowledgements fell by about a quarter (tests/perf, scenario 1)."""
    return aiohttp.TCPConnector(limit=0, limit_per_host=DISCORD_CONNECTIONS)


_registered = False


def register_stored_image_payload() -> None:
    """aiohttp uploads a `StoredImageFile` through `StoredImagePayload` (once registered, a no-op)."""
    global _registered
    if not _registered:
        aiohttp.payload.register_payload(StoredImagePayload, StoredImageFile, order=aiohttp.payload.Order.try_first)
        _registered = True
