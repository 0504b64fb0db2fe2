"""Reading prompts in a worker process: the event loop hands a request's texts over and awaits
the reading, which the worker makes on another core.

Why: reading a prompt (Unicode folding, look-alikes, the lists, ages) is the costliest step before
an acknowledgement: about 165 µs for a 190-character prompt and 2 ms for 2,000 characters, all pure
Python, so a thread would hold the interpreter lock the loop needs. In a burst of commands that was
a third of the loop's time per command (tests/perf, scenario 1). Here the loop pays for a pickle and
a pipe write; the guild's own terms (cheap, and a guild's list may be long) are still matched on
the loop, on the forms the worker returns (`check_prompt(..., reading=)`).

Protocol, over the child's stdin and stdout: each message is a 4-byte big-endian length and a
pickle of a list: `[(id, texts, forms), ...]` in (the requests of one turn of the loop), and
`[(id, Reading), ...]` out, in order; `[(0, None)]` once the lists are loaded. The child exits when
its stdin closes (the bot stopped, or died).

Failure never skips a check: while the worker is starting, gone, or slower than `timeout` to
answer, `read` returns None and the caller reads the texts in its own process (the same code and
lists). A worker that exited or stopped answering is replaced on a later read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

from core.screening import Reading, SafetyLists, read_texts

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
_HEADER = 4
# Requests per message at most: each message is answered once all of it is read, so a long batch
# of long prompts would keep its first request waiting for the last.
BATCH = 16


class ScreeningWorker:
    def __init__(self, safety_terms: Path, *, timeout: float = 1.0, hung_after: float = 5.0) -> None:
        self._safety_terms = Path(safety_terms)
        self.timeout = timeout  # longer than this for one answer: read in-process instead
        self.hung_after = hung_after  # requests waiting and no answer for this long: replace the worker
        self._proc: asyncio.subprocess.Process | None = None
        self._answers: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Reading | None]] = {}
        self._outbox: list[tuple[int, tuple[str, ...], bool]] = []
        self._next_id = 0  # the last request sent
        self._answered_id = 0  # the last one answered (in order)
        self._ready = False
        self._busy_since = 0.0  # its last answer, or the request that found it idle
        self._closed = False
        self._starting: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        return self._ready and self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        """Start the worker; returns once it is spawned, not once it is ready (reads fall back meanwhile).
        With one CPU to run on there is no other core to read on: no worker, every read falls back."""
        if not _other_core():
            self._closed = True  # never started: reads fall back at once
        if self._closed or (self._proc is not None and self._proc.returncode is None):
            return
        self._ready = False
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "core.screening.worker", str(self._safety_terms),
                cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            )
        except OSError as exc:  # e.g. a sandbox that forbids starting processes
            log.warning("cannot start the screening worker (%s); prompts are screened in the bot's own process", exc)
            self._closed = True
            return
        self._answered_id, self._busy_since = self._next_id, time.monotonic()  # it owes nothing yet
        self._answers = asyncio.create_task(self._read_answers(self._proc), name="screening-answers")

    async def read(self, texts: tuple[str, ...] | list[str], *, forms: bool = True) -> Reading | None:
        """The worker's reading of `texts`, or None: then read them in-process. `forms=False`: without
        the forms the guild's terms are matched in (a guild without terms), one copy fewer back."""
        proc = self._proc
        if not self.ready or proc is None or proc.stdin is None:
            self._replace_if_gone()
            return None
        now = time.monotonic()
        if self._answered_id < self._next_id and now - self._busy_since > self.hung_after:
            log.warning("screening worker stopped answering; replacing it (reading in-process meanwhile)")
            self._kill()
            return None
        if self._answered_id == self._next_id:
            self._busy_since = now  # it was idle: the clock for "stopped answering" starts now
        self._next_id += 1
        request_id = self._next_id
        answer: asyncio.Future[Reading | None] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = answer
        # The requests made in one turn of the loop (a burst of commands) go in one message.
        if not self._outbox:
            asyncio.get_running_loop().call_soon(self._send, proc)
        self._outbox.append((request_id, tuple(texts), forms))
        try:
            async with asyncio.timeout(self.timeout):
                return await answer
        except TimeoutError:
            return None
        finally:
            self._pending.pop(request_id, None)

    def _send(self, proc: asyncio.subprocess.Process) -> None:
        outbox, self._outbox = self._outbox, []
        for start in range(0, len(outbox), BATCH):
            batch = outbox[start : start + BATCH]
            body = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
            try:
                assert proc.stdin is not None
                proc.stdin.write(len(body).to_bytes(_HEADER, "big") + body)
            except (ConnectionError, RuntimeError):  # the worker is gone: its readers get None
                for request_id, _, _ in batch:
                    answer = self._pending.get(request_id)
                    if answer is not None and not answer.done():
                        answer.set_result(None)

    async def close(self) -> None:
        self._closed = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                proc.stdin.close()  # the worker exits at the end of its input
            try:
                await asyncio.wait_for(proc.wait(), 2)
            except TimeoutError:
                self._kill()
                await proc.wait()
        if self._answers is not None:
            await asyncio.gather(self._answers, return_exceptions=True)

    # --- inside ----------------------------------------------------------------------------------

    def _kill(self) -> None:
        self._ready = False
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()

    def _replace_if_gone(self) -> None:
        proc = self._proc
        gone = proc is None or proc.returncode is not None
        if gone and not self._closed and (self._starting is None or self._starting.done()):
            if proc is not None:
                log.warning("screening worker exited (%s); starting another", proc.returncode)
            self._starting = asyncio.create_task(self.start(), name="screening-start")

    async def _read_answers(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        try:
            while True:
                head = await proc.stdout.readexactly(_HEADER)
                batch = pickle.loads(await proc.stdout.readexactly(int.from_bytes(head, "big")))
                self._busy_since = time.monotonic()
                for request_id, reading in batch:
                    if request_id == 0:
                        self._ready = True
                        continue
                    self._answered_id = max(self._answered_id, request_id)
                    answer = self._pending.get(request_id)
                    if answer is not None and not answer.done():
                        answer.set_result(reading)
        except (asyncio.IncompleteReadError, ConnectionError):
            with contextlib.suppress(ProcessLookupError):
                await proc.wait()  # the worker exited (reaped here): read() starts another
        finally:
            self._ready = False
            for answer in self._pending.values():
                if not answer.done():
                    answer.set_result(None)


def _other_core() -> bool:
    return len(os.sched_getaffinity(0)) > 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) > 1


def _serve(safety_terms: Path) -> int:
    """The child: read texts from stdin until it closes, answer each with its reading."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the bot, which closes our stdin
    from core.screening.normalise import warm

    safety = SafetyLists.load(safety_terms)
    warm()
    source, sink = sys.stdin.buffer, sys.stdout.buffer

    def send(batch: list[tuple[int, Reading | None]]) -> None:
        body = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        sink.write(len(body).to_bytes(_HEADER, "big") + body)
        sink.flush()

    def answer(texts: tuple[str, ...], forms: bool) -> Reading | None:
        try:
            reading = read_texts(texts, safety)
        except Exception:  # the caller reads in-process, where the error is reported
            return None
        return reading if forms else replace(reading, seen=None)

    send([(0, None)])
    while len(head := source.read(_HEADER)) == _HEADER:
        batch = pickle.loads(source.read(int.from_bytes(head, "big")))
        send([(request_id, answer(texts, forms)) for request_id, texts, forms in batch])
    return 0


if __name__ == "__main__":
    sys.exit(_serve(Path(sys.argv[1])))
