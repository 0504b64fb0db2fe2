"""The full fault suite from the command line:

    .venv/bin/python -m tests.faults                 (= --jobs 1100 --kills 20)
    .venv/bin/python -m tests.faults --mode sync     (Segmind's v1 calls instead of the v2 queue)
    .venv/bin/python -m tests.faults --backend postgres   (the bot on PostgreSQL: a new schema of
        $TEST_DATABASE_URL or --database-url; E2E_BACKEND=postgres chooses it too)

`--jobs` is the number of /imagine and /edit requests sent; a few never become jobs by design (the
interaction could not be acknowledged, or the bot was killed before it wrote the job), so 1,100
requests make well over 1,000 jobs. Prints the counts (jobs, jobs whose fault fired and by kind, kills, gateway events, run time) and
every invariant violation; exits 1 if anything failed. The bot's logs and database stay in the
printed directory (or schema) for a look afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time

from tests.fakes.openapi_check import SPEC_SKIPS
from tests.faults.catalog import SYNC_KILL_POINTS
from tests.faults.harness import RunConfig, default_tmp, run_suite
from tests.pg import new_schema


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1100)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--guilds", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--fault-share", type=float, default=0.42)
    parser.add_argument("--mode", choices=("queue", "sync"), default="queue", help="SEGMIND_MODE of the bot")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres"),
        default=os.environ.get("E2E_BACKEND") or "sqlite",
        help="the bot's database (default: $E2E_BACKEND, else sqlite)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="the PostgreSQL cluster for --backend postgres (default: $TEST_DATABASE_URL); the run gets a new schema",
    )
    args = parser.parse_args(argv)
    database_url = None
    if args.backend == "postgres":
        if not args.database_url:
            parser.error("--backend postgres needs --database-url or TEST_DATABASE_URL (.ci/postgres.sh start)")
        schema, database_url = asyncio.run(new_schema(args.database_url))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    tmp = default_tmp()
    config = RunConfig(
        jobs=args.jobs,
        kills=args.kills,
        seed=args.seed,
        guilds=args.guilds,
        concurrency=args.concurrency,
        fault_share=args.fault_share,
        mode=args.mode,
        database_url=database_url,
        **({"kill_points": SYNC_KILL_POINTS} if args.mode == "sync" else {}),
    )
    print(
        f"fault run ({args.mode} mode): {args.jobs} requests, {args.kills} kills, seed {args.seed},"
        f" {os.cpu_count()} CPUs; logs in {tmp}"
        + (f"; PostgreSQL schema {schema} (kept afterwards)" if database_url else "; SQLite")
    )
    started = time.monotonic()
    result = asyncio.run(run_suite(config, tmp))
    print(result.summary())
    print(f"wall time, everything included: {time.monotonic() - started:.1f} s")
    if SPEC_SKIPS:
        print("!!! Discord's OpenAPI spec was missing: requests were NOT checked against it !!!")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
