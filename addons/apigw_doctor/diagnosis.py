"""Pipeline step 6, Diagnosis: rank the gateway's signal and the failing checks into one primary cause."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import conversation
from .causes import API_COMMANDS, CATALOGUE
from .checks import CheckContext
from .conversation import LineageFacts
from .definition_rules import describe_expectations
from .model import STRIPPED, Alternative, Confidence, Diagnosis, Finding
from .pools import split_cognito_issuer
from .signals import GENERIC, Signal
from .timefmt import ago, clock, utc
from .tokens import token_summary

_STRIPPED_NOTE = (
    "this HAR was exported without credentials (Chrome's default, sanitized export drops Authorization and "
    "cookies), so the token cannot be checked: export again with sensitive data and analyse it locally, or "
    "decode the token with `apigw-doctor token`"
)
_LOWER: dict[Confidence, Confidence] = {"high": "medium", "medium": "low", "low": "low"}
_COGNITO_SURFACES = ("cognito-oauth", "cognito-idp")
_COGNITO_UNEXPLAINED = "Amazon Cognito refused the request, for a reason not recognised here"
_QUOTE_LIMIT = 300


@dataclass(slots=True)
class FlowFacts:
    """What the engine saw of the flow besides the pipeline values (for the verdict's wording)."""

    method: str
    path: str
    local_time: float  # the proxy's clock when the request was sent
    origin: bool  # the request came from a browser page (Origin header)
    lineage: LineageFacts | None = None  # what the rest of the conversation says about this flow's token


def diagnose(
    ctx: CheckContext, findings: tuple[Finding, ...], signal: Signal | None, facts: FlowFacts
) -> Diagnosis | None:
    """The verdict for one flow, or None when it neither failed nor earned a warning."""
    warnings = _warnings(ctx, signal, facts)
    if signal is None:
        if not warnings:
            return None
        lines = conversation.warning_lines(facts.lineage, warnings, ctx.now)
        return _build(ctx, findings, None, "No failure", "", lines, facts, warnings)

    choice = _choose(ctx, findings, signal)
    evidence = _evidence(ctx, findings, signal, choice.lead, facts)
    summary = _summary(choice, ctx, signal, facts)
    # The conversation reads the wire's answer (route-not-found / sigv4-expected) itself; a route that took signed
    # calls earlier is an IAM method, not a lost deployment, so its successes do not count for that story.
    wire_cause = signal.cause if choice.cause == "stage-not-deployed" and signal.cause != GENERIC else choice.cause
    route = ctx.route
    successes = route.successes if route is not None and "sigv4" not in route.credential_kinds else 0
    story = conversation.story_cause(
        wire_cause, choice.confidence, facts.lineage, ctx.reply, ctx.target, facts.method, ctx.now,
        successes, ctx.credential.kind,
    )  # fmt: skip
    if story is not None and story.cause in CATALOGUE:
        summary = story.summary if story.cause != choice.cause else f"{story.summary}; {summary}"
        if story.cause != choice.cause:  # the conversation explains the answer: the wire's alternatives no longer apply
            choice.alternatives = ()
        choice.cause, choice.confidence = story.cause, story.confidence  # type: ignore[assignment]
        if choice.alternatives and choice.confidence == "high":
            choice.confidence = "medium"
        evidence[1:1] = story.evidence
    return _build(ctx, findings, choice, CATALOGUE[choice.cause].title, summary, evidence, facts, warnings)


@dataclass(slots=True)
class _Choice:
    """The primary cause, and the causes the same answer could also mean (cause, confidence, what tells them apart)."""

    cause: str
    confidence: Confidence
    lead: Finding | None = None
    alternatives: tuple[tuple[str, Confidence, str], ...] = ()
    tell: str = ""  # one sentence for the summary: what to check first
    also: tuple[str, ...] = ()  # other failing checks' causes, in the profile's order (combined failures)


_ROUTE_TELL = "whether the route is in the API definition: if it is, the stage lacks a deployment of it"
_IAM_TELL = "whether the method's authorization type is AWS_IAM (get-method: authorizationType)"
_STAGE_TELL = "whether the route exists in the API definition (get-resources / get-routes)"


def _choose(ctx: CheckContext, findings: tuple[Finding, ...], signal: Signal) -> _Choice:
    choice = _rank(ctx, findings, signal)
    dropped = ctx.credential.location == STRIPPED  # the export dropped the credential: its absence proves nothing
    route_gone = choice.cause in ("route-not-found", "stage-not-deployed") and _route_answered_before(ctx)
    if dropped and (choice.cause == "missing-credential" or route_gone):
        return _Choice("unexplained", "low")
    named = {choice.cause, *(a[0] for a in choice.alternatives)}
    extra = tuple((code, "low", how) for code, how in signal.also if code not in named and code in CATALOGUE)
    choice.alternatives += extra  # type: ignore[assignment]
    if choice.alternatives and choice.confidence == "high":
        choice.confidence = "medium"  # high means every alternative was ruled out
    failing = {f.cause for f in findings if f.result == "fail" and f.cause and f.cause != choice.cause}
    choice.also = tuple(c for c in ctx.profile.ranking if c in failing) + tuple(
        sorted(failing - set(ctx.profile.ranking))
    )
    return choice


def _rank(ctx: CheckContext, findings: tuple[Finding, ...], signal: Signal) -> _Choice:
    failing = {f.cause: f for f in reversed(findings) if f.result == "fail" and f.cause}
    if signal.decided:  # the API definition already told the look-alike causes apart (definition_rules.py)
        return _Choice(signal.cause, signal.confidence, failing.get(signal.cause))
    if signal.cause == "cognito-token-revoked" and "token-expired" in failing:
        return _Choice("cognito-token-expired", "high", failing["token-expired"])  # userInfo: expired, not revoked
    if signal.cause == "sigv4-expected" and ctx.credential.kind != "sigv4":
        return _sigv4_front_door(ctx, signal)
    if signal.cause == "route-not-found":
        return _no_route(ctx, signal, failing)
    if signal.cause == "api-key-rejected":
        return _forbidden(ctx, signal)
    if (
        ctx.expectations.authorizer == "iam"
        and signal.cause in ("authorizer-denied", GENERIC)
        and ctx.reply.status == 403
    ):
        return _iam_forbidden(ctx, failing)
    if signal.cause != GENERIC:
        return _Choice(signal.cause, signal.confidence, failing.get(signal.cause))
    for cause in ctx.profile.ranking:
        if cause in failing:
            lead = failing[cause]
            confidence = lead.confidence
            if cause == "token-expired" and ctx.reply.date is None:
                confidence = _LOWER[confidence]  # judged by the proxy's clock, not the gateway's
            if signal.customised or signal.confidence == "low":
                confidence = _LOWER[confidence]
            return _Choice(cause, confidence, lead)
    if signal.fallback:
        return _Choice(signal.fallback, signal.confidence)
    if ctx.credential.location == STRIPPED:
        return _Choice("unexplained", "low")
    return _Choice("authorizer-rejected", ctx.profile.fallback_confidence)


def _jwt_method(ctx: CheckContext) -> bool:
    """The user said the method reads tokens, or tokens from a pool succeeded on this API earlier."""
    return ctx.expectations.authorizer in ("cognito", "jwt", "lambda", "none") or bool(ctx.api and ctx.api.issuers)


def _sigv4_front_door(ctx: CheckContext, signal: Signal) -> _Choice:
    """The SigV4 parse texts: an unknown route or undeployed stage, or an IAM method, answer them byte for byte."""
    if ctx.expectations.authorizer == "iam":
        return _Choice("sigv4-expected", signal.confidence)  # the user says the method uses IAM: a fact
    if _route_answered_before(ctx) and ctx.credential.location != STRIPPED:  # (stripped: what worked is unknown)
        assert ctx.route is not None
        if "sigv4" in ctx.route.credential_kinds:  # signed calls worked here: an IAM method
            return _Choice("sigv4-expected", signal.confidence,
                           tell="this method and path took SigV4-signed calls earlier in this capture")  # fmt: skip
        return _Choice(
            "stage-not-deployed",
            "medium",
            alternatives=(("sigv4-expected", "low", _IAM_TELL),),
            tell="this method and path answered earlier in this capture, so the deployed stage changed: compare the "
            "stage's deployment with the definition; then " + _IAM_TELL,
        )
    if _jwt_method(ctx) and not (ctx.api and "sigv4" in ctx.api.credential_kinds):
        why = "apigw_authorizer" if ctx.expectations.authorizer != "auto" else "earlier token calls to this API"
        return _Choice(
            "route-not-found",
            "medium",
            alternatives=(("stage-not-deployed", "medium", _ROUTE_TELL), ("sigv4-expected", "low", _IAM_TELL)),
            tell=f"the method reads tokens ({why}), so this SigV4 answer means the gateway found no such route: check "
            "the URL and stage first; then " + _ROUTE_TELL,
        )
    return _Choice(
        "sigv4-expected",
        "medium",
        alternatives=(("route-not-found", "medium", _IAM_TELL), ("stage-not-deployed", "low", _ROUTE_TELL)),
        tell="an unknown route or stage and an AWS_IAM method answer alike: check the URL and stage first; then "
        + _IAM_TELL,
    )


def _no_route(ctx: CheckContext, signal: Signal, failing: dict[str, Finding]) -> _Choice:
    """Missing Authentication Token (REST) or 404 Not Found (HTTP API)."""
    unsigned = "missing-credential" in failing and ctx.reply.status == 403
    if _route_answered_before(ctx):
        assert ctx.route is not None
        if unsigned and "sigv4" in ctx.route.credential_kinds:  # an IAM method called unsigned
            return _Choice("missing-credential", "medium", failing["missing-credential"],
                           alternatives=(("stage-not-deployed", "low", _STAGE_TELL),))  # fmt: skip
        return _Choice(
            "stage-not-deployed",
            "medium",
            alternatives=(("missing-credential", "low", _IAM_TELL),) if unsigned else (),
            tell="this method and path answered earlier in this capture, so the deployed stage changed since",
        )
    if unsigned and ctx.expectations.authorizer == "iam":
        return _Choice("missing-credential", "medium", failing["missing-credential"],
                       alternatives=(("route-not-found", "medium", "whether a signed request reaches the method"),),
                       tell="the method uses IAM (apigw_authorizer): sign the request with SigV4")  # fmt: skip
    alternatives: tuple[tuple[str, Confidence, str], ...] = (("stage-not-deployed", "low", _ROUTE_TELL),)
    if unsigned and ctx.expectations.authorizer == "auto":
        alternatives += (("missing-credential", "low", _IAM_TELL + ": an AWS_IAM method called unsigned"),)
    return _Choice("route-not-found", signal.confidence, alternatives=alternatives)


def _forbidden(ctx: CheckContext, signal: Signal) -> _Choice:
    """REST 403 Forbidden: a rejected API key only when one was sent; else WAF, private DNS or a required key."""
    key_tell = "whether the method requires an API key (get-method: apiKeyRequired)"
    if ctx.credential.api_key_sent:
        return _Choice("api-key-rejected", signal.confidence,
                       alternatives=(("gateway-forbidden", "low", "the WAF web ACL's sampled requests"),))  # fmt: skip
    return _Choice(
        "gateway-forbidden",
        "medium",
        alternatives=(("api-key-rejected", "medium", key_tell),),
        tell="no x-api-key was sent: if the method requires an API key, that is the cause; otherwise WAF or a VPC "
        "endpoint's private DNS",
    )


def _iam_forbidden(ctx: CheckContext, failing: dict[str, Finding]) -> _Choice:
    """A 403 on a method the user says uses IAM (apigw_authorizer=iam): the IAM causes, never a Lambda authorizer."""
    kind = ctx.credential.kind
    if kind == "sigv4":
        return _Choice("iam-denied", "medium", failing.get("iam-denied"),
                       alternatives=(("resource-policy-denied", "low", "the API's resource policy"),))  # fmt: skip
    if kind in ("missing", "api-key"):
        return _Choice("missing-credential", "high", failing.get("missing-credential"))
    return _Choice("sigv4-expected", "high", tell="the method uses IAM (apigw_authorizer): sign the request with SigV4")


def _route_answered_before(ctx: CheckContext) -> bool:
    """The same method and path succeeded earlier, so "Missing Authentication Token" cannot mean a wrong route."""
    return ctx.route is not None and ctx.route.successes > 0


def _summary(choice: _Choice, ctx: CheckContext, signal: Signal, facts: FlowFacts) -> str:
    text = _main_summary(choice, ctx, signal, facts)
    extra = []
    if choice.tell:
        extra.append(choice.tell)
    if choice.alternatives:
        extra.append("also possible: " + ", ".join(f"{c} (tell apart by {tell})" for c, _, tell in choice.alternatives))
    return "; ".join([text, *extra]) if text else "; ".join(extra)


def _main_summary(choice: _Choice, ctx: CheckContext, signal: Signal, facts: FlowFacts) -> str:
    cause, lead, token = choice.cause, choice.lead, ctx.token
    if cause in ("token-expired", "cognito-token-expired") and token is not None:
        exp = token.claims.get("exp")
        if isinstance(exp, int | float):
            by = "the gateway's clock" if ctx.reply.date is not None else "the proxy's clock"
            stamp = f"exp {clock(exp)}, {'Date' if ctx.reply.date else 'sent'} {clock(ctx.now)}"
            if exp <= ctx.now:
                text = f"the token expired {ago(ctx.now - exp)} before the request by {by} ({stamp})"
            else:
                text = f"the gateway says the token has expired, yet exp is {ago(exp - ctx.now)} after {by} ({stamp})"
            return text + _clock_offset(ctx, facts, "; ")
    parts = []
    if cause == "unexplained" and ctx.target.surface in _COGNITO_SURFACES:
        parts.append(_cognito_words(ctx))
    elif signal.cause != GENERIC and signal.note:
        parts.append(signal.note)  # the gateway's own words name the cause: say that first
    if ctx.credential.location == STRIPPED and cause == "unexplained":
        parts.append(_STRIPPED_NOTE)
    if lead is not None:
        parts.append(f"{lead.id}: expected {lead.expected}, got {lead.actual}")
        if lead.note:
            parts.append(lead.note)
    if choice.also:
        parts.append("also failing: " + ", ".join(choice.also))
    if parts:
        return "; ".join(parts)
    if choice.tell:
        return ""
    if signal.note:
        return signal.note
    return _fill(CATALOGUE[cause].explanation, _fill_values(ctx))


def _cognito_words(ctx: CheckContext) -> str:
    """Cognito answered, not API Gateway: name it and quote its own words (bounded, printable)."""
    reply = ctx.reply
    error = reply.cognito_type or reply.error_type or reply.oauth_error or ""
    message = "".join(ch for ch in (reply.message or "") if ch.isprintable())[:_QUOTE_LIMIT]
    said = f'{error}: "{message}"' if message else error or "no error text"
    return f"Amazon Cognito ({ctx.target.host}) answered {reply.status} {said}"


def _clock_offset(ctx: CheckContext, facts: FlowFacts, prefix: str) -> str:
    if ctx.reply.date is None:
        return ""
    offset = facts.local_time - ctx.reply.date
    if abs(offset) < 2:  # Date has one-second resolution
        return ""
    return f"{prefix}your clock is {ago(offset)} {'ahead' if offset > 0 else 'behind'}"


def _evidence(
    ctx: CheckContext, findings: tuple[Finding, ...], signal: Signal, lead: Finding | None, facts: FlowFacts
) -> list[str]:
    reply = ctx.reply
    lines = [f"gateway answered {reply.status} {reply.error_type or ''} {_body_text(ctx)}".replace("  ", " ").strip()]
    if signal.note:
        lines.append(signal.note)
    if signal.cause == "route-not-found" and ctx.route is not None and ctx.route.successes:
        kinds = ", ".join(sorted(ctx.route.credential_kinds))
        calls = "call" if ctx.route.successes == 1 else "calls"
        lines.append(
            f"{ctx.route.successes} earlier {calls} to {facts.method} {facts.path} succeeded (credential: {kinds})"
        )
    if signal.customised:
        lines.append("the body is not API Gateway's default text: a customised gateway response")
    if "error_description" in reply.www_authenticate:
        lines.append(f'www-authenticate: error_description="{reply.www_authenticate["error_description"]}"')
    for finding in findings:
        if finding.result in ("fail", "warn"):
            line = f"{finding.id} {finding.result}: expected {finding.expected}, actual {finding.actual}"
            lines.append(line + (f" ({finding.note})" if finding.note else ""))
    lines.extend(ctx.definition_evidence)
    if ctx.definition is not None:
        lines.extend(describe_expectations(ctx.expectations, ctx.definition))
    if ctx.token is not None and not ctx.token.problems and not ctx.token.encrypted:
        claims = ctx.token.claims
        kind = claims.get("token_use") or "JWT"
        times = ", ".join(
            f"{name} {utc(claims[name])}" for name in ("iat", "exp") if isinstance(claims.get(name), int | float)
        )
        lines.append(f"token: {kind}, iss {claims.get('iss')}, {times}".rstrip(", "))
    if reply.date is not None:
        lines.append(f"gateway clock (Date) {utc(reply.date)}" + _clock_offset(ctx, facts, "; "))
    for name, value in reply.request_ids.items():
        lines.append(f"{name}: {value}")
    return lines


def _body_text(ctx: CheckContext) -> str:
    reply = ctx.reply
    if reply.oauth_error:
        return json.dumps({"error": reply.oauth_error}, separators=(",", ":"))
    if reply.has_message_key:
        return json.dumps({"message": reply.message}, ensure_ascii=False, separators=(",", ":"))
    return "(empty body)" if reply.body_empty else ""


def _warnings(ctx: CheckContext, signal: Signal | None, facts: FlowFacts) -> list[str]:
    warnings = (
        conversation.warnings(facts.lineage, ctx.reply.status, ctx.target.surface, ctx.now) if signal is None else []
    )
    gateway = ctx.target.surface in ("rest", "http", "custom", "websocket")
    if gateway and facts.origin and 400 <= ctx.reply.status < 500 and not ctx.reply.cors:
        warnings.append("cors-headers-missing")
    if signal is None and 200 <= ctx.reply.status < 300 and ctx.token is not None and not ctx.token.problems:
        exp = ctx.token.claims.get("exp")
        if isinstance(exp, int | float) and 0 < exp - ctx.now <= ctx.expectations.expiry_warning:
            warnings.append("expires-soon")
    return warnings


class _Fill(dict):
    def __missing__(self, key: str) -> str:
        return f"<{key.replace('_', '-')}>"


def _fill_values(ctx: CheckContext) -> dict[str, str]:
    values = {"header": ctx.expectations.identity_header.title()}
    target = ctx.target
    for key, value in (("api_id", target.api_id), ("region", target.region), ("stage", target.stage)):
        if value:
            values[key] = value
    if ctx.token is not None:
        if pool := split_cognito_issuer(ctx.token.issuer):
            values["pool"] = pool[1]
            values.setdefault("region", pool[0])
        client = ctx.token.claims.get("aud") or ctx.token.claims.get("client_id")
        if isinstance(client, str):
            values["client"] = client
    for key, (rest, http_api) in API_COMMANDS.items():
        values[key] = _fill(http_api if ctx.http_api else rest, values)
    return values


def _fill(text: str, values: Mapping[str, str]) -> str:
    try:
        # Values come from traffic (aud, the path's stage) and land in suggested shell commands: quoted.
        return text.format_map(_Fill({k: shlex.quote(v) for k, v in values.items()}))
    except (ValueError, IndexError, AttributeError):
        return text


def _build(
    ctx: CheckContext,
    findings: tuple[Finding, ...],
    choice: _Choice | None,
    title: str,
    summary: str,
    evidence: list[str],
    facts: FlowFacts,
    warnings: list[str],
) -> Diagnosis:
    values = _fill_values(ctx)
    fix: tuple[str, ...] = ()
    alternatives: tuple[Alternative, ...] = ()
    if choice is not None:
        entry = CATALOGUE[choice.cause]
        summary = summary or _fill(entry.explanation, values)
        fix = tuple(_fill(step, values) for step in entry.fix)
        if choice.cause == "unexplained" and ctx.target.surface in _COGNITO_SURFACES:
            title = _COGNITO_UNEXPLAINED
        alternatives = tuple(
            Alternative(code, CATALOGUE[code].title, confidence, tell)
            for code, confidence, tell in choice.alternatives
            if code in CATALOGUE
        )
    token: dict[str, Any] | None = None
    if ctx.token is not None and not ctx.token.problems:
        token = token_summary(ctx.token)
    return Diagnosis(
        cause=choice.cause if choice else None,
        confidence=choice.confidence if choice else None,
        title=title,
        summary=summary,
        evidence=tuple(evidence),
        fix=fix,
        checks=findings,
        target=ctx.target,
        token=token,
        warnings=tuple(warnings),
        lineage=conversation.metadata(facts.lineage),
        status=ctx.reply.status,
        method=facts.method,
        path=facts.path,
        alternatives=alternatives,
    )
