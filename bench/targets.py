"""The docs/design.md quality targets for speed and memory, in one place."""

from __future__ import annotations

ENGINE_FAILING_US = 150.0  # µs per failing flow, each failing case
ENGINE_UNWATCHED_US = 5.0  # µs per unwatched flow
THROUGHPUT_COST = {"passing": 0.05, "failing": 0.10}  # throughput lost to the addon, vs bare mitmdump in the same run
MEMORY_MB_PER_100K = 20.0  # RSS growth over 100k flows


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
