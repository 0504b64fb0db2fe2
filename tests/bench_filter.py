"""How long screening takes: `python -m tests.bench_filter` (the same measurement as
`python -m tests.perf --only screening`, without the rest of the benchmark)."""

import json
import sys

from tests.perf.screening import measure

if __name__ == "__main__":
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    result = measure(scale)
    print(json.dumps(result, indent=2))
    print(
        f"2,000-char prompt × {result['terms']} guild terms (adversarial wildcards included): "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms (CPU p99 {result['cpu_p99_ms']} ms), "
        f"max {result['max_ms']} ms; compiling the terms {result['compile_ms']} ms (in a thread)"
    )
