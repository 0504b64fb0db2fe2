"""The event bus: typed delivery, in order, and a failing listener never reaches the publisher."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest

from core.events import (
    CreditsGranted,
    Event,
    EventBus,
    ModeratorAction,
    ProviderKeyRefused,
)

GUILD = 7


def grant(amount: int = 5) -> CreditsGranted:
    return CreditsGranted(GUILD, by=1, amount=amount, balance=amount, reason=None)


async def test_a_handler_receives_only_its_event_type():
    grants: list[CreditsGranted] = []
    actions: list[ModeratorAction] = []

    async def on_grant(event: CreditsGranted) -> None:
        grants.append(event)

    async def on_action(event: ModeratorAction) -> None:
        actions.append(event)

    bus = EventBus()
    bus.subscribe(CreditsGranted, on_grant)
    bus.subscribe(ModeratorAction, on_action)
    await bus.publish(grant(3))
    assert [g.amount for g in grants] == [3], "the grant reached its handler"
    assert actions == [], "a ModeratorAction handler did not hear about a grant"


async def test_subscribing_to_the_base_class_hears_every_event_after_the_specific_ones():
    order: list[str] = []

    async def specific(event: CreditsGranted) -> None:
        order.append("specific")

    async def everything(event: Event) -> None:
        order.append(type(event).__name__)

    bus = EventBus()
    bus.subscribe(Event, everything)
    bus.subscribe(CreditsGranted, specific)
    await bus.publish(grant())
    await bus.publish(ProviderKeyRefused(401, "bad key"))
    assert order == ["specific", "CreditsGranted", "ProviderKeyRefused"]


async def test_a_failing_handler_is_logged_and_the_others_still_run(caplog):
    heard: list[int] = []

    async def broken(event: CreditsGranted) -> None:
        raise RuntimeError("discord said no")

    async def fine(event: CreditsGranted) -> None:
        heard.append(event.amount)

    bus = EventBus()
    bus.subscribe(CreditsGranted, broken)
    bus.subscribe(CreditsGranted, fine)
    with caplog.at_level(logging.ERROR, logger="core.events"):
        await bus.publish(grant(9))  # must not raise
    assert heard == [9], "the handler after the broken one still ran"
    assert "discord said no" in caplog.text, "the failure was logged with its traceback"


async def test_emit_runs_handlers_in_the_background_and_drain_waits_for_them():
    release = asyncio.Event()
    heard: list[int] = []

    async def slow(event: CreditsGranted) -> None:
        await release.wait()
        heard.append(event.amount)

    bus = EventBus()
    bus.subscribe(CreditsGranted, slow)
    bus.emit(grant(4))  # returns at once although the handler waits
    assert heard == []
    release.set()
    await bus.drain()
    assert heard == [4]


async def test_events_are_immutable_facts():
    with pytest.raises(dataclasses.FrozenInstanceError):
        grant().amount = 100  # type: ignore[misc]
