"""Credit usage reports: the ledger as filtered rows and CSV, spend per UTC day, and its chart.

Read-only over `ledger_entries` (core/ledger.py) and `jobs` (core/jobs.py); it lives here because it
is reporting, not bookkeeping. Times are unix seconds and every day is a UTC day.

CSV safety: `reason` is free text typed by members, and a spreadsheet runs a cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return as a formula (`=HYPERLINK(...)` phishing, DDE). Such a
text cell is written with a leading `'`, which spreadsheets show as text (OWASP's advice). A text
that already starts with `'` gets one more, so `parse_ledger_csv` strips exactly one and every
reason round-trips exactly; only an empty reason comes back as None.

The chart is drawn with matplotlib's object API (`Figure` + `FigureCanvasAgg`): no pyplot, no
`matplotlib.use()`, no rcParams changes, so importing this module changes nothing for other code
and it works headless. A chart costs about 0.15 s of CPU (30 days, two models, this 2-core
machine): call it via `asyncio.to_thread` from the event loop.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import gzip
import io
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.db import Database
from core.models import ModelId

CSV_COLUMNS = (
    "id",
    "created_at_utc",
    "kind",
    "amount",
    "balance_after",
    "job_id",
    "user_id",
    "model",
    "reason",
)
# What a spreadsheet may read as the start of a formula (OWASP "CSV injection").
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_GUARD = "'"

# Fixed per model so a chart reads the same every day; blue/orange stay apart for colour-blind eyes.
MODEL_COLOURS: dict[str, str] = {ModelId.PRO.value: "#3B5BDB", ModelId.KLEIN.value: "#F08C00"}
_OTHER_COLOURS = ("#2F9E44", "#AE3EC9", "#E03131", "#495057")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- the ledger as rows ------------------------------------------------------------------------


# Above every entry id (SQLite rowids are signed 64-bit): "no cursor" as a plain range bound.
_NO_CURSOR = 2**63 - 1
# Static statements: an unused filter is switched off by its NULL parameter.
_LEDGER_SELECT = (
    "SELECT l.id, l.guild_id, l.kind, l.amount, l.balance_after, l.job_id, l.user_id, l.reason,"
    " l.created_at, j.model AS model"
    " FROM ledger_entries l LEFT JOIN jobs j ON j.id = l.job_id AND j.guild_id = l.guild_id"
    " WHERE l.guild_id = ?"
    " AND (CAST(? AS BIGINT) IS NULL OR COALESCE(j.user_id, l.user_id) = ?)"
    " AND (CAST(? AS TEXT) IS NULL OR j.model = ?)"
    " AND (CAST(? AS DOUBLE PRECISION) IS NULL OR l.created_at >= ?)"
    " AND (CAST(? AS DOUBLE PRECISION) IS NULL OR l.created_at < ?)"
)
# A plain range (no "? IS NULL OR"), so the (guild_id, id) index starts at the cursor instead of
# walking down to it from the newest entry.
_LEDGER_OLDER = _LEDGER_SELECT + " AND l.id < ? ORDER BY l.id DESC LIMIT ?"
_LEDGER_NEWER = _LEDGER_SELECT + " AND l.id > ? ORDER BY l.id ASC LIMIT ?"
_LEDGER_ALL = _LEDGER_SELECT + " ORDER BY l.id DESC"


async def ledger_rows(
    db: Database,
    guild_id: int,
    *,
    user_id: int | None = None,
    model: str | None = None,
    since: float | None = None,
    until: float | None = None,
    older_than: int | None = None,
    newer_than: int | None = None,
    limit: int = -1,
) -> list[dict[str, Any]]:
    """The guild's ledger entries, newest first, each with its job's `model` (None without a job).

    `user_id` selects the member an entry is about: the requester of the entry's job (so a refund
    a moderator issued counts for the member whose job it was), or for entries without a job (grants)
    the member who made it. `model` is a model id; entries without a job never match it.
    `since`/`until` bound `created_at` to [since, until). None means "no filter".
    Paging is by key, never by offset: `older_than`/`newer_than` an entry id, at most `limit` rows
    (-1: all), read in id order through the (guild_id, id) index from the cursor on.
    """
    if limit < 0:
        limit = 2**62  # "all": PostgreSQL refuses a negative LIMIT, SQLite reads it as none
    params = (guild_id, user_id, user_id, model, model, since, since, until, until)
    if newer_than is None:
        rows = await db.fetchall(_LEDGER_OLDER, (*params, older_than if older_than is not None else _NO_CURSOR, limit))
        return [dict(r) for r in rows]
    rows = await db.fetchall(_LEDGER_NEWER, (*params, newer_than, limit))
    return [dict(r) for r in reversed(rows)]


async def export_ledger(
    db: Database, guild_id: int, path: Path, *, since: float | None = None, until: float | None = None,
    batch: int = 2000,
) -> int:
    """Write the guild's ledger (newest first) to `path` as gzipped `ledger_csv`, `batch` rows at a
    time: memory stays bounded however long the ledger. One statement, so one read snapshot (the
    balances in the file agree with each other); the rows are read, formatted and compressed in a
    worker thread (`Database.scan_in_thread`), so the event loop only waits for the end (converting
    each batch on the loop stalled it for 160 ms on a million-row ledger). The rows stay plain
    tuples: a Row or dict per entry, alive while its batch is formatted, is promoted to the oldest
    garbage-collector generation and sets off full collections of the bot's whole heap, which hold
    the GIL. Returns how many entries were written."""
    out = await asyncio.to_thread(gzip.open, path, "wb")
    written = 0

    def write(rows: list[Any]) -> None:
        nonlocal written
        cells = (
            (i, _iso_utc(at), kind, amount, balance, job, user, model, reason)
            for i, _guild, kind, amount, balance, job, user, reason, at, model in rows
        )
        out.write(_csv(cells, header=written == 0))
        written += len(rows)

    try:
        await db.scan_in_thread(
            _LEDGER_ALL,
            (guild_id, None, None, None, None, since, since, until, until),
            write,
            batch,
        )
        if written == 0:
            await asyncio.to_thread(out.write, _csv((), header=True))
    finally:
        await asyncio.to_thread(out.close)
    return written


def totals(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Sum of `amount` per ledger kind (only kinds that occur), like `Ledger.totals`."""
    sums: dict[str, int] = {}
    for row in rows:
        sums[row["kind"]] = sums.get(row["kind"], 0) + int(row["amount"])
    return sums


