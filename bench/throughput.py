"""Throughput through a real mitmdump, with and without the addon, as a ratio measured in the same run.

Both mitmdumps run side by side in front of one upstream; only one is driven at a time. Rounds alternate the order
(bare first, then addon first, ...) so a drift in machine load does not always favour the same side.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common import REST_HOST, wall_token
from loadgen import LoadResult, make_request, run_load
from procs import Mitmdump, Upstream

PATHS = {
    "passing": "/prod/items",
    "failing": "/prod/deny/items",
    "failing-distinct": "/prod/deny/orders/{id}",  # ids in URLs, as real apps send them
    "failing-evidence": "/prod/deny/items",
}
EXPECTED_STATUS = {kind: 200 if kind == "passing" else 401 for kind in PATHS}
SIDES = {"failing-evidence": ("bare", "evidence")}  # the second side is compared with bare mitmdump
DISTINCT_PATHS = 500  # per connection


@dataclass
class Run:
    kind: str
    side: str  # "bare" or "addon"
    round: int
    rps: float
    requests: int
    seconds: float
    proxy_cpu_us_per_request: float
    client_cpu_share: float
    unexpected_statuses: dict[int, int] = field(default_factory=dict)


@dataclass
class KindSummary:
    kind: str
    bare_rps: list[float]
    addon_rps: list[float]
    ratios: list[float]  # addon / bare, per round
    median_ratio: float
    cost: float  # 1 - median ratio
    ratio_spread: tuple[float, float]
    bare_cv: float  # run-to-run noise of bare mitmdump alone
    bare_cpu_us: float  # median proxy CPU per request
    addon_cpu_us: float
    side: str = "addon"  # which mitmdump was compared with bare: "addon", or "evidence" (addon + evidence dir)

    @property
    def cpu_ratio(self) -> float:
        """Bare CPU per request / addon CPU per request: 1.0 means the addon costs nothing."""
        return self.bare_cpu_us / self.addon_cpu_us if self.addon_cpu_us else 0.0


@dataclass
class ThroughputResult:
    concurrency: int
    requests_per_run: int
    rounds: int
    client_ceiling_rps: dict[str, float]
    runs: list[Run]
    summaries: dict[str, KindSummary]
    sanity: str
    addon_log_errors: list[str]
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def _requests(kind: str, tokens: list[str]) -> list:
    if "{id}" in PATHS[kind]:
        return [
            [make_request(REST_HOST, PATHS[kind].format(id=f"{c:02d}{n:06d}-7f3a"), t) for n in range(DISTINCT_PATHS)]
            for c, t in enumerate(tokens)
        ]
    return [make_request(REST_HOST, PATHS[kind], t) for t in tokens]


def sides(kind: str) -> tuple[str, str]:
    return SIDES.get(kind, ("bare", "addon"))


def _drive(
    proxy: Mitmdump, requests: list[bytes], total: int, concurrency: int, warmup: int
) -> tuple[LoadResult, float]:
    """Warm up, then one measured run; returns the load result and the proxy's CPU seconds during it."""
    _check_alive(proxy)
    run_load(proxy.port, requests, warmup, concurrency, deadline_s=30)
    cpu = proxy.cpu_seconds()
    result = run_load(proxy.port, requests, total, concurrency, deadline_s=90)
    proxy_cpu = proxy.cpu_seconds() - cpu
    _check_alive(proxy)
    return result, proxy_cpu


def _sanity_check(upstream_port: int, workdir: Path, tokens: list[str]) -> str:
    """One unquiet mitmdump with the addon: does a failing request through it really get a verdict?"""
    proxy = Mitmdump("sanity", upstream_port, workdir, addon=True, quiet=False)
    try:
        run_load(proxy.port, _requests("failing", tokens[:1]), 3, 1, deadline_s=15)
        time.sleep(0.5)
        lines = [line for line in proxy.log().splitlines() if line.strip()]
    finally:
        proxy.close()
    verdicts = [line for line in lines if f"401 GET {PATHS['failing']}" in line]
    if not verdicts or script_errors(lines):
        raise RuntimeError("sanity check: no clean addon verdict for a failing request:\n" + "\n".join(lines[-40:]))
    return verdicts[0].split("]", 1)[-1].strip()


def script_errors(lines: list[str]) -> list[str]:
    return [line for line in lines if "error in script" in line or "Traceback" in line or "could not diagnose" in line]


