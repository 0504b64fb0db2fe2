"""Run the benchmark: `python -m tests.perf` (see tests/perf/__init__.py and RESULTS.md).

    python -m tests.perf                   all eight measurements, at the issue's load and doubled
    python -m tests.perf --smoke           tiny loads, only checks that everything runs (CI)
    python -m tests.perf --only ack,rate   some of them
    python -m tests.perf --only edit_rss --no-double   peak RSS of 32 /edit jobs × four 20 MiB references
    python -m tests.perf --json out.json   where the JSON goes (default: perf-results.json)
    python -m tests.perf --profile DIR     py-spy profiles of the bot process (needs py-spy)
    python -m tests.perf --loop uvloop     run the bot process under uvloop
    python -m tests.perf --only ack --no-double --cprofile DIR   cProfile of the bot's loop in the burst
    python -m tests.perf --only ack --no-double --burst-prompt "a castle at dusk, {i}"   the burst's prompt
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.perf.edits import edit_rss
from tests.perf.scenarios import SCENARIOS as CORE_SCENARIOS
from tests.perf.scenarios import Options

SCENARIOS = {**CORE_SCENARIOS, "edit_rss": edit_rss}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    import discord

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "discord.py": discord.__version__,
        "orjson": importlib.util.find_spec("orjson") is not None,
        "uvloop": importlib.util.find_spec("uvloop") is not None,
    }


def _busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (from /proc/stat)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _ours_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _get(data: dict, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


# (scenario, label, path in its result, unit, target test or None, "cost" or "rate" for the doubling check)
ROWS: list[tuple[str, str, str, str, Any, str]] = [
    ("ack", "1. ack p50 (bot)", "bot.p50_ms", "ms", None, "cost"),
    ("ack", "1. ack p99 (bot)", "bot.p99_ms", "ms", None, "cost"),
    ("ack", "1. ack max (bot)", "bot.max_ms", "ms", lambda v, r: v <= 1000, "cost"),
    ("ack", "1. ack p99 (bare discord.py)", "bare.p99_ms", "ms", None, "cost"),
    ("ack", "1. ack p99 bot / bare", "p99_vs_bare", "x", lambda v, r: v <= 1.2, "ratio"),
    ("ack", "1. ack p99 (bot, aged DB)", "bot_aged.p99_ms", "ms", None, "cost"),
    ("ack", "1. ack p99 bot on aged DB / bare", "aged_p99_vs_bare", "x", lambda v, r: v <= 1.2, "ratio"),
    ("overhead", "2. own overhead p50", "own.p50_ms", "ms", lambda v, r: v <= 20, "cost"),
    ("overhead", "2. own overhead p99", "own.p99_ms", "ms", lambda v, r: v <= 100, "cost"),
    ("overhead", "2. own overhead, one job alone, p50", "solo.own.p50_ms", "ms", None, "cost"),
    ("overhead", "2. poll wait p50 (not counted above)", "poll_wait.p50_ms", "ms", None, "cost"),
    ("overhead", "2. bot CPU per job", "bot_cpu_ms_per_job", "ms", None, "cost"),
    ("rate", "3. most requests in any window", "max_requests_in_any_window", "req",
     lambda v, r: v <= r["limit_per_period"], "count"),
    ("rate", "3. HTTP 429 at the fake Segmind", "http_429", "", lambda v, r: v == 0, "count"),
    ("rate", "3. throughput / limit, scaled clock", "throughput_vs_limit", "", None, "rate"),
    ("rate", "3. throughput / limit, real clock", "throughput_vs_limit_real_clock", "", lambda v, r: v >= 0.95, "rate"),
    ("rate", "3. flood slots ahead of a small job, beyond round-robin", "flood_slots_beyond_round_robin.max", "slots",
     lambda v, r: v <= 2, "count"),
    ("rate", "3. longest small-guild wait (real-time equivalent)", "small_wait.max_real_s", "s", None, "cost"),
    ("capacity", "4. capacity", "jobs_per_s", "jobs/s", lambda v, r: v >= 100, "rate"),
    ("capacity", "4. bot CPU while at capacity", "bot_cpu_pct", "%", None, "rate"),
    ("ledger", "5. ledger reserve+capture", "pairs_per_s", "pairs/s",
     lambda v, r: v >= 1000 and not r["overspend"], "rate"),
    ("ledger", "5. longest event-loop stall during the ledger run", "max_loop_stall_ms", "ms",
     lambda v, r: v <= 50, "cost"),
    ("memory", "6. peak RSS", "peak_rss_mib", "MiB", lambda v, r: v <= 300, "cost"),
    ("edit_rss", "6b. peak RSS, 32 /edit × four 20 MiB references", "peak_rss_mib", "MiB",
     lambda v, r: v <= 300 and r["delivered"] == r["jobs"], "cost"),
    ("startup", "7. start-up to on_ready", "on_ready_s", "s", lambda v, r: v <= 5, "cost"),
    ("startup", "7. start-up to first command acked", "first_command_acked_s", "s", None, "cost"),
    ("aged", "8. aged DB: longest event-loop stall", "max_loop_stall_ms", "ms", lambda v, r: v <= 50, "cost"),
    ("aged", "8. aged DB: history page p99", "history_page_p99_ms", "ms", lambda v, r: v <= 100, "cost"),
    ("aged", "8. aged DB: admission reads p99", "admission_p99_ms", "ms", lambda v, r: v <= 5, "cost"),
    ("aged", "8. aged DB: export peak memory above baseline", "export_peak_extra_mib", "MiB",
     lambda v, r: v <= 50, "cost"),
    ("screening", "9. screening p99, 2,000 chars × 5,000 terms", "p99_ms", "ms", lambda v, r: v <= 5, "cost"),
    ("screening", "9. screening CPU p99 (own cost, without preemption)", "cpu_p99_ms", "ms", None, "cost"),
    ("screening", "9. screening max (event-loop stall)", "max_ms", "ms", lambda v, r: v <= 20, "cost"),
    ("screening", "9. loop gap while 5,000 terms compile", "prepare_longest_loop_gap_ms", "ms", None, "cost"),
]


def table(results: dict[str, dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    lines = [
        "| Figure | Value | Target | Met | Doubled load | Doubled / value |",
        "|---|---:|---|:-:|---:|---:|",
    ]
    rows = []
    targets = {
        "1. ack max (bot)": "≤ 1000 ms",
        "1. ack p99 bot / bare": "≤ 1.2×",
        "1. ack p99 bot on aged DB / bare": "≤ 1.2×",
        "2. own overhead p50": "≤ 20 ms",
        "2. own overhead p99": "≤ 100 ms",
        "3. most requests in any window": "≤ limit",
        "3. HTTP 429 at the fake Segmind": "0",
        "3. throughput / limit, real clock": "≥ 0.95",
        "3. flood slots ahead of a small job, beyond round-robin": "≤ 2",
        "4. capacity": "≥ 100 jobs/s",
        "5. ledger reserve+capture": "≥ 1000/s, each commit fsynced, no overspend",
        "5. longest event-loop stall during the ledger run": "≤ 50 ms",
        "6. peak RSS": "≤ 300 MiB",
        "6b. peak RSS, 32 /edit × four 20 MiB references": "≤ 300 MiB",
        "7. start-up to on_ready": "≤ 5 s",
        "8. aged DB: longest event-loop stall": "≤ 50 ms",
        "8. aged DB: history page p99": "≤ 100 ms",
        "8. aged DB: admission reads p99": "≤ 5 ms",
        "8. aged DB: export peak memory above baseline": "≤ 50 MiB",
        "9. screening p99, 2,000 chars × 5,000 terms": "≤ 5 ms",
        "9. screening max (event-loop stall)": "≤ 20 ms",
    }
    for scenario, label, path, unit, check, _kind in ROWS:
        if scenario not in results:
            continue
        base = results[scenario].get("x1") or {}
        double = results[scenario].get("x2") or {}
        value, doubled = _get(base, path), _get(double, path)
        met = None
        if check is not None and value is not None and "error" not in base:
            try:
                met = bool(check(value, base))
            except (TypeError, KeyError):
                met = None
        ratio = None
        if isinstance(value, int | float) and isinstance(doubled, int | float) and value:
            ratio = round(doubled / value, 2)
        rows.append({"figure": label, "value": value, "unit": unit, "target": targets.get(label), "met": met,
                     "doubled": doubled, "doubled_ratio": ratio})
        shown = "error" if "error" in base else (f"{value} {unit}".strip() if value is not None else "–")
        lines.append(
            f"| {label} | {shown} | {targets.get(label, '')} | {'' if met is None else ('yes' if met else 'NO')} "
            f"| {'' if doubled is None else f'{doubled} {unit}'.strip()} | {'' if ratio is None else ratio} |"
        )
    return "\n".join(lines), rows


def summary(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The headline keys (issue "Storage that ages well"), from the base-load runs."""
    def pick(scenario: str, keys: dict[str, str]) -> dict[str, Any]:
        base = results.get(scenario, {}).get("x1") or {}
        return {key: _get(base, path) for key, path in keys.items()}

    out: dict[str, Any] = {}
    if "ack" in results:
        out["burst"] = pick("ack", {
            "ack_p99_over_floor": "p99_vs_bare", "ack_max_ms": "bot.max_ms",
            "aged_ack_p99_over_floor": "aged_p99_vs_bare", "aged_ack_max_ms": "bot_aged.max_ms"})
    if "ledger" in results:
        out["ledger"] = pick("ledger", {"pairs_per_s": "pairs_per_s", "max_loop_stall_ms": "max_loop_stall_ms"})
    if "aged" in results:
        out["aged"] = pick("aged", {key: key for key in (
            "ledger_rows", "jobs", "max_loop_stall_ms", "history_page_p99_ms", "admission_p99_ms",
            "export_peak_extra_mib")})
        if "ack" in results:  # the burst on an aged database, measured by scenario 1
            out["aged"]["burst_ack_p99_over_floor"] = out["burst"]["aged_ack_p99_over_floor"]
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    names = args.only.split(",") if args.only else list(SCENARIOS)
    scales = [1] if args.smoke or args.no_double else [1, 2]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="perf-") as tmp:
        opts = Options(tmp=Path(tmp), loop=args.loop, smoke=args.smoke,
                       profile=Path(args.profile) if args.profile else None, database_url=args.database_url,
                       cprofile=Path(args.cprofile).resolve() if args.cprofile else None,
                       burst_prompt=args.burst_prompt)
        for name in names:
            results[name] = {}
            for scale in scales:
                started = time.monotonic()
                busy, ours = _busy_seconds(), _ours_seconds()
                print(f"[perf] {name} x{scale} ...", file=sys.stderr, flush=True)
                try:
                    result = await SCENARIOS[name](opts, scale)
                except Exception as exc:  # report it and go on with the others
                    result = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
                wall = time.monotonic() - started
                result["run_s"] = round(wall, 1)
                # Other processes on the machine compete for its cores and distort every figure.
                result["other_load_cores"] = round(max(0.0, (_busy_seconds() - busy) - (_ours_seconds() - ours)) / wall, 2)
                results[name][f"x{scale}"] = result
                print(f"[perf] {name} x{scale}: {json.dumps(result)[:600]}", file=sys.stderr, flush=True)
                await asyncio.to_thread(_settle, opts.tmp)
    return results