# --- CSV ---------------------------------------------------------------------------------------


def _guard_text(text: str) -> str:
    if text.startswith((*_FORMULA_TRIGGERS, _GUARD)):
        return _GUARD + text
    return text


def _unguard_text(text: str) -> str:
    if text.startswith(_GUARD) and text[1:].startswith((*_FORMULA_TRIGGERS, _GUARD)):
        return text[1:]
    return text


def _iso_utc(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ledger_csv(rows: Iterable[Mapping[str, Any]], *, header: bool = True) -> bytes:
    """The rows as UTF-8 CSV (RFC 4180, header first) with the columns of `CSV_COLUMNS`.

    `created_at_utc` is ISO 8601 to the second ("2025-03-05T14:07:09Z"). Every text cell goes
    through the formula-injection guard described at the top of this module; numbers are written
    as numbers (a negative amount stays a number).
    """
    return _csv(
        (
            (row["id"], _iso_utc(row["created_at"]), row["kind"], row["amount"], row["balance_after"],
             row.get("job_id"), row.get("user_id"), row.get("model"), row.get("reason"))
            for row in rows
        ),
        header=header,
    )


def _csv(rows: Iterable[tuple[Any, ...]], *, header: bool) -> bytes:
    """`ledger_csv` of rows already in `CSV_COLUMNS` order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for cells in rows:
        writer.writerow(
            ["" if c is None else _guard_text(c) if isinstance(c, str) else int(c) for c in cells]
        )
    # A lone surrogate cannot reach SQLite, but a report must not fail on one if it ever does.
    return out.getvalue().encode("utf-8", errors="replace")


def parse_ledger_csv(data: bytes) -> list[dict[str, Any]]:
    """Read `ledger_csv` output back into rows keyed like `ledger_rows` (without guild_id).

    What round-trips: ids, kinds, amounts and balances (as int), job and user ids, model, the exact
    reason text (the injection guard is undone), and `created_at` to the whole second. An empty
    reason or model comes back as None. So `totals(parse_ledger_csv(ledger_csv(rows))) ==
    totals(rows)` always holds. Raises ValueError if the header is not `CSV_COLUMNS`.
    """
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = next(reader, None)
    if header is None or tuple(header) != CSV_COLUMNS:
        raise ValueError(f"not a ledger CSV: header {header!r}")

    def opt_int(cell: str) -> int | None:
        return int(cell) if cell else None

    def opt_text(cell: str) -> str | None:
        return _unguard_text(cell) if cell else None

    parsed = []
    for line, cells in enumerate(reader, start=2):
        if len(cells) != len(CSV_COLUMNS):
            raise ValueError(f"line {line}: {len(cells)} cells, expected {len(CSV_COLUMNS)}")
        cell = dict(zip(CSV_COLUMNS, cells, strict=True))
        parsed.append(
            {
                "id": int(cell["id"]),
                "created_at": dt.datetime.fromisoformat(cell["created_at_utc"]).timestamp(),
                "kind": _unguard_text(cell["kind"]),
                "amount": int(cell["amount"]),
                "balance_after": int(cell["balance_after"]),
                "job_id": opt_int(cell["job_id"]),
                "user_id": opt_int(cell["user_id"]),
                "model": opt_text(cell["model"]),
                "reason": opt_text(cell["reason"]),
            }
        )
    return parsed


# --- spend per day -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DailySpend:
    """Net credits spent per UTC day (oldest first) and per model id; a list per model, aligned
    with `days`. Known models are always present (zeros included), Pro first."""

    days: list[dt.date]
    by_model: dict[str, list[int]]


async def daily_spend(db: Database, guild_id: int, *, days: int = 30, now: float) -> DailySpend:
    """Credits captured per UTC day and model over the `days` days ending with `now`'s day,
    minus refunds, each counted on the day of the refund.

    A refund counts only for a job that was captured (at any time, so a refund today of a job charged
    before the window still lowers today); a day can therefore be negative. Releases are not spend.
    Spend of a job whose row is missing is reported under the key "unknown" (only when non-zero).
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    last = dt.datetime.fromtimestamp(now, dt.UTC).date()
    first = last - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time(), dt.UTC).timestamp()
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp()
    # A month of a busy guild's entries (0.9 s for 450 k): on its own connection, so the reads an
    # /imagine makes do not queue behind it on the shared reader.
    rows = await db.fetchall_in_thread(
        "SELECT date(l.created_at, 'unixepoch') AS day, j.model AS model,"
        " SUM(CASE l.kind WHEN 'capture' THEN l.amount ELSE -l.amount END) AS net"
        " FROM ledger_entries l LEFT JOIN jobs j ON j.id = l.job_id AND j.guild_id = l.guild_id"
        " WHERE l.guild_id = ? AND l.created_at >= ? AND l.created_at < ?"
        " AND (l.kind = 'capture' OR (l.kind = 'refund' AND EXISTS ("
        "   SELECT 1 FROM ledger_entries c WHERE c.job_id = l.job_id AND c.kind = 'capture')))"
        " GROUP BY day, model",
        (guild_id, start, end),
    )
    day_list = [first + dt.timedelta(days=i) for i in range(days)]
    by_model: dict[str, list[int]] = {m.value: [0] * days for m in ModelId}
    for row in rows:
        index = (dt.date.fromisoformat(row["day"]) - first).days
        if not 0 <= index < days or not row["net"]:
            continue
        series = by_model.setdefault(row["model"] or "unknown", [0] * days)
        series[index] += int(row["net"])
    return DailySpend(days=day_list, by_model=by_model)


