"""API Gateway REST and HTTP APIs and Lambda function URLs: routing, authorizers, and the answers they give."""

from __future__ import annotations

from dataclasses import replace

from . import responses as r
from . import sigv4
from .authorizer_cache import cached_authorizer, policy_cache
from .config import CustomDomain, FunctionUrl, GatewayConfig, HttpApi, HttpRoute, RestApi, RestRoute
from .request import Request
from .responses import Reply
from .verify import Refusal, Verified, cognito_rest, jwt_http, strip_bearer, verify_signed

Handled = tuple[Reply, Refusal | None]

SIGV4_PRINCIPAL = "iam"

_SIGV4_CAUSES = {
    "unsigned": "missing-credential",
    "missing-equal-sign": "sigv4-expected",
    "incomplete": "sigv4-expected",
    "unknown-key": "sigv4-bad-credentials",
    "wrong-region": "sigv4-signature-mismatch",
    "wrong-service": "sigv4-signature-mismatch",
    "expired": "sigv4-clock-skew",
    "not-yet-current": "sigv4-clock-skew",
    "mismatch": "sigv4-signature-mismatch",
}


def _is_preflight(req: Request) -> bool:
    return req.method == "OPTIONS" and req.header("access-control-request-method") is not None


def _principal(result: Verified) -> str:
    c = result.claims
    return str(c.get("cognito:username") or c.get("username") or c.get("sub") or "")


# --- SigV4 front door (REST) and IAM ------------------------------------------------------------------------


def _sigv4_check(req: Request, cfg: GatewayConfig, *, region: str, service: str, now: float) -> sigv4.Verification:
    return sigv4.verify(
        req.method,
        req.path,
        req.query,
        req.headers,
        req.body,
        keys=cfg.iam_keys,
        region=region,
        service=service,
        now=now,
    )


def _sigv4_reply(v: sigv4.Verification, authorization: str, now: float, *, service: str, edge: bool) -> Reply:
    match v.outcome:
        case "unsigned":
            return r.rest_missing_authentication_token(now, edge=edge)
        case "missing-equal-sign":
            return r.sigv4_missing_equal_sign(now, authorization, edge=edge)
        case "incomplete":
            return r.sigv4_incomplete(now, authorization, list(v.missing), edge=edge)
        case "unknown-key":
            return r.sigv4_invalid_security_token(now, edge=edge)
        case "wrong-region":
            return r.sigv4_bad_scope(
                now, f"Credential should be scoped to a valid region, not '{v.region}'.", edge=edge
            )
        case "wrong-service":
            return r.sigv4_bad_scope(now, f"Credential should be scoped to correct service: '{service}'.", edge=edge)
        case "expired":
            return r.sigv4_signature_expired(now, v.request_date, edge=edge)
        case "not-yet-current":
            return r.sigv4_signature_not_yet_current(now, v.request_date, edge=edge)
        case _:
            return r.sigv4_signature_mismatch(now, edge=edge)


def _front_door(req: Request, api: RestApi, cfg: GatewayConfig, now: float, why: str) -> Handled:
    """No such stage/resource/method (wire-reference "SigV4 and unknown routes"): unsigned => Missing Authentication
    Token, else the SigV4 texts."""
    preflight = _is_preflight(req)
    base = Refusal("cors-preflight-blocked" if preflight else "route-not-found", "route", why)
    v = _sigv4_check(req, cfg, region=api.region, service="execute-api", now=now)
    if v.outcome in ("unsigned", "ok"):
        # A correctly signed call to a missing resource is not in the reference; we answer as for an unsigned one.
        return r.rest_missing_authentication_token(now, edge=api.edge), base
    authorization = req.header("authorization") or ""
    cause = _SIGV4_CAUSES[v.outcome]
    also = ("route-not-found",) if not preflight else ("route-not-found", "cors-preflight-blocked")
    reply = _sigv4_reply(v, authorization, now, service="execute-api", edge=api.edge)
    return reply, Refusal(cause, f"sigv4:{v.outcome}", f"{why}; the SigV4 front door parsed the header", also)


