"""The screening worker process (core/screening/worker.py): the same verdicts as reading in-process,
and a worker that dies or hangs costs speed, never a check."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest

from core.screening import SafetyLists, check_prompt, read_texts
from core.screening.worker import ScreeningWorker
from tests.core.screening_corpus.benign import BENIGN
from tests.core.screening_corpus.blocked import ADULT, CHILD_SAFETY

SAFETY_FILE = Path(__file__).resolve().parents[2] / "data" / "safety_terms.json"
SAFETY = SafetyLists.load(SAFETY_FILE)
GUILD_TERMS = ("dragon", "cast*e", "neon market")


@pytest.fixture
async def worker():
    started = ScreeningWorker(SAFETY_FILE)
    await started.start()
    await _until(lambda: started.ready)
    yield started
    await started.close()


async def _until(condition, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("forms", [True, False])
async def test_every_corpus_prompt_gets_the_in_process_verdict(worker, forms):
    cases = [p for _, p in CHILD_SAFETY + ADULT + BENIGN] + ["a dragon over a castle", "neon market at night"]
    readings = await asyncio.gather(*(worker.read([p, "clothes"], forms=forms) for p in cases))
    assert all(r is not None for r in readings), "the worker did not answer every request"
    for prompt, reading in zip(cases, readings, strict=True):
        expected = read_texts([prompt, "clothes"], SAFETY)
        assert reading.findings == expected.findings, prompt
        assert reading.seen == (expected.seen if forms else None), prompt
        for adult in (False, True):
            for terms in ((), GUILD_TERMS):
                mine = check_prompt([prompt, "clothes"], SAFETY, terms, adult=adult)
                assert check_prompt([prompt, "clothes"], SAFETY, terms, adult=adult, reading=reading) == mine


async def test_a_child_safety_prompt_read_by_the_worker_is_blocked(worker):
    prompt = CHILD_SAFETY[0][1]
    reading = await worker.read([prompt])
    assert reading is not None and reading.findings.involves_minors
    assert check_prompt([prompt], SAFETY, (), reading=reading).reason == "safety"


async def test_a_reading_of_other_texts_is_not_trusted(worker):
    """A reading is used only for the very texts it was made of."""
    innocent = await worker.read(["a kite in a park"])
    prompt = CHILD_SAFETY[0][1]
    assert check_prompt([prompt], SAFETY, (), reading=innocent).blocked


async def test_a_killed_worker_is_replaced_and_reads_fall_back_meanwhile(worker):
    first = worker._proc.pid
    os.kill(first, signal.SIGKILL)
    await _until(lambda: not worker.ready)
    assert await worker.read(["a kite in a park"]) is None  # the caller reads in-process
    await _until(lambda: worker.ready and worker._proc.pid != first)
    reading = await worker.read(["a kite in a park"])
    assert reading is not None and not reading.findings.tags


async def test_a_hung_worker_times_out_then_is_replaced(worker):
    worker.timeout, worker.hung_after = 0.2, 0.5
    first = worker._proc.pid
    os.kill(first, signal.SIGSTOP)
    try:
        assert await worker.read(["a kite in a park"]) is None  # not answered within the timeout
        await asyncio.sleep(0.6)
        assert await worker.read(["a kite in a park"]) is None  # no answer for hung_after: killed
        await _until(lambda: worker._proc.returncode is not None)
        assert await worker.read(["a kite in a park"]) is None  # gone: another one starts
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(first, signal.SIGCONT)
    await _until(lambda: worker.ready and worker._proc.pid != first)
    assert await worker.read(["a kite in a park"]) is not None


async def test_the_worker_exits_when_the_bot_closes_it(worker):
    proc = worker._proc
    await worker.close()
    assert proc.returncode == 0
    assert await worker.read(["a kite in a park"]) is None


async def test_with_one_cpu_no_worker_is_started_and_every_read_falls_back(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    alone = ScreeningWorker(SAFETY_FILE)
    await alone.start()
    assert alone._proc is None
    assert await alone.read(["a kite in a park"]) is None
    assert alone._proc is None and alone._starting is None
    await alone.close()


async def test_a_worker_that_cannot_be_started_leaves_screening_in_process(monkeypatch):
    async def forbidden(*args, **kwargs):
        raise PermissionError("operation not permitted")

    monkeypatch.setattr(asyncio, "create_subprocess_exec", forbidden)
    denied = ScreeningWorker(SAFETY_FILE)
    await denied.start()  # the bot still starts
    assert await denied.read(["a kite in a park"]) is None
    assert denied._proc is None and denied._starting is None  # and does not try again on every read
    await denied.close()
