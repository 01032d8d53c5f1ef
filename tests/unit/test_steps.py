"""The pure pipeline steps on their own: Target, Credential, Token, Reply, and the catalogue."""

from __future__ import annotations

import pytest
from mitmproxy import http

from apigw_doctor.causes import CATALOGUE, WARNINGS
from apigw_doctor.credential import find_credential
from apigw_doctor.reply import parse_www_authenticate, read_reply
from apigw_doctor.target import HostMatcher, resolve_target
from apigw_doctor.tokens import decode_token
from tests.design_contract import DESIGN_CAUSES, DESIGN_WARNINGS

from .builders import mint


def test_catalogue_has_every_design_code_with_title_explanation_and_fix():
    assert sorted(CATALOGUE) == sorted(DESIGN_CAUSES)
    for cause in CATALOGUE.values():
        assert cause.title and cause.explanation and cause.fix, cause.code
    assert sorted(WARNINGS) == sorted(DESIGN_WARNINGS)


@pytest.mark.parametrize(
    "host, surface, api_id, region",
    [
        ("abc123defg.execute-api.us-east-1.amazonaws.com", "rest", "abc123defg", "us-east-1"),
        ("abc123defg.execute-api.cn-north-1.amazonaws.com.cn", "rest", "abc123defg", "cn-north-1"),
        ("abc123defg-vpce-0123456789abcdef0.execute-api.us-west-2.amazonaws.com", "rest", "abc123defg", "us-west-2"),
        ("vpce-01234567abcdef012-01234567.execute-api.us-west-2.vpce.amazonaws.com", "rest", None, "us-west-2"),
        (
            "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws",
            "lambda-url",
            "abcdefghijklmnopqrstuvwxyz012345",
            "eu-west-1",
        ),
        ("myapp.auth.us-east-1.amazoncognito.com", "cognito-oauth", None, "us-east-1"),
        ("cognito-idp.ap-southeast-2.amazonaws.com", "cognito-idp", None, "ap-southeast-2"),
        ("ABC123DEFG.Execute-Api.US-EAST-1.amazonaws.com.", "rest", "abc123defg", "us-east-1"),
    ],
)
def test_aws_host_forms(host, surface, api_id, region):
    found = HostMatcher().match(host)
    assert found is not None
    assert (found.surface, found.api_id, found.region) == (surface, api_id, region)


def test_unrelated_hosts_are_not_watched_and_custom_domains_are():
    matcher = HostMatcher(["api.example.com", "*.internal.example.org"])
    assert matcher.match("example.com") is None
    assert matcher.match("execute-api.example.com") is None
    assert matcher.match("api.example.com").surface == "custom"
    assert matcher.match("a.b.internal.example.org").surface == "custom"
    assert matcher.match("internal.example.org") is None


def test_target_distinguishes_rest_http_websocket_and_the_vpce_api_id_header():
    matcher = HostMatcher()
    host = "abc123defg.execute-api.us-east-1.amazonaws.com"
    rest = resolve_target(matcher.match(host), host, "/prod/items?x=1", {}, {"x-amzn-requestid": "1"})
    assert (rest.surface, rest.stage, rest.path) == ("rest", "prod", "/prod/items")
    v2 = resolve_target(matcher.match(host), host, "/items", {}, {"apigw-requestid": "1"})
    assert (v2.surface, v2.stage) == ("http", None)
    ws = resolve_target(matcher.match(host), host, "/prod", {"upgrade": "websocket"}, {})
    assert (ws.surface, ws.stage) == ("websocket", "prod")
    vpce = "vpce-01234567abcdef012-01234567.execute-api.us-west-2.vpce.amazonaws.com"
    private = resolve_target(matcher.match(vpce), vpce, "/prod/x", {"x-apigw-api-id": "abc123defg"}, {})
    assert (private.api_id, private.vpce) == ("abc123defg", True)


def test_cognito_custom_domain_oauth_paths():
    matcher = HostMatcher(["auth.example.com"])
    t = resolve_target(matcher.match("auth.example.com"), "auth.example.com", "/oauth2/token", {}, {})
    assert t.surface == "cognito-oauth"


