"""Old import path of the fake Discord; it lives in the package :mod:`tests.fakes.discord`."""

from tests.fakes.discord import FakeDiscord, Interaction, RecordedRequest

__all__ = ["FakeDiscord", "Interaction", "RecordedRequest"]
