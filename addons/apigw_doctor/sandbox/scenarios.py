"""Named scenarios: one request each, that makes the sandbox refuse (or accept) for one known cause.

A scenario is plain data; `RECIPES` builds its credential and body at run time from the sandbox's issuer.
`run_scenario` performs it with httpx (directly, or through mitmproxy) and returns what the sandbox itself
recorded as its reason (`Gateway.reason_for`), which the demo compares with the addon's verdict.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx

from ..wire import PRIMARY_REQUEST_ID_HEADERS
from . import identity, sigv4
from .app import Sandbox
from .config import (
    COGNITO_DOMAIN_PREFIX,
    CUSTOM_DOMAIN,
    EDGE_API_ID,
    FUNCTION_URL_ID,
    HTTP_API_ID,
    IDENTITY_POOL_ID,
    MISCONFIGURED_IDENTITY_POOL_ID,
    REST_API_ID,
    SANDBOX_API_KEY,
    SANDBOX_CREDENTIALS,
    SPA_HTTP_API_ID,
)
from .gateway import Outcome
from .issuer import (
    ADMIN_WRITE,
    DEFAULT_PASSWORD,
    DEFAULT_USER,
    M2M_CLIENT_ID,
    ORDERS_READ,
    OTHER_CLIENT_ID,
    SERVER_CLIENT_ID,
    WEB_CLIENT_ID,
)

REST = f"{REST_API_ID}.execute-api.us-east-1.amazonaws.com"
EDGE = f"{EDGE_API_ID}.execute-api.us-east-1.amazonaws.com"
HTTP = f"{HTTP_API_ID}.execute-api.us-east-1.amazonaws.com"
SPA = f"{SPA_HTTP_API_ID}.execute-api.us-east-1.amazonaws.com"
FURL = f"{FUNCTION_URL_ID}.lambda-url.us-east-1.on.aws"
DOMAIN = f"{COGNITO_DOMAIN_PREFIX}.auth.us-east-1.amazoncognito.com"
IDP = "cognito-idp.us-east-1.amazonaws.com"
IDENTITY = "cognito-identity.us-east-1.amazonaws.com"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    cause: str | None  # the catalogue code this scenario produces; None for a success
    method: str
    host: str
    path: str
    recipe: str  # key into RECIPES: how to build the credential and body
    status: int  # the status the sandbox answers with
    summary: str
    needs_definition: bool = False  # only the API's definition (sandbox/export.py) tells this cause apart


@dataclass(frozen=True, slots=True)
class Prepared:
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    scenario: Scenario
    status: int
    headers: dict[str, str]
    body: bytes
    request_id: str | None
    sandbox: Outcome | None  # the sandbox's own record of what it did and why

    @property
    def sandbox_cause(self) -> str | None:
        return self.sandbox.cause if self.sandbox else None

    @property
    def ok(self) -> bool:
        """The sandbox answered with the scenario's status and recorded the scenario's cause."""
        return (
            self.status == self.scenario.status
            and self.sandbox is not None
            and self.sandbox_cause == (self.scenario.cause)
        )


S = Scenario
SCENARIOS: tuple[Scenario, ...] = (
    # --- credential shape (REST Cognito authorizer, GET /prod/items: no method scopes => ID token) ---
    S("missing-credential", "missing-credential", "GET", REST, "/prod/items", "none", 401, "no Authorization header"),
    S("malformed-double-bearer", "malformed-header", "GET", REST, "/prod/items", "double_bearer", 401,
      "Authorization: Bearer Bearer <id token>"),
    S("malformed-quoted", "malformed-header", "GET", REST, "/prod/items", "quoted", 401, 'Bearer "<id token>"'),
    S("malformed-wrapped", "malformed-header", "GET", REST, "/prod/items", "wrapped", 401,
      "a token with a space in it (wrapped when copied)"),
    S("placeholder-token", "placeholder-token", "GET", REST, "/prod/items", "undefined", 401, "Bearer undefined"),
    S("not-a-jwt", "not-a-jwt", "GET", REST, "/prod/items", "truncated", 401, "a JWT cut after its payload"),
    S("refresh-token-sent", "refresh-token-sent", "GET", REST, "/prod/items", "refresh", 401,
      "the 5-part refresh token instead of the ID token"),
    # --- token checks ---
    S("token-expired", "token-expired", "GET", REST, "/prod/items", "expired_id", 401,
      "ID token that expired an hour ago"),
    S("token-expired-edge", "token-expired", "GET", EDGE, "/prod/items", "expired_id", 401,
      "the same on an edge-optimized API (CloudFront headers)"),
    S("wrong-issuer-pool", "wrong-issuer", "GET", REST, "/prod/items", "other_pool_id", 401,
      "ID token from another user pool"),
    S("wrong-issuer-region", "wrong-issuer", "GET", REST, "/prod/items", "other_region_id", 401,
      "ID token from a pool in eu-west-1"),
    S("wrong-token-type-access", "wrong-token-type", "GET", REST, "/prod/items", "access", 401,
      "access token on a method without scopes"),
    S("wrong-token-type-id", "wrong-token-type", "GET", REST, "/prod/orders", "id", 401,
      "ID token on a method with scope orders/read"),
    S("missing-scope", "missing-scope", "GET", REST, "/prod/orders", "access", 401,
      "InitiateAuth access token (aws.cognito.signin.user.admin only) on a method needing orders/read"),
    S("bad-signature", "bad-signature", "GET", REST, "/prod/items", "forged", 401,
      "ID token signed with another key under the pool's kid"),
    S("unknown-key", "unknown-key", "GET", REST, "/prod/items", "unknown_kid", 401, "ID token whose kid is unknown"),
    S("token-not-yet-valid", "token-not-yet-valid", "GET", HTTP, "/items", "future_id", 401,
      "HTTP API: ID token issued 10 minutes in the future"),
    S("wrong-audience", "wrong-audience", "GET", HTTP, "/items", "other_client_id", 401,
      "HTTP API: ID token of another app client"),
    S("unsupported-algorithm", "unsupported-algorithm", "GET", HTTP, "/items", "hs256", 401,
      "HTTP API: HS256-signed token"),
    S("missing-scope-http", "missing-scope", "GET", HTTP, "/admin", "access", 403,
      "HTTP API: route needs admin/write (403 unconfirmed on AWS)"),
    S("backend-rejected", "backend-rejected", "GET", HTTP, "/reports", "id", 401,
      "HTTP API: the token passes, the integration itself answers 401 (www-authenticate: Bearer)"),
    # --- Lambda TOKEN authorizers configured away from the client: only the API definition makes these high ---
    S("identity-source-mismatch", "identity-source-mismatch", "GET", REST, "/prod/partner/items", "id_bearer", 401,
      "Authorization: Bearer <id token>, but the authorizer's identity source is X-Auth-Token", True),
    S("token-validation-mismatch", "token-validation-mismatch", "GET", REST, "/prod/strict/items", "id", 401,
      "a bare ID token; the authorizer's validation expression wants `Bearer <token>`", True),
    S("waf-blocked-large-body", "waf-blocked", "POST", REST, "/prod/items", "large_body", 403,
      "a 9 KB body: AWS WAF's SizeRestrictions_BODY blocks it before API Gateway routes it"),
    S("custom-domain-unmapped", "custom-domain-unmapped", "GET", CUSTOM_DOMAIN, "/v2/items", "id", 403,
      "custom domain: no base path mapping for /v2 (needs apigw_hosts)"),
    # --- not the token ---
    S("route-not-found", "route-not-found", "GET", REST, "/prod/nope", "none", 403, "REST: unknown resource, unsigned"),
    S("route-not-found-stage", "route-not-found", "GET", REST, "/dev/items", "none", 403, "REST: wrong stage"),
    S("route-not-found-http", "route-not-found", "GET", HTTP, "/nope", "id_bearer", 404, "HTTP API: no route"),
    S("sigv4-expected", "sigv4-expected", "GET", REST, "/prod/iam/items", "id_bearer", 403,
      "Bearer JWT on an AWS_IAM method (missing equal-sign)"),
    S("sigv4-expected-wrong-method", "sigv4-expected", "POST", REST, "/prod/items", "id_bearer", 403,
      "Bearer JWT on a method that does not exist"),
    S("sigv4-expected-raw-token", "sigv4-expected", "GET", REST, "/prod/nope", "id", 403,
      "raw JWT (no scheme) on an unknown resource (requires 'Credential')"),
    S("iam-unsigned", "missing-credential", "GET", REST, "/prod/iam/items", "none", 403, "AWS_IAM method, unsigned"),
    S("sigv4-clock-skew", "sigv4-clock-skew", "GET", REST, "/prod/iam/items", "sigv4_skewed", 403,
      "signed with a clock 10 minutes slow"),
    S("sigv4-signature-mismatch", "sigv4-signature-mismatch", "GET", REST, "/prod/iam/items", "sigv4_bad_secret", 403,
      "signed with the wrong secret key"),
    S("sigv4-bad-credentials", "sigv4-bad-credentials", "GET", REST, "/prod/iam/items", "sigv4_unknown_key", 403,
      "signed with an unknown access key id"),
    S("authorizer-denied", "authorizer-denied", "GET", REST, "/prod/lambda/items", "deny", 403,
      "Lambda authorizer returns Deny"),
    S("authorizer-error", "authorizer-error", "GET", REST, "/prod/lambda/items", "error", 500,
      "Lambda authorizer crashes"),
    S("authorizer-rejected", "authorizer-rejected", "GET", REST, "/prod/lambda/items", "bob_id", 401,
      "Lambda authorizer says Unauthorized to a valid token"),
    S("api-key-rejected", "api-key-rejected", "GET", REST, "/prod/keyed/items", "bad_api_key", 403, "wrong x-api-key"),
    S("api-key-missing", "api-key-rejected", "GET", REST, "/prod/keyed/items", "none", 403, "no x-api-key"),
    S("cors-preflight-rest", "cors-preflight-blocked", "OPTIONS", REST, "/prod/items", "preflight", 403,
      "REST: preflight to a resource without an OPTIONS method"),
    S("cors-preflight-http", "cors-preflight-blocked", "OPTIONS", SPA, "/items", "preflight", 401,
      "HTTP API: preflight caught by the $default route's JWT authorizer"),
    S("function-url-unsigned", "missing-credential", "GET", FURL, "/", "none", 403, "Lambda function URL (AWS_IAM)"),
    # --- Cognito endpoints ---
    S("oauth-wrong-content-type", "oauth-wrong-content-type", "POST", DOMAIN, "/oauth2/token", "token_json", 405,
      "/oauth2/token with a JSON body"),
    S("oauth-wrong-path", "oauth-wrong-content-type", "POST", DOMAIN, "/oauth/token", "token_cc", 405,
      "/oauth/token instead of /oauth2/token"),
    S("oauth-invalid-client", "oauth-invalid-client", "POST", DOMAIN, "/oauth2/token", "token_bad_secret", 400,
      "client_credentials with a wrong client secret"),
    S("oauth-invalid-grant", "oauth-invalid-grant", "POST", DOMAIN, "/oauth2/token", "token_revoked_refresh", 400,
      "refresh_token grant with a revoked refresh token"),
    S("oauth-unauthorized-client", "oauth-unauthorized-client", "POST", DOMAIN, "/oauth2/token", "token_cc_web", 400,
      "client_credentials on a client without that grant"),
    S("oauth-invalid-request", "oauth-invalid-request", "POST", DOMAIN, "/oauth2/token", "token_no_refresh", 400,
      "refresh_token grant without refresh_token"),
    S("oauth-unsupported-grant-type", "oauth-unsupported-grant-type", "POST", DOMAIN, "/oauth2/token",
      "token_password", 400, "grant_type=password"),
    S("oauth-redirect-mismatch", "oauth-redirect-mismatch", "GET", DOMAIN, "/oauth2/authorize", "authorize_mismatch",
      302, "redirect_uri not among the client's callback URLs"),
    S("cognito-bad-credentials", "cognito-bad-credentials", "POST", IDP, "/", "idp_wrong_password", 400,
      "InitiateAuth with a wrong password"),
    S("cognito-secret-hash", "cognito-secret-hash", "POST", IDP, "/", "idp_no_secret_hash", 400,
      "InitiateAuth on a client with a secret, without SECRET_HASH"),
    S("cognito-token-expired", "cognito-token-expired", "POST", IDP, "/", "idp_getuser_expired", 400,
      "GetUser with an expired access token"),
    S("cognito-token-revoked", "cognito-token-revoked", "POST", IDP, "/", "idp_refresh_revoked", 400,
      "REFRESH_TOKEN_AUTH with a revoked refresh token"),
    S("cognito-missing-scope", "cognito-missing-scope", "POST", IDP, "/", "idp_getuser_m2m", 400,
      "GetUser with a client_credentials token"),
    S("cognito-auth-flow-not-enabled", "cognito-auth-flow-not-enabled", "POST", IDP, "/", "idp_srp_not_enabled", 400,
      "InitiateAuth USER_SRP_AUTH on a client that allows only USER_PASSWORD_AUTH"),
    # --- Cognito identity pools (the Amplify chain: user pool token -> identity pool -> AWS credentials) ---
    S("identity-pool-provider-mismatch", "identity-pool-provider-mismatch", "POST", IDENTITY, "/",
      "identity_region_underscore", 400, "GetId with the Logins key written cognito-idp.us_east_1..."),
    S("identity-pool-access-token", "identity-pool-provider-mismatch", "POST", IDENTITY, "/", "identity_access_token",
      400, "GetId with the access token where the ID token belongs"),
    S("identity-pool-token-expired", "identity-pool-token-rejected", "POST", IDENTITY, "/", "identity_expired", 400,
      "GetId with an expired ID token"),
    S("identity-pool-logins-mismatch", "identity-pool-provider-mismatch", "POST", IDENTITY, "/",
      "identity_logins_mismatch", 400, "GetCredentialsForIdentity: alice's IdentityId with bob's ID token"),
    S("identity-pool-unauth-disabled", "identity-pool-unauth-disabled", "POST", IDENTITY, "/", "identity_no_logins",
      400, "GetId without Logins on a pool without guest access"),
    S("identity-pool-config", "identity-pool-config", "POST", IDENTITY, "/", "identity_roles_untrusted", 400,
      "GetCredentialsForIdentity on a pool whose roles do not trust it"),
    S("identity-pool-clock-skew", "sigv4-clock-skew", "POST", IDENTITY, "/", "identity_signed_skewed", 400,
      "GetId signed with a clock 20 minutes slow"),
    # --- successes ---
    S("ok-rest-id-token", None, "GET", REST, "/prod/items", "id_bearer", 200, "ID token with Bearer prefix"),
    S("ok-rest-scoped-access", None, "GET", REST, "/prod/orders", "m2m_orders", 200, "access token with orders/read"),
    S("ok-http-id-token", None, "GET", HTTP, "/items", "id", 200, "HTTP API: ID token, right audience"),
    S("ok-http-admin", None, "GET", HTTP, "/admin", "m2m_admin", 200, "HTTP API: machine token with admin/write"),
    S("ok-iam-signed", None, "GET", REST, "/prod/iam/items", "sigv4_ok", 200, "correctly signed SigV4"),
    S("ok-lambda-authorizer", None, "GET", REST, "/prod/lambda/items", "id_bearer", 200, "Lambda authorizer allows"),
    S("ok-api-key", None, "GET", REST, "/prod/keyed/items", "good_api_key", 200, "valid x-api-key"),
    S("ok-function-url", None, "GET", FURL, "/", "sigv4_lambda", 200, "signed function URL call"),
    S("ok-cognito-sign-in", None, "POST", IDP, "/", "idp_sign_in", 200, "InitiateAuth USER_PASSWORD_AUTH"),
    S("ok-oauth-client-credentials", None, "POST", DOMAIN, "/oauth2/token", "token_cc", 200,
      "client_credentials grant"),
    S("ok-custom-domain", None, "GET", CUSTOM_DOMAIN, "/v1/items", "id", 200,
      "custom domain: /v1 maps to the REST API's prod stage"),
    S("ok-identity-get-id", None, "POST", IDENTITY, "/", "identity_get_id", 200, "GetId with the user pool ID token"),
    S("ok-identity-credentials", None, "POST", IDENTITY, "/", "identity_credentials", 200,
      "GetCredentialsForIdentity with the ID token"),
)  # fmt: skip


def by_name(name: str) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


# --- recipes -------------------------------------------------------------------------------------------------

Recipe = Callable[[Sandbox, Scenario], Prepared]


def _auth(value: str, **extra: str) -> Prepared:
    return Prepared({"Authorization": value, **extra})


def _form(data: dict[str, str], **headers: str) -> Prepared:
    return Prepared({"Content-Type": "application/x-www-form-urlencoded", **headers}, urlencode(data).encode())


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _idp(op: str, body: dict[str, object]) -> Prepared:
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"AWSCognitoIdentityProviderService.{op}",
    }
    return Prepared(headers, json.dumps(body).encode())


def _signed(sb: Sandbox, sc: Scenario, *, service: str, skew: float = 0, creds: sigv4.Credentials | None = None):
    url = f"https://{sc.host}{sc.path}"
    return Prepared(
        sigv4.sign(
            sc.method,
            url,
            creds or SANDBOX_CREDENTIALS,
            region="us-east-1",
            service=service,
            now=sb.gateway.now() + skew,
        )
    )


def _m2m(sb: Sandbox) -> tuple[str, str]:
    client = sb.issuer.pool.clients[M2M_CLIENT_ID]
    return client.client_id, client.secret or ""


def _revoked_refresh(sb: Sandbox, client_id: str = WEB_CLIENT_ID) -> str:
    token = sb.issuer.pool.login(DEFAULT_USER, client_id).refresh_token or ""
    sb.issuer.pool.revoke_refresh_token(token)
    return token


def _future_id(sb: Sandbox, sc: Scenario) -> Prepared:
    return _auth(sb.issuer.pool.mint_id_token(iat=int(time.time()) + 600))


def _forged(sb: Sandbox, sc: Scenario) -> Prepared:
    pool = sb.issuer.pool
    key = sb.issuer.other_pool.id_key.private
    return _auth(pool.sign(pool.id_claims(), use="id", key=key))


def _identity_call(op: str, body: dict[str, object]) -> Prepared:
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AWSCognitoIdentityService.{op}"}
    return Prepared(headers, json.dumps(body).encode())


def _provider(sb: Sandbox) -> str:
    return sb.issuer.pool.issuer.removeprefix("https://")


def _get_id(sb: Sandbox, token: str | None, key: str | None = None, pool_id: str = IDENTITY_POOL_ID) -> Prepared:
    body: dict[str, object] = {"IdentityPoolId": pool_id}
    if token is not None:
        body["Logins"] = {key or _provider(sb): token}
    return _identity_call("GetId", body)


def _credentials_for(sb: Sandbox, pool_id: str, owner: str, token: str) -> Prepared:
    """GetCredentialsForIdentity for `owner`'s identity (created as GetId would), logging in with `token`."""
    config = sb.config
    pool = next(p for p in config.identity_pools if p.pool_id == pool_id)
    identity_id = identity.register(config, pool, sb.issuer.pool.user(owner).sub)
    return _identity_call("GetCredentialsForIdentity", {"IdentityId": identity_id, "Logins": {_provider(sb): token}})


