"""The reads every /imagine makes before its acknowledgement, and a history page, read indexes only.

Each statement is captured as SQLite runs it (a trace callback on both connections), then explained:
a plain `SCAN jobs` or `SCAN ledger_entries` is a walk over every row the table ever had, which is
what made these reads take 0.1-0.2 s each on a database a few months old (tests/perf/aged.py).
"""

from __future__ import annotations

import time

from core import usage
from core.jobs import JobStore
from core.ledger import Ledger

GUILD = 1_300_000_000_000_000_001
MEMBER = 1_300_000_000_000_000_021
BIG_TABLES = ("jobs", "ledger_entries", "reservations")


async def traced(db, action) -> list[str]:
    seen: list[str] = []
    connections = [c for c in (db._conn, db._reader) if c is not None]
    for conn in connections:
        await conn.set_trace_callback(seen.append)
    try:
        await action()
    finally:
        for conn in connections:
            await conn.set_trace_callback(None)
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")]


async def full_scans(db, statements: list[str]) -> list[tuple[str, str]]:
    found = []
    for sql in statements:
        for row in await db.fetchall("EXPLAIN QUERY PLAN " + sql):
            detail = row["detail"]
            if detail.startswith("SCAN") and any(detail.split()[1] == t for t in BIG_TABLES):
                if "USING INDEX jobs_in_flight" not in detail:  # the unanswered jobs only
                    found.append((sql, detail))
    return found


async def test_admission_reads_use_indexes(db):
    jobs, ledger = JobStore(db), Ledger(db)

    async def admission_reads():
        await ledger.member_snapshot(GUILD, MEMBER, time.time() - 86_400)  # what admission reads
        await jobs.member_usage(GUILD, MEMBER, time.time() - 86_400)
        await jobs.in_flight_by_model()
        await jobs.count_waiting(GUILD)
        await ledger.balance(GUILD)

    statements = await traced(db, admission_reads)
    assert len(statements) >= 5, statements
    assert await full_scans(db, statements) == []


async def test_a_history_page_deep_in_the_ledger_starts_at_its_cursor(db):
    async def pages():
        await usage.ledger_rows(db, GUILD, older_than=500_000, limit=11)
        await usage.ledger_rows(db, GUILD, newer_than=500_000, limit=11)
        await usage.ledger_rows(db, GUILD, limit=11)

    statements = await traced(db, pages)
    assert await full_scans(db, statements) == []
    for sql in statements:
        plan = " ".join(r["detail"] for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql))
        assert "ledger_by_guild (guild_id=? AND id" in plan, f"the page walks the guild's ledger from its newest entry: {plan}"


async def test_reports_over_a_whole_ledger_leave_the_shared_connections_free(db, tmp_path):
    """The owner's guild list, the usage chart and the export read every entry of a guild (0.5-0.9 s
    and 14 s on tests/perf/aged.py's database): none of it may run on the connections the reads an
    /imagine makes are queued on."""
    ledger = Ledger(db)
    await ledger.grant(GUILD, 50, user_id=MEMBER, reason=None)

    async def reports():
        assert [guild for guild, _balance, _spent in await ledger.guild_summaries()] == [GUILD]
        await JobStore(db).usd_by_guild()
        await usage.daily_spend(db, GUILD, now=time.time())
        assert await usage.export_ledger(db, GUILD, tmp_path / "export.csv.gz") == 1

    assert await traced(db, reports) == []


async def test_what_a_member_has_spent_is_read_without_a_write_transaction(db):
    """Every /imagine reads it before its acknowledgement: a BEGIN IMMEDIATE there would queue each
    command behind the writer (and its commit's fsync), so the acknowledgement waited for other jobs' writes."""
    ledger = Ledger(db)
    seen: list[str] = []
    for conn in (db._conn, db._reader):
        await conn.set_trace_callback(seen.append)
    try:
        await ledger.allowance_used(GUILD, MEMBER, time.time() - 86_400)
    finally:
        for conn in (db._conn, db._reader):
            await conn.set_trace_callback(None)
    assert seen and not [s for s in seen if s.lstrip().upper().startswith(("BEGIN", "COMMIT"))], seen
