"""The engine: runs the pipeline steps for one flow. Shared by the addon and the CLI; holds no mitmproxy state."""

from __future__ import annotations

from dataclasses import replace

from mitmproxy import http

from . import conversation
from .baseline import ApiBaseline
from .bounds import printable_diagnosis
from .checks import CheckContext, check_expiry
from .definition_rules import refine_signal
from .diagnosis import FlowFacts, diagnose
from .identity_pool import judge as judge_identity_call
from .knowledge import Expectations, Knowledge
from .model import METADATA_KEY, Credential, Diagnosis, Finding, Profile, Reply, Target, Token
from .pools import split_cognito_issuer
from .profiles import PROFILES
from .reading import FlowReading, header_dict, read_reply_side, read_request, watched
from .signals import Signal, read_signal

__all__ = ["choose_profile", "diagnose_flow", "header_dict", "learn_from_flow", "observe_flow", "watched"]

_COGNITO_SURFACES = ("cognito-oauth", "cognito-idp", "cognito-identity")
# How far the proxy's clock may be from the gateway's before the success fast path could miss a warning: the
# 5 minutes API Gateway itself tolerates for SigV4 (wire-reference "SigV4 and unknown routes"). Much more would send
# every 1-hour token down the slow path.
_CLOCK_SLACK = 300


def diagnose_flow(flow: http.HTTPFlow, knowledge: Knowledge, *, credentials_stripped: bool = False) -> Diagnosis | None:
    """The verdict for a flow to a watched host, or None (unwatched, no response, or nothing to say).

    `credentials_stripped`: the capture removed Authorization and cookies (a sanitized HAR), so a missing
    credential proves nothing.
    """
    seen = _read_request(flow, knowledge, credentials_stripped)
    if seen is None:
        return None
    facts = conversation.observe(flow, knowledge.lineage, seen, record=False)  # look up, record nothing
    if facts is not None:  # a re-analysis: the flow keeps the number it had when it was first seen
        linked = (flow.metadata.get(METADATA_KEY) or {}).get("lineage")
        facts.number = linked.get("flow", 0) if isinstance(linked, dict) else 0
    return _diagnose(flow, knowledge, read_reply_side(flow, seen), facts)


def observe_flow(flow: http.HTTPFlow, knowledge: Knowledge, *, credentials_stripped: bool = False) -> Diagnosis | None:
    """What the addon and `analyze` do for each flow, in order: diagnose it, and learn from it if it succeeded.

    Each call is one flow of the conversation: it gets the next number ("flow #12") and feeds the token lineage.
    """
    knowledge.lineage.flows += 1
    seen = _read_request(flow, knowledge, credentials_stripped)
    if seen is None:
        return None
    assert flow.response is not None
    facts = conversation.observe(flow, knowledge.lineage, seen)
    if 200 <= flow.response.status_code < 300 and seen.target.surface not in _COGNITO_SURFACES:
        _learn(knowledge, flow.request.method, seen)
        if not _may_expire_soon(seen.token, flow.request.timestamp_start, knowledge) and (
            facts is None or not conversation.needs_diagnosis(facts)
        ):
            return None  # the common case, kept cheap: a success with nothing to warn about
    return _diagnose(flow, knowledge, read_reply_side(flow, seen), facts)


def learn_from_flow(flow: http.HTTPFlow, knowledge: Knowledge) -> None:
    """Remember what a successful call to a watched API sent, as the baseline for later failures."""
    seen = _read_request(flow, knowledge, False)
    ok = flow.response is not None and 200 <= flow.response.status_code < 300
    if seen is not None and ok and seen.target.surface not in _COGNITO_SURFACES:
        _learn(knowledge, flow.request.method, seen)


def _read_request(flow: http.HTTPFlow, knowledge: Knowledge, credentials_stripped: bool) -> FlowReading | None:
    if flow.response is None:
        return None
    return read_request(flow, knowledge, credentials_stripped=credentials_stripped)


