"""Run a script under cProfile in windows the benchmark chooses (a benchmark fixture).

    python tests/perf/cprofile_launcher.py OUT_DIR script.py [args...]

SIGUSR1 starts a window, SIGUSR2 ends it and writes OUT_DIR/window-<n>.prof (n = 1, 2, ...) and
window-<n>.gc.json: the garbage collector's passes in the window, by generation (count, seconds),
which cProfile charges to whichever function happened to allocate.
Only the main thread is profiled: that is the event loop, where the acknowledgements queue.
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
            profile = cProfile.Profile()
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
        (out / f"window-{state['n']}.gc.json").write_text(json.dumps(
            {f"gen{g}": {"passes": n, "seconds": round(t, 4)} for g, (n, t) in sorted(gc_passes.items())}
        ))
        (out / f"window-{state['n']}.done").touch()

    gc.callbacks.append(on_gc)
    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
