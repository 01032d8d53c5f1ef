"""Cognito's prefix domain (OAuth 2.0 endpoints) and the user-pool JSON API (`cognito-idp`), with their refusals."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode

from . import responses as r
from .config import CognitoDomain, GatewayConfig
from .issuer import SIGNIN_SCOPE, AppClient, Pool, TokenSet, secret_hash
from .request import Request
from .responses import Reply
from .verify import KeyRing, Refusal, verify_signed

Handled = tuple[Reply, Refusal | None]

_FORM = "application/x-www-form-urlencoded"
_TARGET_PREFIX = "AWSCognitoIdentityProviderService."
_AUTH_FLOWS = frozenset({"USER_PASSWORD_AUTH", "USER_SRP_AUTH", "REFRESH_TOKEN_AUTH", "CUSTOM_AUTH", "USER_AUTH"})
_WELL_KNOWN = re.compile(r"^/([a-z]{2}-[a-z]+-\d_[A-Za-z0-9]+)/\.well-known/(jwks\.json|openid-configuration)$")


# --- prefix domain: /oauth2/token and /oauth2/authorize ----------------------------------------------------


def _form(req: Request) -> dict[str, str]:
    parsed = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def _client_auth(req: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """client_secret_basic or client_secret_post (wire-reference "Cognito OAuth": the docs say both are supported)."""
    auth = req.header("authorization") or ""
    if auth[:6].lower() == "basic ":
        try:
            cid, _, secret = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        return cid, secret
    return form.get("client_id"), form.get("client_secret")


def _token_payload(tokens: TokenSet) -> dict[str, Any]:
    payload: dict[str, Any] = {"id_token": tokens.id_token, "access_token": tokens.access_token}
    if tokens.refresh_token:
        payload["refresh_token"] = tokens.refresh_token
    payload.update(expires_in=tokens.expires_in, token_type="Bearer")
    return payload


def _oauth_refusal(now: float, error: str, detail: str) -> Handled:
    return r.oauth_error(now, error), Refusal(f"oauth-{error.replace('_', '-')}", "token-endpoint", detail)


def _token_endpoint(req: Request, pool: Pool, now: float) -> Handled:
    content_type = (req.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != _FORM:
        # wire-reference "Cognito OAuth": a quoted or JSON content type gets 405 with an empty body.
        return r.oauth_method_not_allowed(now), Refusal(
            "oauth-wrong-content-type", "content-type", f"Content-Type {req.header('content-type')!r}"
        )
    form = _form(req)
    grant = form.get("grant_type")
    if not grant:
        return _oauth_refusal(now, "invalid_request", "no grant_type")
    client_id, secret = _client_auth(req, form)
    if not client_id:
        return _oauth_refusal(now, "invalid_request", "no client_id")
    client = pool.clients.get(client_id)
    if client is None:
        return _oauth_refusal(now, "invalid_client", f"unknown client {client_id}")
    if client.secret is not None and not hmac.compare_digest((secret or "").encode(), client.secret.encode()):
        return _oauth_refusal(now, "invalid_client", "client secret missing or wrong")
    if grant not in ("authorization_code", "refresh_token", "client_credentials"):
        return _oauth_refusal(now, "unsupported_grant_type", f"grant_type {grant!r}")
    flow = {"authorization_code": "code", "client_credentials": "client_credentials"}.get(grant)
    if flow and flow not in client.oauth_flows:
        return _oauth_refusal(now, "unauthorized_client", f"{grant} is not enabled for the client")
    if grant == "client_credentials":
        wanted = form.get("scope", "").split() or list(client.scopes)
        # Scopes the client may not have are not modelled (the ref documents invalid_scope only at /authorize).
        granted = [s for s in wanted if s in client.scopes]
        token = pool.sign(pool.machine_claims(client.client_id, granted, iat=int(now)), use="access")
        return r.oauth_tokens(now, {"access_token": token, "expires_in": pool.access_ttl, "token_type": "Bearer"}), None
    if grant == "refresh_token":
        if not form.get("refresh_token"):
            return _oauth_refusal(now, "invalid_request", "no refresh_token")
        tokens = pool.refresh(form["refresh_token"], client.client_id)
        if tokens is None:
            return _oauth_refusal(now, "invalid_grant", "refresh token unknown, revoked or of another client")
        return r.oauth_tokens(now, _token_payload(tokens)), None
    code_value, redirect_uri = form.get("code"), form.get("redirect_uri")
    if not code_value or not redirect_uri:
        return _oauth_refusal(now, "invalid_request", "code and redirect_uri are required")
    code = pool.codes.get(code_value)
    if code is None or code.used or code.client_id != client.client_id or code.redirect_uri != redirect_uri:
        return _oauth_refusal(now, "invalid_grant", "code unknown, used, or issued for another client/redirect_uri")
    code.used = True
    return r.oauth_tokens(now, _token_payload(pool.login(code.username, client.client_id, code.scopes))), None


def _authorize(req: Request, domain: CognitoDomain, pool: Pool, now: float) -> Handled:
    params = {k: v[0] for k, v in parse_qs(req.query, keep_blank_values=True).items()}
    client_id = params.get("client_id", "")
    client: AppClient | None = pool.clients.get(client_id)
    redirect_uri = params.get("redirect_uri", "")
    if client is None or redirect_uri not in client.callback_urls:
        # wire-reference "Cognito OAuth": 302 to the domain's error page. An unknown client has no callback URLs, so it
        # lands here too.
        location = f"https://{domain.host}/error?" + urlencode({"error": "redirect_mismatch", "client_id": client_id})
        return r.cognito_redirect(now, location), Refusal(
            "oauth-redirect-mismatch", "redirect_uri", f"{redirect_uri!r} is not a callback URL of the client"
        )

    def back(error: str, cause: str, detail: str) -> Handled:
        query = {"error": error, **({"state": params["state"]} if "state" in params else {})}
        return r.cognito_redirect(now, f"{redirect_uri}?{urlencode(query)}"), Refusal(cause, "authorize", detail)

    flow = {"code": "code", "token": "implicit"}.get(params.get("response_type", ""))
    if flow is None:
        return back("invalid_request", "oauth-invalid-request", f"response_type {params.get('response_type')!r}")
    if flow not in client.oauth_flows:
        return back("unauthorized_client", "oauth-unauthorized-client", f"{flow} flow not enabled")
    scopes = params.get("scope", "").split()
    if any(s not in client.scopes for s in scopes):
        return back("invalid_scope", "oauth-invalid-scope", f"scopes {scopes} not all allowed")
    # Not in the reference: Cognito sends a valid request on to its sign-in page. The sandbox has none;
    # tests obtain codes with Pool.issue_code().
    return r.cognito_redirect(now, f"https://{domain.host}/login?{req.query}"), None


def handle_domain(req: Request, domain: CognitoDomain, cfg: GatewayConfig, now: float) -> Handled:
    pool = cfg.pools[domain.pool_id]
    if req.method == "POST" and req.path == "/oauth2/token":
        return _token_endpoint(req, pool, now)
    if req.method == "GET" and req.path == "/oauth2/authorize":
        return _authorize(req, domain, pool, now)
    if req.method == "POST":
        # wire-reference "Cognito OAuth": a wrong path such as /oauth/token also answers 405 with an empty body.
        return r.oauth_method_not_allowed(now), Refusal("oauth-wrong-content-type", "path", f"no endpoint {req.path}")
    return r.cognito_not_found(now), None


# --- user-pool JSON API --------------------------------------------------------------------------------------


def _find_client(cfg: GatewayConfig, client_id: str) -> tuple[Pool, AppClient] | None:
    for pool in cfg.pools.values():
        if client_id in pool.clients:
            return pool, pool.clients[client_id]
    return None


def _idp_refusal(now: float, error_type: str, message: str, cause: str, check: str) -> Handled:
    return r.idp_error(now, error_type, message), Refusal(cause, check, message)


def _not_authorized(now: float, message: str, cause: str, check: str) -> Handled:
    return _idp_refusal(now, "NotAuthorizedException", message, cause, check)


def _auth_result(tokens: TokenSet) -> dict[str, Any]:
    result: dict[str, Any] = {"AccessToken": tokens.access_token, "ExpiresIn": tokens.expires_in}
    result["IdToken"] = tokens.id_token
    if tokens.refresh_token:
        result["RefreshToken"] = tokens.refresh_token
    result["TokenType"] = "Bearer"
    return {"AuthenticationResult": result, "ChallengeParameters": {}}


def _secret_ok(client: AppClient, params: dict[str, Any], usernames: list[str]) -> bool:
    if client.secret is None:
        return True
    sent = params.get("SECRET_HASH")
    if not isinstance(sent, str):
        return False
    return any(hmac.compare_digest(sent, secret_hash(u, client.client_id, client.secret)) for u in usernames)


def _initiate_auth(body: dict[str, Any], cfg: GatewayConfig, now: float) -> Handled:
    client_id = str(body.get("ClientId", ""))
    found = _find_client(cfg, client_id)
    if found is None:
        # Not in the reference for real AWS; moto answers ResourceNotFoundException with the client id (docs/design.md,
        # "The sandbox").
        return _idp_refusal(now, "ResourceNotFoundException", client_id, "cognito-bad-credentials", "client")
    pool, client = found
    params = body.get("AuthParameters") or {}
    flow = body.get("AuthFlow")
    enabled = "REFRESH_TOKEN_AUTH" if flow == "REFRESH_TOKEN" else flow
    if enabled in _AUTH_FLOWS and enabled not in client.auth_flows:
        # "<FLOW> flow not enabled for this client" (github.com/syl20lego/insomnia-plugin-aws-cognito-token/issues/15,
        # github.com/serverless/serverless/issues/7592).
        text = f"{flow} flow not enabled for this client"
        return _idp_refusal(now, "InvalidParameterException", text, "cognito-auth-flow-not-enabled", "auth-flow")
    if flow == "USER_PASSWORD_AUTH":
        username = str(params.get("USERNAME", ""))
        if not _secret_ok(client, params, [username]):
            # wire-reference "Cognito API": "Unable to verify secret hash for client <client-id>" (KC
            # cognito-unable-to-verify-secret-hash).
            return _not_authorized(
                now, f"Unable to verify secret hash for client {client_id}", "cognito-secret-hash", "secret-hash"
            )
        user = pool.users.get(username)
        if user is None or not hmac.compare_digest(str(params.get("PASSWORD", "")).encode(), user.password.encode()):
            # wire-reference "Cognito API": the same text for an unknown user when PreventUserExistenceErrors is on (the
            # default).
            return _not_authorized(now, "Incorrect username or password.", "cognito-bad-credentials", "password")
        if not user.enabled:
            return _not_authorized(now, "User is disabled.", "cognito-bad-credentials", "enabled")
        return r.idp_ok(now, _auth_result(pool.login(username, client_id))), None
    if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
        token = str(params.get("REFRESH_TOKEN", ""))
        grant = pool.refresh_grants.get(token)
        user = pool.users.get(grant.username) if grant else None
        names = [user.username, user.sub] if user else []
        if not _secret_ok(client, params, names):
            return _not_authorized(
                now, f"Unable to verify secret hash for client {client_id}", "cognito-secret-hash", "secret-hash"
            )
        if grant is not None and (grant.revoked or grant.origin_jti in pool.revoked_origins):
            # wire-reference "Cognito API" (aws-sdk-net#1936).
            return _not_authorized(now, "Refresh Token has been revoked", "cognito-token-revoked", "refresh-token")
        tokens = pool.refresh(token, client_id)
        if tokens is None:
            # wire-reference "Cognito API" "Invalid Refresh Token" (unknown token, or one of another client).
            return _not_authorized(now, "Invalid Refresh Token", "cognito-token-revoked", "refresh-token")
        return r.idp_ok(now, _auth_result(tokens)), None
    # Not in the reference: other flows (SRP, custom) are not modelled.
    return _idp_refusal(now, "InvalidParameterException", f"Unsupported AuthFlow {flow}", "unexplained", "auth-flow")


def _access_token_user(body: dict[str, Any], cfg: GatewayConfig, now: float) -> tuple[Pool, str] | Handled:
    """(pool, username) of a usable access token, else the refusal to send."""
    token = str(body.get("AccessToken", ""))
    pools = list(cfg.pools.values())
    ring = KeyRing({p.issuer: p.jwks for p in pools})
    result = verify_signed(token, issuers=[p.issuer for p in pools], keyring=ring, now=now)
    if isinstance(result, Refusal):
        if result.cause == "token-expired":
            # wire-reference "Cognito API" (aws-sdk-ios#1376).
            return _not_authorized(now, "Access Token has expired", "cognito-token-expired", "exp")
        # Not in the reference for AWS: moto's GetUser answers "Invalid token" for garbage or ID tokens (docs/design.md,
        # "The sandbox").
        return _not_authorized(now, "Invalid token", result.cause, result.check)
    claims = result.claims
    pool = next(p for p in pools if p.issuer == claims["iss"])
    if claims.get("token_use") != "access":
        return _not_authorized(now, "Invalid token", "wrong-token-type", "token_use")
    if claims.get("origin_jti") in pool.revoked_origins:
        # wire-reference "Cognito API" (aws-sdk-java#2449).
        return _not_authorized(now, "Access Token has been revoked", "cognito-token-revoked", "origin_jti")
    if SIGNIN_SCOPE not in str(claims.get("scope", "")).split():
        # wire-reference "Cognito API" (amplify-js#1906).
        return _not_authorized(now, "Access Token does not have required scopes", "cognito-missing-scope", "scope")
    return pool, str(claims.get("username", ""))


def _get_user(body: dict[str, Any], cfg: GatewayConfig, now: float) -> Handled:
    checked = _access_token_user(body, cfg, now)
    if isinstance(checked[0], Reply):
        return checked
    pool, username = checked
    user = pool.users[username]
    attrs = [{"Name": "sub", "Value": user.sub}, {"Name": "email_verified", "Value": "true"}]
    attrs.append({"Name": "email", "Value": user.email})
    return r.idp_ok(now, {"UserAttributes": attrs, "Username": user.username}), None


def _global_sign_out(body: dict[str, Any], cfg: GatewayConfig, now: float) -> Handled:
    checked = _access_token_user(body, cfg, now)
    if isinstance(checked[0], Reply):
        return checked
    pool, username = checked
    pool.global_sign_out(username)
    return r.idp_ok(now, {}), None


def _revoke_token(body: dict[str, Any], cfg: GatewayConfig, now: float) -> Handled:
    found = _find_client(cfg, str(body.get("ClientId", "")))
    if found is not None:
        found[0].revoke_refresh_token(str(body.get("Token", "")))
    return r.idp_ok(now, {}), None


_OPERATIONS = {
    "InitiateAuth": _initiate_auth,
    "GetUser": _get_user,
    "GlobalSignOut": _global_sign_out,
    "RevokeToken": _revoke_token,
}


def handle_idp(req: Request, cfg: GatewayConfig, now: float) -> Handled:
    if req.method == "GET":
        match = _WELL_KNOWN.match(req.path)
        pool = cfg.pools.get(match.group(1)) if match else None
        if match is None or pool is None:
            return r.idp_json(now, 404, None), None
        if match.group(2) == "jwks.json":
            return r.idp_json(now, 200, pool.jwks()), None
        return r.idp_json(
            now,
            200,
            {"issuer": pool.issuer, "jwks_uri": f"{pool.issuer}/.well-known/jwks.json"},
        ), None
    target = req.header("x-amz-target") or ""
    op = _OPERATIONS.get(target.removeprefix(_TARGET_PREFIX)) if target.startswith(_TARGET_PREFIX) else None
    if op is None:
        # Not in the reference: the generic AWS JSON-protocol answer for an unknown operation.
        return _idp_refusal(now, "UnknownOperationException", f"Unknown operation {target}", "unexplained", "target")
    try:
        body = json.loads(req.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _idp_refusal(now, "SerializationException", "Request body is not a JSON object", "unexplained", "body")
    return op(body, cfg, now)