def _diagnose(
    flow: http.HTTPFlow, knowledge: Knowledge, seen: FlowReading, facts: conversation.LineageFacts | None
) -> Diagnosis | None:
    expectations, target, credential, token, reply = (
        seen.expectations or knowledge.expectations,
        seen.target,
        seen.credential,
        seen.token,
        seen.reply,
    )
    assert reply is not None
    method = flow.request.method.upper()
    api_key = _api_key(target)
    baseline = knowledge.baseline
    api, route = baseline.api(api_key), baseline.route(_route_key(api_key, method, target))
    answered_before = route is not None and route.successes > 0
    signal = read_signal(
        target, reply, credential, method, seen.http_api, seen.request_headers, token, answered_before=answered_before
    )
    signal, disagreements = refine_signal(signal, seen.route, target, reply, credential, method, token)
    if disagreements and expectations.authorizer == "none":
        expectations = replace(expectations, authorizer=knowledge.expectations.authorizer)  # the traffic wins
    profile = choose_profile(target, credential, token, reply, signal, expectations, seen.http_api, api)
    ctx = CheckContext(
        target, credential, token, reply, PROFILES[profile], seen.now, expectations,
        api, route, knowledge.keys, seen.http_api, seen.route, tuple(disagreements),
    )  # fmt: skip
    seen_facts = FlowFacts(method, target.path, flow.request.timestamp_start, "origin" in seen.request_headers, facts)
    if seen.identity is not None:  # a Cognito identity-pool call: its own checks and reading of the answer
        signal, findings = judge_identity_call(seen.identity, token, reply, seen.now)
        return printable_diagnosis(diagnose(ctx, findings, signal, seen_facts))
    return printable_diagnosis(diagnose(ctx, _run(ctx), signal, seen_facts))


def _learn(knowledge: Knowledge, method: str, seen: FlowReading) -> None:
    api_key = _api_key(seen.target)
    token = seen.token if seen.credential.kind == "jwt" else None
    knowledge.baseline.learn(api_key, _route_key(api_key, method, seen.target), seen.credential, token)


def _may_expire_soon(token: Token | None, sent_at: float, knowledge: Knowledge) -> bool:
    """A cheap over-estimate of the expires-soon warning, by the flow's own clock with slack; the diagnosis decides."""
    exp = token.claims.get("exp") if token is not None else None
    if not isinstance(exp, int | float):
        return False
    return exp - sent_at <= knowledge.expectations.expiry_warning + _CLOCK_SLACK


def choose_profile(
    target: Target,
    credential: Credential,
    token: Token | None,
    reply: Reply,
    signal: Signal | None,
    expectations: Expectations,
    http_api: bool,
    api: ApiBaseline | None = None,
) -> Profile:
    """Which authorizer most likely guards the call (`apigw_authorizer=auto`)."""
    if expectations.authorizer != "auto":
        return expectations.authorizer  # type: ignore[return-value]
    if target.surface in _COGNITO_SURFACES:
        return "none"
    if target.surface == "lambda-url":
        return "iam"
    if credential.kind == "sigv4" and reply.status != 401:
        return "iam"  # IAM answers 403; a 401 to a signed call comes from a token-reading authorizer
    if target.surface == "websocket":
        return "lambda"  # $connect supports Lambda and IAM authorizers only (wire-reference "WebSocket APIs")
    if signal is not None and signal.cause in ("authorizer-denied", "authorizer-error"):
        return "lambda"
    # Pools given, or tokens from a pool that succeeded here earlier, mean an authorizer that reads JWTs.
    cognito_pools = any(split_cognito_issuer(i) for i in expectations.issuers)
    reads_jwt = cognito_pools or bool(api and api.issuers)
    if http_api:
        if credential.kind == "opaque" and not (reads_jwt or expectations.issuers or reply.www_authenticate):
            return "lambda"
        return "jwt"
    if credential.kind == "opaque" and not reads_jwt:
        return "lambda"  # REST APIs validate JWTs natively only with Cognito; opaque tokens mean a Lambda authorizer
    if expectations.issuers and not cognito_pools:
        return "lambda"
    return "cognito"


def _run(ctx: CheckContext) -> tuple[Finding, ...]:
    if ctx.target.surface in _COGNITO_SURFACES:
        return (check_expiry(ctx),) if ctx.token is not None else ()
    return tuple(check(ctx) for check in ctx.profile.checks)


def _api_key(target: Target) -> str:
    return f"{target.host}/{target.stage or ''}"


def _route_key(api_key: str, method: str, target: Target) -> str:
    return f"{api_key} {method.upper()} {target.path}"