def _signed_get_id(sb: Sandbox, sc: Scenario, skew: float) -> Prepared:
    call = _get_id(sb, sb.issuer.pool.mint_id_token())
    signed = sigv4.sign(
        sc.method,
        f"https://{sc.host}{sc.path}",
        SANDBOX_CREDENTIALS,
        region="us-east-1",
        service="cognito-identity",
        now=sb.gateway.now() + skew,
        body=call.content or b"",
    )
    return Prepared({**call.headers, **signed}, call.content)


RECIPES: dict[str, Recipe] = {
    "none": lambda sb, sc: Prepared(),
    "id": lambda sb, sc: _auth(sb.issuer.pool.mint_id_token()),
    "id_bearer": lambda sb, sc: _auth("Bearer " + sb.issuer.pool.mint_id_token()),
    "access": lambda sb, sc: _auth(sb.issuer.pool.mint_access_token()),
    "double_bearer": lambda sb, sc: _auth("Bearer Bearer " + sb.issuer.pool.mint_id_token()),
    "quoted": lambda sb, sc: _auth(f'Bearer "{sb.issuer.pool.mint_id_token()}"'),
    "wrapped": lambda sb, sc: _auth("Bearer " + (t := sb.issuer.pool.mint_id_token())[:60] + " " + t[60:]),
    "undefined": lambda sb, sc: _auth("Bearer undefined"),
    "truncated": lambda sb, sc: _auth("Bearer " + sb.issuer.pool.mint_id_token().rsplit(".", 1)[0]),
    "refresh": lambda sb, sc: _auth("Bearer " + sb.issuer.pool.mint_refresh_token()),
    "expired_id": lambda sb, sc: _auth(sb.issuer.pool.mint_id_token(iat=int(time.time()) - 7200)),
    "other_pool_id": lambda sb, sc: _auth(sb.issuer.other_pool.mint_id_token()),
    "other_region_id": lambda sb, sc: _auth(sb.issuer.other_region_pool.mint_id_token()),
    "forged": _forged,
    "unknown_kid": lambda sb, sc: _auth(sb.issuer.pool.sign(sb.issuer.pool.id_claims(), kid="sandbox-unknown-kid")),
    "future_id": _future_id,
    "other_client_id": lambda sb, sc: _auth(sb.issuer.pool.mint_id_token(client_id=OTHER_CLIENT_ID)),
    "hs256": lambda sb, sc: _auth(sb.issuer.pool.sign(sb.issuer.pool.id_claims(), alg="HS256", key=b"k" * 32)),
    "m2m_orders": lambda sb, sc: _auth(sb.issuer.pool.mint_machine_token(scopes=(ORDERS_READ,))),
    "m2m_admin": lambda sb, sc: _auth(sb.issuer.pool.mint_machine_token(scopes=(ADMIN_WRITE,))),
    "bob_id": lambda sb, sc: _auth("Bearer " + sb.issuer.pool.mint_id_token("bob")),
    "deny": lambda sb, sc: _auth("deny"),
    "error": lambda sb, sc: _auth("error"),
    "bad_api_key": lambda sb, sc: Prepared({"x-api-key": "not-" + SANDBOX_API_KEY}),
    "good_api_key": lambda sb, sc: Prepared({"x-api-key": SANDBOX_API_KEY}),
    "preflight": lambda sb, sc: Prepared(
        {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET",
         "Access-Control-Request-Headers": "authorization"}
    ),
    "sigv4_ok": lambda sb, sc: _signed(sb, sc, service="execute-api"),
    "sigv4_lambda": lambda sb, sc: _signed(sb, sc, service="lambda"),
    "sigv4_skewed": lambda sb, sc: _signed(sb, sc, service="execute-api", skew=-600),
    "sigv4_bad_secret": lambda sb, sc: _signed(
        sb, sc, service="execute-api", creds=sigv4.Credentials(SANDBOX_CREDENTIALS.access_key_id, "wrong-secret")
    ),
    "sigv4_unknown_key": lambda sb, sc: _signed(
        sb, sc, service="execute-api", creds=sigv4.Credentials("AKIAUNKNOWNSANDBOX00", "whatever")
    ),
    "token_json": lambda sb, sc: Prepared(
        {"Content-Type": "application/json", "Authorization": _basic(*_m2m(sb))},
        json.dumps({"grant_type": "client_credentials"}).encode(),
    ),
    "token_cc": lambda sb, sc: _form({"grant_type": "client_credentials"}, Authorization=_basic(*_m2m(sb))),
    "token_bad_secret": lambda sb, sc: _form(
        {"grant_type": "client_credentials"}, Authorization=_basic(M2M_CLIENT_ID, "wrong")
    ),
    "token_revoked_refresh": lambda sb, sc: _form(
        {"grant_type": "refresh_token", "client_id": WEB_CLIENT_ID, "refresh_token": _revoked_refresh(sb)}
    ),
    "token_cc_web": lambda sb, sc: _form({"grant_type": "client_credentials", "client_id": WEB_CLIENT_ID}),
    "token_no_refresh": lambda sb, sc: _form({"grant_type": "refresh_token", "client_id": WEB_CLIENT_ID}),
    "token_password": lambda sb, sc: _form(
        {"grant_type": "password", "client_id": WEB_CLIENT_ID, "username": DEFAULT_USER, "password": "x"}
    ),
    "authorize_mismatch": lambda sb, sc: Prepared(),
    "idp_wrong_password": lambda sb, sc: _idp(
        "InitiateAuth",
        {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": WEB_CLIENT_ID,
         "AuthParameters": {"USERNAME": DEFAULT_USER, "PASSWORD": "wrong-password"}},
    ),
    "idp_no_secret_hash": lambda sb, sc: _idp(
        "InitiateAuth",
        {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": SERVER_CLIENT_ID,
         "AuthParameters": {"USERNAME": DEFAULT_USER, "PASSWORD": DEFAULT_PASSWORD}},
    ),
    "idp_sign_in": lambda sb, sc: _idp(
        "InitiateAuth",
        {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": WEB_CLIENT_ID,
         "AuthParameters": {"USERNAME": DEFAULT_USER, "PASSWORD": DEFAULT_PASSWORD}},
    ),
    "idp_getuser_expired": lambda sb, sc: _idp(
        "GetUser", {"AccessToken": sb.issuer.pool.mint_access_token(iat=int(time.time()) - 7200)}
    ),
    "idp_getuser_m2m": lambda sb, sc: _idp("GetUser", {"AccessToken": sb.issuer.pool.mint_machine_token()}),
    "idp_srp_not_enabled": lambda sb, sc: _idp(
        "InitiateAuth",
        {"AuthFlow": "USER_SRP_AUTH", "ClientId": WEB_CLIENT_ID,
         "AuthParameters": {"USERNAME": DEFAULT_USER, "SRP_A": "0a1b2c3d"}},
    ),
    "large_body": lambda sb, sc: Prepared(
        {"Authorization": sb.issuer.pool.mint_id_token(), "Content-Type": "application/json"},
        json.dumps({"note": "x" * 9000}).encode(),
    ),
    "identity_get_id": lambda sb, sc: _get_id(sb, sb.issuer.pool.mint_id_token()),
    "identity_region_underscore": lambda sb, sc: _get_id(
        sb, sb.issuer.pool.mint_id_token(), _provider(sb).replace("us-east-1.", "us_east_1.")
    ),
    "identity_access_token": lambda sb, sc: _get_id(sb, sb.issuer.pool.mint_access_token()),
    "identity_expired": lambda sb, sc: _get_id(sb, sb.issuer.pool.mint_id_token(iat=int(time.time()) - 7200)),
    "identity_no_logins": lambda sb, sc: _get_id(sb, None),
    "identity_credentials": lambda sb, sc: _credentials_for(
        sb, IDENTITY_POOL_ID, DEFAULT_USER, sb.issuer.pool.mint_id_token()
    ),
    "identity_logins_mismatch": lambda sb, sc: _credentials_for(
        sb, IDENTITY_POOL_ID, DEFAULT_USER, sb.issuer.pool.mint_id_token("bob")
    ),
    "identity_roles_untrusted": lambda sb, sc: _credentials_for(
        sb, MISCONFIGURED_IDENTITY_POOL_ID, DEFAULT_USER, sb.issuer.pool.mint_id_token()
    ),
    "identity_signed_skewed": lambda sb, sc: _signed_get_id(sb, sc, -1200),
    "idp_refresh_revoked": lambda sb, sc: _idp(
        "InitiateAuth",
        {"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": WEB_CLIENT_ID,
         "AuthParameters": {"REFRESH_TOKEN": _revoked_refresh(sb)}},
    ),
}  # fmt: skip

