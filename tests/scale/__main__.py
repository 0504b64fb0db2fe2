"""`python -m tests.scale --json PATH [--quick]`: one scale run, its figures as JSON.

Without TEST_DATABASE_URL / DATABASE_URL a throwaway PostgreSQL cluster is started with
.ci/postgres.sh (on a free port) and removed at the end. Exit status 0 when every correctness
invariant held (the timing targets are reported in "targets", not enforced), 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.scale.config import FULL, QUICK
from tests.scale.run import dump, run_scale

ROOT = Path(__file__).resolve().parents[2]
CORRECTNESS = (
    "invariants",
    "no_double_charge_post_or_submit",
    "no_window_over_limit",
    "identify_within_limits",
    "no_guild_taken_for_gone",
)


@contextlib.contextmanager
def postgres(tmp: Path) -> Iterator[str]:
    """TEST_DATABASE_URL or DATABASE_URL if set, else a throwaway cluster for the run's length."""
    given = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PGPORT": str(port)}
    pgdir = tmp / "pg"
    tmp.chmod(0o755)  # mkdtemp's 0700 would keep the `postgres` user (root runs initdb as it) out
    script = str(ROOT / ".ci" / "postgres.sh")
    url = (
        subprocess.run([script, "start", str(pgdir)], env=env, check=True, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    try:
        yield url
    finally:
        subprocess.run([script, "stop", str(pgdir)], env=env, check=False, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--quick", action="store_true", help="the short CI run (3 processes, 600 guilds)")
    parser.add_argument("--tmp", type=Path, help="keep the run's logs here (default: a new temp dir)")
    for field in ("processes", "shards", "guilds", "load_guilds", "flood_jobs", "max_concurrency"):
        parser.add_argument(f"--{field.replace('_', '-')}", type=int)
    for field in ("lease_seconds", "rate_period", "model_seconds", "final_timeout"):
        parser.add_argument(f"--{field.replace('_', '-')}", type=float)
    parser.add_argument("--rate-limit", type=int)
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    overrides = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(config)
        if getattr(args, f.name, None) is not None
    }
    config = dataclasses.replace(config, **overrides)
    tmp = args.tmp or Path(tempfile.mkdtemp(prefix="scale-"))
    tmp.mkdir(parents=True, exist_ok=True)
    with postgres(tmp) as url:
        result = asyncio.run(run_scale(config, tmp / "run", url))
    result["logs"] = str(tmp / "run")
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        dump(result, args.json)
    failed = [name for name in CORRECTNESS if not result["targets"][name]]
    if failed:
        print(f"correctness targets missed: {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
