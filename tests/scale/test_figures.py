"""The scale run's figures on hand-made worlds: each must see the fault it exists to see."""

from __future__ import annotations

from collections import Counter

from tests.scale import figures
from tests.scale.figures import Books, JobRow, Span
from tests.scale.world import guild_id, shard_ranges


def test_max_in_window_slides_over_every_start() -> None:
    # Three within 1 s only when the window starts at 0.5, not at a fixed grid line.
    assert figures.max_in_window([0.0, 0.5, 1.2, 1.4], 1.0) == 3
    assert figures.max_in_window([0.0, 1.0, 2.0], 1.0) == 1  # [t, t + period): the edge is outside
    assert figures.max_in_window([], 1.0) == 0


def test_throughput_is_one_at_the_limit_in_bursts_or_paced() -> None:
    bursts = [w * 6.0 for w in range(5) for _ in range(50)]  # 50 at once every 6 s
    paced = [k * 6.0 / 50 for k in range(201)]  # one every 0.12 s
    assert figures.throughput_over_limit(bursts, 50, 6.0) == 1.0
    assert abs(figures.throughput_over_limit(paced, 50, 6.0) - 1.0) < 1e-9
    half = [k * 12.0 / 50 for k in range(201)]  # half the rate
    assert abs(figures.throughput_over_limit(half, 50, 6.0) - 0.5) < 1e-9
    assert figures.throughput_over_limit([0.0, 1.0], 50, 6.0) is None  # never filled a window


def test_saturated_stops_at_the_last_submit_with_other_work_waiting() -> None:
    # Guilds 1-3 queued at 0 leave at 1, 2, 3; guild 4 queued at 10 leaves at 10.5.
    spans = [Span(g, 0.0, left, left + 0.5) for g, left in ((1, 1.0), (2, 2.0), (3, 3.0))]
    spans.append(Span(4, 10.0, 10.5, 11.0))
    submits = [(1.0, 1), (2.0, 2), (3.0, 3), (10.5, 4)]
    assert figures.saturated(submits, spans, per_guild_cap=2) == [1.0, 2.0]


def test_saturated_leaves_out_a_lone_guild_waiting_at_its_own_cap() -> None:
    # The flood (guild 1, cap 1) alone: each job waits for the previous one, never for the key.
    spans = [Span(1, 0.0, float(k), k + 1.0) for k in range(4)]
    submits = [(float(k), 1) for k in range(4)]
    assert figures.saturated(submits, spans, per_guild_cap=1) == []
    # A small guild queued beside it and under its cap waited for the key until it went at 2.
    spans.append(Span(2, 0.0, 2.0, 3.0))
    submits.append((2.0, 2))
    assert figures.saturated(submits, spans, per_guild_cap=1) == [0.0, 1.0]
    # Its cap, not the key, holds it when it already has a job in flight.
    spans[-1] = Span(2, 0.0, 2.0, 3.0)
    spans.append(Span(2, -1.0, -1.0, 5.0))
    assert figures.saturated(submits, spans, per_guild_cap=1) == []


def test_flood_slots_ahead_counts_flood_submits_between_queueing_and_submit() -> None:
    flood, small, other = guild_id(0), guild_id(1), guild_id(2)
    jobs = [JobRow(i, f"fz{i:06d}", flood, "posted", 0.0) for i in range(1, 6)]
    jobs += [JobRow(10, "fz000010", small, "posted", 1.0), JobRow(11, "fz000011", small, "posted", 1.1)]
    jobs += [JobRow(12, "fz000012", other, "posted", 1.2)]
    first = {f"fz{i:06d}": float(i) for i in range(1, 6)}  # flood submits at 1..5
    first |= {"fz000010": 2.5, "fz000011": 4.5, "fz000012": 5.5}
    # job 10: flood at 2 ahead (1); job 11: 2, 3, 4 ahead (3) but one earlier job of its guild
    # was ahead of it (2 beyond); job 12: 2, 3, 4, 5 ahead (4).
    assert figures.flood_slots_ahead(jobs, first, flood) == (4, 4)
    first["fz000012"] = 2.4
    assert figures.flood_slots_ahead(jobs, first, flood) == (2, 3)
    # A job a killed process held is waiting for its lease, not for the scheduler: left out.
    assert figures.flood_slots_ahead(jobs, first, flood, exclude={11}) == (1, 1)


