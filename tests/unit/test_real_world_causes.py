"""Causes real users hit (issue 7 §4): each from wire-accurate answers, with distractors that must not move them.

Every answer below is the one quoted in the public thread cited next to its text in `apigw_doctor/wire.py`.
"""

from __future__ import annotations

import json

import pytest

from apigw_doctor.engine import diagnose_flow, observe_flow
from apigw_doctor.knowledge import Knowledge, make_expectations

from .builders import (
    CLOUDFRONT,
    FORBIDDEN,
    HTTP_401_AUDIENCE,
    HTTP_HOST,
    NOW,
    REST_401,
    flow,
    mint,
)
from .test_cognito_causes import DOMAIN, IDP, idp, oauth


def verdict(f, knowledge: Knowledge | None = None, **options):
    d = diagnose_flow(f, knowledge or Knowledge(make_expectations(**options)))
    assert d is not None
    return d


def alternatives(d) -> dict[str, str]:
    """The verdict's named alternatives: cause -> confidence."""
    return {a.cause: a.confidence for a in d.alternatives}


def bearer(token: str | None = None) -> dict[str, str]:
    return {"Authorization": "Bearer " + (token or mint())}


# --- backend-rejected (github.com/quarkusio/quarkus/issues/28544) ---------------------------------------------------

QUARKUS_401 = (401, {"www-authenticate": "Bearer"}, b"")  # apigw-requestid, bare challenge, empty body


@pytest.mark.parametrize("options", [{}, {"authorizer": "jwt"}, {"user_pools": ["us-east-1_AbCdEf123"]}])
def test_http_api_backend_401_with_a_bare_bearer_challenge(options):
    d = verdict(flow(QUARKUS_401, host=HTTP_HOST, path="/items", request_headers=bearer()), **options)
    assert (d.cause, d.confidence) == ("backend-rejected", "high")
    assert "bare `www-authenticate: Bearer`" in d.summary


def test_http_api_gateway_401_is_not_the_backend():
    # The JWT authorizer's own answer: JSON body and error= parameters (distractor with the same status).
    d = verdict(flow(HTTP_401_AUDIENCE, host=HTTP_HOST, path="/items", request_headers=bearer()))
    assert d.cause == "wrong-audience"


@pytest.mark.parametrize(
    "body", [b'{"detail":"Not authenticated"}', b"Unauthorized", b'{"message":"token invalid","code":401}']
)
def test_http_api_403_or_401_with_a_body_the_gateway_never_sends(body):
    for status in (401, 403):
        d = verdict(flow((status, {}, body), host=HTTP_HOST, path="/items", request_headers=bearer()))
        assert (d.cause, d.confidence) == ("backend-rejected", "high"), (status, body)


def test_http_api_empty_401_without_a_challenge_is_only_medium():
    d = verdict(flow((401, {}, b""), host=HTTP_HOST, path="/items", request_headers=bearer()))
    assert (d.cause, d.confidence) == ("backend-rejected", "medium")


def test_backend_verdict_holds_after_successful_calls_on_the_route():
    knowledge = Knowledge()
    ok = flow((200, {}, b'{"items":[]}'), host=HTTP_HOST, path="/items", request_headers=bearer())
    observe_flow(ok, knowledge)
    d = verdict(flow(QUARKUS_401, host=HTTP_HOST, path="/items", request_headers=bearer()), knowledge)
    assert (d.cause, d.confidence) == ("backend-rejected", "high")


def test_rest_backend_answer_without_an_error_type_when_the_token_passes():
    d = verdict(flow((403, {}, b'{"error":"insufficient role"}'), request_headers=bearer()))
    assert (d.cause, d.confidence) == ("backend-rejected", "medium")
    assert "customised gateway response" in d.summary


def test_rest_body_without_error_type_but_an_expired_token_leads_with_the_token():
    # A customised gateway response that dropped the header reads the same; the failing check decides then.
    d = verdict(flow((401, {}, b'{"success":false}'), request_headers=bearer(mint(exp=NOW - 60))))
    assert d.cause == "token-expired"
    assert d.confidence in ("medium", "low")


