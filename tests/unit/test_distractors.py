"""Distractor variants must not change the verdict (docs/design.md, "Quality targets": Diagnosis)."""

from __future__ import annotations

import pytest

from apigw_doctor.engine import diagnose_flow
from apigw_doctor.knowledge import Knowledge, make_expectations

from .builders import (
    CLOUDFRONT,
    LAMBDA_DENY_NEW,
    LAMBDA_DENY_OLD,
    MISSING_AUTH_TOKEN,
    MISSING_EQUAL_SIGN_NEW,
    MISSING_EQUAL_SIGN_OLD,
    NOW,
    REST_401,
    REST_EXPIRED,
    flow,
    mint,
)

CASES = [
    ("expired", REST_EXPIRED, {"Authorization": mint(exp=NOW - 10)}, "token-expired"),
    ("route", MISSING_AUTH_TOKEN, {}, "route-not-found"),
    ("sigv4-new", MISSING_EQUAL_SIGN_NEW, {"Authorization": "Bearer " + mint()}, "sigv4-expected"),
    ("sigv4-old", MISSING_EQUAL_SIGN_OLD, {"Authorization": "Bearer " + mint()}, "sigv4-expected"),
    ("deny-old", LAMBDA_DENY_OLD, {"Authorization": "deny"}, "authorizer-denied"),
    ("deny-new", LAMBDA_DENY_NEW, {"Authorization": "deny"}, "authorizer-denied"),
    ("access-on-id-method", REST_401, {"Authorization": mint(use="access")}, "wrong-token-type"),
]


def lower_case(response):
    status, headers, body = response
    return status, {k.lower(): v for k, v in headers.items()}, body


def cause(f, **options):
    d = diagnose_flow(f, Knowledge(make_expectations(**options)))
    return d and d.cause


@pytest.mark.parametrize("name, response, headers, expected", CASES, ids=[c[0] for c in CASES])
def test_http2_lower_case_headers(name, response, headers, expected):
    f = flow(lower_case(response), request_headers={k.lower(): v for k, v in headers.items()})
    f.request.http_version = f.response.http_version = "HTTP/2.0"
    assert cause(f, user_pools=["us-east-1_AbCdEf123"]) == expected


@pytest.mark.parametrize("name, response, headers, expected", CASES, ids=[c[0] for c in CASES])
def test_edge_optimized_cloudfront_headers(name, response, headers, expected):
    f = flow(response, request_headers=headers, response_headers=CLOUDFRONT)
    assert cause(f, user_pools=["us-east-1_AbCdEf123"]) == expected


@pytest.mark.parametrize(
    "body",
    [
        # serverless/examples #446 (wire-reference "Gateway response types")
        b'{"success":false,"message":"Token Expired"}',
        # the AWS docs' own "hint" example (wire-reference "Gateway response types")
        b'{"message":"Unauthorized","hint":"sign in again"}',
        b"<html><body>Unauthorized</body></html>",
    ],
)
def test_customised_401_body_with_intact_error_type_still_uses_the_token(body):
    f = flow(
        (401, {"x-amzn-ErrorType": "UnauthorizedException"}, body),
        request_headers={"Authorization": mint(exp=NOW - 30)},
    )
    assert cause(f) == "token-expired"


def test_customised_missing_auth_token_body_keeps_the_error_type_verdict():
    f = flow((403, {"x-amzn-ErrorType": "MissingAuthenticationTokenException"}, b'{"error":"no such route"}'))
    d = diagnose_flow(f, Knowledge())
    assert d is not None and (d.cause, d.confidence) == ("route-not-found", "medium")


def test_customised_deny_body_keeps_the_error_type_verdict():
    f = flow(
        (403, {"x-amzn-ErrorType": "AccessDeniedException"}, b'{"error":"denied"}'),
        request_headers={"Authorization": "tok"},
    )
    d = diagnose_flow(f, Knowledge())
    assert d is not None and (d.cause, d.confidence) == ("authorizer-denied", "medium")


def test_message_key_case_does_not_matter():
    upper = (401, {"x-amzn-ErrorType": "UnauthorizedException"}, b'{"Message":"The incoming token has expired"}')
    assert cause(flow(upper, request_headers={"Authorization": mint(exp=NOW - 10)})) == "token-expired"


def test_china_region_host():
    f = flow(MISSING_AUTH_TOKEN, host="abc123defg.execute-api.cn-northwest-1.amazonaws.com.cn")
    d = diagnose_flow(f, Knowledge())
    assert d is not None and d.cause == "route-not-found" and d.target.region == "cn-northwest-1"


def test_vpce_alias_host_names_the_api():
    f = flow(MISSING_AUTH_TOKEN, host="abc123defg-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com")
    d = diagnose_flow(f, Knowledge())
    assert d is not None and d.target.api_id == "abc123defg" and d.target.stage == "prod"
