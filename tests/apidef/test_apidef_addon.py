"""The apigw_api_spec option in mitmproxy's own shape (taddons + tflow): loading, start-up line, view, bad files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from apigw_doctor.addon import METADATA_KEY, ApiGwDoctor, describe
from apigw_doctor.view import describe_flow
from tests.unit.builders import REST_401, flow, mint

FIXTURES = Path(__file__).parent / "fixtures"
REST_EXPORT = str(FIXTURES / "rest-orders-oas30.json")
HTTP_EXPORT = str(FIXTURES / "http-auth0-oas30.json")


def test_option_loads_definitions_and_the_start_up_line_counts_them(caplog):
    addon = ApiGwDoctor()
    caplog.set_level(logging.INFO)
    with taddons.context(addon) as tctx:
        tctx.configure(addon, apigw_api_spec=[REST_EXPORT, HTTP_EXPORT])
        assert "definition: 2 APIs, 12 routes, 4 authorizers" in describe(addon.knowledge)
        addon.running()
    assert "definition: 2 APIs, 12 routes, 4 authorizers" in caplog.text


def test_the_verdict_and_the_view_show_the_route_and_its_expectations():
    addon = ApiGwDoctor()
    f = flow(REST_401, path="/prod/orders", request_headers={"Authorization": f"Bearer {mint()}"})
    with taddons.context(addon) as tctx:
        tctx.configure(addon, apigw_api_spec=[REST_EXPORT])
        addon.response(f)
        meta = f.metadata[METADATA_KEY]
        assert (meta["cause"], meta["confidence"]) == ("wrong-token-type", "high")
        assert any(line.startswith("scopes: orders/read (definition file:") for line in meta["evidence"])
        text = "\n".join(describe_flow(f, addon.knowledge))
    assert 'definition:\n  - "route: GET /orders (stage prod), from definition file:' in text
    assert '  - "scopes: orders/read (definition file:' in text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"openapi": "3.0.1", "paths": {"/x": ', "line 1, column 38: Expecting value"),
        ("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Events: [\n", "line 5"),
        ('{"format_version": "1.0"}', "expected an OpenAPI 3"),
    ],
)
def test_a_bad_definition_stops_start_up_with_one_line(tmp_path, content, expected):
    path = tmp_path / "api.spec"
    path.write_text(content)
    addon = ApiGwDoctor()
    with taddons.context(addon) as tctx, pytest.raises(exceptions.OptionsError) as caught:
        tctx.configure(addon, apigw_api_spec=[str(path)])
    message = str(caught.value)
    assert message.startswith(f"apigw_api_spec: {path}: ") and expected in message and "\n" not in message
    assert "Traceback" not in message
