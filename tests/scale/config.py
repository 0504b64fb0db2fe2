"""The scale run's shape: the documented full run and the quick one the test suite runs."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ScaleConfig:
    processes: int = 4
    shards: int = 8
    guilds: int = 10_000
    load_guilds: int = 300  # small guilds, one /imagine each (a second one from every `repeat_every`-th)
    repeat_every: int = 3
    flood_jobs: int = 80  # one guild sending this many at once
    load_seconds: float = 12.0  # the small guilds' commands are spread over this long
    # The key's limit over a scaled window: 50 per 6 s stands for Segmind's 50 per minute (x10).
    rate_limit: int = 50
    rate_period: float = 6.0
    model_seconds: float = 1.4  # FLUX.2 Klein's ~14 s on the same x10 clock
    per_guild_cap: int = 2  # MAX_CONCURRENT_JOBS_PER_GUILD (the bot's default)
    lease_seconds: float = 6.0  # JOB_LEASE_SECONDS, also on the x10 clock
    pause_beyond_lease: float = 4.0  # the paused process stays stopped lease + this long
    max_concurrency: int = 1  # the fake's session_start_limit.max_concurrency (10,000 guilds: 1)
    kill_after: float = 4.0  # seconds after the last command is sent
    restart_killed: bool = True  # start the killed process again after the pause, as a supervisor would
    credits_per_guild: int = 1000
    final_timeout: float = 420.0


FULL = ScaleConfig()

# The CI version: the same events (a kill, a pause past the lease, a flood beside small guilds) at
# a size two busy cores finish in about a minute and a half.
QUICK = replace(
    FULL,
    processes=3,
    shards=6,
    guilds=600,
    load_guilds=30,
    repeat_every=2,
    flood_jobs=24,
    load_seconds=3.0,
    rate_limit=12,
    rate_period=3.0,
    model_seconds=0.4,
    lease_seconds=4.0,
    pause_beyond_lease=3.0,
    max_concurrency=3,
    kill_after=1.0,
    final_timeout=180.0,
)