def _iam(req: Request, api: RestApi, cfg: GatewayConfig, now: float) -> Handled | None:
    v = _sigv4_check(req, cfg, region=api.region, service="execute-api", now=now)
    if v.outcome == "ok":
        return None
    reply = _sigv4_reply(v, req.header("authorization") or "", now, service="execute-api", edge=api.edge)
    return reply, Refusal(_SIGV4_CAUSES[v.outcome], f"sigv4:{v.outcome}", "AWS_IAM method")


# --- REST API -----------------------------------------------------------------------------------------------


def _lambda_token_authorizer(req: Request, api: RestApi, cfg: GatewayConfig, now: float) -> Handled | None:
    """A simulated TOKEN authorizer. `deny` => Deny policy, `error` => it crashes, a valid pool JWT => Allow
    (unless its user is in `lambda_rejects`), anything else => it throws "Unauthorized" (wire-reference "REST Lambda
    authorizers")."""
    value = req.header("authorization")
    edge = api.edge
    if not value:
        # wire-reference "REST Lambda authorizers": identity source missing => 401 without invoking the authorizer.
        return r.rest_unauthorized(now, edge=edge), Refusal("missing-credential", "identity-source", "not invoked")
    token = strip_bearer(value)
    if token == "deny":
        return r.rest_explicit_deny(now, edge=edge), Refusal("authorizer-denied", "lambda", "policy Effect Deny")
    if token == "error":
        return r.rest_authorizer_configuration_error(now, edge=edge), Refusal(
            "authorizer-error", "lambda", "the authorizer raised an exception"
        )
    result = verify_signed(value, issuers=api.issuers, keyring=cfg.keyring, now=now)
    if isinstance(result, Refusal):
        refusal = Refusal(
            result.cause,
            f"lambda:{result.check}",
            f"the authorizer said Unauthorized: {result.detail}",
            ("authorizer-rejected",),
        )
        return r.rest_unauthorized(now, edge=edge), refusal
    if _principal(result) in api.lambda_rejects:
        refusal = Refusal(
            "authorizer-rejected", "lambda", f"valid token, but the authorizer rejects {_principal(result)}"
        )
        return r.rest_unauthorized(now, edge=edge), refusal
    return None


def _rest_route(api: RestApi, method: str, resource: str) -> tuple[RestRoute | None, bool]:
    """(route, resource exists with another method)."""
    routes = [rt for rt in api.routes if rt.path == resource]
    match = next((rt for rt in routes if rt.method in (method, "ANY")), None)
    return match, bool(routes)


def handle_rest(req: Request, api: RestApi, cfg: GatewayConfig, now: float) -> Handled:
    edge = api.edge
    if api.waf_body_limit is not None and len(req.body) > api.waf_body_limit:
        # WAF evaluates before API Gateway routes the request; its default block answer is 403 Forbidden
        # (docs/wire-reference.md, "Keys, policies, WAF, CORS").
        detail = f"SizeRestrictions_BODY: {len(req.body)} bytes > {api.waf_body_limit}"
        return r.rest_forbidden(now, edge=edge), Refusal("waf-blocked", "waf", detail)
    stage, _, rest = req.path.lstrip("/").partition("/")
    resource = "/" + rest
    if stage not in api.stages:
        return _front_door(req, api, cfg, now, f"no stage {stage!r}")
    route, resource_exists = _rest_route(api, req.method, resource)
    if route is None:
        why = f"no method {req.method} on {resource}" if resource_exists else f"no resource {resource}"
        return _front_door(req, api, cfg, now, why)

    principal = ""
    if route.auth == "cognito":
        result = cognito_rest(
            req.header("authorization"), issuers=api.issuers, keyring=cfg.keyring, scopes=route.scopes, now=now
        )
        if isinstance(result, Refusal):
            if result.cause == "token-expired":
                return r.rest_token_expired(now, edge=edge), result
            return r.rest_unauthorized(now, edge=edge), result
        principal = _principal(result)
    elif route.auth == "lambda":
        refused = _lambda_token_authorizer(req, api, cfg, now)
        if refused:
            return refused
    elif route.auth == "lambda-cached":
        refused = cached_authorizer(req, api, cfg, policy_cache(cfg), stage, resource, now)
        if refused:
            return refused
    elif route.auth == "iam":
        refused = _iam(req, api, cfg, now)
        if refused:
            return refused
        principal = SIGV4_PRINCIPAL

    if route.api_key and req.header("x-api-key") not in cfg.api_keys:
        detail = "no x-api-key header" if req.header("x-api-key") is None else "x-api-key is not a valid key"
        return r.rest_forbidden(now, edge=edge), Refusal("api-key-rejected", "api-key", detail)
    payload = {"ok": True, "api": api.api_id, "stage": stage, "resource": resource, "principal": principal}
    return r.rest_ok(now, payload, edge=edge), None


