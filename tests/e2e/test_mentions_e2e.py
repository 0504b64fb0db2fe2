"""Text the bot does not control (Segmind's error text) reaches Discord unable to ping anyone.

The world fixture's teardown checks allowed_mentions on every message of every e2e test; this test
makes sure there is something to ping in the text, and looks at the message Discord shows.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ALICE, BOB, GENERAL, GUILD, MOD_ROLE
from tests.fakes.segmind_server import Fault

pytestmark = pytest.mark.e2e

HOSTILE = f"@everyone @here <@&{MOD_ROLE}> <@{BOB}> width must be a multiple of 16"


async def test_a_segmind_error_with_mentions_pings_nobody(world):
    await world.start_bot()
    await world.grant(10)
    world.segmind.script("submit", Fault(422, {"error": HOSTILE}))
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a boat"})
    reply = await world.reply(interaction)
    assert "width must be a multiple of 16" in reply["content"], "Segmind's reason is shown"
    assert "@everyone" in reply["content"] or "@\u200beveryone" in reply["content"], reply["content"]
    mentions = world.discord.allowed_mentions_of(reply["id"])
    assert mentions is not None and not mentions.get("parse"), mentions
    assert not mentions.get("roles") and not mentions.get("users"), mentions
    assert reply["mention_everyone"] is False and reply["mention_roles"] == [] and reply["mentions"] == []
    assert world.discord.pings == []
    await world.discord.wait_for(lambda: world.jobs()[0]["state"] == "refunded")
    assert world.balance() == (10, 0)
