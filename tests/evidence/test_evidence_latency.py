"""Evidence is written off the event loop: with `apigw_evidence_dir` on, a failing flow's client gets its response
as fast as with it off (issue 11: within 2 ms at the median).

Two real mitmdumps run side by side, one with the evidence directory and one without, and the requests alternate
between them, so both see the same machine load; the medians are compared. The bundles are still written by the
same process, so on a machine whose two cores are shared with other busy processes a single measurement can be
pushed over the bound by the scheduler; the measurement is then repeated, up to three times in all, and the best
attempt must meet the bound (each attempt's numbers are in the failure message).
"""

from __future__ import annotations

import statistics
import time

from apigw_doctor.sandbox import tls
from tests.e2e.e2e_harness import ADDON_SCRIPT, REST_HOST, LiveMitmdump, TokenMinter
from tests.robustness.hostile_upstream import HostileUpstream, reply

ROUNDS = 60
ALLOWED = 0.002  # the bound on the median


ATTEMPTS = 3


def test_evidence_adds_no_latency_to_failing_flows(tmp_path):
    seen = []
    for attempt in range(ATTEMPTS):
        off, on, bundles = _measure(tmp_path / f"attempt-{attempt}")
        seen.append(f"on {on * 1000:.2f} ms, off {off * 1000:.2f} ms")
        assert bundles == ROUNDS + 5  # every bundle was written
        if on - off <= ALLOWED:
            return
    raise AssertionError("median response time with evidence on vs off: " + "; ".join(seen))


def _measure(tmp_path) -> tuple[float, float, int]:
    answer = reply(
        401,
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", "UnauthorizedException")],
        b'{"message":"The incoming token has expired"}',
    )
    upstream = HostileUpstream(
        tls.make_certs(tmp_path / "tls"), {f"/prod/items/{i}": answer for i in range(ROUNDS + 5)}
    )
    upstream.start()
    evidence = tmp_path / "evidence"
    token = TokenMinter().id_token(exp=int(time.time()) - 60)
    off = LiveMitmdump(tmp_path / "off", upstream, scripts=(ADDON_SCRIPT,))
    on = LiveMitmdump(tmp_path / "on", upstream, scripts=(ADDON_SCRIPT,))
    on.args += ["--set", f"apigw_evidence_dir={evidence}"]
    times: dict[str, list[float]] = {"off": [], "on": []}
    try:
        off.start()
        on.start()
        with off.client() as c_off, on.client() as c_on:
            clients = {"off": c_off, "on": c_on}
            for i in range(ROUNDS + 5):
                for name in ("off", "on") if i % 2 else ("on", "off"):  # interleaved, in both orders
                    start = time.perf_counter()
                    r = clients[name].get(f"https://{REST_HOST}/prod/items/{i}", headers={"Authorization": token})
                    elapsed = time.perf_counter() - start
                    assert r.status_code == 401
                    if i >= 5:  # the first rounds warm up TLS and caches
                        times[name].append(elapsed)
                time.sleep(0.01)
    finally:
        off.stop()
        on.stop()
        upstream.stop()
    bundles = len([p for p in evidence.iterdir() if p.is_dir()])
    return statistics.median(times["off"]), statistics.median(times["on"]), bundles
