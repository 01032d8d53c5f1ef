"""Plain-text tables for the bench results, each row judged against its target."""

from __future__ import annotations

import statistics

from engine_cost import CaseResult
from targets import (
    ANALYZE_MEMORY_RATIO,
    ANALYZE_TIME_RATIO,
    CPU_RATIO,
    ENGINE_FAILING_US,
    ENGINE_UNWATCHED_US,
    MEMORY_MB_PER_100K,
    THROUGHPUT_COST,
    verdict,
)
from throughput import ThroughputResult


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def engine_target(result: CaseResult) -> float | None:
    return {"failing": ENGINE_FAILING_US, "unwatched": ENGINE_UNWATCHED_US}.get(result.kind)


def engine_table(results: list[CaseResult]) -> tuple[str, list[bool]]:
    rows, checks = [], []
    for r in results:
        target = engine_target(r) if not r.name.startswith("hook:") else None
        ok = target is None or r.median_us <= target
        if target is not None:
            checks.append(ok)
        rows.append(
            [
                r.name,
                r.kind,
                r.verdict,
                f"{r.median_us:.1f}",
                f"{r.min_us:.1f}–{r.max_us:.1f}",
                f"{r.cpu_median_us:.1f}",
                f"≤ {target:g}" if target is not None else "(info)",
                _engine_verdict(ok, r.cpu_median_us <= target) if target is not None else "",
            ]
        )
    headers = ["case", "kind", "engine verdict", "median µs", "min–max µs", "CPU µs", "target", "result"]
    return _table(headers, rows, {3, 4, 5}), checks


def _engine_verdict(wall_ok: bool, cpu_ok: bool) -> str:
    """Judged on wall time, as specified; says so when CPU time (immune to other processes) disagrees."""
    return verdict(wall_ok) if wall_ok == cpu_ok else f"{verdict(wall_ok)} (CPU: {verdict(cpu_ok)})"


def throughput_table(t: ThroughputResult) -> tuple[str, list[bool]]:
    rows, checks = [], []
    for kind, s in t.summaries.items():
        target = THROUGHPUT_COST.get(kind)
        ok = target is None or s.cost <= target
        if target is not None:
            checks.append(ok)
        cpu_target = CPU_RATIO[kind]
        cpu_ok = s.cpu_ratio >= cpu_target
        checks.append(cpu_ok)
        lo, hi = s.ratio_spread
        rows.append(
            [
                kind if s.side == "addon" else f"{kind} ({s.side})",
                f"{s.cpu_ratio:.2f}",
                f"≥ {cpu_target:.2f}",
                verdict(cpu_ok),
                f"{statistics.median(s.bare_rps):,.0f}",
                f"{statistics.median(s.addon_rps):,.0f}",
                f"{s.median_ratio:.3f}",
                f"{lo:.3f}–{hi:.3f}",
                f"{s.cost * 100:.1f} %",
                f"≤ {target * 100:g} %" if target is not None else "(info)",
                verdict(ok) if target is not None else "",
                f"±{s.bare_cv * 100:.1f} %",
                f"{s.bare_cpu_us:,.0f} → {s.addon_cpu_us:,.0f}",
                f"{(1 - s.bare_cpu_us / s.addon_cpu_us) * 100:.1f} %",
            ]
        )
    headers = [
        "traffic",
        "CPU ratio bare/addon",
        "target",
        "result",
        "bare req/s",
        "addon req/s",
        "ratio (median)",
        "ratio min–max",
        "cost",
        "target",
        "result",
        "bare noise (CV)",
        "proxy CPU µs/req bare → addon",
        "CPU-derived cost",
    ]
    return _table(headers, rows, {1, 4, 5, 6, 7, 8, 11, 12, 13}), checks


def scale_line(r: dict) -> tuple[str, list[bool]]:
    time_ok = r["time_ratio"] <= ANALYZE_TIME_RATIO
    memory_ok = r["memory_ratio"] <= ANALYZE_MEMORY_RATIO
    evidence = f"; with --evidence {r['evidence_s']:.1f} s" if r.get("evidence_s") is not None else ""
    text = (
        f"HAR of {r['entries']:,} entries, {r['file_mb']:.0f} MB: json.load {r['json_load_s']:.1f} s, "
        f"peak {r['json_load_peak_mb']:.0f} MB; analyze --json {r['analyze_s']:.1f} s, "
        f"peak {r['analyze_peak_mb']:.0f} MB{evidence}\n"
        f"  time {r['time_ratio']:.2f}× json.load (target ≤ {ANALYZE_TIME_RATIO:g}×): {verdict(time_ok)}; "
        f"peak memory {r['memory_ratio']:.2f}× the file (target ≤ {ANALYZE_MEMORY_RATIO:g}×): {verdict(memory_ok)}"
    )
    return text, [time_ok, memory_ok]


def client_note(t: ThroughputResult) -> str:
    proxied = max((r.rps for r in t.runs), default=0.0)
    client_cpu = max((r.client_cpu_share for r in t.runs), default=0.0)
    ceiling = min(t.client_ceiling_rps.values())
    alone = ", ".join(f"{k} {v:,.0f}" for k, v in t.client_ceiling_rps.items())
    return (
        f"client + upstream alone (no proxy): {alone} req/s = {ceiling / proxied:.1f}× the fastest proxied run; "
        f"the client used at most {client_cpu * 100:.0f} % of a core during proxied runs."
    )


def memory_line(m: dict) -> tuple[str, bool]:
    limit = MEMORY_MB_PER_100K * m["flows"] / 100_000
    ok = m["growth_mb"] < limit
    curve = ", ".join(f"{n // 1000}k: {mb:+.1f}" for n, mb in m["curve_mb"])
    scaled = "" if m["flows"] == 100_000 else f" (pro-rated from {MEMORY_MB_PER_100K:g} MB per 100k)"
    text = (
        f"{m['flows']:,} flows after a {m['warmup']:,}-flow warm-up: RSS {m['baseline_rss_mb']:.1f} MB "
        f"→ growth {m['growth_mb']:+.2f} MB; target < {limit:g} MB{scaled}: {verdict(ok)}\n"
        f"  growth curve (MB): {curve}\n"
        f"  flows by kind (incl. warm-up) {m['flows_by_kind']}, with a verdict {m['flows_with_verdict']}; "
        f"{m['distinct_api_hosts']} API hosts; {m['seconds']:.0f} s"
    )
    return text, ok