def _settle(tmp: Path) -> None:
    """Between scenarios: delete what the last one wrote (gigabytes of results, with the bot's
    fsyncs) and flush the rest, so its disk writeback is not measured as the next one's cost (the
    ledger measured 1,570-1,760 pairs/s right after the capacity runs, 2,400-3,000 on its own)."""
    for child in tmp.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    os.sync()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny loads: only checks that it all runs")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--no-double", action="store_true", help="skip the doubled-load runs")
    parser.add_argument("--json", default="perf-results.json", help="where to write the JSON results")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio", help="event loop of the bot")
    parser.add_argument("--profile", help="directory for py-spy profiles of the bot process")
    parser.add_argument("--burst-prompt", default="burst {i}",
                        help="scenario 1's prompt, {i} the command's number (default: %(default)s)")
    parser.add_argument("--cprofile", help="directory for cProfile windows of the bot's loop in the burst "
                        "(window-1: burst to last ack, window-2: after it)")
    parser.add_argument("--database-url", help="run the ledger scenario on this PostgreSQL (a fresh schema in it)")
    args = parser.parse_args(argv)
    # A bot stopped at the end of a scenario leaves uploads half sent: the fakes' server says so.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    started = time.monotonic()
    results = asyncio.run(run(args))
    text, rows = table(results)
    report = {
        "command": "python -m tests.perf " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "loop": args.loop,
        "smoke": args.smoke,
        "runtime_s": round(time.monotonic() - started, 1),
        "table": rows,
        "scenarios": results,
        **summary(results),
    }
    if "x1" in results.get("edit_rss", {}):
        report["edit_rss"] = {k: results["edit_rss"]["x1"].get(k) for k in ("jobs", "refs_per_job", "ref_mib", "peak_rss_mib")}
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(text)
    m = report["machine"]
    others = [r.get("other_load_cores", 0) for by_scale in results.values() for r in by_scale.values()]
    if others and max(others) > 0.2:
        print(f"\nWARNING: other processes used up to {max(others)} cores during the run; figures are distorted.")
    print(f"\n{m['cpu']}, {m['cores']} cores, Python {m['python']}, discord.py {m['discord.py']}, "
          f"bot loop {args.loop}; ran in {report['runtime_s']} s; JSON: {args.json}")
    failed = [name for name, by_scale in results.items() for r in by_scale.values() if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
