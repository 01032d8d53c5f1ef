"""The live-capture scenarios: what the client sends, what the upstream answers, and the verdict each deserves.

The replies are the documented API Gateway answers (docs/wire-reference.md), dated at reply time.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from apigw_doctor.sandbox import responses, tls
from tests.e2e.e2e_harness import (
    CLIENT_ID,
    HTTP_API_HOST,
    OTHER_CLIENT_ID,
    OTHER_POOL_ID,
    REST_HOST,
    LiveMitmdump,
    Route,
    TokenMinter,
    Upstream,
    read_flows,
)

# The documented bodies, byte for byte (docs/wire-reference.md; Content-Length values agree: 26, 16, 82).
UNAUTHORIZED = b'{"message":"Unauthorized"}'
TOKEN_EXPIRED = b'{"message":"The incoming token has expired"}'
MISSING_AUTH_TOKEN = b'{"message":"Missing Authentication Token"}'
EXPLICIT_DENY = b'{"Message":"User is not authorized to access this resource with an explicit deny"}'
AUTHORIZER_NULL = b'{"message":null}'
AUDIENCE_CHALLENGE = (
    'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"'
)


def missing_equal_sign_body(authorization: str) -> bytes:
    """wire-reference "SigV4 and unknown routes", current form: the Authorization value hashed with SHA-256 and
    Base64-encoded."""
    digest = base64.b64encode(hashlib.sha256(authorization.encode()).digest()).decode()
    return (
        '{"message":"Invalid key=value pair (missing equal-sign) in Authorization header '
        f"(hashed with SHA-256 and encoded with Base64): '{digest}'.\"}}"
    ).encode()


@dataclass(frozen=True)
class Scenario:
    name: str
    host: str
    method: str
    path: str
    authorization: str | None
    reply: Route
    status: int
    body: bytes  # what the client must receive, byte for byte
    cause: str | None  # expected catalogue code; None = no verdict at all
    confidence: str | None
    request_id_header: str | None = None

    @property
    def headline(self) -> str:
        return f"{self.status} {self.method} {self.path}  {self.cause} ({self.confidence})"


@dataclass
class Capture:
    scenarios: list[Scenario]
    flows: list  # HTTPFlow read back from the -w file, in request order
    stdout: str
    returncode: int
    client_responses: list  # httpx.Response per scenario
    upstream: Upstream
    minter: TokenMinter
    workdir: Path
    short_lived_exp: int  # exp of the token that was valid at capture time and expires soon after
    flows_file: Path = field(default=Path())

    def flow_for(self, name: str):
        return self.flows[[s.name for s in self.scenarios].index(name)]


def _scenarios(minter: TokenMinter, short_lived_exp: int) -> list[Scenario]:
    now = int(time.time())
    valid_id = minter.id_token(exp=now + 3600)
    expired_id = minter.id_token(exp=now - 900)
    access = minter.access_token(exp=now + 3600)
    other_client_id = minter.id_token(exp=now + 3600, client_id=OTHER_CLIENT_ID)
    other_pool_short = minter.id_token(exp=short_lived_exp, pool_id=OTHER_POOL_ID, iat=now - 60)
    bearer = f"Bearer {valid_id}"
    sigv4_body = missing_equal_sign_body(bearer)

    def rest(name, method, path, auth, reply, status, body, cause, confidence):
        return Scenario(name, REST_HOST, method, path, auth, reply, status, body, cause, confidence, "x-amzn-requestid")

    assert CLIENT_ID != OTHER_CLIENT_ID
    return [
        # A success first: the addon learns what this API accepts (issuer, token_use) from it.
        rest(
            "ok",
            "GET",
            "/prod/items",
            bearer,
            lambda t, h: responses.rest_ok(t, {"items": []}),
            200,
            b'{"items":[]}',
            None,
            None,
        ),
        # Sent early, while valid (exp 3 s ahead), but from another pool than the success above: wrong-issuer,
        # inferred from the learned baseline (medium). After exp passes, offline analysis must still not say expired.
        rest(
            "short-lived-other-pool",
            "GET",
            "/prod/orders",
            f"Bearer {other_pool_short}",
            lambda t, h: responses.rest_unauthorized(t),
            401,
            UNAUTHORIZED,
            "wrong-issuer",
            "medium",
        ),
        rest(
            "expired",
            "GET",
            "/prod/items",
            bearer.replace(valid_id, expired_id),
            lambda t, h: responses.rest_token_expired(t),
            401,
            TOKEN_EXPIRED,
            "token-expired",
            "high",
        ),
        rest(
            "no-credential",
            "GET",
            "/prod/items",
            None,
            lambda t, h: responses.rest_unauthorized(t),
            401,
            UNAUTHORIZED,
            "missing-credential",
            "high",
        ),
        rest(
            "placeholder",
            "GET",
            "/prod/items",
            "Bearer undefined",
            lambda t, h: responses.rest_unauthorized(t),
            401,
            UNAUTHORIZED,
            "placeholder-token",
            "high",
        ),
        # Access token on a method without scopes (REST Cognito expects the ID token): inferred, so medium.
        rest(
            "access-token",
            "GET",
            "/prod/items",
            f"Bearer {access}",
            lambda t, h: responses.rest_unauthorized(t),
            401,
            UNAUTHORIZED,
            "wrong-token-type",
            "medium",
        ),
        rest(
            "unknown-route",
            "GET",
            "/prod/itemz",
            bearer,
            lambda t, h: responses.rest_missing_authentication_token(t),
            403,
            MISSING_AUTH_TOKEN,
            "route-not-found",
            "medium",  # an undeployed stage answers the same (named as the alternative)
        ),
        rest(
            "explicit-deny",
            "DELETE",
            "/prod/items/42",
            bearer,
            lambda t, h: responses.rest_explicit_deny(t),
            403,
            EXPLICIT_DENY,
            "authorizer-denied",
            "high",
        ),
        rest(
            "authorizer-null",
            "GET",
            "/prod/reports",
            bearer,
            lambda t, h: responses.rest_authorizer_configuration_error(t),
            500,
            AUTHORIZER_NULL,
            "authorizer-error",
            "high",
        ),
        rest(
            "sigv4-expected",
            "POST",
            "/prod/iam-only",
            bearer,
            lambda t, h: responses.sigv4_missing_equal_sign(t, h.get("Authorization", "")),
            403,
            sigv4_body,
            # Cognito tokens worked on this API earlier and nothing says this path uses IAM: the unknown route ranks
            # first, and sigv4-expected is the named alternative (the same SigV4 text answers both).
            "route-not-found",
            "medium",
        ),
        Scenario(
            "http-audience",
            HTTP_API_HOST,
            "GET",
            "/items",
            f"Bearer {other_client_id}",
            lambda t, h: responses.http_unauthorized(t, www_authenticate=AUDIENCE_CHALLENGE),
            401,
            UNAUTHORIZED,
            "wrong-audience",
            "high",
            "apigw-requestid",
        ),
    ]


def _send(client, scenario: Scenario):
    headers = {} if scenario.authorization is None else {"Authorization": scenario.authorization}
    content = b'{"qty":1}' if scenario.method == "POST" else None
    return client.request(scenario.method, f"https://{scenario.host}{scenario.path}", headers=headers, content=content)


def run_capture(workdir: Path) -> Capture:
    """Upstream + mitmdump with the addon; send every scenario with httpx; SIGTERM; read the -w file back."""
    upstream = Upstream(tls.make_certs(workdir / "upstream-tls")).start()
    proxy = LiveMitmdump(workdir, upstream)
    minter = TokenMinter()
    try:
        proxy.start()
        short_lived_exp = int(time.time()) + 3
        scenarios = _scenarios(minter, short_lived_exp)
        for s in scenarios:
            upstream.route(s.host, s.method, s.path, s.reply)
        with proxy.client() as client:
            client_responses = [_send(client, s) for s in scenarios]
    finally:
        returncode = proxy.stop()
        upstream.stop()
    flows = read_flows(proxy.flows_file)
    return Capture(
        scenarios,
        flows,
        proxy.stdout,
        returncode,
        client_responses,
        upstream,
        minter,
        workdir,
        short_lived_exp,
        proxy.flows_file,
    )
