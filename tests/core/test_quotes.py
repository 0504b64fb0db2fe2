"""Stored quotes: answered once, by their member, while they last."""

from __future__ import annotations

import asyncio

from core.jobs import JobKind
from core.models import GenerationSpec, ModelId
from core.quotes import QUOTE_SECONDS, QuoteStore


async def open_quote(store: QuoteStore, user: int = 5) -> int:
    return await store.open(
        guild_id=1, channel_id=2, user_id=user, kind=JobKind.IMAGINE, count=3,
        spec=GenerationSpec(prompt="a kite", model=ModelId.PRO), parent_job_id=None, reference_authors=frozenset({9}),
    )


async def test_a_quote_is_claimed_once_even_by_racing_clicks(db):
    store = QuoteStore(db)
    quote_id = await open_quote(store)
    claims = await asyncio.gather(*(store.claim(quote_id, 5) for _ in range(5)))
    won = [c for c in claims if c is not None]
    assert len(won) == 1
    assert won[0].count == 3 and won[0].spec.prompt == "a kite" and won[0].reference_authors == frozenset({9})


async def test_only_its_member_can_claim_it(db):
    store = QuoteStore(db)
    quote_id = await open_quote(store, user=5)
    assert await store.claim(quote_id, 6) is None
    assert await store.claim(quote_id, 5) is not None


async def test_an_expired_quote_cannot_be_claimed(db):
    store = QuoteStore(db)
    quote_id = await open_quote(store)
    async with db.transaction() as tx:
        await tx.execute("UPDATE quotes SET created_at = created_at - ? WHERE id = ?", (QUOTE_SECONDS + 1, quote_id))
    assert await store.claim(quote_id, 5) is None
