"""Fault-injection suite: many jobs through the real bot and both fakes, with faults and SIGKILLs.

    .venv/bin/python -m tests.faults --jobs 1000 --kills 20      the full run (prints a report)
    .venv/bin/python -m pytest tests/faults                        the short run CI does

See tests/faults/harness.py for how a run is driven and tests/faults/invariants.py for what is
checked afterwards.
"""
