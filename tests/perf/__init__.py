"""Benchmark of the bot's own overhead under a crowd (the issue "Fast and fair under a crowd").

Run with `python -m tests.perf` from the repository root (about four minutes on 2 cores); it
prints a table and writes perf-results.json. `--smoke` is the cheap CI run (tests/test_perf_smoke.py).
The latest results and how to read them are in tests/perf/RESULTS.md.
"""
