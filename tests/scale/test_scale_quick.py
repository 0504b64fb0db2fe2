"""The short scale run CI does on every submission (the full one: `python -m tests.scale --json PATH`):
3 bot processes over 6 shards on one PostgreSQL, a flood beside small guilds, one process killed
and another paused past its lease. Correctness is asserted here; the timing figures (throughput,
takeover, start-up) are printed, and belong to the full run's report."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.scale.config import QUICK
from tests.scale.run import run_scale

pytestmark = pytest.mark.e2e


async def test_quick_scale_run_keeps_every_invariant_across_processes(tmp_path, pg_url) -> None:
    result = await asyncio.wait_for(run_scale(QUICK, tmp_path, pg_url), timeout=400)  # a safety net
    summary = json.dumps(result, indent=1)
    print(summary)
    assert result["jobs"] >= QUICK.flood_jobs, "too few commands became jobs\n" + summary
    assert result["jobs_by_state"].get("posted", 0) > 0, summary
    assert result["victim_jobs"]["kill"] + result["victim_jobs"]["pause"] > 0, (
        "the kill and the pause took no job with them: nothing was taken over\n" + summary
    )
    assert result["all_final"], "jobs were still unfinished at the end\n" + summary
    assert result["invariants_ok"], summary
    assert result["posted_or_refunded_once"], summary
    assert (result["double_charges"], result["double_posts"], result["double_submits"]) == (0, 0, 0), summary
    assert result["http_429"] == 0, summary
    assert result["max_requests_in_window"] <= QUICK.rate_limit, summary
    assert result["identify_violations"] == 0, summary
    assert result["guild_departures_recorded"] == 0, (
        "a process took other shards' guilds for gone\n" + summary
    )
    assert result["flood_slots_ahead"] <= 2, summary
    assert not (result["fake_errors"] or result["spec_violations"] or result["unknown_routes"]), summary
