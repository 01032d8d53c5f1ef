"""Pipeline step 6, Diagnosis: rank the gateway's signal and the failing checks into one primary cause."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import conversation
from .causes import CATALOGUE
from .checks import CheckContext
from .conversation import LineageFacts
from .definition_rules import describe_expectations
from .model import STRIPPED, Confidence, Diagnosis, Finding
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
        return _build(ctx, findings, None, None, "No failure", "", lines, facts, warnings)

    cause, confidence, lead = _choose(ctx, findings, signal)
    evidence = _evidence(ctx, findings, signal, lead, facts)
    summary = _summary(cause, ctx, lead, signal, facts)
    # Earlier successes count for "the route is gone" only with the same kind of credential: a Bearer token that
    # gets the SigV4 parse error on a route that worked when signed is an IAM method, not an undeployed one.
    route = ctx.route
    worked = route.successes if route is not None and ctx.credential.kind in route.credential_kinds else 0
    story = conversation.story_cause(
        cause, confidence, facts.lineage, ctx.reply, ctx.target, facts.method, ctx.now, worked, ctx.credential.kind,
    )  # fmt: skip
    if story is not None and story.cause in CATALOGUE:
        summary = story.summary if story.cause != cause else f"{story.summary}; {summary}"
        cause, confidence = story.cause, story.confidence  # type: ignore[assignment]
        evidence[1:1] = story.evidence
    return _build(ctx, findings, cause, confidence, CATALOGUE[cause].title, summary, evidence, facts, warnings)


def _choose(ctx: CheckContext, findings: tuple[Finding, ...], signal: Signal) -> tuple[str, Confidence, Finding | None]:
    cause, confidence, lead = _rank(ctx, findings, signal)
    dropped = ctx.credential.location == STRIPPED  # the export dropped the credential: its absence proves nothing
    if dropped and (cause == "missing-credential" or (cause == "route-not-found" and _route_answered_before(ctx))):
        return "unexplained", "low", None
    return cause, confidence, lead


def _rank(ctx: CheckContext, findings: tuple[Finding, ...], signal: Signal) -> tuple[str, Confidence, Finding | None]:
    failing = {f.cause: f for f in reversed(findings) if f.result == "fail" and f.cause}
    if signal.cause == "cognito-token-revoked" and "token-expired" in failing:
        return "cognito-token-expired", "high", failing["token-expired"]  # userInfo: expired rather than revoked
    if signal.cause == "route-not-found" and _route_answered_before(ctx) and "missing-credential" in failing:
        return "missing-credential", "medium", failing["missing-credential"]  # e.g. an IAM method called unsigned
    if signal.cause != GENERIC:
        return signal.cause, signal.confidence, failing.get(signal.cause)
    for cause in ctx.profile.ranking:
        if cause in failing:
            lead = failing[cause]
            confidence = lead.confidence
            if cause == "token-expired" and ctx.reply.date is None:
                confidence = _LOWER[confidence]  # judged by the proxy's clock, not the gateway's
            if signal.customised or signal.confidence == "low":
                confidence = _LOWER[confidence]
            return cause, confidence, lead
    if signal.fallback:
        return signal.fallback, signal.confidence, None
    if ctx.credential.location == STRIPPED:
        return "unexplained", "low", None
    return "authorizer-rejected", ctx.profile.fallback_confidence, None


def _route_answered_before(ctx: CheckContext) -> bool:
    """The same method and path succeeded earlier, so "Missing Authentication Token" cannot mean a wrong route."""
    return ctx.route is not None and ctx.route.successes > 0


def _summary(cause: str, ctx: CheckContext, lead: Finding | None, signal: Signal, facts: FlowFacts) -> str:
    token = ctx.token
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
    if signal.cause != GENERIC and signal.note:
        parts.append(signal.note)  # the gateway's own words name the cause: say that first
    if ctx.credential.location == STRIPPED and cause == "unexplained":
        parts.append(_STRIPPED_NOTE)
    if lead is not None:
        parts.append(f"{lead.id}: expected {lead.expected}, got {lead.actual}")
        if lead.note:
            parts.append(lead.note)
    if parts:
        return "; ".join(parts)
    if signal.note:
        return signal.note
    return _fill(CATALOGUE[cause].explanation, _fill_values(ctx))


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
    for code, how in signal.also:
        lines.append(f"also possible: {code} (low): {how}")
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
    cause: str | None,
    confidence: Confidence | None,
    title: str,
    summary: str,
    evidence: list[str],
    facts: FlowFacts,
    warnings: list[str],
) -> Diagnosis:
    values = _fill_values(ctx)
    fix: tuple[str, ...] = ()
    if cause is not None:
        entry = CATALOGUE[cause]
        summary = summary or _fill(entry.explanation, values)
        fix = tuple(_fill(step, values) for step in entry.fix)
    token: dict[str, Any] | None = None
    if ctx.token is not None and not ctx.token.problems:
        token = token_summary(ctx.token)
    return Diagnosis(
        cause=cause,
        confidence=confidence,
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
    )
