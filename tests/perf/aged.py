"""8. An aged database: what a command or a job step costs once months of rows have piled up.

1 M ledger entries and 500 k jobs (two entries, reserve and capture, per job; 90 % in one guild,
spread over 60 days), built straight into the file in a worker thread, then opened through the
bot's own storage layer and measured with a task watching how late the event loop wakes:

- `/credits-admin history`: the first page and pages from random entries on, all filters off and by member;
- admission: the reads `/imagine` makes before its acknowledgement (member usage, jobs in flight by
  model, queue length, balance);
- `/credits-admin export` of the big guild to a gzip file: peak RSS above the process's RSS just before.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from core import usage
from core.db import Database
from core.jobs import JobStore
from core.ledger import Ledger

BIG_GUILD = 1
DAY = 86_400.0


def _build(path: Path, jobs: int, seed: int = 12, guilds: list[int] | None = None, users: list[int] | None = None) -> int:
    """`jobs` jobs and twice as many ledger entries, 90 % in `guilds[0]`, the rest spread over the
    other guilds, each by one of `users` (by default guilds 1-200, members 1-2000)."""
    rng = random.Random(seed)
    guilds = guilds or [BIG_GUILD, *range(2, 201)]
    users = users or list(range(1, 2001))
    now = time.time()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        balances: dict[int, int] = {}
        job_rows, ledger_rows = [], []
        spec = json.dumps({"model": "flux-2-klein-9b", "prompt": "an old job", "width": 1024, "height": 1024})
        for job_id in range(1, jobs + 1):
            guild = guilds[0] if rng.random() < 0.9 or len(guilds) == 1 else rng.choice(guilds[1:])
            user = rng.choice(users)
            at = now - 60 * DAY * (1 - job_id / jobs)
            model = "flux-2-klein-9b" if rng.random() < 0.7 else "flux-2-pro"
            job_rows.append((job_id, guild, 10, user, "imagine", model, spec, 2, "posted", at, at))
            balance = balances.get(guild, 10**9)
            ledger_rows.append((guild, "reserve", 2, balance, job_id, user, at))
            balances[guild] = balance - 2
            ledger_rows.append((guild, "capture", 2, balance - 2, job_id, user, at))
            if len(job_rows) >= 50_000:
                _flush(conn, job_rows, ledger_rows)
        _flush(conn, job_rows, ledger_rows)
        conn.executemany(
            "INSERT INTO guild_credits (guild_id, balance, reserved, created_at) VALUES (?, ?, 0, ?)",
            [(g, b, now - 60 * DAY) for g, b in balances.items()],
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(balances)
    finally:
        conn.close()


def _flush(conn: sqlite3.Connection, job_rows: list, ledger_rows: list) -> None:
    conn.executemany(
        "INSERT INTO jobs (id, guild_id, channel_id, user_id, kind, model, spec, price, state, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        job_rows,
    )
    conn.executemany(
        "INSERT INTO ledger_entries (guild_id, kind, amount, balance_after, job_id, user_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        ledger_rows,
    )
    job_rows.clear()
    ledger_rows.clear()


def aged_jobs(opts: Any) -> int:
    return 2_000 if opts.smoke else 500_000


async def build_aged(path: Path, jobs: int, guilds: list[int] | None = None, users: list[int] | None = None) -> None:
    """An aged database at `path`: the schema through the bot's own migrations, then the rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = await Database.open(path)
    await db.close()
    await asyncio.to_thread(_build, path, jobs, 12, guilds, users)


def _rss_mib(field: str = "VmRSS:") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> bool:
    """Reset the kernel's peak RSS of this process to its current RSS (Linux 4.0 and later)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _p99_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1)


async def aged_database(opts: Any, scale: int) -> dict[str, Any]:
    if scale > 1:
        return {"note": "measured once, at the issue's size (building twice as many rows adds nothing)"}
    jobs = aged_jobs(opts)
    folder = opts.tmp / "aged"
    path = folder / "bot.db"
    started = time.perf_counter()
    await build_aged(path, jobs)
    built_s = time.perf_counter() - started

    db = await Database.open(path)
    stalls: dict[str, float] = {}
    phase = "history"
    done = asyncio.Event()

    async def watch_loop() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            stalls[phase] = max(stalls.get(phase, 0.0), time.perf_counter() - before - 0.001)

    watcher = asyncio.create_task(watch_loop())
    try:
        rng = random.Random(5)
        store, ledger = JobStore(db), Ledger(db)
        (max_id,) = (await db.fetchone("SELECT MAX(id) FROM ledger_entries"))
        history: list[float] = []
        for n in range(20 if opts.smoke else 200):
            cursor = None if n % 4 == 0 else rng.randint(1, max_id)
            member = rng.randint(1, 2000) if n % 2 else None
            t = time.perf_counter()
            await usage.ledger_rows(db, BIG_GUILD, user_id=member, older_than=cursor, limit=11)
            history.append(time.perf_counter() - t)
        admission: list[float] = []
        phase = "admission"
        for _ in range(5 if opts.smoke else 20):
            user = rng.randint(1, 2000)
            t = time.perf_counter()
            # What admission reads (the balance and the member's jobs, spend and block in one
            # statement), then what creating the job reads.
            await ledger.member_snapshot(BIG_GUILD, user, time.time() - DAY)
            await store.in_flight_by_model()
            await store.count_waiting(BIG_GUILD)
            admission.append(time.perf_counter() - t)
        phase = "export"
        # The kernel keeps the peak (VmHWM) once reset: no sampling thread competing with the loop
        # for the GIL while its stalls are measured, and no peak missed between two samples.
        baseline = _rss_mib()
        kernel_peak = _reset_peak()
        peak = baseline
        sampling = not kernel_peak

        def sample() -> None:
            nonlocal peak
            while sampling:
                peak = max(peak, _rss_mib())
                time.sleep(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t = time.perf_counter()
        exported = await usage.export_ledger(db, BIG_GUILD, folder / "export.csv.gz")
        export_s = time.perf_counter() - t
        sampling = False
        sampler.join()
        if kernel_peak:
            peak = _rss_mib("VmHWM:")
        ledger_count = (await db.fetchone("SELECT COUNT(*) FROM ledger_entries"))[0]
        job_count = (await db.fetchone("SELECT COUNT(*) FROM jobs"))[0]
    finally:
        done.set()
        await watcher
        await db.close()
    return {
        "ledger_rows": ledger_count,
        "jobs": job_count,
        "build_s": round(built_s, 1),
        "max_loop_stall_ms": round(1000 * max(stalls.values(), default=0.0), 1),
        "max_loop_stall_ms_by_step": {step: round(1000 * v, 1) for step, v in stalls.items()},
        "history_page_p99_ms": _p99_ms(history),
        "admission_p99_ms": _p99_ms(admission),
        "export_rows": exported,
        "export_s": round(export_s, 1),
        "export_gzip_mib": round((folder / "export.csv.gz").stat().st_size / 2**20, 1),
        "export_peak_extra_mib": round(peak - baseline, 1),
    }
