"""One test per cause code, from wire-accurate responses (docs/wire-reference.md)."""

from __future__ import annotations

import json

import pytest

from apigw_doctor.engine import diagnose_flow
from apigw_doctor.knowledge import Knowledge, make_expectations
from apigw_doctor.render import render_text

from .builders import (
    AUTHORIZER_CONFIG_ERROR,
    CLIENT,
    FORBIDDEN,
    FUNCTION_URL_FORBIDDEN,
    HTTP_401,
    HTTP_401_AUDIENCE,
    HTTP_404,
    HTTP_HOST,
    IAM_DENIED_NEW,
    IAM_DENIED_OLD,
    ISSUER,
    LAMBDA_DENY_NEW,
    LAMBDA_DENY_OLD,
    LAMBDA_IMPLICIT_DENY,
    MISSING_AUTH_TOKEN,
    MISSING_EQUAL_SIGN_NEW,
    MISSING_EQUAL_SIGN_OLD,
    NOW,
    REQUIRES_CREDENTIAL,
    RESOURCE_POLICY_ANON,
    REST_401,
    REST_EXPIRED,
    SECURITY_TOKEN_INVALID,
    SIGNATURE_EXPIRED,
    SIGNATURE_MISMATCH,
    flow,
    mint,
)

SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261126/us-east-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
)


def verdict(f, **options):
    d = diagnose_flow(f, Knowledge(make_expectations(**options)))
    assert d is not None, "expected a verdict"
    return d


def auth(value: str) -> dict:
    return {"Authorization": value}


# -- credential group ---------------------------------------------------------------------------------------------


def test_missing_credential():
    d = verdict(flow(REST_401))
    assert (d.cause, d.confidence) == ("missing-credential", "high")
    assert any(c["id"] == "credential.present" and c["result"] == "fail" for c in d.as_metadata()["checks"])


@pytest.mark.parametrize(
    "where",
    [
        {"request_headers": {"X-Id-Token": mint()}},
        {"path": "/prod/items?access_token=" + mint(use="access")},
        {"request_headers": {"Cookie": "session=abc; idToken=" + mint()}},
    ],
    ids=["other-header", "query", "cookie"],
)
def test_wrong_header(where):
    d = verdict(flow(REST_401, **where))
    assert (d.cause, d.confidence) == ("wrong-header", "high")


def test_identity_source_mismatch_when_the_authorizer_reads_another_header():
    # The token is where clients send it; apigw_identity_header says the authorizer reads X-Auth (issue 8).
    d = verdict(flow(REST_401, request_headers=auth(mint())), identity_header="X-Auth")
    assert (d.cause, d.confidence) == ("identity-source-mismatch", "medium")  # the option is the user's belief
    assert "header:Authorization" in d.summary and "option apigw_identity_header" in d.summary
    # A token in a cookie is still the client's mistake, whatever header the authorizer reads.
    cookie = verdict(flow(REST_401, request_headers={"Cookie": "idToken=" + mint()}), identity_header="X-Auth")
    assert cookie.cause == "wrong-header"


@pytest.mark.parametrize(
    "value, damage",
    [
        ("Bearer Bearer {t}", "double-scheme"),
        ("Bearer: {t}", "scheme-colon"),
        ('Bearer "{t}"', "quoted"),
        ("Bearer {head} {rest}", "inner-whitespace"),
        ("{t}\n", "line-break"),
    ],
)
def test_malformed_header(value, damage):
    t = mint()
    head, rest = t[:20], t[20:]
    d = verdict(flow(REST_401, request_headers=auth(value.format(t=t, head=head, rest=rest))))
    assert (d.cause, d.confidence) == ("malformed-header", "high")
    assert damage in d.summary


@pytest.mark.parametrize(
    "value", ["undefined", "Bearer null", "Bearer [object Object]", "${token}", "{{idToken}}", "Bearer "]
)
def test_placeholder_token(value):
    d = verdict(flow(REST_401, request_headers=auth(value)))
    assert (d.cause, d.confidence) == ("placeholder-token", "high")