def test_rest_customised_body_with_its_error_type_is_not_the_backend():
    f = flow((401, {"x-amzn-ErrorType": "UnauthorizedException"}, b'{"error":"nope"}'), request_headers=bearer())
    assert verdict(f).cause != "backend-rejected"


def test_rest_gateway_default_401_is_not_the_backend():
    assert verdict(flow(REST_401, request_headers=bearer(mint(exp=NOW - 60)))).cause == "token-expired"


# --- CloudFront's own page and WAF ----------------------------------------------------------------------------

CF_HEADERS = {
    "content-type": "text/html",
    "server": "CloudFront",
    "x-cache": "Error from cloudfront",
    "via": "1.1 0123456789abcdef0123456789abcdef.cloudfront.net (CloudFront)",
    "x-amz-cf-pop": "FRA56-P5",
    "x-amz-cf-id": "0V6LXXHX4qL_xlDfhvFTPe3TIgSCHmcrM_UN-EeQCzxGSF0ucca2lg==",
}


def cloudfront_page(reason: str) -> bytes:
    """CloudFront's error page as captured in github.com/lysine-dev/okhttp/issues/8001 (reason line varies)."""
    return (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">\n'
        '<HTML><HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">\n'
        "<TITLE>ERROR: The request could not be satisfied</TITLE>\n</HEAD><BODY>\n<H1>403 ERROR</H1>\n"
        '<H2>The request could not be satisfied.</H2>\n<HR noshade size="1px">\n'
        f"{reason}\nWe can't connect to the server for this app or website at this time. There might be too much "
        "traffic or a configuration error. Try again later, or contact the app or website owner.\n"
        '<BR clear="all">\nIf you provide content to customers through CloudFront, you can find steps to '
        "troubleshoot and help prevent this error by reviewing the CloudFront documentation.\n"
        '<BR clear="all">\n<HR noshade size="1px">\n<PRE>\nGenerated by cloudfront (CloudFront)\n'
        "Request ID: 0V6LXXHX4qL_xlDfhvFTPe3TIgSCHmcrM_UN-EeQCzxGSF0ucca2lg==\n</PRE>\n<ADDRESS>\n</ADDRESS>\n"
        "</BODY></HTML>"
    ).encode()


def cf_flow(reason: str, **kw):
    return flow(
        (403, {}, cloudfront_page(reason)),
        host="api.example.com",
        path="/v1/items",
        rest_ids=False,
        response_headers=CF_HEADERS,
        request_headers=bearer(),
        **kw,
    )


def test_cloudfront_request_blocked_is_waf():
    d = verdict(cf_flow("Request blocked."), hosts=["api.example.com"])
    assert (d.cause, d.confidence) == ("waf-blocked", "high")


@pytest.mark.parametrize(
    "reason, says",
    [
        ("Bad request.", "Host header"),
        (
            "The Amazon CloudFront distribution is configured to block access from your country.",
            "geo restriction",
        ),
    ],
)
def test_cloudfront_refused(reason, says):
    d = verdict(cf_flow(reason), hosts=["api.example.com"])
    assert (d.cause, d.confidence) == ("cloudfront-refused", "high")
    assert says in d.summary


def test_cloudfront_page_with_options_still_names_cloudfront():
    d = verdict(cf_flow("Bad request."), hosts=["api.example.com"], authorizer="cognito")
    assert d.cause == "cloudfront-refused"


def test_edge_optimized_api_error_is_api_gateway_not_cloudfront():
    # API Gateway's JSON behind CloudFront (REST edge-optimized): the same CloudFront headers, the gateway's words.
    f = flow(
        (401, {"x-amzn-ErrorType": "UnauthorizedException"}, b'{"message":"The incoming token has expired"}'),
        response_headers=CLOUDFRONT,
        request_headers=bearer(mint(exp=NOW - 60)),
    )
    assert verdict(f).cause == "token-expired"


def test_cognito_user_pool_waf_block():
    f = idp("ForbiddenException", "Request not allowed due to WAF block.")
    f.response.status_code = 403  # github.com/ravenscar/franken-srp/issues/13: 403, not 400
    d = verdict(f)
    assert (d.cause, d.confidence) == ("waf-blocked", "high")


