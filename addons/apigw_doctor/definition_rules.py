"""What an API definition (apigw_api_spec) changes in a verdict: the route's expectations, and the reading of
answers that only the definition can explain (stage not deployed, an unknown route, a required API key).

The definition is evidence about the API, not the API itself: where the traffic disagrees with it (a route the
definition says is open answers 401), the verdict says so and falls back to what the traffic shows.
"""

from __future__ import annotations

from dataclasses import replace

from .apidef import RouteMatch
from .knowledge import Expectations, Knowledge
from .model import Credential, Reply, Target, Token
from .signals import Signal

_PROFILE_AUTH = ("cognito", "jwt", "lambda", "iam", "none")


def route_for(knowledge: Knowledge, target: Target, method: str) -> RouteMatch | None:
    from .apidef import match_route

    if target.surface not in ("rest", "http", "custom", "websocket"):
        return None
    return match_route(knowledge.definitions, target.surface, target.host, target.api_id, method, target.path)


def where(match: RouteMatch) -> str:
    """'definition file:api.json GET /orders' or 'AWS (discover) abc123 GET /orders'."""
    source = match.source
    if source.startswith("aws "):
        return "AWS (discover) " + source.removeprefix("aws ")
    return "definition " + source


def expectations_for(knowledge: Knowledge, match: RouteMatch) -> Expectations:
    """The route's expectations in place of the options; the options stay where the definition says nothing."""
    route = match.route
    if route is None:
        return knowledge.expectations
    cached = knowledge.route_expectations.get(id(route))
    if cached is not None:
        return cached
    base = knowledge.expectations
    source = where(match)
    changes: dict[str, object] = {"route": route.key}
    sources: list[tuple[str, str]] = []

    def take(name: str, value: object) -> None:
        changes[name] = value
        sources.append((name, source))

    if route.auth in _PROFILE_AUTH:
        take("authorizer", route.auth)
    authorizer = route.authorizer
    if route.auth in ("cognito", "jwt"):
        take("scopes", route.scopes)  # empty: the method has no scopes (REST Cognito: ID tokens)
    elif route.auth in ("lambda", "iam", "none"):
        changes["scopes"] = ()
    if authorizer is not None:
        if authorizer.issuers:
            take("issuers", authorizer.issuers)
        if authorizer.kind == "jwt" and authorizer.audiences:
            take("audiences", authorizer.audiences)
        if authorizer.identity_header:
            take("identity_header", authorizer.identity_header)
        if problem := authorizer.identity_problem:
            take("identity_problem", f"{problem.raw} ({problem.problem})")
        if authorizer.validation_expression:
            take("validation_expression", authorizer.validation_expression)
        if authorizer.ttl is not None:
            take("cache_ttl", authorizer.ttl)
        changes["unresolved"] = authorizer.unresolved
    if route.api_key_required is not None:
        take("api_key_required", route.api_key_required)
    derived = replace(base, **changes, sources=tuple(sources))  # type: ignore[arg-type]
    knowledge.route_expectations[id(route)] = derived
    return derived


def describe_expectations(expectations: Expectations, match: RouteMatch | None) -> list[str]:
    """One line per expectation in force, each naming where it came from (for the verdict and the view)."""
    e = expectations
    lines = []
    if match is not None and match.route is not None:
        stage = f" (stage {match.stage})" if match.stage and match.stage != "$default" else ""
        lines.append(f"route: {match.route.key}{stage}, from {where(match)}")
    elif match is not None:
        lines.append(f"route: none in {match.source} for this request")
    if e.authorizer != "auto":
        lines.append(f"authorizer: {e.authorizer} ({e.source('authorizer')})")
    if e.issuers:
        lines.append(f"issuer: {' or '.join(e.issuers)} ({e.source('issuers')})")
    lines.extend(f"unknown offline: {u}" for u in e.unresolved)
    if e.audiences:
        lines.append(f"audience: {' or '.join(e.audiences)} ({e.source('audiences')})")
    if e.scopes or any(k == "scopes" for k, _ in e.sources):
        lines.append(
            f"scopes: {' '.join(e.scopes) or 'none (ID tokens on REST Cognito methods)'} ({e.source('scopes')})"
        )
    if e.identity_header != "authorization" or any(k == "identity_header" for k, _ in e.sources):
        lines.append(f"identity source: header {e.identity_header} ({e.source('identity_header')})")
    if e.identity_problem:
        lines.append(f"identity source problem: {e.identity_problem} ({e.source('identity_problem')})")
    if e.validation_expression:
        lines.append(f"token validation expression: {e.validation_expression} ({e.source('validation_expression')})")
    if e.api_key_required is not None:
        needed = "required" if e.api_key_required else "not required"
        lines.append(f"API key: {needed} ({e.source('api_key_required')})")
    if e.cache_ttl is not None:
        lines.append(f"authorizer cache TTL: {e.cache_ttl} s ({e.source('cache_ttl')})")
    return lines