def test_takeover_is_the_first_progress_of_a_victims_job_by_another_process() -> None:
    progress = [(9.0, "fz000001"), (12.0, "fz000002"), (13.5, "fz000001"), (20.0, "fz000003")]
    assert figures.takeover_s(10.0, None, progress, {"fz000001"}) == 3.5
    # During a pause only what happened while the victim was frozen counts (after it, it may be the victim).
    assert figures.takeover_s(10.0, 13.0, progress, {"fz000001"}) is None
    assert figures.takeover_s(10.0, None, progress, set()) is None


def test_once_figures_see_double_charges_posts_and_submits() -> None:
    jobs = [JobRow(1, "fz000001", 1, "posted", 0.0), JobRow(2, "fz000002", 1, "refunded", 0.0)]
    clean = Books(
        {1: Counter(reserve=1, capture=1), 2: Counter(reserve=1, release=1)}, Counter({1: 1}), Counter()
    )
    assert figures.once_figures(jobs, clean)["posted_or_refunded_once"] is True
    doubled = Books(
        {1: Counter(reserve=1, capture=2), 2: Counter(reserve=1, release=1)},
        Counter({1: 2, 2: 1}),
        Counter({"fz000001": 2}),
    )
    out = figures.once_figures(jobs, doubled)
    assert out["posted_or_refunded_once"] is False
    assert (out["double_charges"], out["double_posts"], out["double_submits"]) == (1, 1, 1)
    assert len(out["not_once"]) == 2  # the refunded job was posted too
    assert (
        figures.once_figures([JobRow(3, None, 1, "submitted", 0.0)], clean)["posted_or_refunded_once"]
        is False
    )


def test_shard_ranges_cover_every_shard_once_and_guilds_spread_over_them() -> None:
    assert shard_ranges(8, 4) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert sorted(s for r in shard_ranges(7, 3) for s in r) == list(range(7))
    assert {(guild_id(n) >> 22) % 8 for n in range(8)} == set(range(8))


def test_takeover_counts_only_progress_after_another_process_said_it_took_the_job() -> None:
    from tests.scale.run import TOOK_OVER, ScaleRun

    line = "2026-11-30 12:34:53,429 INFO core.leases: took over jobs=229,230 process=p0/cc5cb6a1"
    match = TOOK_OVER.match(line)
    assert match and match.group(2) == "229,230"
    victims = [
        {"id": 229, "state": "submitted", "prompt": "fz000229 a boat"},
        {"id": 7, "state": "queued", "prompt": "fz000007"},
    ]
    # The victim's own last poll reached the fake 0.1 s after the kill: no takeover yet.
    progress = [(100.1, "fz000229"), (106.5, "fz000229"), (101.0, "fz000007")]
    assert ScaleRun._takeover(100.0, None, progress, victims, {229: 106.0}) == 6.5
    # A job nobody said it took over shows no takeover, whatever reached the fake.
    assert ScaleRun._takeover(100.0, None, progress, victims, {}) is None


def test_identify_min_gap_is_per_bucket() -> None:
    from tests.scale.run import identify_min_gap

    log = [(0.0, 0), (1.0, 1), (5.5, 2), (6.0, 3), (11.0, 0)]
    assert identify_min_gap(log, 2) == 5.0  # shards 1 and 3 share bucket 1: 5.0 s apart
    assert identify_min_gap(log, 1) == 0.5  # one bucket: 5.5 and 6.0
    assert identify_min_gap([(0.0, 0)], 1) is None
