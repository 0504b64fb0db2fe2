"""The short fault run CI does on every submission, on both backends (the full one:
`python -m tests.faults [--backend postgres]`)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tests.faults.harness import RunConfig, run_suite

pytestmark = pytest.mark.e2e

# Before submit, after submit, after the image arrived, while Discord takes the post (channel path:
# the one that could post twice).
SHORT = RunConfig(
    jobs=120,
    kills=4,
    seed=7,
    guilds=6,
    concurrency=16,
    kill_points=("queued", "submitted", "succeeded", "posting_channel"),
)


async def run_and_check(config: RunConfig, tmp_path, database_url: str | None):
    """Run the suite; every run must keep every invariant, answer at the end and leak nothing."""
    config = dataclasses.replace(config, database_url=database_url)
    result = await asyncio.wait_for(run_suite(config, tmp_path), timeout=300)  # a safety net, not a target
    summary = result.summary()
    print(summary)
    assert len(result.kills) == config.kills, summary
    assert result.answered_at_end, "the bot stopped answering commands\n" + summary
    assert not result.secrets_leaked, summary
    assert not result.discord_problems, summary
    assert result.report.ok, summary
    return result, summary


async def test_short_fault_run_keeps_every_invariant(tmp_path, database_url):
    result, summary = await run_and_check(SHORT, tmp_path, database_url)
    assert len(result.fired_plans) >= 0.3 * SHORT.jobs, "too few faults really happened\n" + summary
    assert result.report.counts.get("billed_and_captured", 0) > 0, "nothing went through v2\n" + summary
    for fmt in ("png", "jpeg", "webp"):
        assert result.report.counts.get(f"posted_{fmt}", 0) > 0, f"no {fmt} result was checked\n" + summary


# Sync (v1) mode: one billed call brings the image. The faults that exist there (the v2 submit's
# faults on the v1 call, moderation, every Discord fault) and kills while the call is on the wire.
SHORT_SYNC = RunConfig(
    jobs=80,
    kills=3,
    seed=11,
    guilds=5,
    concurrency=12,
    kill_points=("queued", "submitting", "succeeded"),
    mode="sync",
)


async def test_short_fault_run_in_sync_mode_keeps_every_invariant(tmp_path, database_url):
    result, summary = await run_and_check(SHORT_SYNC, tmp_path, database_url)
    assert result.report.counts.get("billed_and_captured", 0) > 0, "nothing went through v1\n" + summary
    v2 = {"submit", "status", "result", "download"} & set(result.segmind_endpoints)
    assert not v2, f"v2 requests in sync mode: {v2}\n" + summary
