"""Run a script under cProfile in windows the benchmark chooses (a benchmark fixture).

    python tests/perf/cprofile_launcher.py OUT_DIR script.py [args...]

SIGUSR1 starts a window, SIGUSR2 ends it and writes OUT_DIR/window-<n>.prof (n = 1, 2, ...) and
window-<n>.gc.json: the garbage collector's passes in the window, by generation (count, seconds),
which cProfile charges to whichever function happened to allocate; and the database's hops to its
threads and the time reads and commits waited for a WAL fsync (neither shows in a profile of the
loop: the loop is idle or another task runs meanwhile).
Only the main thread is profiled, in its own CPU time: that is the event loop, where the
acknowledgements queue (waits, e.g. for a hop to a database thread, cost it nothing).
The script runs as `__main__`, as with `python script.py`.
"""

from __future__ import annotations

import cProfile
import gc
import json
import runpy
import signal
import sys
import time
from pathlib import Path


def _trace_database(active) -> dict[str, float]:
    """Count the hops to aiosqlite's threads and the waits for a WAL fsync while `active()`."""
    import aiosqlite

    from core.db import Database

    stats: dict[str, float] = {}
    execute, durable = aiosqlite.Connection._execute, Database._durable

    async def counted_execute(self, fn, *args, **kwargs):
        if active():
            stats["hops"] = stats.get("hops", 0) + 1
        return await execute(self, fn, *args, **kwargs)

    async def timed_durable(self, seq=None):
        if not active():
            return await durable(self, seq)
        started = time.perf_counter()
        try:
            return await durable(self, seq)
        finally:
            waited = time.perf_counter() - started
            if waited > 0.0002:  # it waited for a write-out (one that did not returns in microseconds)
                kind = "read" if seq is None else "commit"  # a read waits for every commit it may have seen
                stats[f"{kind}_fsync_waits"] = stats.get(f"{kind}_fsync_waits", 0) + 1
                stats[f"{kind}_fsync_wait_s"] = stats.get(f"{kind}_fsync_wait_s", 0.0) + waited

    aiosqlite.Connection._execute = counted_execute
    Database._durable = timed_durable
    return stats


def main() -> None:
    out = Path(sys.argv[1])
    script = sys.argv[2]
    sys.argv = sys.argv[2:]
    out.mkdir(parents=True, exist_ok=True)
    state: dict[str, object] = {"profile": None, "n": 0}
    gc_passes: dict[int, list[float]] = {}
    gc_started: list[float] = []

    def on_gc(phase: str, info: dict) -> None:
        if state["profile"] is None:
            return
        if phase == "start":
            gc_started[:] = [time.perf_counter()]
        elif gc_started:
            entry = gc_passes.setdefault(info["generation"], [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - gc_started[0]

    def start(_signum, _frame) -> None:
        if state["profile"] is None:
            gc_passes.clear()
            db_stats.clear()
            # The main thread's CPU time, not the wall clock: on a shared machine a wall-clock
            # profile charges other processes' time slices to whatever function was preempted.
            profile = cProfile.Profile(time.thread_time)
            state["profile"] = profile
            profile.enable()

    def stop(_signum, _frame) -> None:
        profile = state["profile"]
        if profile is None:
            return
        profile.disable()
        state["profile"] = None
        state["n"] = int(state["n"]) + 1
        profile.dump_stats(str(out / f"window-{state['n']}.prof"))
        (out / f"window-{state['n']}.gc.json").write_text(json.dumps({
            **{f"gen{g}": {"passes": n, "seconds": round(t, 4)} for g, (n, t) in sorted(gc_passes.items())},
            "db": {k: round(v, 4) for k, v in sorted(db_stats.items())},
        }))
        (out / f"window-{state['n']}.done").touch()

    db_stats = _trace_database(lambda: state["profile"] is not None)
    gc.callbacks.append(on_gc)
    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