def test_rest_forbidden_with_a_large_body_leads_with_waf():
    f = flow(FORBIDDEN, method="POST", request_headers={**bearer(), "Content-Length": "9000"})
    d = verdict(f)
    assert (d.cause, d.confidence) == ("waf-blocked", "medium")
    assert "api-key-rejected" in alternatives(d)


def test_rest_forbidden_with_a_small_body_names_waf_as_the_other_candidate():
    f = flow(FORBIDDEN, method="POST", request_headers={**bearer(), "Content-Length": "120", "x-api-key": "k" * 20})
    d = verdict(f)
    assert d.cause == "api-key-rejected"
    assert alternatives(d).get("waf-blocked") == "low"


# --- custom-domain-unmapped (github.com/Miserlou/django-zappa/issues/100) -------------------------------------


def test_custom_domain_forbidden_without_an_api_key():
    f = flow(FORBIDDEN, host="api.example.com", path="/v2/items", request_headers=bearer())
    d = verdict(f, hosts=["api.example.com"])
    assert (d.cause, d.confidence) == ("custom-domain-unmapped", "medium")
    assert "waf-blocked" in alternatives(d)


def test_custom_domain_forbidden_after_the_same_call_worked_is_not_unmapped():
    # Earlier flows: GET /v2/items succeeded on this domain, so its base path mapping exists.
    knowledge = Knowledge(make_expectations(hosts=["api.example.com"]))
    ok = flow((200, {}, b'{"items":[]}'), host="api.example.com", path="/v2/items", request_headers=bearer())
    observe_flow(ok, knowledge)
    f = flow(FORBIDDEN, host="api.example.com", path="/v2/items", request_headers=bearer())
    d = verdict(f, knowledge)
    assert d.cause != "custom-domain-unmapped"
    assert "waf-blocked" in alternatives(d)
    # Another path on the same domain has no such history: unmapped stays the lead there.
    other = flow(FORBIDDEN, host="api.example.com", path="/v3/items", request_headers=bearer())
    assert verdict(other, knowledge).cause == "custom-domain-unmapped"


def test_custom_domain_forbidden_with_an_api_key_is_the_key():
    f = flow(FORBIDDEN, host="api.example.com", path="/v2/items", request_headers={"x-api-key": "k" * 20})
    assert verdict(f, hosts=["api.example.com"]).cause == "api-key-rejected"


def test_execute_api_host_forbidden_is_never_unmapped():
    assert verdict(flow(FORBIDDEN, request_headers=bearer())).cause != "custom-domain-unmapped"


# --- Cognito API ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flow_name", ["USER_PASSWORD_AUTH", "USER_SRP_AUTH", "REFRESH_TOKEN_AUTH"])
def test_auth_flow_not_enabled(flow_name):
    d = verdict(idp("InvalidParameterException", f"{flow_name} flow not enabled for this client"))
    assert (d.cause, d.confidence) == ("cognito-auth-flow-not-enabled", "high")


def test_other_invalid_parameter_is_not_the_auth_flow():
    d = verdict(idp("InvalidParameterException", "Missing required parameter USERNAME"))
    assert d.cause == "unexplained"


def test_secret_hash_does_not_match_wording():
    d = verdict(idp("NotAuthorizedException", "SecretHash does not match for the client: 1example23456789abcdefghij"))
    assert (d.cause, d.confidence) == ("cognito-secret-hash", "high")


def test_get_user_with_an_id_token_is_the_wrong_token_type():
    f = idp("NotAuthorizedException", "Invalid token", "GetUser", {"AccessToken": mint(use="id")})
    d = verdict(f)
    assert (d.cause, d.confidence) == ("wrong-token-type", "high")


def test_get_user_with_an_access_token_and_the_same_text_is_not_the_token_type():
    f = idp("NotAuthorizedException", "Invalid token", "GetUser", {"AccessToken": mint(use="access")})
    assert verdict(f).cause == "unexplained"


