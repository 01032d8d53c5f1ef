"""AWS hints: log groups, Logs Insights query, access-log formats and CLI commands with the ids filled in."""

from __future__ import annotations

import json

from apigw_doctor.evidence.aws_hints import (
    HTTP_ACCESS_LOG_FORMAT,
    REST_ACCESS_LOG_FORMAT,
    aws_hints,
    request_ids_from_headers,
)
from tests.evidence.evidence_helpers import CLIENT, POOL, access_claims, id_claims, metadata

REST_IDS = {"x-amzn-RequestId": "0b6c4d2e-8f5b", "x-amz-apigw-id": "W_AP1ZWIiYdDlQw="}


def commands(hints) -> str:
    return "\n".join(c.command for c in hints.commands)


def test_rest_hints():
    h = aws_hints(metadata(claims=access_claims()), REST_IDS, request_time=1_790_000_000, method="GET")
    assert h.log_groups[0] == "API-Gateway-Execution-Logs_abc123defg/prod"
    assert any("access log group" in g for g in h.log_groups)
    assert '@message like "0b6c4d2e-8f5b"' in h.insights_query and '"W_AP1ZWIiYdDlQw="' in h.insights_query
    text = commands(h)
    assert "aws apigateway get-authorizers --rest-api-id abc123defg --region eu-west-1" in text
    assert (
        f"aws cognito-idp describe-user-pool-client --user-pool-id {POOL} --client-id {CLIENT} --region eu-west-1"
        in (text)
    )
    assert "--http-method GET" in text
    assert "--start-time 1789999700 --end-time 1790000300" in text  # logs start-query: seconds
    assert "--start-time 1789999700000" in text  # filter-log-events: milliseconds
    assert h.user_pool_id == POOL and h.client_id == CLIENT


def test_rest_access_log_format_records_the_authorizer_errors():
    fmt = aws_hints(metadata(), REST_IDS).access_log_format
    assert fmt == REST_ACCESS_LOG_FORMAT
    values = set(fmt.values())
    for var in (
        "$context.requestId",
        "$context.extendedRequestId",
        "$context.authorizer.error",
        "$context.authorize.error",
        "$context.authenticate.error",
        "$context.error.responseType",
        "$context.error.message",
        "$context.identity.sourceIp",
        "$context.status",
    ):
        assert var in values


def test_http_api_hints():
    meta = metadata(surface="http", stage=None, claims=id_claims())
    h = aws_hints(meta, {"apigw-requestid": "Q1w2E3r4T5y6Aa="})
    assert h.access_log_format == HTTP_ACCESS_LOG_FORMAT
    assert "$context.authorize.error" not in h.access_log_format.values()  # REST-only variables
    assert "$context.authorizer.error" in h.access_log_format.values()
    assert not any(g.startswith("API-Gateway-Execution-Logs") for g in h.log_groups)
    text = commands(h)
    assert "aws apigatewayv2 get-authorizers --api-id abc123defg --region eu-west-1" in text
    assert "--stage-name '$default'" in text
    assert f"--client-id {CLIENT}" in text  # from aud of the ID token


def test_pool_region_comes_from_the_issuer_not_the_api():
    claims = {**access_claims(), "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Zz9"}
    h = aws_hints(metadata(claims=claims), REST_IDS)
    assert "--user-pool-id us-east-1_Zz9 --client-id" in commands(h)
    assert "--user-pool-id us-east-1_Zz9 --client-id 1example23456789abcdefghij --region us-east-1" in commands(h)


def test_cognito_sign_in_without_token_uses_the_client_id_given():
    meta = metadata(cause="cognito-secret-hash", surface="cognito-idp", api_id=None, stage=None)
    h = aws_hints(meta, {"x-amzn-RequestId": "1c2d"}, client_id=CLIENT, request_time=1_790_000_000)
    text = commands(h)
    assert f"--user-pool-id <user-pool-id> --client-id {CLIENT}" in text
    assert "aws cloudtrail lookup-events" in text and "2026-09-21T14:08:20Z" in text
    assert "aws logs" not in text


def test_unknown_ids_become_placeholders_and_odd_values_are_quoted():
    h = aws_hints({"cause": "route-not-found", "target": {"surface": "rest", "stage": "dev; rm -rf /"}}, {})
    text = commands(h)
    assert "--rest-api-id <api-id> --region <region>" in text
    assert "--stage-name 'dev; rm -rf /'" in text
    assert h.insights_query is None


def test_scope_and_key_causes_add_their_commands():
    text = commands(aws_hints(metadata(cause="missing-scope", claims=access_claims()), REST_IDS))
    assert "list-resource-servers" in text
    text = commands(aws_hints(metadata(cause="unknown-key", claims=access_claims()), REST_IDS))
    assert f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL}/.well-known/jwks.json" in text


def test_request_ids_from_headers_case_insensitive_and_ordered():
    ids = request_ids_from_headers({"X-Amz-Cf-Id": "cf", "x-amzn-RequestId": "r1", "Date": "x", "Apigw-Requestid": "a"})
    assert list(ids) == ["x-amzn-requestid", "apigw-requestid", "x-amz-cf-id"]


def test_as_dict_is_json_safe():
    json.dumps(aws_hints(metadata(claims=access_claims()), REST_IDS).as_dict())
