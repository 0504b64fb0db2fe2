"""Scenario 8, screening: what one request's screening costs on the event loop.

A 2,000-character prompt (and a 2,000-character negative prompt of the text that froze the old
backtracking filter) is screened against the built-in lists and 5,000 guild terms (× scale),
including adversarial wildcard terms such as `a*a*a*a*a*a*a*a*b`. Screening runs on the event loop
inside `decide()`, so every call's time is also the stall it causes; compiling the terms runs in a
thread (`prepare`), and the longest event-loop gap during that compile is measured too.
In-process: this is core/ alone, no Discord round trip.
"""

from __future__ import annotations

import asyncio
import random
import string
import time
from pathlib import Path
from typing import Any

from core.screening import SafetyLists, check_prompt, guild_matcher, prepare
from tests.perf.harness import percentile

DATA = Path(__file__).resolve().parents[2] / "data" / "safety_terms.json"
WORDS = (
    "castle dragon sunset forest river mountain harbour lantern misty ancient golden portrait of a "
    "knight wizard with glowing runes under stars cinematic lighting detailed painting oil canvas "
    "dramatic clouds reflections city street rain neon market children playing family picnic"
).split()


def guild_terms(count: int, rng: random.Random) -> tuple[str, ...]:
    adversarial = [("a*" * k) + "b" for k in range(2, 42)]  # a*a*b ... the freeze term and longer
    adversarial += ["*".join(rng.choices("ab", k=rng.randint(4, 9))) for _ in range(40)]
    adversarial += ["*" + "".join(rng.choices("qxzj", k=3)) + "*" for _ in range(40)]
    prefixes = ["".join(rng.choices(string.ascii_lowercase, k=5)) + "*" for _ in range(300)]
    phrases = [" ".join("".join(rng.choices(string.ascii_lowercase, k=5)) for _ in range(2)) for _ in range(100)]
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10))) for _ in range(count)]
    terms = adversarial + prefixes + phrases
    return tuple(terms + words[: count - len(terms)])


def prompts(rng: random.Random) -> dict[str, list[str]]:
    def prose() -> str:
        return " ".join(rng.choices(WORDS, k=400))[:2000]

    def disguised() -> str:  # look-alikes, invisibles, split words: the slow paths of normalisation
        text = prose().replace("o", "о").replace("e", "ε").replace(" ", " \u200b", 200)
        return text[:2000]

    return {
        "prose": [prose(), ""],
        "prose + 'aaaa…' negative prompt": [prose(), "a" * 2000],
        "disguised": [disguised(), ""],
        "one 2,000-letter word": ["".join(rng.choices("ab", k=2000)), ""],
        "spaced letters": [" ".join(rng.choices(string.ascii_lowercase, k=1000))[:2000], ""],
    }


def measure(scale: int = 1, rounds: int = 300) -> dict[str, Any]:
    rng = random.Random(11)
    safety = SafetyLists.load(DATA)
    terms = guild_terms(5000 * scale, rng)
    started = time.perf_counter()
    guild_matcher(terms)
    compile_ms = (time.perf_counter() - started) * 1000
    by_prompt: dict[str, Any] = {}
    every: list[float] = []
    every_cpu: list[float] = []
    for name, texts in prompts(rng).items():
        times, cpu = [], []
        for _ in range(rounds):
            t, c = time.perf_counter(), time.thread_time()
            verdict = check_prompt(texts, safety, terms, adult=True)
            times.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
        every += times
        every_cpu += cpu
        by_prompt[name] = {
            "p50_ms": _ms(percentile(times, 50)),
            "p99_ms": _ms(percentile(times, 99)),
            "max_ms": _ms(max(times)),
            "cpu_p99_ms": _ms(percentile(cpu, 99)),
            "blocked": verdict.blocked,
        }
    # Wall time is what the event loop feels; CPU time is the screening's own cost, which other
    # processes on a shared machine cannot inflate (the two differ by the preemptions).
    return {
        "terms": len(terms),
        "prompt_chars": 2000,
        "calls": len(every),
        "p50_ms": _ms(percentile(every, 50)),
        "p99_ms": _ms(percentile(every, 99)),
        "max_ms": _ms(max(every)),
        "cpu_p50_ms": _ms(percentile(every_cpu, 50)),
        "cpu_p99_ms": _ms(percentile(every_cpu, 99)),
        "cpu_max_ms": _ms(max(every_cpu)),
        "compile_ms": round(compile_ms, 1),
        "by_prompt": by_prompt,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


async def _loop_gap_while_preparing(scale: int) -> float:
    """Longest event-loop gap while a fresh 5,000-term list compiles through `prepare`."""
    terms = guild_terms(5000 * scale, random.Random(12))
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await prepare(terms)
    done.set()
    await task
    return max(gaps, default=0.0)


async def screening(opts: Any, scale: int) -> dict[str, Any]:
    result = await asyncio.to_thread(measure, scale, 30 if opts.smoke else 300)
    result["prepare_longest_loop_gap_ms"] = round(await _loop_gap_while_preparing(scale) * 1000, 1)
    return result