@pytest.mark.parametrize(
    "raw, kind, damage",
    [
        ("Bearer {t}", "jwt", ()),
        ("{t}", "jwt", ()),
        (" {t}", "jwt", ("leading-whitespace",)),
        ("{t}\r\n", "jwt", ("line-break", "trailing-whitespace")),
        ("bearer {t}", "jwt", ("scheme-case",)),
        ("Bearer Bearer {t}", "jwt", ("double-scheme",)),
        ("Bearer:{t}", "jwt", ("scheme-colon",)),
        ("Bearer: {t}", "jwt", ("scheme-colon",)),
        ("Bearer '{t}'", "jwt", ("quoted",)),
        ("Basic dXNlcjpwYXNz", "basic", ()),
        ("Bearer a.b.c.d.e", "jwe", ()),
        ("Bearer 3f1c9a5e-8a2b-4c1d-9e7f-0123456789ab", "opaque", ()),
        ("Bearer undefined", "placeholder", ()),
        ("Bearer ${{TOKEN}}", "placeholder", ()),
    ],
)
def test_credential_shapes_and_damage(raw, kind, damage):
    c = find_credential({"authorization": raw.format(t=mint())}, (), ())
    assert (c.kind, c.damage) == (kind, damage)
    assert c.in_identity_header and c.location == "header:Authorization"


def test_cleaned_token_decodes_despite_damage():
    token = mint()
    c = find_credential({"authorization": f'Bearer "{token[:30]} {token[30:]}"'}, (), ())
    assert c.token == token
    assert c.damage == ("quoted", "inner-whitespace")


def test_sigv4_header_parts_are_read_but_the_signature_is_not_kept():
    raw = (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261126/us-east-1/execute-api/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=deadbeef"
    )
    c = find_credential({"authorization": raw, "x-amz-date": "20261126T120000Z"}, (), ())
    assert c.kind == "sigv4" and c.sigv4 is not None
    assert (c.sigv4.region, c.sigv4.service, c.sigv4.signed_headers) == (
        "us-east-1",
        "execute-api",
        ("host", "x-amz-date"),
    )
    assert "deadbeef" not in repr(c.sigv4)


def test_presigned_query_and_api_key_only():
    c = find_credential(
        {}, [("X-Amz-Signature", "abc"), ("X-Amz-Credential", "AKID/20261126/us-east-1/execute-api/x")], ()
    )
    assert c.kind == "sigv4" and c.sigv4.region == "us-east-1"
    c = find_credential({"x-api-key": "abcd1234"}, (), ())
    assert (c.kind, c.api_key_sent) == ("api-key", True)


def test_token_decoding_reports_which_part_is_broken():
    token = mint()
    head, payload, sig = token.split(".")
    assert decode_token(token).problems == ()
    assert "payload segment" in decode_token(f"{head}.{payload[:-7]}x.{sig}").problems[0]
    assert "empty" in decode_token(f"{head}.{payload}.").problems[0]
    assert "3" in decode_token(f"{head}.{payload}").problems[0]
    jwe = decode_token("eyJlbmMiOiJBMjU2R0NNIn0.a.b.c.d")
    assert jwe.encrypted and jwe.header == {"enc": "A256GCM"}
    assert (
        decode_token(token).fingerprint
        == decode_token(token).fingerprint
        != decode_token(mint(sub="other")).fingerprint
    )


def test_reply_reads_cognito_trailing_colon_and_case_insensitive_message():
    headers = http.Headers(**{"x-amzn-errortype": "NotAuthorizedException:", "x-amzn-requestid": "r-1"})
    r = read_reply(400, headers, b'{"__type":"NotAuthorizedException","message":"Incorrect username or password."}')
    assert (r.error_type, r.cognito_type, r.message) == (
        "NotAuthorizedException",
        "NotAuthorizedException",
        "Incorrect username or password.",
    )
    assert r.request_ids == {"x-amzn-requestid": "r-1"}
    r = read_reply(403, http.Headers(), b'{"Message":"User is not authorized to access this resource"}')
    assert r.message == "User is not authorized to access this resource"
    r = read_reply(500, http.Headers(), b'{"message":null}')
    assert (r.message, r.has_message_key) == (None, True)


def test_reply_date_and_cloudfront():
    headers = http.Headers(date="Mon, 21 Sep 2026 14:13:20 GMT", via="1.1 abc.cloudfront.net (CloudFront)")
    r = read_reply(401, headers, b"")
    assert r.date == 1_790_000_000 and r.cloudfront and r.body_empty


def test_www_authenticate_parameters_space_and_comma_separated():
    assert parse_www_authenticate(
        'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"'
    ) == {
        "": "Bearer",
        "scope": "",
        "error": "invalid_token",
        "error_description": "the token does not have a valid audience",
    }
    assert (
        parse_www_authenticate('error="invalid_request", error_description="Bad OAuth2 request at UserInfo Endpoint"')[
            "error"
        ]
        == "invalid_request"
    )
