"""The scale run's figures, as pure functions of plain data (the database's rows and the fakes' logs),
so tests/scale/test_figures.py can feed each one a broken world and watch it fail.

Times are wall-clock seconds (time.time()): the bot processes write them into the database and the
fakes stamp every arrival with them, all on one machine.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class JobRow:
    """What the figures need of one job: from the jobs table, plus its marker (the prompt's fzNNNNNN)."""

    id: int
    marker: str | None
    guild_id: int
    state: str
    created_at: float


def max_in_window(times: Iterable[float], period: float) -> int:
    """The most arrivals in any window [t, t + period): what Segmind's sliding window counted."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - period:
            start += 1
        best = max(best, end - start + 1)
    return best


def throughput_over_limit(times: Sequence[float], limit: int, period: float) -> float | None:
    """Achieved rate over the key's limit, for arrivals while there was a backlog (``times``).

    n requests under a limit of `limit` per `period` need at least ceil(n / limit) - 1 full windows
    between the first and the last; that ideal span over the real one is 1.0 at the limit, whether
    the requests came in bursts of `limit` or evenly paced. None when the run never filled a window.
    """
    ordered = sorted(times)
    if len(ordered) <= limit:
        return None
    span = ordered[-1] - ordered[0]
    ideal = (math.ceil(len(ordered) / limit) - 1) * period
    return ideal / span if span > 0 else None


@dataclass(frozen=True)
class Span:
    """One job's times: queued (created), left the queue (its first accepted submit, or when it ended
    without one), and finished (in flight at Segmind between the two last)."""

    guild_id: int
    queued: float
    left: float
    finished: float


def saturated(submits: Sequence[tuple[float, int]], spans: Sequence[Span], per_guild_cap: int) -> list[float]:
    """The submit times (of (time, guild) pairs) while the key's limit was what held work back: from
    the first submit to the last one at which a job of *another* guild was still queued while its
    guild had fewer than `per_guild_cap` jobs in flight. A lone guild (the tail of a flood) waits for
    its own jobs at its cap, not for the key: that stretch says nothing about the key's throughput."""
    by_guild: dict[int, list[Span]] = {}
    for span in spans:
        by_guild.setdefault(span.guild_id, []).append(span)
    ordered = sorted(submits)
    last = None
    for at, submitting in ordered:
        waiting = {s.guild_id for s in spans if s.queued <= at < s.left} - {submitting}
        for guild in waiting:
            in_flight = sum(1 for s in by_guild[guild] if s.left <= at < s.finished)
            if in_flight < per_guild_cap:
                last = at
                break
    if last is None:
        return []
    return [t for t, _ in ordered if t <= last]


def flood_slots_ahead(
    jobs: Sequence[JobRow],
    first_submit: dict[str, float],
    flood_guild: int,
    exclude: frozenset[int] | set[int] = frozenset(),
) -> tuple[int, int]:
    """(the most flood jobs Segmind received between a small guild's job being queued and its own
    submit, beyond one per earlier job of that guild still ahead of it (round robin lets the flood
    have one per round); the same without that allowance). Only jobs that reached Segmind count;
    `exclude`: jobs held up by something else (a process killed or frozen with them)."""
    flood = sorted(
        t for job in jobs if job.guild_id == flood_guild and (t := first_submit.get(job.marker or ""))
    )
    index_in_guild: Counter[int] = Counter()
    beyond = raw = 0
    for job in sorted(jobs, key=lambda j: (j.created_at, j.id)):
        if job.guild_id == flood_guild:
            continue
        earlier = index_in_guild[job.guild_id]
        index_in_guild[job.guild_id] += 1
        own = first_submit.get(job.marker or "")
        if own is None or job.id in exclude:
            continue
        ahead = sum(1 for t in flood if job.created_at < t < own)
        raw = max(raw, ahead)
        beyond = max(beyond, ahead - earlier)
    return beyond, raw


def takeover_s(
    start: float, end: float | None, progress: Iterable[tuple[float, str]], victims: set[str]
) -> float | None:
    """Seconds from `start` (a kill, a pause) to the first progress of one of the victim's jobs
    (markers in `victims`) made by another process: any progress after `start` for a kill (`end`
    None: the victim is gone), or between `start` and `end` for a pause (the victim was frozen)."""
    times = [at for at, marker in progress if marker in victims and at > start and (end is None or at < end)]
    return min(times) - start if times else None


@dataclass
class Books:
    """Per job: ledger entries by kind, and result messages the fake Discord holds."""

    ledger: dict[int, Counter]
    result_posts: Counter  # job id -> result messages showing it (all ever created)
    accepted_submits: Counter  # marker -> submits Segmind accepted


def once_figures(jobs: Sequence[JobRow], books: Books) -> dict[str, object]:
    """posted_or_refunded_once, double_charges, double_posts, double_submits and the jobs that broke it."""
    broken: list[str] = []
    for job in jobs:
        kinds = books.ledger.get(job.id, Counter())
        posts = books.result_posts.get(job.id, 0)
        if job.state == "posted":
            ok = kinds["capture"] == 1 and kinds["release"] == 0 and posts == 1
        elif job.state == "refunded":
            ok = kinds["release"] == 1 and kinds["capture"] == 0 and posts == 0
        else:
            ok = False
        if not ok:
            broken.append(
                f"job {job.id} ({job.marker}): {job.state}, ledger {dict(kinds)}, {posts} result post(s)"
            )
    return {
        "posted_or_refunded_once": not broken and bool(jobs),
        "double_charges": sum(1 for kinds in books.ledger.values() if kinds["capture"] > 1),
        "double_posts": sum(1 for n in books.result_posts.values() if n > 1),
        "double_submits": sum(1 for n in books.accepted_submits.values() if n > 1),
        "not_once": broken[:20],
    }
