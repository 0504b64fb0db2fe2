"""How long the prompt filter takes with a few thousand guild terms: `python -m tests.bench_filter`."""

import random
import string
import time
from pathlib import Path

from core.prompt_filter import SafetyLists, TermMatcher, check_prompt

S = SafetyLists.load(Path(__file__).resolve().parents[1] / "data" / "safety_terms.json")
rng = random.Random(7)
terms = tuple(
    ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10))) for _ in range(3000)]
    + ["".join(rng.choices(string.ascii_lowercase, k=5)) + "*" for _ in range(300)]
)
for length in (50, 300):
    prompt = " ".join(rng.choices(["castle", "dragon", "sunset", "forest", "river"], k=length))
    check_prompt([prompt], S, terms)  # compile once (cached per guild list)
    n = 200
    t = time.perf_counter()
    for _ in range(n):
        check_prompt([prompt], S, terms)
    print(f"{length} words, 3300 terms: {(time.perf_counter() - t) / n * 1000:.2f} ms per prompt")
t = time.perf_counter()
TermMatcher.build(terms)
print(f"compile: {(time.perf_counter() - t) * 1000:.1f} ms")
