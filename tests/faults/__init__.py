"""Fault-injection suite: many jobs through the real bot and both fakes, with faults and SIGKILLs.

    .venv/bin/python -m tests.faults          the full run: 1,100 requests, 20 SIGKILLs (< 5 min on 2 cores)
    .venv/bin/python -m tests.faults --backend postgres   the same with the bot on PostgreSQL
                                              (a new schema of $TEST_DATABASE_URL)
    .venv/bin/python -m pytest tests/faults   the short run CI does (120 requests, 4 SIGKILLs), on
                                              both backends (E2E_BACKEND=sqlite|postgres: one)

See tests/faults/harness.py for how a run is driven and tests/faults/invariants.py for what is
checked afterwards.
"""
