"""The engine: runs the pipeline steps for one flow. Shared by the addon and the CLI; holds no mitmproxy state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mitmproxy import http

from . import safejson
from .checks import PROFILES, CheckContext, check_expiry
from .credential import find_credential
from .diagnosis import FlowFacts, diagnose
from .identity_pool import IdentityCall, login_credential, read_call
from .identity_pool import judge as judge_identity_call
from .knowledge import Expectations, Knowledge
from .model import STRIPPED, Credential, Diagnosis, Finding, Profile, Reply, Target, Token
from .pools import split_cognito_issuer
from .reply import read_reply
from .signals import Signal, read_signal
from .target import HostMatch, cognito_api_by_target, is_http_api, resolve_target
from .tokens import decode_token

_COGNITO_SURFACES = ("cognito-oauth", "cognito-idp", "cognito-identity")
# How far the proxy's clock may be from the gateway's before the success fast path could miss a warning: the
# 5 minutes API Gateway itself tolerates for SigV4 (REF §4). Much more would send every 1-hour token down the slow path.
_CLOCK_SLACK = 300
_CREDENTIAL_CACHE = 512


@dataclass(slots=True)
class _Request:
    """What the request side says, computed once per flow and shared by diagnosis and learning."""

    target: Target
    request_headers: dict[str, str]
    response_headers: dict[str, str]
    credential: Credential
    token: Token | None
    identity: IdentityCall | None = None  # a Cognito identity-pool call: its Logins (identity_pool.py)


def diagnose_flow(flow: http.HTTPFlow, knowledge: Knowledge, *, credentials_stripped: bool = False) -> Diagnosis | None:
    """The verdict for a flow to a watched host, or None (unwatched, no response, or nothing to say).

    `credentials_stripped`: the capture removed Authorization and cookies (a sanitized HAR), so a missing
    credential proves nothing.
    """
    seen = _read_request(flow, knowledge, credentials_stripped)
    return None if seen is None else _diagnose(flow, knowledge, seen)


def observe_flow(flow: http.HTTPFlow, knowledge: Knowledge, *, credentials_stripped: bool = False) -> Diagnosis | None:
    """What the addon and `analyze` do for each flow, in order: diagnose it, and learn from it if it succeeded."""
    seen = _read_request(flow, knowledge, credentials_stripped)
    if seen is None:
        return None
    assert flow.response is not None
    if 200 <= flow.response.status_code < 300 and seen.target.surface not in _COGNITO_SURFACES:
        _learn(knowledge, flow.request.method, seen)
        if not _may_expire_soon(seen.token, flow.request.timestamp_start, knowledge):
            return None  # the common case, kept cheap: a success with nothing to warn about
    return _diagnose(flow, knowledge, seen)


def learn_from_flow(flow: http.HTTPFlow, knowledge: Knowledge) -> None:
    """Remember what a successful call to a watched API sent, as the baseline for later failures."""
    seen = _read_request(flow, knowledge, False)
    ok = flow.response is not None and 200 <= flow.response.status_code < 300
    if seen is not None and ok and seen.target.surface not in _COGNITO_SURFACES:
        _learn(knowledge, flow.request.method, seen)


def watched(request: http.Request, knowledge: Knowledge) -> HostMatch | None:
    """The cheap first test every flow meets: the raw Host/authority, not mitmproxy's parsed `pretty_host`.

    A POST to any other host still counts when its X-Amz-Target names a Cognito API (a custom endpoint, an emulator).
    """
    found = knowledge.hosts.match(request.host_header or request.host)
    if found is None and request.data.method == b"POST" and (surface := cognito_api_by_target(_amz_target(request))):
        return HostMatch(surface, None, None, host=request.pretty_host.lower())
    return found


def _amz_target(request: http.Request) -> str | None:
    for name, value in request.headers.fields:
        if len(name) == 12 and name.lower() == b"x-amz-target":
            return value.decode("latin-1")
    return None


def _read_request(flow: http.HTTPFlow, knowledge: Knowledge, credentials_stripped: bool) -> _Request | None:
    request, response = flow.request, flow.response
    found = watched(request, knowledge)
    if found is None or response is None:
        return None
    identity_header = knowledge.expectations.identity_header
    request_headers, response_headers = header_dict(request.headers), header_dict(response.headers)
    target = resolve_target(found, found.host, safejson.clean_text(request.path), request_headers, response_headers)
    raw = request_headers.get(identity_header)
    if raw is not None and not raw.startswith("AWS4-"):  # the usual case: a token in the identity header
        credential, token = _identity_credential(raw, request_headers, knowledge)
    else:
        query, cookies = request.query.items(multi=True), request.cookies.items(multi=True)
        credential = find_credential(request_headers, query, cookies, identity_header)
        if credential.kind == "missing" and target.surface == "cognito-idp":
            credential = _access_token_in_body(request) or credential
        if credential.kind == "missing" and credentials_stripped:
            credential = Credential("missing", STRIPPED, api_key_sent=credential.api_key_sent)
        token = _decode(credential)
    if target.surface == "cognito-identity":
        identity = read_call(request_headers, _body(request))
        if login := login_credential(identity):
            credential, token = login, _decode(login)
        return _Request(target, request_headers, response_headers, credential, token, identity)
    return _Request(target, request_headers, response_headers, credential, token)


def _identity_credential(
    raw: str, request_headers: dict[str, str], knowledge: Knowledge
) -> tuple[Credential, Token | None]:
    key = (raw, "x-api-key" in request_headers)
    cache = knowledge.credentials
    found = cache.get(key)
    if found is None:
        credential = find_credential(request_headers, (), (), knowledge.expectations.identity_header)
        found = (credential, _decode(credential))
        if len(cache) >= _CREDENTIAL_CACHE:
            cache.clear()
        cache[key] = found
    return found


def _secrets_of(credential: Credential) -> tuple[str, ...]:
    return tuple(v for v in (credential.raw, credential.token) if v)


def _decode(credential: Credential) -> Token | None:
    return decode_token(credential.token) if credential.kind in ("jwt", "jwe") and credential.token else None


def _diagnose(flow: http.HTTPFlow, knowledge: Knowledge, seen: _Request) -> Diagnosis | None:
    request, response = flow.request, flow.response
    assert response is not None
    expectations, target, credential, token = knowledge.expectations, seen.target, seen.credential, seen.token
    body = response.raw_content if "content-encoding" not in seen.response_headers else _body(response)
    reply = read_reply(response.status_code, seen.response_headers, body, _secrets_of(credential))
    http_api = is_http_api(target, seen.response_headers)
    method = request.method.upper()
    signal = read_signal(target, reply, credential, method, http_api, seen.request_headers, token)
    profile = choose_profile(target, credential, token, reply, signal, expectations, http_api)
    now = reply.date if reply.date is not None else request.timestamp_start
    api_key = _api_key(target)
    baseline = knowledge.baseline
    ctx = CheckContext(
        target, credential, token, reply, profile, now, expectations,
        baseline.api(api_key), baseline.route(_route_key(api_key, method, target)), knowledge.keys,
    )  # fmt: skip
    facts = FlowFacts(method, target.path, request.timestamp_start, "origin" in seen.request_headers)
    if seen.identity is not None:
        signal, findings = judge_identity_call(seen.identity, token, reply, now)
        return diagnose(ctx, findings, signal, facts)
    return diagnose(ctx, _run(ctx), signal, facts)


def _learn(knowledge: Knowledge, method: str, seen: _Request) -> None:
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
) -> Profile:
    """Which authorizer most likely guards the call (`apigw_authorizer=auto`)."""
    if expectations.authorizer != "auto":
        return expectations.authorizer  # type: ignore[return-value]
    if target.surface in _COGNITO_SURFACES:
        return "none"
    if target.surface == "lambda-url" or credential.kind == "sigv4":
        return "iam"
    if target.surface == "websocket":
        return "lambda"  # $connect supports Lambda and IAM authorizers only (REF §3c)
    if signal is not None and signal.cause in ("authorizer-denied", "authorizer-error"):
        return "lambda"
    if http_api:
        return "jwt" if credential.kind != "opaque" or reply.www_authenticate else "lambda"
    if credential.kind == "opaque":
        return "lambda"  # REST APIs validate JWTs natively only with Cognito; opaque tokens mean a Lambda authorizer
    if expectations.issuers and not any(split_cognito_issuer(i) for i in expectations.issuers):
        return "lambda"
    return "cognito"


def _run(ctx: CheckContext) -> tuple[Finding, ...]:
    if ctx.target.surface in _COGNITO_SURFACES:
        return (check_expiry(ctx),) if ctx.token is not None else ()
    return tuple(check(ctx) for check in PROFILES[ctx.profile])


def header_dict(headers: http.Headers) -> dict[str, str]:
    """Lower-case names to the first value: one pass, then every lookup in the pipeline is a plain dict lookup."""
    result: dict[str, str] = {}
    for name, value in headers.fields:
        key = name.decode("latin-1").lower()
        if key not in result:
            result[key] = value.decode("utf-8", "backslashreplace")  # never a lone surrogate in a verdict
    return result


def _api_key(target: Target) -> str:
    return f"{target.host}/{target.stage or ''}"


def _route_key(api_key: str, method: str, target: Target) -> str:
    return f"{api_key} {method.upper()} {target.path}"


def _body(message: http.Message) -> bytes | None:
    if message.raw_content is None:  # streamed bodies are not kept
        return None
    try:
        return message.get_content(strict=False)
    except ValueError:
        return message.raw_content


def _access_token_in_body(request: http.Request) -> Credential | None:
    """Cognito's JSON API carries the user's access token in the body (GetUser, GlobalSignOut, ...)."""
    body = _body(request)
    if not body or len(body) > 64 * 1024 or body.lstrip()[:1] != b"{":
        return None
    try:
        parsed = safejson.loads(body)
    except (ValueError, RecursionError):
        return None
    value = parsed.get("AccessToken") if isinstance(parsed, Mapping) else None
    if isinstance(value, str) and value.count(".") == 2:
        return Credential("jwt", "body:AccessToken", token=value, in_identity_header=False)
    return None
