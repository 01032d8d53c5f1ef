"""Cognito endpoints: the OAuth domain (wire-reference "Cognito OAuth") and the user-pool JSON API (wire-reference
"Cognito API")."""

from __future__ import annotations

import json

import pytest

from apigw_doctor.engine import diagnose_flow
from apigw_doctor.knowledge import Knowledge

from .builders import NOW, flow, mint

DOMAIN = "myapp.auth.us-east-1.amazoncognito.com"
IDP = "cognito-idp.us-east-1.amazonaws.com"
# Headers of Cognito's OAuth domain (wire-reference "Who answered", amplify-js #5284).
OAUTH_HEADERS = {
    "x-amz-cognito-request-id": "2b0a7b47-1b0b-4a3a-9f5e-0123456789ab",
    "x-application-context": "application:prod:8443",
    "server": "Server",
}


def oauth(status: int, body: bytes, path: str = "/oauth2/token", **kw):
    headers = dict(OAUTH_HEADERS)
    if body:
        headers["content-type"] = "application/json;charset=UTF-8"
    return flow((status, headers, body), host=DOMAIN, path=path, method=kw.pop("method", "POST"), rest_ids=False, **kw)


def idp(error: str, message: str, target: str = "InitiateAuth", request: dict | None = None):
    body = json.dumps({"__type": error, "message": message}, separators=(",", ":")).encode()
    headers = {
        "x-amzn-errortype": f"{error}:",
        "x-amzn-errormessage": message,
        "x-amzn-requestid": "6f1c7a0e-8a4b-4b8e-9c1d-0123456789ab",
        "content-type": "application/x-amz-json-1.1",
    }
    return flow(
        (400, headers, body),
        host=IDP,
        path="/",
        method="POST",
        rest_ids=False,
        request_headers={
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{target}",
            "Content-Type": "application/x-amz-json-1.1",
        },
        request_body=json.dumps(request or {}).encode(),
    )


def cause_of(f):
    d = diagnose_flow(f, Knowledge())
    assert d is not None
    return d.cause, d.confidence


def test_oauth_wrong_content_type_405_empty_body():
    f = oauth(
        405,
        b"",
        response_headers={"allow": "GET", "content-length": "0"},
        request_headers={"Content-Type": "'application/x-www-form-urlencoded'"},
    )
    assert cause_of(f) == ("oauth-wrong-content-type", "high")


@pytest.mark.parametrize(
    "error",
    ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type"],
)
def test_oauth_token_errors(error):
    f = oauth(400, json.dumps({"error": error}, separators=(",", ":")).encode())
    assert cause_of(f) == ("oauth-" + error.replace("_", "-"), "high")


def test_oauth_redirect_mismatch():
    location = f"https://{DOMAIN}/error?error=redirect_mismatch&client_id=1example23456789"
    f = oauth(
        302,
        b"",
        path="/oauth2/authorize?client_id=1example23456789&redirect_uri=http://localhost:3000/",
        method="GET",
        response_headers={"location": location},
    )
    assert cause_of(f) == ("oauth-redirect-mismatch", "high")


def test_oauth_invalid_scope_redirect():
    f = oauth(
        302,
        b"",
        path="/oauth2/authorize",
        method="GET",
        response_headers={"location": "https://app.example.com/cb?error=invalid_scope"},
    )
    assert cause_of(f) == ("oauth-invalid-scope", "high")


def test_userinfo_with_an_expired_access_token():
    www = (
        'error="invalid_token", error_description="Access token is expired, disabled, or deleted, or the user has '
        'globally signed out."'
    )
    f = oauth(
        401,
        b"",
        path="/oauth2/userInfo",
        method="GET",
        response_headers={"www-authenticate": www},
        request_headers={"Authorization": "Bearer " + mint(use="access", exp=NOW - 30)},
    )
    assert cause_of(f) == ("cognito-token-expired", "high")


@pytest.mark.parametrize(
    "message, cause",
    [
        ("Incorrect username or password.", "cognito-bad-credentials"),
        ("User is disabled.", "cognito-bad-credentials"),
        ("Unable to verify secret hash for client 1example23456789", "cognito-secret-hash"),
        ("Client 1example23456789 is configured for secret but secret was not received", "cognito-secret-hash"),
        ("Client 1example23456789 is configured with secret but SECRET_HASH was not received", "cognito-secret-hash"),
        ("Access Token has expired", "cognito-token-expired"),
        ("Access Token has been revoked", "cognito-token-revoked"),
        ("Refresh Token has been revoked", "cognito-token-revoked"),
        ("Access Token does not have required scopes", "cognito-missing-scope"),
    ],
)
def test_cognito_api_not_authorized(message, cause):
    assert cause_of(idp("NotAuthorizedException", message)) == (cause, "high")


def test_cognito_user_not_found():
    assert cause_of(idp("UserNotFoundException", "User does not exist."))[0] == "cognito-bad-credentials"


def test_cognito_get_user_expired_summary_uses_the_token_in_the_body():
    token = mint(use="access", exp=NOW - 90)
    d = diagnose_flow(
        idp("NotAuthorizedException", "Access Token has expired", "GetUser", {"AccessToken": token}), Knowledge()
    )
    assert d is not None and d.cause == "cognito-token-expired"
    assert "1 min 30 s before the request" in d.summary


def test_cognito_success_is_quiet():
    f = flow((200, {}, b'{"AuthenticationResult":{}}'), host=IDP, path="/", method="POST", rest_ids=False)
    assert diagnose_flow(f, Knowledge()) is None