@pytest.mark.parametrize(
    "broken, what",
    [
        (lambda t: t.rsplit(".", 1)[0], "segments"),  # signature cut off
        (lambda t: t[: len(t) // 3], "segments"),  # truncated inside the payload
        (lambda t: t.replace(".", ".!", 1), "base64url"),
        (lambda t: "eyJub3QganNvbg." + t.split(".", 1)[1], "JSON"),
    ],
)
def test_not_a_jwt(broken, what):
    d = verdict(flow(REST_401, request_headers=auth(broken(mint()))))
    assert (d.cause, d.confidence) == ("not-a-jwt", "high")
    assert what.lower() in d.summary.lower()


def test_refresh_token_sent():
    jwe = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.aaaa.bbbb.cccc.dddd"  # Cognito shape
    d = verdict(flow(REST_401, request_headers=auth(jwe)))
    assert (d.cause, d.confidence) == ("refresh-token-sent", "high")


# -- token group --------------------------------------------------------------------------------------------------


def test_token_expired_from_the_gateway_text_and_its_clock():
    t = mint(exp=NOW - 192)
    d = verdict(flow(REST_EXPIRED, request_headers=auth(t), sent_at=NOW + 4))
    assert (d.cause, d.confidence) == ("token-expired", "high")
    assert "3 min 12 s before the request by the gateway's clock" in d.summary
    assert "your clock is 4 s ahead" in d.summary


def test_token_expired_on_a_plain_401_is_found_by_the_check_chain():
    d = verdict(flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=auth(mint(exp=NOW - 5))))
    assert (d.cause, d.confidence) == ("token-expired", "high")


def test_token_expired_without_a_date_header_is_less_certain():
    d = verdict(flow(REST_401, request_headers=auth(mint(exp=NOW - 60)), date=None))
    assert (d.cause, d.confidence) == ("token-expired", "medium")


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_token_not_yet_valid(claim):
    d = verdict(flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=auth(mint(**{claim: NOW + 120}))))
    assert (d.cause, d.confidence) == ("token-not-yet-valid", "high")


@pytest.mark.parametrize(
    "iss, note",
    [
        ("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other9999", "another user pool"),
        ("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123", "region eu-west-1"),
        (ISSUER + "/", "trailing slash"),
        ("https://dev-123.us.auth0.com/", "not a Cognito"),
    ],
)
def test_wrong_issuer_against_the_configured_pool(iss, note):
    d = verdict(flow(REST_401, request_headers=auth(mint(iss=iss))), user_pools=["us-east-1_AbCdEf123"])
    assert (d.cause, d.confidence) == ("wrong-issuer", "high")
    assert note in d.summary


def test_wrong_issuer_without_options_for_a_non_cognito_token_on_a_cognito_authorizer():
    d = verdict(flow(REST_401, request_headers=auth(mint(iss="https://login.example.com/"))))
    assert (d.cause, d.confidence) == ("wrong-issuer", "medium")


def test_wrong_token_type_access_token_on_method_without_scopes():
    d = verdict(flow(REST_401, request_headers=auth(mint(use="access"))), user_pools=["us-east-1_AbCdEf123"])
    assert (d.cause, d.confidence) == ("wrong-token-type", "high")


def test_wrong_token_type_id_token_on_method_with_scopes_is_not_called_missing_scope():
    d = verdict(flow(REST_401, request_headers=auth(mint(use="id"))), scopes=["orders/read"])
    assert (d.cause, d.confidence) == ("wrong-token-type", "high")
    assert "expected access" in d.summary


def test_wrong_token_type_inferred_without_options():
    """An InitiateAuth access token (only the admin scope) on a REST Cognito method: the common mix-up."""
    d = verdict(flow(REST_401, request_headers=auth("Bearer " + mint(use="access"))))
    assert (d.cause, d.confidence) == ("wrong-token-type", "medium")


def test_missing_scope_says_initiate_auth_cannot_carry_custom_scopes():
    d = verdict(flow(REST_401, request_headers=auth(mint(use="access"))), scopes=["orders/read"])
    assert (d.cause, d.confidence) == ("missing-scope", "high")
    assert "InitiateAuth" in d.summary


def test_missing_scope_with_other_custom_scopes():
    t = mint(use="access", scope="orders/write profile")
    d = verdict(flow(REST_401, request_headers=auth(t)), scopes=["orders/read", "orders/admin"])
    assert d.cause == "missing-scope"
    assert "InitiateAuth" not in d.summary