_QUERIES = {
    "authorize_mismatch": {
        "response_type": "code",
        "client_id": WEB_CLIENT_ID,
        "redirect_uri": "https://evil.example.net/callback",
        "scope": "openid",
    }
}


# --- running ---------------------------------------------------------------------------------------------------


def request_id_of(headers: httpx.Headers | dict[str, str]) -> str | None:
    h = httpx.Headers(headers)
    return next((h[n] for n in PRIMARY_REQUEST_ID_HEADERS if n in h), None)


def run_scenario(sb: Sandbox, scenario: Scenario, client: httpx.Client) -> ScenarioResult:
    """Perform one scenario with `client` (from `Sandbox.client()`, direct or through a proxy)."""
    prepared = RECIPES[scenario.recipe](sb, scenario)
    url = f"https://{scenario.host}{scenario.path}"
    params = _QUERIES.get(scenario.recipe)
    resp = client.request(
        scenario.method, url, headers=prepared.headers, content=prepared.content, params=params, follow_redirects=False
    )
    rid = request_id_of(resp.headers)
    return ScenarioResult(
        scenario=scenario,
        status=resp.status_code,
        headers=dict(resp.headers),
        body=resp.content,
        request_id=rid,
        sandbox=sb.reason_for(rid) if rid else None,
    )


def run_all(
    sb: Sandbox, client: httpx.Client | None = None, names: Iterable[str] | None = None
) -> list[ScenarioResult]:
    wanted = set(names) if names is not None else None
    own = client is None
    http = client or sb.client()
    try:
        return [run_scenario(sb, s, http) for s in SCENARIOS if wanted is None or s.name in wanted]
    finally:
        if own:
            http.close()
