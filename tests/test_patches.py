"""cogs/ui/patches.py: each patch does what it says, and the library code it relies on is still the
code it was checked against (a digest of its source), so an upgrade of discord.py or aiohttp that
changes it fails here first."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import re
from pathlib import Path

import aiohttp
import aiohttp.payload
import discord
import yarl

from cogs.ui import patches
from cogs.ui.uploads import StoredImageFile, StoredImagePayload

ROOT = Path(__file__).resolve().parents[1]

# The source of every piece of library code a patch relies on, as it was when the patch was checked
# (discord.py 2.7.1, aiohttp 3.14.5). A changed digest means: read the new code, check the patch
# still holds (or drop it), then update the digest and the versions in cogs/ui/patches.py.
PINNED = {
    "discord.http.Route.__init__": "66a5a4ca6e0e2984",
    "discord.gateway.DiscordWebSocket.from_client": "25ac637bdad3134c",
    "discord.interactions.InteractionResponse.__init__": "a926611791289503",
    "discord.interactions.InteractionResponse.is_done": "1410c16710f4f60e",
    "discord.http.HTTPClient.static_login": "44c522c43913f3f0",
    "aiohttp.payload.PayloadRegistry.get": "aa95f0ad6471f1a6",
    "aiohttp.payload.Payload.__init__": "0adbd7d69a918eb6",
    "aiohttp.payload.Payload.write_with_length": "0754eace18e44463",
    "aiohttp.client_reqrep.ClientRequest.write_bytes": "f3b5cbcb26f2c27d",
}


def resolve(dotted: str):
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attr in parts[split:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def source_digest(dotted: str) -> str:
    return hashlib.sha256(inspect.getsource(resolve(dotted)).encode()).hexdigest()[:16]


def test_every_relied_on_piece_of_library_code_is_pinned():
    relied_on = {name for patch in patches.PATCHES for name in patch.relies_on}
    assert relied_on == set(PINNED), "a patch relies on code this test does not pin (or a pin is stale)"
    assert all(patch.why and patch.relies_on for patch in patches.PATCHES)
    assert {patch.name for patch in patches.PATCHES} <= set(dir(patches)), "each patch names its function"


def test_library_code_is_what_the_patches_were_checked_against():
    changed = {name: source_digest(name) for name in PINNED if source_digest(name) != PINNED[name]}
    assert changed == {}, f"library code under a patch changed (discord.py {discord.__version__}, aiohttp {aiohttp.__version__}): {changed}"


def test_installed_and_pinned_versions_are_the_checked_ones():
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(rf"^discord\.py=={re.escape(patches.DISCORD_PY)}$", requirements, re.M)
    assert re.search(rf"^aiohttp=={re.escape(patches.AIOHTTP)}$", requirements, re.M)
    assert discord.__version__ == patches.DISCORD_PY
    assert aiohttp.__version__ == patches.AIOHTTP


def test_point_discord_at_moves_rest_and_gateway(monkeypatch):
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    patches.point_discord_at("http://127.0.0.1:9/api/v10", "ws://127.0.0.1:9/gateway")
    assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:9/api/v10/users/@me"
    assert discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY == yarl.URL("ws://127.0.0.1:9/gateway")


def test_point_discord_at_without_a_gateway_keeps_discords(monkeypatch):
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    before = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    patches.point_discord_at("http://127.0.0.1:9/api/v10", None)
    assert discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY == before


def test_mark_deferred_makes_the_response_done_as_a_deferred_message():
    response = discord.InteractionResponse(parent=None)  # type: ignore[arg-type]
    assert not response.is_done()
    patches.mark_deferred(type("Interaction", (), {"response": response})())  # type: ignore[arg-type]
    assert response.is_done()
    assert response.type is discord.InteractionResponseType.deferred_channel_message


def test_stored_images_get_the_on_loop_payload_once_applied(tmp_path, monkeypatch):
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    image = tmp_path / "x.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    patches.apply(api_base=discord.http.Route.BASE, gateway_url=None)
    patches.apply(api_base=discord.http.Route.BASE, gateway_url=None)  # a second call adds nothing
    body = aiohttp.payload.get_payload(StoredImageFile(image))
    assert isinstance(body, StoredImagePayload)
    assert body.size == 108
    registered = [entry for entry in aiohttp.payload.PAYLOAD_REGISTRY._first if entry[0] is StoredImagePayload]
    assert len(registered) == 1