def handle_custom_domain(req: Request, domain: CustomDomain, cfg: GatewayConfig, now: float) -> Handled:
    """A base path mapping picks the API and stage, which are not in the path (docs/wire-reference.md, "Host names");
    a path no mapping matches answers 403 Forbidden (github.com/Miserlou/django-zappa/issues/100)."""
    base, _, rest = req.path.lstrip("/").partition("/")
    mapping = next((m for m in domain.mappings if m[0] == base), None)
    api = next((a for a in cfg.rest_apis if mapping and a.api_id == mapping[1]), None)
    if mapping is None or api is None:
        detail = f"no API mapping for base path {base!r} on {domain.name}"
        return r.rest_forbidden(now), Refusal("custom-domain-unmapped", "base-path", detail)
    return handle_rest(replace(req, path=f"/{mapping[2]}/{rest}"), api, cfg, now)


# --- HTTP API -----------------------------------------------------------------------------------------------


def _http_route(api: HttpApi, method: str, path: str) -> HttpRoute | None:
    for rt in api.routes:
        verb, _, rpath = rt.route_key.partition(" ")
        if rpath == path and verb in (method, "ANY"):
            return rt
    return next((rt for rt in api.routes if rt.route_key == "$default"), None)


def handle_http(req: Request, api: HttpApi, cfg: GatewayConfig, now: float) -> Handled:
    route = _http_route(api, req.method, req.path)
    if route is None:
        return r.http_not_found(now), Refusal("route-not-found", "route", f"no route matches {req.method} {req.path}")
    principal = ""
    if route.auth == "jwt":
        result = jwt_http(
            req.header("authorization"),
            issuer=api.issuer,
            audiences=api.audiences,
            scopes=route.scopes,
            keyring=cfg.keyring,
            now=now,
        )
        if isinstance(result, Refusal):
            if _is_preflight(req) and route.route_key == "$default":
                result = Refusal(
                    "cors-preflight-blocked",
                    result.check,
                    "the $default route's authorizer caught the OPTIONS preflight",
                    (result.cause,),
                )
            if result.cause == "missing-scope":
                return r.http_forbidden(now), result  # unconfirmed on AWS, see responses.http_forbidden
            if result.cause == "wrong-audience":
                return r.http_unauthorized(now, www_authenticate=r.AUDIENCE_CHALLENGE), result
            return r.http_unauthorized(now), result
        principal = _principal(result)
        groups = result.claims.get("cognito:groups") or []
        if route.backend_group is not None and route.backend_group not in groups:
            detail = f"the integration requires group {route.backend_group!r}"
            return r.http_backend_unauthorized(now), Refusal("backend-rejected", "integration", detail)
    payload = {"ok": True, "api": api.api_id, "routeKey": route.route_key, "principal": principal}
    return r.http_ok(now, payload), None


# --- Lambda function URL ------------------------------------------------------------------------------------


def handle_function_url(req: Request, fn: FunctionUrl, cfg: GatewayConfig, now: float) -> Handled:
    if fn.auth_type == "AWS_IAM":
        v = _sigv4_check(req, cfg, region=fn.region, service="lambda", now=now)
        if v.outcome != "ok":
            # The reference documents one answer for every function-URL auth failure (wire-reference "Lambda function
            # URLs").
            return r.function_url_forbidden(now), Refusal(_SIGV4_CAUSES[v.outcome], f"sigv4:{v.outcome}", "AWS_IAM")
    return r.function_url_ok(now, {"ok": True, "function": fn.url_id}), None