# --- the chart ---------------------------------------------------------------------------------


def display_name(model: str) -> str:
    try:
        return ModelId(model).display_name
    except ValueError:
        return model


def _day_label(day: dt.date) -> str:
    # Month names from a fixed table: strftime("%b") would follow whatever locale the process set.
    return f"{_MONTHS[day.month - 1]} {day.day}"


def usage_chart_png(spend: DailySpend, *, title: str) -> bytes:
    """A stacked bar chart (credits per UTC day, one colour per model) as PNG bytes, 900×450 px.

    Only models with spend in the period get bars and a legend entry; an empty period says so.
    Negative days (refunds above captures) stack below the zero line. `title` is shown as plain
    text (no mathtext, so a `$` in a server name is harmless).
    """
    # Imported here: matplotlib (+ numpy) is ~45 MiB of memory and ~0.5 s of start-up that only
    # this command needs.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    n = len(spend.days)
    fig = Figure(figsize=(9, 4.5), dpi=100, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    try:
        # Fixed margins for a fixed size: an automatic layout would draw the figure twice (~2x slower).
        ax = fig.add_axes((0.08, 0.15, 0.90, 0.76))
        ax.set_facecolor("white")
        up = [0] * n
        down = [0] * n
        others = itertools.cycle(_OTHER_COLOURS)
        for model, values in spend.by_model.items():
            if not any(values):
                continue
            # One collection of rectangles per model: ax.bar() makes an artist per bar (~3x slower).
            boxes = []
            for x, value in enumerate(values):
                base = up if value > 0 else down
                if value:
                    y0, y1 = base[x], base[x] + value
                    boxes.append(((x - 0.4, y0), (x - 0.4, y1), (x + 0.4, y1), (x + 0.4, y0)))
                    base[x] = y1
            colour = MODEL_COLOURS.get(model) or next(others)
            ax.add_collection(
                PolyCollection(
                    boxes,
                    facecolors=colour,
                    edgecolors="none",
                    linewidths=0,
                    label=display_name(model),
                    zorder=3,
                ),
                autolim=False,
            )

        if any(up) or any(down):
            # Headroom above the tallest bar keeps the legend off the bars.
            ax.set_ylim(min(down) * 1.1, max(max(up) * 1.25, 1))
            legend = ax.legend(loc="upper left", frameon=False)
            for text in legend.get_texts():
                text.set_parse_math(False)
            if any(down):
                ax.axhline(0, color="#343A40", linewidth=0.8, zorder=4)
        else:
            ax.set_ylim(0, 1)
            ax.text(
                0.5,
                0.5,
                "No credits spent in this period",
                transform=ax.transAxes,
                ha="center",
                va="center",
                color="#495057",
                fontsize=12,
                parse_math=False,
            )

        step = max(1, math.ceil(n / 10))
        ticks = list(range(n - 1, -1, -step))[::-1]  # the latest day always has a label
        ax.set_xticks(ticks, [_day_label(spend.days[i]) for i in ticks])
        ax.set_xlim(-0.6, n - 0.4)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", color="#E9ECEF", linewidth=0.8, zorder=0)
        ax.spines[["top", "right"]].set_visible(False)
        span = f"{spend.days[0].isoformat()} to {spend.days[-1].isoformat()}" if n else ""
        ax.set_xlabel(f"Day (UTC), {span}", parse_math=False)
        ax.set_ylabel("Credits")
        ax.set_title(title[:100], parse_math=False)

        out = io.BytesIO()
        canvas.print_png(out, metadata={"Software": None}, pil_kwargs={"compress_level": 3})
        return out.getvalue()
    finally:
        # Not registered with pyplot, so nothing global holds it; clearing drops the artists now.
        fig.clear()
