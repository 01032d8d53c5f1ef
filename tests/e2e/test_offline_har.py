"""Issue 2, offline = live: the live capture, exported to a HAR, re-analysed by `mitmdump -n -r x.har -s addon`.

HAR export drops comments, markers and metadata, so the offline run starts from the raw traffic only. The time
rule (docs/design.md: "now" is the response `Date` header) must make every verdict identical to the live one, even for a
token that was valid at capture time and has expired on the wall clock by the time of the re-analysis.
"""

from __future__ import annotations

import json
import time

import pytest
from mitmproxy.addons.savehar import SaveHar

from tests.e2e.e2e_capture import Capture
from tests.e2e.e2e_harness import read_flows, run_offline

KEY = "apigw_doctor"


def _verdict(flow) -> tuple | None:
    meta = flow.metadata.get(KEY)
    return None if meta is None else (meta["cause"], meta["confidence"])


@pytest.fixture(scope="module")
def offline(live_capture: Capture, tmp_path_factory):
    """Export the live flows to HAR, wait until the short-lived token is past exp, re-analyse in a subprocess."""
    workdir = tmp_path_factory.mktemp("e2e-offline")
    har = workdir / "capture.har"
    har.write_text(json.dumps(SaveHar().make_har(live_capture.flows)))
    # Premise of the time-rule check: the re-analysis happens after the short-lived token's exp.
    while time.time() <= live_capture.short_lived_exp + 1:
        time.sleep(0.2)
    out = workdir / "reanalysed.mitm"
    result = run_offline(har, out)
    return har, result, read_flows(out)


def test_har_holds_raw_traffic_only(live_capture: Capture, offline):
    har, _, _ = offline
    entries = json.loads(har.read_text())["log"]["entries"]
    assert len(entries) == len(live_capture.flows)
    assert all(KEY not in json.dumps(e) for e in entries)  # no verdicts carried over: offline starts from scratch
    assert all(any(h["name"].lower() == "date" for h in e["response"]["headers"]) for e in entries)


def test_offline_run_succeeds(offline):
    _, result, flows = offline
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert flows


def test_every_flow_gets_the_same_verdict_offline(live_capture: Capture, offline):
    _, _, flows = offline
    assert len(flows) == len(live_capture.flows)
    for live, again in zip(live_capture.flows, flows, strict=True):
        assert again.request.pretty_url == live.request.pretty_url
        assert _verdict(again) == _verdict(live), live.request.pretty_url
        assert again.marked == live.marked
        if KEY in live.metadata:
            assert again.metadata[KEY]["checks"] == live.metadata[KEY]["checks"]
            assert again.metadata[KEY]["summary"] == live.metadata[KEY]["summary"]


def test_live_verdicts_are_the_expected_ones(live_capture: Capture, offline):
    """Guards the comparison above against a trivial pass (e.g. both sides without any verdict)."""
    _, _, flows = offline
    expected = [(s.cause, s.confidence) if s.cause else None for s in live_capture.scenarios]
    assert [_verdict(f) for f in flows] == expected


def test_token_valid_at_capture_stays_valid_after_its_exp(live_capture: Capture, offline):
    """The wall clock is past exp now, but the gateway's Date at capture was before it: not an expiry."""
    _, _, flows = offline
    index = [s.name for s in live_capture.scenarios].index("short-lived-other-pool")
    live, again = live_capture.flows[index], flows[index]
    exp = live.metadata[KEY]["token"]["claims"]["exp"]
    assert exp == live_capture.short_lived_exp
    assert live.response.timestamp_start < exp < time.time()  # captured before exp, re-analysed after it
    meta = again.metadata[KEY]
    assert meta["cause"] == "wrong-issuer"
    exp_check = next(c for c in meta["checks"] if c["id"] == "token.exp")
    assert exp_check["result"] == "pass"


def test_offline_terminal_shows_the_same_headlines(live_capture: Capture, offline):
    _, result, _ = offline
    for scenario in live_capture.scenarios:
        if scenario.cause:
            assert scenario.headline in result.stdout
    for token in live_capture.minter.minted:
        assert token.rsplit(".", 1)[1] not in result.stdout
