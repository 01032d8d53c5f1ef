"""Pin every sandbox answer to the reference tables (apigw-auth-failures.md), over real TLS with httpx.

Expected bytes are written out literally here, from the reference, not imported from the sandbox.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
import time
from email.utils import parsedate_to_datetime

import httpx
import jwt
import pytest

from apigw_doctor.sandbox import sigv4
from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.config import SANDBOX_API_KEY, SANDBOX_CREDENTIALS
from apigw_doctor.sandbox.issuer import (
    ADMIN_WRITE,
    DEFAULT_PASSWORD,
    M2M_CLIENT_ID,
    ORDERS_READ,
    OTHER_CLIENT_ID,
    SERVER_CLIENT_ID,
    WEB_CLIENT_ID,
    secret_hash,
)
from apigw_doctor.sandbox.scenarios import DOMAIN, EDGE, FURL, HTTP, IDP, REST, SPA

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
APIGW_ID = re.compile(r"^[A-Za-z0-9_-]{15}=$")
REST_HEADERS = {"date", "content-type", "content-length", "connection", "x-amzn-requestid", "x-amz-apigw-id"}
EDGE_HEADERS = {"x-amzn-trace-id", "x-cache", "via", "x-amz-cf-pop", "x-amz-cf-id"}

UNAUTHORIZED = b'{"message":"Unauthorized"}'
EXPIRED = b'{"message":"The incoming token has expired"}'
MISSING_AUTH_TOKEN = b'{"message":"Missing Authentication Token"}'
FORBIDDEN = b'{"message":"Forbidden"}'
EXPLICIT_DENY = b'{"Message":"User is not authorized to access this resource with an explicit deny"}'
NULL_MESSAGE = b'{"message":null}'


def get(client: httpx.Client, host: str, path: str, method: str = "GET", **headers: str) -> httpx.Response:
    return client.request(method, f"https://{host}{path}", headers=headers)


def assert_date_is_now(resp: httpx.Response) -> None:
    date = parsedate_to_datetime(resp.headers["date"])
    assert abs(date.timestamp() - time.time()) < 5
    assert resp.headers["date"].endswith(" GMT")


def assert_rest(resp: httpx.Response, status: int, body: bytes, error_type: str | None, *, edge: bool = False) -> None:
    assert resp.status_code == status
    assert resp.content == body
    assert resp.headers["content-length"] == str(len(body))
    assert resp.headers["content-type"] == "application/json"
    assert UUID.match(resp.headers["x-amzn-requestid"])
    assert APIGW_ID.match(resp.headers["x-amz-apigw-id"])
    assert resp.headers.get("x-amzn-errortype") == error_type
    allowed = REST_HEADERS | {"x-amzn-errortype"} | (EDGE_HEADERS if edge else set())
    assert set(resp.headers.keys()) <= allowed, set(resp.headers.keys()) - allowed
    assert_date_is_now(resp)


# --- REST: Cognito authorizer ------------------------------------------------------------------------------


def test_rest_missing_authorization_is_26_byte_unauthorized(client: httpx.Client) -> None:
    resp = get(client, REST, "/prod/items")
    assert_rest(resp, 401, UNAUTHORIZED, "UnauthorizedException")
    assert resp.headers["content-length"] == "26"


def test_rest_id_token_passes_with_and_without_bearer(client: httpx.Client, sandbox: Sandbox) -> None:
    token = sandbox.issuer.pool.mint_id_token()
    for value in (token, f"Bearer {token}"):
        resp = get(client, REST, "/prod/items", Authorization=value)
        assert_rest(resp, 200, resp.content, None)
        assert resp.json()["principal"] == "alice"


def test_rest_expired_id_token_says_incoming_token_has_expired(client: httpx.Client, sandbox: Sandbox) -> None:
    token = sandbox.issuer.pool.mint_id_token(iat=int(time.time()) - 3700)
    assert_rest(get(client, REST, "/prod/items", Authorization=token), 401, EXPIRED, "UnauthorizedException")


def test_rest_access_token_without_method_scopes_is_unauthorized(client: httpx.Client, sandbox: Sandbox) -> None:
    resp = get(client, REST, "/prod/items", Authorization=sandbox.issuer.pool.mint_access_token())
    assert_rest(resp, 401, UNAUTHORIZED, "UnauthorizedException")
    assert sandbox.reason_for(resp.headers["x-amzn-requestid"]).cause == "wrong-token-type"


def test_rest_scoped_method_needs_access_token_with_scope(client: httpx.Client, sandbox: Sandbox) -> None:
    pool = sandbox.issuer.pool
    cases = [
        (pool.mint_id_token(), 401, "wrong-token-type"),
        (pool.mint_access_token(), 401, "missing-scope"),
        (pool.mint_access_token(scope=f"openid {ORDERS_READ}"), 200, None),
    ]
    for token, status, cause in cases:
        resp = get(client, REST, "/prod/orders", Authorization=f"Bearer {token}")
        assert resp.status_code == status
        if status == 401:
            assert_rest(resp, 401, UNAUTHORIZED, "UnauthorizedException")
        assert sandbox.reason_for(resp.headers["x-amzn-requestid"]).cause == cause


def test_rest_other_pool_forged_and_hs256_tokens_are_unauthorized(client: httpx.Client, sandbox: Sandbox) -> None:
    pool, issuer = sandbox.issuer.pool, sandbox.issuer
    forged = pool.sign(pool.id_claims(), key=issuer.other_pool.id_key.private)  # pool's kid, wrong key
    cases = {
        "wrong-issuer": issuer.other_region_pool.mint_id_token(),
        "bad-signature": forged,
        "unsupported-algorithm": pool.sign(pool.id_claims(), alg="HS256", key=b"s" * 32),
        "unknown-key": pool.sign(pool.id_claims(), kid=None),
    }
    for cause, token in cases.items():
        resp = get(client, REST, "/prod/items", Authorization=token)
        assert_rest(resp, 401, UNAUTHORIZED, "UnauthorizedException")
        assert sandbox.reason_for(resp.headers["x-amzn-requestid"]).cause == cause


def test_rest_revoked_tokens_still_pass_until_exp(client: httpx.Client, sandbox: Sandbox) -> None:
    # wire-reference "REST Cognito authorizer": a GlobalSignOut-revoked token is still accepted by the authorizer until
    # exp.
    pool = sandbox.issuer.pool
    tokens = pool.login("bob", WEB_CLIENT_ID)
    pool.global_sign_out("bob")
    assert get(client, REST, "/prod/items", Authorization=tokens.id_token).status_code == 200


# --- REST: Lambda authorizer, API key, front door ----------------------------------------------------------


def test_rest_lambda_authorizer_answers(client: httpx.Client, sandbox: Sandbox) -> None:
    deny = get(client, REST, "/prod/lambda/items", Authorization="deny")
    assert_rest(deny, 403, EXPLICIT_DENY, "AccessDeniedException")
    assert deny.headers["content-length"] == "82"
    err = get(client, REST, "/prod/lambda/items", Authorization="error")
    assert_rest(err, 500, NULL_MESSAGE, "AuthorizerConfigurationException")
    assert err.headers["content-length"] == "16"
    assert_rest(get(client, REST, "/prod/lambda/items", Authorization="letmein"), 401, UNAUTHORIZED,
                "UnauthorizedException")  # fmt: skip
    assert_rest(get(client, REST, "/prod/lambda/items"), 401, UNAUTHORIZED, "UnauthorizedException")
    ok = get(client, REST, "/prod/lambda/items", Authorization="Bearer " + sandbox.issuer.pool.mint_id_token())
    assert ok.status_code == 200


def test_rest_api_key(client: httpx.Client) -> None:
    for headers in ({}, {"x-api-key": "wrong"}):
        resp = get(client, REST, "/prod/keyed/items", **headers)
        assert_rest(resp, 403, FORBIDDEN, "ForbiddenException")
        assert resp.headers["content-length"] == "23"
    assert get(client, REST, "/prod/keyed/items", **{"x-api-key": SANDBOX_API_KEY}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/prod/nope"), ("GET", "/dev/items"), ("DELETE", "/prod/items"), ("OPTIONS", "/prod/items"),
     ("GET", "/prod/iam/items")],
)  # fmt: skip
def test_rest_unsigned_front_door_is_missing_authentication_token(client: httpx.Client, method: str, path: str) -> None:
    resp = get(client, REST, path, method, Origin="https://app.example.com")
    assert_rest(resp, 403, MISSING_AUTH_TOKEN, "MissingAuthenticationTokenException")
    assert resp.headers["content-length"] == "42"


def test_rest_bearer_on_front_door_gets_hashed_missing_equal_sign(client: httpx.Client, sandbox: Sandbox) -> None:
    value = "Bearer " + sandbox.issuer.pool.mint_id_token()
    digest = base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()
    text = (
        "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded "
        f"with Base64): '{digest}'."
    )
    for path in ("/prod/iam/items", "/prod/nope"):
        resp = get(client, REST, path, Authorization=value)
        assert_rest(resp, 403, ('{"message":"' + text + '"}').encode(), "IncompleteSignatureException")


def test_rest_single_token_gets_requires_credential_text(client: httpx.Client, sandbox: Sandbox) -> None:
    token = sandbox.issuer.pool.mint_id_token()
    text = (
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
        "parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires "
        f"existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={token}"
    )
    resp = get(client, REST, "/prod/nope", Authorization=token)
    assert_rest(resp, 403, ('{"message":"' + text + '"}').encode(), "IncompleteSignatureException")


def _signed(sandbox: Sandbox, creds: sigv4.Credentials, skew: float = 0) -> dict[str, str]:
    url = f"https://{REST}/prod/iam/items"
    return sigv4.sign("GET", url, creds, region="us-east-1", service="execute-api", now=time.time() + skew)


def test_rest_iam_sigv4_outcomes(client: httpx.Client, sandbox: Sandbox) -> None:
    assert get(client, REST, "/prod/iam/items", **_signed(sandbox, SANDBOX_CREDENTIALS)).status_code == 200

    unknown = get(client, REST, "/prod/iam/items", **_signed(sandbox, sigv4.Credentials("AKIANOTKNOWN0000000", "x")))
    assert_rest(unknown, 403, b'{"message":"The security token included in the request is invalid."}',
                "AccessDeniedException")  # fmt: skip

    wrong = sigv4.Credentials(SANDBOX_CREDENTIALS.access_key_id, "not-the-secret")
    mismatch = get(client, REST, "/prod/iam/items", **_signed(sandbox, wrong))
    text = (
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details."
    )
    assert_rest(mismatch, 403, ('{"message":"' + text + '"}').encode(), "InvalidSignatureException")


def test_rest_sigv4_clock_skew_text(client: httpx.Client, sandbox: Sandbox) -> None:
    headers = _signed(sandbox, SANDBOX_CREDENTIALS, skew=-6 * 60)
    resp = get(client, REST, "/prod/iam/items", **headers)
    assert resp.status_code == 403
    assert resp.headers["x-amzn-errortype"] == "InvalidSignatureException"
    m = re.fullmatch(
        r'\{"message":"Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) '
        r'\((\d{8}T\d{6}Z) - 5 min\.\)"\}',
        resp.text,
    )
    assert m, resp.text
    assert m.group(1) == headers["X-Amz-Date"]

    def parse(s: str) -> datetime.datetime:
        return datetime.datetime.strptime(s, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)

    assert parse(m.group(3)) - parse(m.group(2)) == datetime.timedelta(minutes=5)
    assert abs(parse(m.group(3)) - parsedate_to_datetime(resp.headers["date"])) <= datetime.timedelta(seconds=1)


def test_rest_edge_optimized_adds_cloudfront_headers(client: httpx.Client) -> None:
    resp = get(client, EDGE, "/prod/items")
    assert_rest(resp, 401, UNAUTHORIZED, "UnauthorizedException", edge=True)
    assert resp.headers["x-cache"] == "Error from cloudfront"
    assert re.fullmatch(r"1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)", resp.headers["via"])
    assert resp.headers["x-amz-cf-id"] and resp.headers["x-amz-cf-pop"]


# --- HTTP API ----------------------------------------------------------------------------------------------


def assert_http(resp: httpx.Response, status: int, body: bytes) -> None:
    assert resp.status_code == status
    assert resp.content == body
    assert resp.headers["content-length"] == str(len(body))
    assert APIGW_ID.match(resp.headers["apigw-requestid"])
    assert "x-amzn-errortype" not in resp.headers
    assert "x-amzn-requestid" not in resp.headers
    assert_date_is_now(resp)


def test_http_audience_mismatch_has_exact_www_authenticate(client: httpx.Client, sandbox: Sandbox) -> None:
    token = sandbox.issuer.pool.mint_id_token(client_id=OTHER_CLIENT_ID)
    resp = get(client, HTTP, "/items", Authorization=f"Bearer {token}")
    assert_http(resp, 401, UNAUTHORIZED)
    assert resp.headers["content-length"] == "26"
    assert resp.headers["www-authenticate"] == (
        'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"'
    )


def test_http_other_jwt_failures_invent_no_description(client: httpx.Client, sandbox: Sandbox) -> None:
    pool = sandbox.issuer.pool
    now = int(time.time())
    cases = {
        "token-expired": pool.mint_id_token(iat=now - 4000),
        "token-not-yet-valid": pool.mint_id_token(iat=now + 600),
        "wrong-issuer": sandbox.issuer.other_pool.mint_id_token(),
        "unsupported-algorithm": pool.sign(pool.id_claims(), alg="HS256", key=b"s" * 32),
    }
    for cause, token in cases.items():
        resp = get(client, HTTP, "/items", Authorization=token)
        assert_http(resp, 401, UNAUTHORIZED)
        assert "www-authenticate" not in resp.headers
        assert sandbox.reason_for(resp.headers["apigw-requestid"]).cause == cause
    assert_http(get(client, HTTP, "/items"), 401, UNAUTHORIZED)


def test_http_id_token_passes_and_client_id_is_the_audience_of_access_tokens(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    pool = sandbox.issuer.pool
    assert get(client, HTTP, "/items", Authorization=pool.mint_id_token()).status_code == 200
    # token_use is not checked by JWT authorizers (wire-reference "HTTP JWT authorizer"): an access token of an allowed
    # client passes too.
    assert get(client, HTTP, "/items", Authorization=pool.mint_access_token()).status_code == 200
    other = pool.mint_access_token(client_id=OTHER_CLIENT_ID)
    assert get(client, HTTP, "/items", Authorization=other).status_code == 401


def test_http_route_scope(client: httpx.Client, sandbox: Sandbox) -> None:
    pool = sandbox.issuer.pool
    resp = get(client, HTTP, "/admin", Authorization=pool.mint_access_token())
    assert_http(resp, 403, FORBIDDEN)
    assert resp.headers["content-length"] == "23"
    ok = get(client, HTTP, "/admin", Authorization=pool.mint_machine_token(scopes=(ADMIN_WRITE,)))
    assert ok.status_code == 200


def test_http_unknown_route_is_404_and_default_route_catches_preflight(client: httpx.Client, sandbox: Sandbox) -> None:
    resp = get(client, HTTP, "/nope", Authorization=sandbox.issuer.pool.mint_id_token())
    assert_http(resp, 404, b'{"message":"Not Found"}')
    assert resp.headers["content-length"] == "23"
    pre = get(
        client, SPA, "/items", "OPTIONS", Origin="https://app.example.com", **{"Access-Control-Request-Method": "GET"}
    )
    assert_http(pre, 401, UNAUTHORIZED)
    assert sandbox.reason_for(pre.headers["apigw-requestid"]).cause == "cors-preflight-blocked"


# --- Lambda function URL -----------------------------------------------------------------------------------


def test_function_url_unsigned(client: httpx.Client) -> None:
    resp = get(client, FURL, "/")
    assert resp.status_code == 403
    assert resp.content == (
        b'{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: '
        b'https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}'
    )
    assert resp.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert UUID.match(resp.headers["x-amzn-requestid"])


# --- Cognito domain ----------------------------------------------------------------------------------------


def token_endpoint(client: httpx.Client, data: dict[str, str], path: str = "/oauth2/token", **headers: str):
    return client.post(f"https://{DOMAIN}{path}", data=data, headers=headers)


def test_oauth_405_for_wrong_content_type_and_path(client: httpx.Client) -> None:
    bad_type = client.post(
        f"https://{DOMAIN}/oauth2/token",
        content=b'{"grant_type":"client_credentials"}',
        headers={"Content-Type": "application/json"},
    )
    quoted = client.post(
        f"https://{DOMAIN}/oauth2/token",
        content=b"grant_type=client_credentials",
        headers={"Content-Type": "'application/x-www-form-urlencoded'"},
    )
    wrong_path = token_endpoint(client, {"grant_type": "client_credentials"}, "/oauth/token")
    for resp in (bad_type, quoted, wrong_path):
        assert resp.status_code == 405
        assert resp.content == b""
        assert resp.headers["content-length"] == "0"
        assert resp.headers["allow"] == "GET"
        assert UUID.match(resp.headers["x-amz-cognito-request-id"])
        assert resp.headers["x-application-context"] == "application:prod:8443"


def test_oauth_error_codes(client: httpx.Client, sandbox: Sandbox) -> None:
    pool = sandbox.issuer.pool
    refresh = pool.login("alice", WEB_CLIENT_ID).refresh_token or ""
    pool.revoke_refresh_token(refresh)
    m2m = pool.clients[M2M_CLIENT_ID]
    cases = [
        ({"grant_type": "client_credentials", "client_id": "nosuchclient"}, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": M2M_CLIENT_ID, "client_secret": "wrong"}, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": M2M_CLIENT_ID}, "invalid_client"),
        ({"grant_type": "refresh_token", "client_id": WEB_CLIENT_ID, "refresh_token": refresh}, "invalid_grant"),
        ({"grant_type": "authorization_code", "client_id": WEB_CLIENT_ID, "code": "nope",
          "redirect_uri": "https://app.example.com/callback"}, "invalid_grant"),
        ({"grant_type": "client_credentials", "client_id": WEB_CLIENT_ID}, "unauthorized_client"),
        ({"grant_type": "refresh_token", "client_id": WEB_CLIENT_ID}, "invalid_request"),
        ({"client_id": m2m.client_id, "client_secret": m2m.secret or ""}, "invalid_request"),
        ({"grant_type": "password", "client_id": WEB_CLIENT_ID}, "unsupported_grant_type"),
    ]  # fmt: skip
    for data, error in cases:
        resp = token_endpoint(client, data)
        assert resp.status_code == 400, data
        assert resp.content == f'{{"error":"{error}"}}'.encode(), data
        assert resp.headers["content-type"] == "application/json;charset=UTF-8"
        assert UUID.match(resp.headers["x-amz-cognito-request-id"])
        assert sandbox.reason_for(resp.headers["x-amz-cognito-request-id"]).cause == "oauth-" + error.replace("_", "-")


def _jwks_over_https(client: httpx.Client, pool_id: str) -> jwt.PyJWKSet:
    resp = client.get(f"https://{IDP}/{pool_id}/.well-known/jwks.json")
    assert resp.status_code == 200
    return jwt.PyJWKSet.from_dict(resp.json())


def _verify(jwks: jwt.PyJWKSet, token: str, issuer: str, **kw: object) -> dict:
    key = jwks[jwt.get_unverified_header(token)["kid"]].key
    return jwt.decode(token, key, algorithms=["RS256"], issuer=issuer, **kw)  # type: ignore[arg-type]


def test_oauth_grants_return_real_tokens(client: httpx.Client, sandbox: Sandbox) -> None:
    pool = sandbox.issuer.pool
    jwks = _jwks_over_https(client, pool.pool_id)
    m2m = pool.clients[M2M_CLIENT_ID]
    auth = "Basic " + base64.b64encode(f"{m2m.client_id}:{m2m.secret}".encode()).decode()
    cc = token_endpoint(client, {"grant_type": "client_credentials", "scope": ORDERS_READ}, Authorization=auth)
    assert cc.status_code == 200
    assert cc.json()["token_type"] == "Bearer" and cc.json()["expires_in"] == 3600
    claims = _verify(jwks, cc.json()["access_token"], pool.issuer)
    assert claims["token_use"] == "access" and claims["scope"] == ORDERS_READ and "aud" not in claims

    redirect = "https://app.example.com/callback"
    code = pool.issue_code(WEB_CLIENT_ID, "alice", redirect, ["openid", ORDERS_READ])
    data = {"grant_type": "authorization_code", "client_id": WEB_CLIENT_ID, "code": code, "redirect_uri": redirect}
    ac = token_endpoint(client, data)
    assert ac.status_code == 200
    body = ac.json()
    assert _verify(jwks, body["id_token"], pool.issuer, audience=WEB_CLIENT_ID)["token_use"] == "id"
    assert len(body["refresh_token"].split(".")) == 5
    assert token_endpoint(client, data).json() == {"error": "invalid_grant"}  # a code works once

    refreshed = token_endpoint(
        client, {"grant_type": "refresh_token", "client_id": WEB_CLIENT_ID, "refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200 and "refresh_token" not in refreshed.json()
    assert _verify(jwks, refreshed.json()["access_token"], pool.issuer)["client_id"] == WEB_CLIENT_ID


def test_oauth_authorize_redirect_mismatch(client: httpx.Client) -> None:
    params = {"response_type": "code", "client_id": WEB_CLIENT_ID, "redirect_uri": "https://evil.example.net/cb"}
    resp = client.get(f"https://{DOMAIN}/oauth2/authorize", params=params)
    assert resp.status_code == 302
    assert resp.headers["location"] == f"https://{DOMAIN}/error?error=redirect_mismatch&client_id={WEB_CLIENT_ID}"


# --- Cognito user-pool JSON API ----------------------------------------------------------------------------


def idp(client: httpx.Client, op: str, body: dict) -> httpx.Response:
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AWSCognitoIdentityProviderService.{op}"}
    return client.post(f"https://{IDP}/", json=body, headers=headers)


def assert_idp_error(resp: httpx.Response, error_type: str, message: str) -> None:
    assert resp.status_code == 400
    assert resp.json() == {"__type": error_type, "message": message}
    assert resp.content == f'{{"__type":"{error_type}","message":"{message}"}}'.encode()
    assert resp.headers["x-amzn-errortype"] == f"{error_type}:"
    assert resp.headers["x-amzn-errormessage"] == message
    assert UUID.match(resp.headers["x-amzn-requestid"])


def _password_auth(client_id: str, password: str, **extra: str) -> dict:
    params = {"USERNAME": "alice", "PASSWORD": password, **extra}
    return {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id, "AuthParameters": params}


def test_idp_initiate_auth(client: httpx.Client, sandbox: Sandbox) -> None:
    pool = sandbox.issuer.pool
    wrong = idp(client, "InitiateAuth", _password_auth(WEB_CLIENT_ID, "wrong"))
    assert_idp_error(wrong, "NotAuthorizedException", "Incorrect username or password.")
    no_user = idp(
        client,
        "InitiateAuth",
        {**_password_auth(WEB_CLIENT_ID, "x"), "AuthParameters": {"USERNAME": "zed", "PASSWORD": "x"}},
    )
    assert_idp_error(no_user, "NotAuthorizedException", "Incorrect username or password.")
    for extra in ({}, {"SECRET_HASH": "d3Jvbmc="}):
        resp = idp(client, "InitiateAuth", _password_auth(SERVER_CLIENT_ID, DEFAULT_PASSWORD, **extra))
        assert_idp_error(resp, "NotAuthorizedException", f"Unable to verify secret hash for client {SERVER_CLIENT_ID}")
    good_hash = secret_hash("alice", SERVER_CLIENT_ID, pool.clients[SERVER_CLIENT_ID].secret or "")
    ok = idp(client, "InitiateAuth", _password_auth(SERVER_CLIENT_ID, DEFAULT_PASSWORD, SECRET_HASH=good_hash))
    assert ok.status_code == 200
    result = ok.json()["AuthenticationResult"]
    jwks = _jwks_over_https(client, pool.pool_id)
    id_claims = _verify(jwks, result["IdToken"], pool.issuer, audience=SERVER_CLIENT_ID)
    access = _verify(jwks, result["AccessToken"], pool.issuer)
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert id_claims["origin_jti"] == access["origin_jti"]
    assert (
        jwt.get_unverified_header(result["IdToken"])["kid"] != jwt.get_unverified_header(result["AccessToken"])["kid"]
    )


def test_idp_refresh_and_get_user(client: httpx.Client, sandbox: Sandbox) -> None:
    pool = sandbox.issuer.pool
    tokens = pool.login("bob", WEB_CLIENT_ID)
    refresh = {"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": WEB_CLIENT_ID,
               "AuthParameters": {"REFRESH_TOKEN": tokens.refresh_token}}  # fmt: skip
    assert idp(client, "InitiateAuth", refresh).status_code == 200
    user = idp(client, "GetUser", {"AccessToken": tokens.access_token})
    assert user.status_code == 200 and user.json()["Username"] == "bob"
    expired = pool.mint_access_token("bob", iat=int(time.time()) - 3700)
    assert_idp_error(idp(client, "GetUser", {"AccessToken": expired}), "NotAuthorizedException",
                     "Access Token has expired")  # fmt: skip
    assert idp(client, "GlobalSignOut", {"AccessToken": tokens.access_token}).status_code == 200
    assert_idp_error(idp(client, "InitiateAuth", refresh), "NotAuthorizedException", "Refresh Token has been revoked")
    assert_idp_error(idp(client, "GetUser", {"AccessToken": tokens.access_token}), "NotAuthorizedException",
                     "Access Token has been revoked")  # fmt: skip
    # ... while API Gateway still accepts the signed-out ID token (wire-reference "REST Cognito authorizer", revocation
    # row).
    assert get(client, REST, "/prod/items", Authorization=tokens.id_token).status_code == 200


def test_idp_serves_jwks_and_openid_configuration(client: httpx.Client, sandbox: Sandbox) -> None:
    pool = sandbox.issuer.pool
    jwks = client.get(f"https://{IDP}/{pool.pool_id}/.well-known/jwks.json").json()
    assert jwks == pool.jwks()
    assert {k["alg"] for k in jwks["keys"]} == {"RS256"} and len({k["kid"] for k in jwks["keys"]}) == 2
    conf = client.get(f"https://{IDP}/{pool.pool_id}/.well-known/openid-configuration").json()
    assert conf["issuer"] == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Sandbox01"
    assert client.get(f"https://{IDP}/us-east-1_Nope/.well-known/jwks.json").status_code == 404