def emulator(host: str, error: str, message: str, target: str = "InitiateAuth"):
    """An emulator's answer (moto, cognito-local): the body's `__type`, no x-amzn-ErrorType header."""
    body = json.dumps({"__type": error, "message": message}).encode()
    return flow(
        (400, {}, body),
        host=host,
        path="/",
        method="POST",
        rest_ids=False,
        request_headers={
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{target}",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )


@pytest.mark.parametrize("host", ["localhost", "cognito.internal.example", IDP])
def test_cognito_api_recognised_by_its_target_header_whatever_the_host(host):
    d = verdict(emulator(host, "NotAuthorizedException", "Incorrect username or password."))
    assert (d.cause, d.confidence) == ("cognito-bad-credentials", "high")
    assert d.target.surface == "cognito-idp"


def test_target_header_on_a_get_to_an_unwatched_host_is_ignored():
    f = emulator("localhost", "NotAuthorizedException", "Incorrect username or password.")
    f.request.method = "GET"
    assert diagnose_flow(f, Knowledge()) is None


def test_unwatched_host_without_the_target_header_is_ignored():
    f = emulator("localhost", "NotAuthorizedException", "Incorrect username or password.")
    del f.request.headers["X-Amz-Target"]
    assert diagnose_flow(f, Knowledge()) is None


# --- OAuth endpoints --------------------------------------------------------------------------------------------


def test_oauth_405_with_a_right_content_type_points_at_accept():
    # github.com/restsharp/RestSharp/issues/1707: form body, right path, an Accept list with XML types.
    accept = "application/json, text/json, text/x-json, text/javascript, application/xml, text/xml"
    f = oauth(
        405,
        b"",
        response_headers={"allow": "GET", "content-length": "0"},
        request_headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
        request_body=b"grant_type=client_credentials",
    )
    d = verdict(f)
    assert (d.cause, d.confidence) == ("oauth-wrong-content-type", "medium")
    assert "Accept header (application/json, text/json" in d.summary


def test_oauth_405_with_a_json_body_stays_the_content_type():
    f = oauth(
        405,
        b"",
        response_headers={"allow": "GET"},
        request_headers={"Content-Type": "application/json", "Accept": "application/xml"},
    )
    assert (verdict(f).cause, verdict(f).confidence) == ("oauth-wrong-content-type", "high")


@pytest.mark.parametrize(
    "location, cause",
    [
        # github.com/amazon-archives/amazon-cognito-auth-js/issues/40: the code sits in error_description
        ("https://app.example.com/cb#error_description=unauthorized_client&error=invalid_request", "unauthorized"),
        ("https://app.example.com/cb#error=invalid_scope&state=abc", "invalid-scope"),
        ("https://app.example.com/cb?error=invalid_request&state=abc", "invalid-request"),
    ],
)
def test_oauth_errors_in_the_location_fragment_or_query(location, cause):
    f = oauth(
        302,
        b"",
        path="/oauth2/authorize?response_type=token&client_id=1example23456789",
        method="GET",
        response_headers={"location": location},
    )
    d = verdict(f)
    assert d.cause == "oauth-" + cause.replace("unauthorized", "unauthorized-client")
    assert d.confidence == "high"
    assert ("fragment" in d.summary) == ("#" in location)


def test_a_successful_implicit_redirect_is_quiet():
    f = oauth(
        302,
        b"",
        path="/oauth2/authorize",
        method="GET",
        response_headers={"location": "https://app.example.com/cb#id_token=abc&token_type=Bearer&state=x"},
    )
    assert diagnose_flow(f, Knowledge()) is None


def test_the_oauth_domain_is_still_the_domain():
    assert DOMAIN.endswith(".amazoncognito.com")


# --- HTTP API 500 from a failing Lambda authorizer ---------------------------------------------------------------


def test_http_api_internal_server_error_is_the_authorizer_at_medium():
    f = flow((500, {}, b'{"message":"Internal Server Error"}'), host=HTTP_HOST, path="/items", request_headers=bearer())
    d = verdict(f)
    assert (d.cause, d.confidence) == ("authorizer-error", "medium")
    assert "integration" in d.summary


def test_rest_500_internal_server_error_is_not_an_authorization_failure():
    f = flow((500, {"x-amzn-ErrorType": "InternalServerErrorException"}, b'{"message": "Internal server error"}'))
    d = diagnose_flow(f, Knowledge())
    assert d is None or d.cause is None
