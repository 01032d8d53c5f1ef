"""Issue 2, end to end: a real mitmdump with the addon, real TLS on both sides, documented gateway replies.

The client (httpx) uses the real `*.execute-api.us-east-1.amazonaws.com` names through the proxy; a tests-only
`server_connect` script sends the TCP connection to the local upstream. The verdicts are read back from the `-w`
flow file after SIGTERM, and the terminal output is checked for the headline and for leaked token signatures.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.e2e_capture import Capture


def test_mitmdump_exited_cleanly_and_recorded_every_request(live_capture: Capture):
    assert live_capture.returncode == 0, live_capture.stdout
    assert len(live_capture.flows) == len(live_capture.scenarios)
    for scenario, flow in zip(live_capture.scenarios, live_capture.flows, strict=True):
        assert flow.request.method == scenario.method
        assert flow.request.pretty_host == scenario.host
        assert flow.request.path == scenario.path
        assert flow.request.pretty_url == f"https://{scenario.host}{scenario.path}"
        assert flow.response is not None, f"{scenario.name}: {flow.error}"


def test_client_got_the_documented_bytes_through_real_tls(live_capture: Capture):
    """The proxy path is real: the client received the upstream's documented body and a gateway Date header."""
    for scenario, response in zip(live_capture.scenarios, live_capture.client_responses, strict=True):
        assert response.status_code == scenario.status, scenario.name
        assert response.content == scenario.body, scenario.name
        assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", response.headers["date"])
        if scenario.request_id_header:
            assert response.headers.get(scenario.request_id_header), scenario.name


@pytest.mark.parametrize(
    "name",
    [
        "expired",
        "no-credential",
        "placeholder",
        "access-token",
        "unknown-route",
        "explicit-deny",
        "authorizer-null",
        "sigv4-expected",
        "http-audience",
        "short-lived-other-pool",
    ],
)
def test_failing_flow_carries_the_verdict(live_capture: Capture, name: str):
    scenario = next(s for s in live_capture.scenarios if s.name == name)
    flow = live_capture.flow_for(name)
    meta = flow.metadata["apigw_doctor"]
    assert meta["cause"] == scenario.cause
    assert meta["confidence"] == scenario.confidence
    assert flow.marked == ""  # the user's marks stay the user's
    assert flow.comment.startswith(f"{scenario.cause} [{scenario.confidence[0].upper()}] ")
    # The evidence names the gateway's own request id, the one the client saw.
    request_id = live_capture.client_responses[live_capture.scenarios.index(scenario)].headers[
        scenario.request_id_header
    ]
    assert any(request_id in line for line in meta["evidence"])
    assert meta["target"]["api_id"] == scenario.host.split(".", 1)[0]
    assert meta["target"]["region"] == "us-east-1"
    json.dumps(meta)  # the metadata contract: JSON-safe


def test_target_surface_distinguishes_rest_from_http_api(live_capture: Capture):
    assert live_capture.flow_for("expired").metadata["apigw_doctor"]["target"]["surface"] == "rest"
    assert live_capture.flow_for("expired").metadata["apigw_doctor"]["target"]["stage"] == "prod"
    assert live_capture.flow_for("http-audience").metadata["apigw_doctor"]["target"]["surface"] == "http"


def test_expired_verdict_is_judged_by_the_gateway_clock(live_capture: Capture):
    meta = live_capture.flow_for("expired").metadata["apigw_doctor"]
    assert meta["token"]["claims"]["token_use"] == "id"
    assert any(line.startswith("gateway clock (Date)") for line in meta["evidence"])
    assert "gateway's clock" in meta["summary"]


def test_successful_flow_has_no_verdict(live_capture: Capture):
    flow = live_capture.flow_for("ok")
    assert flow.response.status_code == 200
    assert "apigw_doctor" not in flow.metadata
    assert flow.marked == ""
    assert flow.comment == ""


def test_terminal_shows_one_headline_per_failure(live_capture: Capture):
    lines = live_capture.stdout.splitlines()
    for scenario in live_capture.scenarios:
        if scenario.cause is None:
            continue
        hits = [line for line in lines if line.endswith(scenario.headline)]
        assert len(hits) == 1, (scenario.headline, live_capture.stdout)
    assert any(line.endswith("401 GET /prod/items  token-expired (high)") for line in lines)


def test_no_token_signature_anywhere_in_terminal_output(live_capture: Capture):
    stdout = live_capture.stdout
    assert len(live_capture.minter.minted) >= 5
    for token in live_capture.minter.minted:
        signature = token.rsplit(".", 1)[1]
        assert signature not in stdout
        assert signature[:16] not in stdout  # not even a recognisable prefix


def test_no_token_signature_in_flow_metadata_or_comment(live_capture: Capture):
    for flow in live_capture.flows:
        text = json.dumps(flow.metadata.get("apigw_doctor")) + flow.comment
        for token in live_capture.minter.minted:
            assert token.rsplit(".", 1)[1] not in text