def test_wrong_audience_from_www_authenticate_without_options():
    d = verdict(flow(HTTP_401_AUDIENCE, host=HTTP_HOST, path="/items", request_headers=auth(mint(aud="other"))))
    assert (d.cause, d.confidence) == ("wrong-audience", "high")
    assert any("valid audience" in line for line in d.evidence)


def test_wrong_audience_http_api_uses_client_id_when_there_is_no_aud():
    d = verdict(
        flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=auth(mint(use="access", client_id="other"))),
        audiences=[CLIENT],
    )
    assert (d.cause, d.confidence) == ("wrong-audience", "high")
    assert "client_id=other" in d.summary


def test_unsupported_algorithm():
    d = verdict(flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=auth(mint(alg="HS256"))))
    assert (d.cause, d.confidence) == ("unsupported-algorithm", "high")


def test_unknown_key_when_kid_is_missing():
    import jwt as pyjwt

    t = mint()
    _, payload, sig = t.split(".")
    no_kid = pyjwt.utils.base64url_encode(b'{"alg":"RS256","typ":"JWT"}').decode()
    d = verdict(flow(REST_401, request_headers=auth(f"{no_kid}.{payload}.{sig}")))
    assert (d.cause, d.confidence) == ("unknown-key", "high")


# -- not the token ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "response, headers, host, path, cause, confidence",
    [
        # byte-identical for an undeployed stage (and, unsigned, an IAM method): medium, with the alternatives
        (MISSING_AUTH_TOKEN, {}, None, "/prod/itemz", "route-not-found", "medium"),
        (HTTP_404, {}, HTTP_HOST, "/nope", "route-not-found", "medium"),
        (MISSING_EQUAL_SIGN_NEW, auth("Bearer x.y.z"), None, "/prod/nope", "sigv4-expected", "medium"),
        (MISSING_EQUAL_SIGN_OLD, auth("Bearer x.y.z"), None, "/prod/nope", "sigv4-expected", "medium"),
        (REQUIRES_CREDENTIAL, auth("allow"), None, "/prod/nope", "sigv4-expected", "medium"),
        (SIGNATURE_MISMATCH, auth(SIGV4), None, "/prod/iam", "sigv4-signature-mismatch", "high"),
        (SIGNATURE_EXPIRED, auth(SIGV4), None, "/prod/iam", "sigv4-clock-skew", "high"),
        (SECURITY_TOKEN_INVALID, auth(SIGV4), None, "/prod/iam", "sigv4-bad-credentials", "high"),
        (IAM_DENIED_NEW, auth(SIGV4), None, "/prod/iam", "iam-denied", "high"),
        (IAM_DENIED_OLD, auth(SIGV4), None, "/prod/iam", "iam-denied", "high"),
        (RESOURCE_POLICY_ANON, {}, None, "/prod/items", "resource-policy-denied", "high"),
        (LAMBDA_DENY_OLD, auth("deny"), None, "/prod/items", "authorizer-denied", "high"),
        (LAMBDA_DENY_NEW, auth("deny"), None, "/prod/items", "authorizer-denied", "high"),
        (LAMBDA_IMPLICIT_DENY, auth("tok"), None, "/prod/orders", "authorizer-denied", "high"),
        (AUTHORIZER_CONFIG_ERROR, auth("boom"), None, "/prod/items", "authorizer-error", "high"),
        (FORBIDDEN, {}, None, "/prod/keyed", "gateway-forbidden", "medium"),  # no key sent: not api-key first
        (FORBIDDEN, {"x-api-key": "abcd1234efgh5678"}, None, "/prod/keyed", "api-key-rejected", "medium"),
    ],
)
def test_not_the_token(response, headers, host, path, cause, confidence):
    d = verdict(
        flow(
            response, host=host or "abc123defg.execute-api.us-east-1.amazonaws.com", path=path, request_headers=headers
        )
    )
    assert (d.cause, d.confidence) == (cause, confidence)


def test_lambda_authorizer_rejected_token_that_passes_client_checks():
    d = verdict(flow(REST_401, request_headers=auth(mint())), authorizer="lambda")
    assert (d.cause, d.confidence) == ("authorizer-rejected", "medium")


