"""bot.py's event wiring: each event reaches the listener method its name says, on the real classes."""

from __future__ import annotations

import pytest

import bot
from cogs.ui.modlog import ModLog
from cogs.ui.owner_alerts import OwnerAlerts
from cogs.ui.undeliverable import UndeliverableNotices
from core import events as ev
from core.metrics import Metrics


def listeners() -> dict[str, object]:
    # Only the bound methods are looked at, so the listeners need none of their collaborators.
    return {name: object.__new__(cls) for name, cls in
            (("mod_log", ModLog), ("alerts", OwnerAlerts), ("metrics", Metrics), ("undeliverable", UndeliverableNotices))}


def subscribed(bus: ev.EventBus, event_type: type) -> list[str]:
    return [h.__qualname__ for h in bus._handlers.get(event_type, [])]


def test_every_event_reaches_the_method_named_after_it_in_subscription_order():
    bus, parts = ev.EventBus(), listeners()
    bot.subscribe_listeners(bus, parts["mod_log"], parts["alerts"])
    bot.subscribe_operations(bus, parts["metrics"], parts["undeliverable"])
    assert subscribed(bus, ev.JobPosted) == ["ModLog.on_job_posted", "Metrics.on_job_posted"]
    assert subscribed(bus, ev.CreditSettingsChanged) == ["ModLog.on_credit_settings_changed"]
    assert subscribed(bus, ev.ProviderKeyRefused) == ["OwnerAlerts.on_provider_key_refused"]
    assert subscribed(bus, ev.JobUndeliverable) == [
        "UndeliverableNotices.on_job_undeliverable", "Metrics.on_job_undeliverable"
    ]
    assert sum(len(v) for v in bus._handlers.values()) == 21


def test_a_listener_without_the_method_fails_at_subscription():
    with pytest.raises(AttributeError, match="on_guild_balance_low"):
        bot.subscribe(ev.EventBus(), object(), ev.GuildBalanceLow)
