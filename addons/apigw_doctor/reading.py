"""The one reading of a flow: target, credential (a token in a Cognito request body too), decoded token, reply and
the gateway's "now". The engine's verdict, the `apigw` content view, the `token` command and the evidence bundle
all read flows through here, so they never disagree about what was sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from mitmproxy import http

from . import safejson
from .apidef import RouteMatch
from .credential import find_credential
from .definition_rules import expectations_for, route_for
from .identity_pool import IdentityCall, login_credential, read_call
from .knowledge import Expectations, Knowledge
from .model import STRIPPED, Credential, Reply, Target, Token
from .reply import decoded_body, http_date, read_reply
from .target import HostMatch, cognito_api_by_target, is_http_api, resolve_target
from .tokens import decode_token, scrub

_CREDENTIAL_CACHE = 512
# ...and at most this many characters of credentials (300 distinct 1 MB tokens once took 632 MB)
_CREDENTIAL_CACHE_BYTES = 4 * 2**20
_CACHED_CREDENTIAL_MAX = 64 * 1024  # a larger credential is decoded each time, never kept
_MAX_BODY_TOKEN = 64 * 1024


@dataclass(slots=True)
class FlowReading:
    """What a flow says, read once. `reply` is None until the reply side is read (or when there is no response).

    `now` is the gateway's clock (the response's Date header) when known, else the request's own timestamp: the
    time every token check is judged by.
    """

    target: Target
    request_headers: dict[str, str]
    response_headers: dict[str, str]
    credential: Credential
    token: Token | None
    reply: Reply | None = None
    now: float = 0.0
    http_api: bool = False
    identity: IdentityCall | None = None  # a Cognito identity-pool call: what it asked for (identity_pool.py)
    route: RouteMatch | None = None  # the flow's route in the API definitions (apigw_api_spec), if any apply
    expectations: Expectations | None = None  # the route's expectations, else the options'


def read_flow(flow: http.HTTPFlow, knowledge: Knowledge, *, credentials_stripped: bool = False) -> FlowReading | None:
    """The whole reading of a flow to a watched host, or None for a host that is not watched."""
    reading = read_request(flow, knowledge, credentials_stripped=credentials_stripped)
    if reading is not None and flow.response is not None:
        read_reply_side(flow, reading)
    return reading


def read_request(
    flow: http.HTTPFlow, knowledge: Knowledge, *, credentials_stripped: bool = False
) -> FlowReading | None:
    """The request side only (cheap: the success path stops here). None for a host that is not watched.

    `credentials_stripped`: the capture removed Authorization and cookies (a sanitized HAR), so a missing
    credential proves nothing.
    """
    request, response = flow.request, flow.response
    found = watched(request, knowledge)
    if found is None:
        return None
    request_headers = header_dict(request.headers)
    response_headers = header_dict(response.headers) if response is not None else {}
    path = safejson.clean_text(scrub(request.path))  # a JWT in the URL path loses its signature
    target = resolve_target(found, found.host, path, request_headers, response_headers if response else None)
    expectations, route = knowledge.expectations, None
    if knowledge.definitions:  # the route's expectations replace the options for this flow
        route = route_for(knowledge, target, request.method.upper())
        if route is not None:
            expectations = expectations_for(knowledge, route)
    identity_header = expectations.identity_header
    raw = request_headers.get(identity_header)
    if raw is not None and not raw.startswith("AWS4-"):  # the usual case: a token in the identity header
        credential, token = _identity_credential(raw, request_headers, knowledge, identity_header)
    else:
        query, cookies = request.query.items(multi=True), request.cookies.items(multi=True)
        credential = find_credential(request_headers, query, cookies, identity_header)
        if credential.kind == "missing" and target.surface == "cognito-idp":
            credential = _access_token_in_body(request) or credential
        if credential.kind == "missing" and credentials_stripped:
            credential = Credential("missing", STRIPPED, api_key_sent=credential.api_key_sent)
        token = decode_credential(credential)
    identity = None
    if target.surface == "cognito-identity":  # the login token travels in the body's Logins map
        identity = read_call(request_headers, message_body(request))
        if login := login_credential(identity):
            credential, token = login, decode_credential(login)
    reading = FlowReading(target, request_headers, response_headers, credential, token, identity=identity,
                          route=route, expectations=expectations)  # fmt: skip
    reading.now = request.timestamp_start
    return reading


def read_reply_side(flow: http.HTTPFlow, reading: FlowReading) -> FlowReading:
    """Complete `reading` (in place) with the reply, the gateway's clock and the REST/HTTP API distinction."""
    response = flow.response
    assert response is not None
    headers = reading.response_headers
    body = response.raw_content if "content-encoding" not in headers else message_body(response)
    reading.reply = read_reply(response.status_code, headers, body, secrets_of(reading.credential))
    reading.now = reading.reply.date if reading.reply.date is not None else flow.request.timestamp_start
    reading.http_api = is_http_api(reading.target, headers)
    return reading