def test_authorizer_rejected_is_low_confidence_without_options():
    d = verdict(flow(REST_401, request_headers=auth(mint())))
    assert (d.cause, d.confidence) == ("authorizer-rejected", "low")


def test_gateway_forbidden_private_api_without_api_id():
    host = "vpce-01234567abcdef012-01234567.execute-api.us-west-2.vpce.amazonaws.com"
    d = verdict(flow(FORBIDDEN, host=host, path="/prod/items"))
    assert (d.cause, d.confidence) == ("gateway-forbidden", "high")


def test_waf_error_type_is_waf_blocked():
    d = verdict(flow((403, {"x-amzn-ErrorType": "WafFilteredException"}, b'{"message":"Forbidden"}')))
    assert (d.cause, d.confidence) == ("waf-blocked", "high")


@pytest.mark.parametrize("host", [None, HTTP_HOST])
def test_cors_preflight_blocked(host):
    headers = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}
    response = HTTP_401 if host else MISSING_AUTH_TOKEN
    d = verdict(
        flow(
            response,
            host=host or "abc123defg.execute-api.us-east-1.amazonaws.com",
            method="OPTIONS",
            request_headers=headers,
        )
    )
    assert (d.cause, d.confidence) == ("cors-preflight-blocked", "high")


def test_function_url_unsigned():
    host = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
    d = verdict(flow(FUNCTION_URL_FORBIDDEN, host=host, path="/", rest_ids=False))
    assert (d.cause, d.target.surface) == ("missing-credential", "lambda-url")
    assert "not SigV4-signed" in d.summary


def test_unexplained_403_with_an_unknown_body():
    d = verdict(flow((403, {}, b'{"error":"nope"}'), rest_ids=False))
    assert (d.cause, d.confidence) == ("unexplained", "low")


def test_success_has_no_verdict():
    f = flow((200, {}, b'{"items":[]}'), request_headers=auth(mint()))
    assert diagnose_flow(f, Knowledge()) is None


def test_unwatched_host_is_ignored_even_on_401():
    assert diagnose_flow(flow(REST_401, host="api.example.com"), Knowledge()) is None
    d = verdict(flow(REST_401, host="api.example.com"), hosts=["*.example.com"])
    assert d.target.surface == "custom"


def test_sigv4_clock_skew_is_measured_against_the_gateway_clock():
    headers = {"Authorization": SIGV4, "X-Amz-Date": "20260921T140000Z"}  # 13 min 20 s before the Date header
    d = verdict(flow(SIGNATURE_EXPIRED, path="/prod/iam", request_headers=headers))
    assert d.cause == "sigv4-clock-skew"
    assert any("13 min 20 s behind" in line for line in d.evidence)


def test_sigv4_scope_for_another_region_is_reported():
    headers = {"Authorization": SIGV4.replace("us-east-1", "eu-west-1"), "X-Amz-Date": "20260921T141300Z"}
    d = verdict(flow(SIGNATURE_MISMATCH, path="/prod/iam", request_headers=headers))
    assert d.cause == "sigv4-signature-mismatch"
    assert any(
        "sigv4.scope fail: expected us-east-1/execute-api, actual eu-west-1/execute-api" in line for line in d.evidence
    )


# -- signatures, with the pool's JWKS (apigw_jwks) -----------------------------------------------------------------


@pytest.fixture
def jwks_file(tmp_path):
    from .builders import public_jwks

    path = tmp_path / "jwks.json"
    path.write_text(public_jwks())
    return path


def with_keys(f, spec):
    from apigw_doctor.keys import load_keystore

    d = diagnose_flow(f, Knowledge(make_expectations(), load_keystore([spec])))
    assert d is not None
    return d


def test_bad_signature(jwks_file):
    token = mint()
    head, payload, _ = token.split(".")
    forged = f"{head}.{payload}.{mint(sub='someone-else').rsplit('.', 1)[1]}"
    d = with_keys(flow(REST_401, request_headers=auth(forged)), str(jwks_file))
    assert (d.cause, d.confidence) == ("bad-signature", "high")
    genuine = with_keys(flow(REST_401, request_headers=auth(token)), str(jwks_file))
    signature = next(c for c in genuine.as_metadata()["checks"] if c["id"] == "token.signature")
    assert signature["result"] == "pass"


