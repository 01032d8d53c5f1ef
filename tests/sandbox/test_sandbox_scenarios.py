"""Every named scenario makes the sandbox answer with its status and record its cause, from its own checks."""

from __future__ import annotations

import io

import httpx
import pytest

from apigw_doctor.sandbox.__main__ import serve
from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.request import Request
from apigw_doctor.sandbox.scenarios import RECIPES, REST, SCENARIOS, run_scenario


def test_catalogue_is_wide_enough() -> None:
    failures = {s.cause for s in SCENARIOS if s.cause}
    assert len(failures) >= 18
    assert sum(s.cause is None for s in SCENARIOS) >= 3
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)
    assert {s.recipe for s in SCENARIOS} <= set(RECIPES)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario(scenario, sandbox: Sandbox, client: httpx.Client) -> None:
    result = run_scenario(sandbox, scenario, client)
    assert result.status == scenario.status, result.body
    assert result.request_id, "every answer carries a request id"
    assert result.sandbox is not None
    assert result.sandbox.status == result.status
    assert result.sandbox_cause == scenario.cause, result.sandbox
    assert result.ok


@pytest.mark.parametrize("value", ["Bearer {t} ", "Bearer {t}\n", " {t}", "Bearer {t}\r\n"])
def test_whitespace_around_the_token_is_malformed(sandbox: Sandbox, value: str) -> None:
    # HTTP clients (h11) refuse to send such header values, so this runs in process, not over the wire.
    token = sandbox.issuer.pool.mint_id_token()
    headers = {"authorization": [value.format(t=token)]}
    reply = sandbox.gateway.handle(Request("GET", REST, "/prod/items", "", headers))
    assert (reply.status, reply.body) == (401, b'{"message":"Unauthorized"}')
    assert sandbox.reason_for(reply.request_id).cause == "malformed-header"


def test_serve_prints_how_to_use_it(tmp_path) -> None:
    out = io.StringIO()
    sb = serve(tmp_path, out=out)
    try:
        text = out.getvalue()
        assert f"127.0.0.1:{sb.port}" in text
        assert f"--cacert {sb.certs.ca} --connect-to ::127.0.0.1:{sb.port}" in text  # straight to the sandbox
        assert "abc123defg.execute-api.us-east-1.amazonaws.com" in text
    finally:
        sb.stop()