def read_credential(raw: str, identity_header: str = "authorization") -> tuple[Credential, Token | None]:
    """One credential value as if sent in the identity header (the `token` command), and its decoded token."""
    credential = find_credential({identity_header: raw}, (), (), identity_header)
    return credential, decode_credential(credential)


def decode_credential(credential: Credential) -> Token | None:
    return decode_token(credential.token) if credential.kind in ("jwt", "jwe") and credential.token else None


def gateway_date(response: http.Response | None) -> float | None:
    """The gateway's clock: the response's Date header, or None."""
    return http_date(response.headers.get("date")) if response is not None else None


def watched(request: http.Request, knowledge: Knowledge) -> HostMatch | None:
    """The cheap first test every flow meets: the raw Host/authority, not mitmproxy's parsed `pretty_host`.

    A POST to any other host still counts when its X-Amz-Target names a Cognito API (a custom endpoint, an emulator).
    """
    found = knowledge.hosts.match(request.host_header or request.host)
    if found is None and request.data.method == b"POST" and (surface := cognito_api_by_target(_amz_target(request))):
        return HostMatch(surface, None, None, host=request.pretty_host.lower())
    return found


def _amz_target(request: http.Request) -> str | None:
    """One pass over the raw header fields (unwatched POSTs pay this, so no dict and no decoding of the others)."""
    for name, value in request.data.headers.fields:
        if len(name) == 12 and name.lower() == b"x-amz-target":
            return value.decode("latin-1")
    return None


def header_dict(headers: http.Headers) -> dict[str, str]:
    """Lower-case names to the first value: one pass, then every lookup in the pipeline is a plain dict lookup."""
    result: dict[str, str] = {}
    for name, value in headers.fields:
        key = name.decode("latin-1").lower()
        if key not in result:
            result[key] = value.decode("utf-8", "backslashreplace")  # never a lone surrogate in a verdict
    return result


def secrets_of(credential: Credential) -> tuple[str, ...]:
    return tuple(v for v in (credential.raw, credential.token) if v)


def message_body(message: http.Message) -> bytes | None:
    """The decoded body, at most 64 KiB + 1 byte: never the whole inflation of a compressed body."""
    return decoded_body(message)


def _identity_credential(
    raw: str, request_headers: dict[str, str], knowledge: Knowledge, identity_header: str
) -> tuple[Credential, Token | None]:
    key = (raw, "x-api-key" in request_headers, identity_header)
    cache = knowledge.credentials
    found = cache.get(key)
    if found is None:
        credential = find_credential(request_headers, (), (), identity_header)
        found = (credential, decode_credential(credential))
        if len(raw) > _CACHED_CREDENTIAL_MAX:
            return found
        if len(cache) >= _CREDENTIAL_CACHE or knowledge.credential_bytes + len(raw) > _CREDENTIAL_CACHE_BYTES:
            cache.clear()
            knowledge.credential_bytes = 0
        cache[key] = found
        knowledge.credential_bytes += len(raw)
    return found


def _access_token_in_body(request: http.Request) -> Credential | None:
    """Cognito's JSON API carries the user's access token in the body (GetUser, GlobalSignOut, ...)."""
    parsed = safejson.json_object(message_body(request), _MAX_BODY_TOKEN)
    value = parsed.get("AccessToken") if parsed is not None else None
    if isinstance(value, str) and value.count(".") == 2:
        return Credential("jwt", "body:AccessToken", token=value, in_identity_header=False)
    return None
