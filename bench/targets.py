"""The docs/design.md quality targets for speed and memory, in one place."""

from __future__ import annotations

ENGINE_FAILING_US = 150.0  # µs per failing flow, each failing case
ENGINE_UNWATCHED_US = 5.0  # µs per unwatched flow
THROUGHPUT_COST = {"passing": 0.05, "failing": 0.10}  # throughput lost to the addon, vs bare mitmdump in the same run
MEMORY_MB_PER_100K = 20.0  # RSS growth over 100k flows
# Issue 11's speed table: proxy CPU time per request, bare / addon (1.0 = the addon costs nothing).
CPU_RATIO = {"passing": 0.95, "failing": 0.90, "failing-distinct": 0.88, "failing-evidence": 0.50}
# Issue 11's scale table: analyze against a bare json.load of the same HAR.
ANALYZE_TIME_RATIO = 3.0
ANALYZE_MEMORY_RATIO = 1.5  # peak RSS / file size


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
