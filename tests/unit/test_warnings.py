"""Warnings on flows that did not fail, and on gateway errors a browser will misreport."""

from __future__ import annotations

from apigw_doctor.engine import diagnose_flow
from apigw_doctor.knowledge import Knowledge, make_expectations

from .builders import HTTP_HOST, NOW, REST_401, flow, mint


def test_expires_soon_on_a_passing_flow():
    f = flow((200, {}, b"{}"), request_headers={"Authorization": mint(exp=NOW + 60)})
    d = diagnose_flow(f, Knowledge())
    assert d is not None
    assert (d.cause, d.warnings) == (None, ("expires-soon",))
    assert d.as_metadata()["cause"] is None and d.as_metadata()["warnings"] == ["expires-soon"]


def test_expires_soon_respects_the_option():
    f = flow((200, {}, b"{}"), request_headers={"Authorization": mint(exp=NOW + 60)})
    assert diagnose_flow(f, Knowledge(make_expectations(expiry_warning=30))) is None


def test_cors_headers_missing_on_a_browser_request():
    f = flow(REST_401, request_headers={"Origin": "https://app.example.com", "Authorization": mint(exp=NOW - 1)})
    d = diagnose_flow(f, Knowledge())
    assert d is not None and d.cause == "token-expired" and "cors-headers-missing" in d.warnings


def test_no_cors_warning_when_the_gateway_response_has_cors_headers():
    f = flow(
        REST_401,
        request_headers={"Origin": "https://app.example.com", "Authorization": mint(exp=NOW - 1)},
        response_headers={"Access-Control-Allow-Origin": "*"},
    )
    d = diagnose_flow(f, Knowledge())
    assert d is not None and "cors-headers-missing" not in d.warnings


def test_no_cors_warning_for_non_browser_clients():
    f = flow(REST_401, request_headers={"Authorization": mint(exp=NOW - 1)})
    d = diagnose_flow(f, Knowledge())
    assert d is not None and d.warnings == ()


def test_learned_baseline_names_the_issuer_successful_calls_used():
    knowledge = Knowledge()
    from apigw_doctor.engine import learn_from_flow

    for _ in range(3):
        learn_from_flow(
            flow((200, {}, b"{}"), host=HTTP_HOST, path="/items", request_headers={"Authorization": mint()}), knowledge
        )
    other = mint(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Staging01")
    d = diagnose_flow(
        flow(
            (401, {}, b'{"message":"Unauthorized"}'),
            host=HTTP_HOST,
            path="/items",
            request_headers={"Authorization": other},
        ),
        knowledge,
    )
    assert d is not None and (d.cause, d.confidence) == ("wrong-issuer", "medium")
    assert "3 earlier successful calls" in d.summary
