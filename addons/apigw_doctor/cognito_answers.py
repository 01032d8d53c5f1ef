"""Read the Cognito answers that issue or revoke tokens, for the lineage store.

User pools (JSON API, `X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>`): InitiateAuth,
AdminInitiateAuth, RespondToAuthChallenge, AdminRespondToAuthChallenge and GetTokensFromRefreshToken answer with an
`AuthenticationResult`; RevokeToken, GlobalSignOut and AdminUserGlobalSignOut revoke. The prefix domain:
`POST /oauth2/token` (code, refresh and client-credentials grants) and `POST /oauth2/revoke`. Identity pools
(`AWSCognitoIdentityService.<Operation>`): GetOpenIdToken and GetCredentialsForIdentity. Field names are those of
the Cognito API references (docs/wire-reference.md, "Cognito API" and "Cognito OAuth").

Only fingerprints and a few claims leave this module; the token values are dropped with the parsed bodies.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from mitmproxy import http

from . import safejson
from .lineage import Answer, Issued, Revocation, kept_claims
from .pools import split_cognito_issuer
from .tokens import decode_token, fingerprint

_MAX_BODY = 64 * 1024
_IDP = "AWSCognitoIdentityProviderService."
_IDENTITY = "AWSCognitoIdentityService."
_ISSUING = frozenset(
    ("InitiateAuth", "AdminInitiateAuth", "RespondToAuthChallenge", "AdminRespondToAuthChallenge",
     "GetTokensFromRefreshToken")
)  # fmt: skip
_REFRESH_FLOWS = frozenset(("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"))
_FORM = "application/x-www-form-urlencoded"


def token_fingerprint(value: str) -> str:
    """The fingerprint the engine gives the same value when a later request carries it (`tokens.decode_token`)."""
    return decode_token(value).fingerprint


def read_answer(
    method: str,
    path: str,
    request_headers: Mapping[str, str],
    request_body: bytes | None,
    status: int,
    response_body: bytes | None,
) -> Answer | None:
    """What a successful (2xx) Cognito answer issued or revoked, or None. Headers are keyed in lower case."""
    if not 200 <= status < 300 or method.upper() != "POST":
        return None
    target = request_headers.get("x-amz-target", "")
    if target.startswith(_IDP):
        return _user_pool(target[len(_IDP) :], _json(request_body), _json(response_body))
    if target.startswith(_IDENTITY):
        return _identity_pool(target[len(_IDENTITY) :], _json(response_body))
    route = path.split("?", 1)[0].rstrip("/")
    if route == "/oauth2/token":
        return _token_endpoint(_form(request_headers, request_body), _json(response_body))
    if route == "/oauth2/revoke":
        token = _form(request_headers, request_body).get("token")
        return Answer("/oauth2/revoke", revocation=Revocation(refresh=token_fingerprint(token))) if token else None
    return None


def _user_pool(operation: str, request: dict[str, Any], response: dict[str, Any]) -> Answer | None:
    if operation in _ISSUING:
        result = response.get("AuthenticationResult")
        if not isinstance(result, dict):
            return None  # a challenge (MFA, new password): nothing issued yet
        params = request.get("AuthParameters")
        presented = None
        if operation == "GetTokensFromRefreshToken":
            presented = _str(request.get("RefreshToken"))
        elif isinstance(params, dict) and request.get("AuthFlow") in _REFRESH_FLOWS:
            presented = _str(params.get("REFRESH_TOKEN"))
            operation = f"{operation} {request.get('AuthFlow')}"
        issued = _issued(
            _str(result.get("IdToken")),
            _str(result.get("AccessToken")),
            _str(result.get("RefreshToken")),
            result.get("ExpiresIn"),
            _str(request.get("ClientId")),
        )
        return Answer(operation, issued, token_fingerprint(presented) if presented else None)
    if operation == "RevokeToken":
        token = _str(request.get("Token"))
        return Answer(operation, revocation=Revocation(refresh=token_fingerprint(token))) if token else None
    if operation == "GlobalSignOut":
        access = _str(request.get("AccessToken"))
        claims = decode_token(access).claims if access else {}
        sub = claims.get("sub")
        if not isinstance(sub, str):
            return None
        pool = split_cognito_issuer(claims.get("iss") if isinstance(claims.get("iss"), str) else None)
        return Answer(operation, revocation=Revocation(subject=sub, pool=pool[1] if pool else None))
    if operation == "AdminUserGlobalSignOut":
        username, pool_id = _str(request.get("Username")), _str(request.get("UserPoolId"))
        return Answer(operation, revocation=Revocation(username=username, pool=pool_id)) if username else None
    return None


def _identity_pool(operation: str, response: dict[str, Any]) -> Answer | None:
    identity = _str(response.get("IdentityId"))
    claims = {"identity_id": identity} if identity else {}
    if operation == "GetOpenIdToken" and (token := _str(response.get("Token"))):
        decoded = decode_token(token)
        exp = decoded.claims.get("exp")
        found = Issued(decoded.fingerprint, "openid", None, _number(exp), {**kept_claims(decoded.claims), **claims})
        return Answer(operation, (found,))
    credentials = response.get("Credentials")
    if operation == "GetCredentialsForIdentity" and isinstance(credentials, dict):
        key_id = _str(credentials.get("AccessKeyId"))
        if key_id:  # a SigV4 request names its access key id in the clear: that is what later flows match
            found = Issued(fingerprint(key_id), "aws-credentials", None, _number(credentials.get("Expiration")), claims)
            return Answer(operation, (found,))
    return None


def _token_endpoint(form: dict[str, str], response: dict[str, Any]) -> Answer | None:
    grant = form.get("grant_type", "")
    if grant not in ("authorization_code", "refresh_token", "client_credentials"):
        return None
    presented = form.get("refresh_token") if grant == "refresh_token" else None
    issued = _issued(
        _str(response.get("id_token")),
        _str(response.get("access_token")),
        _str(response.get("refresh_token")),
        response.get("expires_in"),
        form.get("client_id"),
    )
    if not issued:
        return None
    return Answer(f"/oauth2/token {grant}", issued, token_fingerprint(presented) if presented else None)


def _issued(
    id_token: str | None, access: str | None, refresh: str | None, expires_in: Any, client: str | None
) -> tuple[Issued, ...]:
    found: list[Issued] = []
    owner: dict[str, Any] = {}
    for kind, value in (("id", id_token), ("access", access)):
        if not value:
            continue
        decoded = decode_token(value)
        claims = kept_claims(decoded.claims)
        token_client = claims.get("aud") if kind == "id" else claims.get("client_id")
        who = token_client if isinstance(token_client, str) else client
        exp = _number(decoded.claims.get("exp"))
        if exp is None and (seconds := _number(expires_in)) is not None and isinstance(decoded.claims.get("iat"), int):
            exp = decoded.claims["iat"] + seconds
        found.append(Issued(decoded.fingerprint, kind, who, exp, claims))
        owner = owner or {k: claims[k] for k in ("sub", "iss", "username", "cognito:username") if k in claims}
        client = client or who
    if refresh:
        # Opaque (a JWE for Cognito): no readable claims. It carries its sign-in's owner so sign-outs reach it.
        found.append(Issued(token_fingerprint(refresh), "refresh", client, None, owner))
    return tuple(found)


def _json(body: bytes | None) -> dict[str, Any]:
    return safejson.json_object(body, _MAX_BODY) or {}


def _form(headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
    if not body or len(body) > _MAX_BODY or not headers.get("content-type", "").lower().startswith(_FORM):
        return {}
    try:
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=50)
    except ValueError:
        return {}
    return {k: v[0] for k, v in parsed.items()}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def answer_of_flow(flow: http.HTTPFlow) -> Answer | None:
    """`read_answer` for a mitmproxy flow: only POSTs with an `X-Amz-Target` or to `/oauth2/...` are read."""
    request, response = flow.request, flow.response
    if response is None or request.method != "POST":
        return None
    target = request.headers.get("x-amz-target", "")
    if not target.startswith(("AWSCognito",)) and not request.path.startswith("/oauth2/"):
        return None
    headers = {"x-amz-target": target, "content-type": request.headers.get("content-type", "")}
    return read_answer(
        request.method, request.path, headers, _content(request), response.status_code, _content(response)
    )


def _content(message: http.Message) -> bytes | None:
    """The body, decoded only as far as `_MAX_BODY` bytes: a compressed answer cannot grow without bound."""
    raw = message.raw_content
    if raw is None or len(raw) > _MAX_BODY:
        return None
    encoding = message.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "deflate"):
        return None
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or zlib header, detected
    try:
        body = inflater.decompress(raw, _MAX_BODY)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else body


def presented_fingerprint(content_type: str, body: bytes | None) -> str | None:
    """The refresh token a Cognito request sends in its body (REFRESH_TOKEN_AUTH, GetTokensFromRefreshToken,
    RevokeToken, the refresh grant), so a refused refresh can be linked to the flow that issued or revoked it."""
    if content_type.lower().startswith(_FORM):
        value = _form({"content-type": content_type}, body).get("refresh_token")
    else:
        request = _json(body)
        params = request.get("AuthParameters")
        value = params.get("REFRESH_TOKEN") if isinstance(params, dict) else None
        value = value or request.get("RefreshToken") or request.get("Token")
    return token_fingerprint(value) if isinstance(value, str) and value else None
