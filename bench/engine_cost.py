"""In-process engine cost: µs per `diagnose_flow` call, by kind of flow (failing, passing, unwatched)."""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from mitmproxy import http

from apigw_doctor.addon import ApiGwDoctor
from apigw_doctor.engine import diagnose_flow
from apigw_doctor.knowledge import Knowledge
from common import HTTP_HOST, REST_HOST, UNWATCHED_HOST, TokenFactory, addon_context, builders

OK = (200, {}, b'{"ok":true}')

# name, kind, flow maker. Every flow carries its own token: no cache keyed by token or flow can help.
type Maker = Callable[[TokenFactory], http.HTTPFlow]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


CASES: tuple[tuple[str, str, Maker], ...] = (
    (
        "REST 401, valid Cognito JWT",
        "failing",
        lambda t: builders.flow(builders.REST_401, request_headers=_bearer(t.token())),
    ),
    (
        "REST 401, expired JWT",
        "failing",
        lambda t: builders.flow(builders.REST_EXPIRED, request_headers=_bearer(t.token(expired=True))),
    ),
    (
        "HTTP API 401, wrong audience",
        "failing",
        lambda t: builders.flow(builders.HTTP_401_AUDIENCE, host=HTTP_HOST, request_headers=_bearer(t.token())),
    ),
    (
        "REST 403, explicit deny",
        "failing",
        lambda t: builders.flow(builders.LAMBDA_DENY_NEW, request_headers=_bearer(t.token(use="access"))),
    ),
    (
        "REST 403, Missing Authentication Token",
        "failing",
        lambda t: builders.flow(builders.MISSING_AUTH_TOKEN, request_headers=_bearer(t.token())),
    ),
    ("REST 200, valid JWT", "passing", lambda t: builders.flow(OK, host=REST_HOST, request_headers=_bearer(t.token()))),
    (
        "example.com 401 (unwatched)",
        "unwatched",
        lambda t: builders.flow(builders.REST_401, host=UNWATCHED_HOST, request_headers=_bearer(t.token())),
    ),
)


@dataclass
class CaseResult:
    name: str
    kind: str
    verdict: str
    median_us: float
    min_us: float
    max_us: float
    cpu_median_us: float  # process CPU time: unlike wall time, not inflated while other processes hold the core


def _timed(call: Callable[[http.HTTPFlow], object], flows: list[http.HTTPFlow]) -> tuple[float, float]:
    """(wall µs, CPU µs) per call over the flows."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    for f in flows:
        call(f)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return wall / len(flows) * 1e6, cpu / len(flows) * 1e6


def _result(name: str, kind: str, verdict: str, samples: list[tuple[float, float]]) -> CaseResult:
    wall = [w for w, _ in samples]
    cpu = statistics.median(c for _, c in samples)
    return CaseResult(name, kind, verdict, statistics.median(wall), min(wall), max(wall), cpu)


def _verdict(f: http.HTTPFlow) -> str:
    d = diagnose_flow(f, Knowledge())
    if d is None:
        return "none"
    return f"{d.cause} ({d.confidence})" if d.cause else "warning"


def measure_engine(iterations: int, repeats: int) -> list[CaseResult]:
    """Median over `repeats` of the mean cost over `iterations` distinct flows of each case."""
    tokens = TokenFactory()
    results = []
    for name, kind, make in CASES:
        samples = []
        for _ in range(repeats):
            flows = [make(tokens) for _ in range(iterations)]  # built outside the timed loop
            knowledge = Knowledge()
            samples.append(_timed(lambda f, k=knowledge: diagnose_flow(f, k), flows))
        results.append(_result(name, kind, _verdict(make(tokens)), samples))
    return results


def measure_hook(iterations: int, repeats: int) -> list[CaseResult]:
    """The whole addon `response` hook (engine, annotation, comment, log record), for failing and passing flows."""
    tokens = TokenFactory()
    picks = [c for c in CASES if c[0] in ("REST 401, valid Cognito JWT", "REST 200, valid JWT")]
    results = []
    addon = ApiGwDoctor()
    with addon_context(addon) as tctx:
        loop = tctx.master.event_loop
        for name, kind, make in picks:
            samples = []
            for _ in range(repeats):
                flows = [make(tokens) for _ in range(iterations)]
                samples.append(_timed(addon.response, flows))
                loop.run_until_complete(asyncio.sleep(0))  # deliver the queued log events, as the proxy's loop does
            results.append(_result(f"hook: {name}", kind, "", samples))
    return results


def profile_failing(iterations: int, top: int = 12) -> str:
    """cProfile listings over failing flows (all failing cases, mixed): the engine alone, then the whole hook."""
    tokens = TokenFactory()
    failing = [make for _, kind, make in CASES if kind == "failing"]
    knowledge = Knowledge()
    engine = _profile(
        lambda f: diagnose_flow(f, knowledge), [m(tokens) for _ in range(iterations) for m in failing], top
    )
    addon = ApiGwDoctor()
    with addon_context(addon):
        hook = _profile(addon.response, [m(tokens) for _ in range(iterations) for m in failing], top)
    return f"--- engine: diagnose_flow ---\n{engine}\n--- addon: ApiGwDoctor.response ---\n{hook}"


def _profile(call: Callable[[http.HTTPFlow], object], flows: list[http.HTTPFlow], top: int) -> str:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for f in flows:
        call(f)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()