def test_unknown_key_names_the_pool_that_has_it(jwks_file):
    other = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Staging01"
    token = mint(iss=ISSUER)
    d = with_keys(flow(REST_401, request_headers=auth(token)), f"us-east-1_Staging01={jwks_file}")
    assert (d.cause, d.confidence) == ("unknown-key", "high")
    assert other in d.summary


def test_hs256_token_with_rsa_keys_is_an_algorithm_problem_not_a_crash(jwks_file):
    d = with_keys(
        flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=auth(mint(alg="HS256"))), str(jwks_file)
    )
    assert d.cause == "unsupported-algorithm"


def test_unknown_kid_learned_from_successful_tokens():
    knowledge = Knowledge()
    from apigw_doctor.engine import learn_from_flow

    learn_from_flow(flow((200, {}, b"{}"), request_headers=auth(mint())), knowledge)
    d = diagnose_flow(flow(REST_401, request_headers=auth(mint(headers={"kid": "rotated-or-forged"}))), knowledge)
    assert d is not None and (d.cause, d.confidence) == ("unknown-key", "low")


def test_missing_authentication_token_on_a_route_that_answered_signed_calls_before():
    knowledge = Knowledge()
    from apigw_doctor.engine import learn_from_flow

    learn_from_flow(flow((200, {}, b"{}"), path="/prod/iam/items", request_headers=auth(SIGV4)), knowledge)
    d = diagnose_flow(flow(MISSING_AUTH_TOKEN, path="/prod/iam/items"), knowledge)
    assert d is not None and (d.cause, d.confidence) == ("missing-credential", "medium")
    assert any("1 earlier call to GET /prod/iam/items succeeded (credential: sigv4)" in line for line in d.evidence)


def test_scopes_learned_from_successful_calls_to_the_same_method():
    knowledge = Knowledge()
    from apigw_doctor.engine import learn_from_flow

    learn_from_flow(
        flow(
            (200, {}, b"{}"), path="/prod/orders", request_headers=auth(mint(use="access", scope="openid orders/read"))
        ),
        knowledge,
    )
    d = diagnose_flow(flow(REST_401, path="/prod/orders", request_headers=auth(mint(use="access"))), knowledge)
    assert d is not None and (d.cause, d.confidence) == ("missing-scope", "medium")
    d = diagnose_flow(flow(REST_401, path="/prod/orders", request_headers=auth(mint(use="id"))), knowledge)
    assert d is not None and (d.cause, d.confidence) == ("wrong-token-type", "medium")


def test_http_api_403_with_a_valid_looking_token_points_at_route_scopes():
    forbidden = (403, {}, b'{"message":"Forbidden"}')
    d = verdict(flow(forbidden, host=HTTP_HOST, path="/admin", request_headers=auth(mint(use="access"))))
    assert (d.cause, d.confidence) == ("missing-scope", "low")


def test_sanitized_export_does_not_claim_a_missing_credential():
    d = diagnose_flow(flow(REST_401), Knowledge(), credentials_stripped=True)
    assert d is not None and (d.cause, d.confidence) == ("unexplained", "low")
    assert "sanitized" in d.summary
    d = diagnose_flow(flow(MISSING_AUTH_TOKEN, path="/prod/nope"), Knowledge(), credentials_stripped=True)
    assert d is not None and d.cause == "route-not-found"  # the gateway's own words still decide


@pytest.mark.parametrize("response", [REQUIRES_CREDENTIAL, MISSING_EQUAL_SIGN_OLD], ids=["credential", "equal-sign"])
def test_a_token_the_gateway_echoes_never_reaches_the_verdict(response):
    token = mint()
    status, headers, body = response
    echoed = body.replace(b"allow", token.encode()).replace(b"eyJraWQ", token.encode())
    d = verdict(flow((status, headers, echoed), path="/prod/nope", request_headers=auth(token)))
    assert d.cause == "sigv4-expected"
    text = json.dumps(d.as_metadata()) + render_text(d)
    assert token.rsplit(".", 1)[1] not in text
    assert "<credential " in text  # the echo is still visible as evidence, by fingerprint
