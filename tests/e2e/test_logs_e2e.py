"""What the bot logs at DEBUG, where discord.py writes every webhook URL it calls."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ALICE, GENERAL, GUILD

pytestmark = pytest.mark.e2e


async def test_interaction_tokens_are_redacted_and_voice_warnings_dropped(world):
    await world.start_bot(LOG_LEVEL="DEBUG")
    await world.grant(10)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a red kite"})
    await world.result(interaction)
    await world.discord.wait_for(lambda: world.jobs()[0]["state"] == "posted")
    log = world.log()
    assert "/webhooks/" in log and "/interactions/" in log, "discord.py logged the URLs: the check means something"
    for sent in world.discord.interactions:
        leaked = [line for line in log.splitlines() if sent.token in line]
        assert leaked == [], "an interaction token (15 minutes of posting as the bot) reached the log"
    assert "/[redacted]/callback" in log
    assert "voice will NOT be supported" not in log and "PyNaCl" not in log
