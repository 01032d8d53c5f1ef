"""One whole conversation against the sandbox: sign-in, calls, a refresh, stale calls, a cached-policy denial,
a sign-out, calls after it, and a route that disappears. Each step is one request, sent in order, so step N is
flow #N of a capture that holds only this conversation.

The sign-in's ID token is made short-lived (`short_ttl` seconds) and the story waits, on the gateway's clock, until
it has expired: a stale call then fails for real, without touching any clock. Everything else keeps Cognito's
defaults (1-hour tokens, the authorizer's 300 s cache TTL).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .app import Sandbox
from .config import REST_API_ID, RestApi
from .issuer import DEFAULT_PASSWORD, DEFAULT_USER, WEB_CLIENT_ID

if TYPE_CHECKING:
    import httpx

REST = f"https://{REST_API_ID}.execute-api.us-east-1.amazonaws.com/prod"
IDP = "https://cognito-idp.us-east-1.amazonaws.com/"


@dataclass(frozen=True, slots=True)
class Step:
    """What one step sent and got, and the verdict (cause or warning) it should earn; None for a plain success."""

    number: int
    name: str
    method: str
    url: str
    status: int
    expect: str | None


def run_story(
    sb: Sandbox, client: httpx.Client, *, short_ttl: int = 8, sleep: Callable[[float], None] = time.sleep
) -> list[Step]:
    """Play the conversation with `client` (direct, or through a proxy); returns the steps in order."""
    steps: list[Step] = []
    pool = sb.issuer.pool

    def send(name: str, method: str, url: str, expect: str | None, **kw: object) -> httpx.Response:
        resp = client.request(method, url, **kw)  # type: ignore[arg-type]
        steps.append(Step(len(steps) + 1, name, method, url, resp.status_code, expect))
        return resp

    def idp(name: str, operation: str, body: dict, expect: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/x-amz-json-1.1",
                   "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}"}  # fmt: skip
        return send(name, "POST", IDP, expect, headers=headers, content=json.dumps(body).encode())

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": token}  # the REST Cognito authorizer takes the bare token (or Bearer)

    saved_ttl = pool.id_ttl
    pool.id_ttl = short_ttl
    try:
        signin = idp("sign-in", "InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": WEB_CLIENT_ID,
                     "AuthParameters": {"USERNAME": DEFAULT_USER, "PASSWORD": DEFAULT_PASSWORD}}, None)  # fmt: skip
    finally:
        pool.id_ttl = saved_ttl
    first = signin.json()["AuthenticationResult"]
    send("call", "GET", f"{REST}/items", None, headers=bearer(first["IdToken"]))
    send("call", "GET", f"{REST}/items", None, headers=bearer(first["IdToken"]))

    exp = json.loads(_segment(first["IdToken"]))["exp"]
    while sb.gateway.now() < exp + 1.5:  # the gateway's clock, which its Date header shows
        sleep(0.25)

    refresh = {"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": WEB_CLIENT_ID,
               "AuthParameters": {"REFRESH_TOKEN": first["RefreshToken"]}}  # fmt: skip
    second = idp("refresh", "InitiateAuth", refresh, None).json()["AuthenticationResult"]
    send("call with the new token", "GET", f"{REST}/items", None, headers=bearer(second["IdToken"]))
    for _ in range(4):
        send("stale call", "GET", f"{REST}/items", "stale-token-after-refresh", headers=bearer(first["IdToken"]))
    idp("stale access token still works", "GetUser", {"AccessToken": first["AccessToken"]},
        "stale-token-after-refresh")  # fmt: skip
    send("Lambda authorizer allows", "GET", f"{REST}/cached/items", None, headers=bearer(second["IdToken"]))
    send("cached policy denies", "GET", f"{REST}/cached/orders", "authorizer-cached-policy",
         headers=bearer(second["IdToken"]))  # fmt: skip
    idp("sign-out", "GlobalSignOut", {"AccessToken": second["AccessToken"]}, None)
    send("revoked token accepted", "GET", f"{REST}/items", "revoked-token-accepted", headers=bearer(second["IdToken"]))
    idp("revoked access token", "GetUser", {"AccessToken": second["AccessToken"]}, "cognito-token-revoked")
    idp("revoked refresh token", "InitiateAuth", refresh, "cognito-token-revoked")

    restore = _undeploy(sb, "/items")
    try:
        send("route gone", "GET", f"{REST}/items", "stage-not-deployed", headers=bearer(second["IdToken"]))
    finally:
        restore()  # the sandbox serves on as before (the demo keeps it running for mitmweb)
    return steps


def _undeploy(sb: Sandbox, path: str) -> Callable[[], None]:
    """A deployment of the stage without `path`: the gateway answers as for a resource that does not exist.
    Returns what puts the route back."""
    apis = sb.config.rest_apis
    for index, api in enumerate(apis):
        if api.api_id == REST_API_ID:
            apis[index] = dataclasses.replace(api, routes=tuple(r for r in api.routes if r.path != path))

            def restore(index: int = index, api: RestApi = api) -> None:
                apis[index] = api

            return restore
    raise LookupError(REST_API_ID)


def _segment(token: str) -> bytes:
    payload = token.split(".")[1]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
