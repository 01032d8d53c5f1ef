"""The engine: runs the pipeline steps for one flow. Shared by the addon and the CLI; holds no mitmproxy state."""

from __future__ import annotations

from collections.abc import Mapping

from mitmproxy import http

from . import safejson
from .checks import PROFILES, CheckContext, check_expiry
from .credential import find_credential
from .diagnosis import FlowFacts, diagnose
from .knowledge import Expectations, Knowledge
from .model import STRIPPED, Credential, Diagnosis, Finding, Profile, Reply, Target, Token
from .pools import split_cognito_issuer
from .reply import read_reply
from .signals import Signal, read_signal
from .target import is_http_api, resolve_target
from .tokens import decode_token

_COGNITO_SURFACES = ("cognito-oauth", "cognito-idp")


def diagnose_flow(flow: http.HTTPFlow, knowledge: Knowledge, *, credentials_stripped: bool = False) -> Diagnosis | None:
    """The verdict for a flow to a watched host, or None (unwatched, no response, or nothing to say).

    `credentials_stripped`: the capture removed Authorization and cookies (a sanitized HAR), so a missing
    credential proves nothing.
    """
    request = flow.request
    host = request.pretty_host
    found = knowledge.hosts.match(host)
    if found is None or flow.response is None:
        return None
    response = flow.response
    expectations = knowledge.expectations
    request_headers, response_headers = header_dict(request.headers), header_dict(response.headers)
    path = safejson.clean_text(request.path)
    target = resolve_target(found, host, path, request_headers, response_headers)
    if expectations.identity_header in request_headers:  # the usual case: no need to parse query and cookies
        credential = find_credential(request_headers, (), (), expectations.identity_header)
    else:
        query, cookies = request.query.items(multi=True), request.cookies.items(multi=True)
        credential = find_credential(request_headers, query, cookies, expectations.identity_header)
    if credential.kind == "missing" and target.surface == "cognito-idp":
        credential = _access_token_in_body(request) or credential
    if credential.kind == "missing" and credentials_stripped:
        credential = Credential("missing", STRIPPED, api_key_sent=credential.api_key_sent)
    token = decode_token(credential.token) if credential.kind in ("jwt", "jwe") and credential.token else None
    reply = read_reply(response.status_code, response_headers, _body(response))
    http_api = is_http_api(target, response_headers)
    signal = read_signal(target, reply, credential, request.method.upper(), http_api)
    profile = choose_profile(target, credential, token, reply, signal, expectations, http_api)
    now = reply.date if reply.date is not None else request.timestamp_start
    api_key = _api_key(target)
    baseline = knowledge.baseline
    ctx = CheckContext(
        target, credential, token, reply, profile, now, expectations,
        baseline.api(api_key), baseline.route(_route_key(api_key, request.method, target)), knowledge.keys,
    )  # fmt: skip
    findings = _run(ctx)
    facts = FlowFacts(
        request.method.upper(), path.split("?", 1)[0], request.timestamp_start, "origin" in request_headers
    )
    return diagnose(ctx, findings, signal, facts)


def learn_from_flow(flow: http.HTTPFlow, knowledge: Knowledge) -> None:
    """Remember what a successful call to a watched API sent, as the baseline for later failures."""
    response = flow.response
    if response is None or not 200 <= response.status_code < 300:
        return
    request = flow.request
    found = knowledge.hosts.match(request.pretty_host)
    if found is None or found.surface in _COGNITO_SURFACES:
        return
    request_headers = header_dict(request.headers)
    target = resolve_target(found, request.pretty_host, request.path, request_headers, header_dict(response.headers))
    credential = find_credential(request_headers, (), (), knowledge.expectations.identity_header)
    token = decode_token(credential.token) if credential.kind == "jwt" and credential.token else None
    api_key = _api_key(target)
    knowledge.baseline.learn(api_key, _route_key(api_key, request.method, target), credential, token)


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
