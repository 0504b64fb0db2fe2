"""Old import path of the fake Discord's payload builders; they live in :mod:`tests.fakes.discord.payloads`."""

from tests.fakes.discord.payloads import *  # noqa: F403