def refine_signal(
    signal: Signal | None,
    match: RouteMatch | None,
    target: Target,
    reply: Reply,
    credential: Credential,
    method: str,
    token: Token | None = None,
) -> tuple[Signal | None, list[str]]:
    """The gateway's signal read with the definition in hand, and evidence lines on where the two disagree."""
    if signal is None or match is None:
        return signal, []
    evidence: list[str] = []
    route = match.route
    if signal.cause == "route-not-found" or (signal.cause == "sigv4-expected" and credential.kind != "sigv4"):
        # A token sent to a route the stage does not have also gets a SigV4 parse error (docs/wire-reference.md).
        return _not_found(signal, match, target, credential, method), evidence
    if signal.cause == "api-key-rejected" and route is not None and route.api_key_required is not None:
        return _api_key(signal, match, target, credential), evidence
    # HTTP API 403 to a JWT: with the route's scopes known, an unmet scope is no longer a guess.
    wanted = set(route.scopes) if route is not None and route.auth == "jwt" else set()
    if signal.fallback == "missing-scope" and wanted and token is not None and not set(token.scopes) & wanted:
        return replace(signal, confidence="high" if match.bound else "medium"), evidence
    if route is not None and route.auth == "none" and reply.status == 401:
        evidence.append(
            f"the definition ({where(match)}) has no authorizer on {route.key}, yet the gateway answered "
            "401: the deployed API differs from this definition (redeploy, or the definition is outdated)"
        )
    return signal, evidence


def _not_found(signal: Signal, match: RouteMatch, target: Target, credential: Credential, method: str) -> Signal:
    route = match.route
    confidence = "high" if match.bound else "medium"  # an unbound file may describe another API
    if route is None:
        guess = f"; did you mean {match.suggestion}?" if match.suggestion else ""
        note = f"No route {method} {target.path} in the definition ({match.source}){guess}"
        return replace(signal, cause="route-not-found", confidence=confidence, note=note, also=(), decided=True)
    if match.stage_known is False:
        stages = ", ".join(match.api.stages or ())
        note = (
            f"the definition has {route.key}, but stage {match.stage} is not one of the API's stages "
            f"({stages}): check the stage in the URL"
        )
        return replace(signal, cause="route-not-found", confidence=confidence, note=note, also=(), decided=True)
    if route.auth == "iam" and credential.kind in ("missing", "api-key"):
        note = (
            f"{route.key} uses IAM authorization ({where(match)}): an unsigned request gets this answer; "
            "sign it with SigV4"
        )
        return Signal("missing-credential", confidence, note, decided=True)
    if route.auth == "iam" and credential.kind != "sigv4":
        note = f"{route.key} uses IAM authorization ({where(match)}): send a SigV4 signature, not a token"
        return Signal("sigv4-expected", confidence, note, decided=True)
    if route.auth == "unknown":
        return signal
    note = (
        f"the definition has {route.key} ({where(match)}), but the stage answers as if it did not exist: the "
        "route was added or changed after the last deployment of this stage"
    )
    if match.stage_known is None and match.stage != match.api.exported_stage:
        # The definition does not say this stage exists (an export names only its own): a stage name that does not
        # exist at all gets the same answer, so the deployment is only the likelier reading.
        wrong_stage = ("route-not-found", f"whether stage {match.stage or '(none)'} exists: aws apigateway get-stages")
        return Signal("stage-not-deployed", "medium", note, also=(wrong_stage,), decided=True)
    return Signal("stage-not-deployed", confidence, note, decided=True)


def _api_key(signal: Signal, match: RouteMatch, target: Target, credential: Credential) -> Signal:
    route = match.route
    assert route is not None
    confidence = "high" if match.bound else "medium"
    if route.api_key_required and not credential.api_key_sent:
        note = f"{route.key} requires an API key ({where(match)}) and the request sent no x-api-key header"
        return Signal("api-key-rejected", confidence, note, decided=True)
    if route.api_key_required:
        plans = match.api.usage_plan_stages
        note = f"{route.key} requires an API key ({where(match)}); the x-api-key sent was not accepted"
        if plans is not None and match.api.api_id and target.stage:
            stage = f"{match.api.api_id}/{target.stage}"
            if stage in plans:
                note += f"; stage {target.stage} is in a usage plan, so the key itself is wrong, disabled or not in it"
            else:
                note += f"; no usage plan includes stage {target.stage}, so no key can work here yet"
        return Signal("api-key-rejected", confidence, note, also=signal.also, decided=True)
    note = (
        f"{route.key} requires no API key ({where(match)}): this 403 Forbidden comes from before the "
        "method (WAF, a VPC endpoint's private DNS, a disabled endpoint)"
    )
    return Signal("gateway-forbidden", "medium", note, also=signal.also, decided=True)


__all__ = ["describe_expectations", "expectations_for", "refine_signal", "route_for", "where"]