def _check_alive(proxy: Mitmdump) -> None:
    lines = proxy.log().splitlines()
    if proxy.proc.poll() is not None or script_errors(lines):
        raise RuntimeError(f"mitmdump ({proxy.name}) is unhealthy:\n" + "\n".join(lines[-40:]))


def _summarise(kind: str, runs: list[Run], rounds: int) -> KindSummary:
    def side(name: str) -> list[Run]:
        return sorted((r for r in runs if r.kind == kind and r.side == name), key=lambda r: r.round)

    bare, addon = side("bare"), side(sides(kind)[1])
    ratios = [a.rps / b.rps for a, b in zip(addon, bare, strict=True)]
    bare_rps = [r.rps for r in bare]
    median_ratio = statistics.median(ratios)
    return KindSummary(
        kind=kind,
        bare_rps=bare_rps,
        addon_rps=[r.rps for r in addon],
        ratios=ratios,
        median_ratio=median_ratio,
        cost=1 - median_ratio,
        ratio_spread=(min(ratios), max(ratios)),
        bare_cv=statistics.pstdev(bare_rps) / statistics.mean(bare_rps) if len(bare_rps) > 1 else 0.0,
        bare_cpu_us=statistics.median(r.proxy_cpu_us_per_request for r in bare),
        addon_cpu_us=statistics.median(r.proxy_cpu_us_per_request for r in addon),
        side=sides(kind)[1],
    )


def measure_throughput(
    total: int, rounds: int, concurrency: int = 4, warmup: int = 300, progress=print
) -> ThroughputResult:
    started = time.perf_counter()
    tokens = [wall_token(jti=f"bench-{i}") for i in range(concurrency)]
    upstream = Upstream()
    proxies: dict[str, Mitmdump] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="apigw-bench-") as tmp:
            workdir = Path(tmp)
            ceiling = {
                kind: run_load(upstream.port, _requests(kind, tokens), total, concurrency, deadline_s=60).rps
                for kind in PATHS
            }
            progress(
                f"  client+upstream ceiling (no proxy): {', '.join(f'{k} {v:,.0f} req/s' for k, v in ceiling.items())}"
            )
            sanity = _sanity_check(upstream.port, workdir, tokens)
            progress(f"  sanity: addon verdict seen: {sanity[:100]}")
            evidence = ("--set", f"apigw_evidence_dir={workdir / 'evidence'}")
            proxies = {
                "bare": Mitmdump("bare", upstream.port, workdir, addon=False),
                "addon": Mitmdump("addon", upstream.port, workdir, addon=True),
                "evidence": Mitmdump("evidence", upstream.port, workdir, addon=True, quiet=False, extra=evidence),
            }
            runs = []
            for rnd in range(rounds):
                for kind in PATHS:
                    pair = sides(kind)
                    for side in pair if rnd % 2 == 0 else pair[::-1]:
                        result, proxy_cpu = _drive(proxies[side], _requests(kind, tokens), total, concurrency, warmup)
                        unexpected = {s: n for s, n in result.statuses.items() if s != EXPECTED_STATUS[kind]}
                        run = Run(
                            kind,
                            side,
                            rnd,
                            result.rps,
                            result.requests,
                            result.seconds,
                            proxy_cpu / max(result.requests, 1) * 1e6,
                            result.client_cpu_share,
                            unexpected,
                        )
                        runs.append(run)
                        note = f"  UNEXPECTED {unexpected}" if unexpected else ""
                        note += "  (hit the time limit)" if result.timed_out else ""
                        progress(f"  round {rnd + 1}/{rounds} {kind:7} {side:5}: {run.rps:8,.0f} req/s{note}")
            errors = [line for line in proxies["addon"].log().splitlines() if line.strip()]
    finally:
        for proxy in proxies.values():
            proxy.close()
        upstream.close()
        if "evidence" in proxies:  # what the evidence mitmdump said at exit (dropped bundles are counted there)
            said = proxies["evidence"].log_path.read_text(errors="replace").splitlines()
            errors += [f"evidence: {line}" for line in said if "dropped" in line or "not written" in line]
    summaries = {kind: _summarise(kind, runs, rounds) for kind in PATHS}
    return ThroughputResult(
        concurrency, total, rounds, ceiling, runs, summaries, sanity, errors[:20], time.perf_counter() - started
    )
