"""Alerts fire once per crossing; the Segmind account is never overcommitted."""

from __future__ import annotations

import pytest

from core.account import AccountWatch
from core.credit_rules import CreditRules
from core.errors import AccountExhausted
from core.events import EventBus, ProviderBalanceLow

GUILD = 5


async def test_guild_low_balance_alerts_once_per_crossing(db):
    rules = CreditRules(db)
    assert await rules.note_balance(GUILD, 3) is False, "no threshold set: never alerts"
    await rules.update_settings(GUILD, low_balance_below=10)
    seen = [await rules.note_balance(GUILD, b) for b in (20, 12, 9, 8, 2, 0)]
    assert seen == [False, False, True, False, False, False], "one alert for the whole fall"
    seen = [await rules.note_balance(GUILD, b) for b in (50, 9, 40, 5)]
    assert seen == [False, True, False, True], "a new alert after each recovery above the threshold"


async def test_settings_update_only_what_is_given(db):
    rules = CreditRules(db)
    await rules.update_settings(GUILD, quote_above=10, confirm_all=False)
    await rules.update_settings(GUILD, low_balance_below=5)
    settings = await rules.settings(GUILD)
    assert (settings.quote_above, settings.confirm_all, settings.low_balance_below) == (10, False, 5)
    assert settings.needs_quote(11) and not settings.needs_quote(10)
    await rules.update_settings(GUILD, confirm_all=True, quote_above=None)
    assert (await rules.settings(GUILD)).needs_quote(1)


async def test_account_alert_once_per_crossing_and_refusal():
    calls: list[float] = []
    bus = EventBus()

    async def listener(event: ProviderBalanceLow) -> None:
        calls.append(event.balance_usd)

    bus.subscribe(ProviderBalanceLow, listener)
    watch = AccountWatch(low_threshold_usd=5.0, events=bus)
    for balance in (20.0, 6.0, 4.0, 3.0, None, 2.5):
        await watch.observe(balance)
    assert calls == [4.0]
    await watch.observe(30.0)
    await watch.observe(1.0)
    assert calls == [4.0, 1.0]
    watch.ensure_can_cover(0.5, 0.073)
    with pytest.raises(AccountExhausted) as info:
        watch.ensure_can_cover(0.95, 0.073)
    assert info.value.balance_usd == 1.0


async def test_account_refresh_uses_the_endpoint_at_most_every_interval():
    now = [0.0]
    fetched: list[int] = []

    async def fetch() -> float:
        fetched.append(1)
        return 12.0

    watch = AccountWatch(low_threshold_usd=5.0, fetch=fetch, refresh_seconds=600, clock=lambda: now[0])
    await watch.refresh()
    await watch.refresh()
    now[0] = 601
    await watch.refresh()
    await watch.refresh(force=True)
    assert len(fetched) == 3 and watch.balance_usd == 12.0
