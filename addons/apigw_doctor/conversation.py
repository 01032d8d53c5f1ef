"""What the rest of the conversation says about one flow: the verdicts that need token lineage and history.

- `stale-token-after-refresh`: the token sent had been replaced by a refresh before this request (a cause when the
  request failed for the token's expiry, a warning when it still succeeded).
- `revoked-token-accepted` (warning): the API accepted a token the proxy saw revoked. API Gateway's Cognito and
  JWT authorizers check signature and expiry only, so a revoked ID or access token works until `exp`
  (docs/wire-reference.md, "REST Cognito authorizer", the revocation row).
- `cognito-token-revoked`: names the flow that revoked the token.
- `authorizer-cached-policy`: a Lambda authorizer allowed this credential on another method shortly before and now
  denies it implicitly within the cache TTL (docs/wire-reference.md, "REST Lambda authorizers", caching).
- `stage-not-deployed`: a route that succeeded earlier in the capture now answers Missing Authentication Token.

The engine calls `observe` once per watched flow; `diagnosis` calls `story_cause` and `warnings`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mitmproxy import http

from . import wire
from .cognito_answers import presented_fingerprint, read_answer
from .knowledge import Knowledge
from .lineage import FlowRef, Lineage, TokenRecord
from .model import Credential, Reply, Target, Token
from .reading import FlowReading, message_body, read_request
from .reply import http_date
from .timefmt import ago, clock, utc
from .tokens import fingerprint

AUTHORIZER_TTL = 300  # the default cache TTL in seconds (docs/wire-reference.md, "REST Lambda authorizers")
_MAX_ALLOWED = 1024
_COGNITO = ("cognito-oauth", "cognito-idp", "cognito-identity")
_GATEWAY = ("rest", "http", "custom", "websocket", "lambda-url")
_EXPIRED = ("token-expired", "cognito-token-expired")
_KIND_NAMES = {"id": "ID token", "access": "access token", "refresh": "refresh token", "openid": "OpenID token",
               "aws-credentials": "AWS credentials"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Allowed:
    """A success with a credential on a REST API: the method and path it was allowed on, and when."""

    api: str
    method: str
    path: str
    stage: str | None
    at: float
    number: int


@dataclass(slots=True)
class LineageFacts:
    """What the conversation says about this flow's credential."""

    number: int
    fingerprint: str | None
    record: TokenRecord | None = None
    allowed: Allowed | None = None  # the last success with the same credential on this API, before this flow
    at: float = 0.0  # this flow's time on the gateway's clock


def credential_fingerprint(credential: Credential, token: Token | None) -> str | None:
    """The tag lineage knows the credential by (the same as verdicts and evidence show)."""
    if token is not None:
        return token.fingerprint
    if credential.kind == "sigv4" and credential.sigv4 is not None and credential.sigv4.access_key_id:
        return fingerprint(credential.sigv4.access_key_id)
    if credential.kind == "opaque" and credential.token:
        return fingerprint(credential.token)
    return None


def observe(flow: http.HTTPFlow, lineage: Lineage, seen: FlowReading, *, record: bool = True) -> LineageFacts | None:
    """Record what this flow issued, revoked or was allowed (unless `record` is False: a re-analysis), and return
    what is known of its credential. `lineage.flows` is this flow's number."""
    response = flow.response
    assert response is not None
    number = lineage.flows
    target = seen.target
    ok = 200 <= response.status_code < 300
    fp = credential_fingerprint(seen.credential, seen.token)
    date = http_date(seen.response_headers.get("date"))
    at = date if date is not None else flow.request.timestamp_start
    if target.surface in _COGNITO:
        request = flow.request
        content_type = seen.request_headers.get("content-type", "")
        if record and ok and request.method == "POST":
            headers = {"x-amz-target": seen.request_headers.get("x-amz-target", ""), "content-type": content_type}
            answer = read_answer("POST", target.path, headers, message_body(request), 200, message_body(response))
            if answer is not None:
                lineage.record(answer, number, at)
        if fp is None:
            fp = presented_fingerprint(content_type, message_body(request))
    found = lineage.lookup(fp)
    if found is not None and record:
        found.uses += 1
    allowed = None
    if target.surface == "rest" and fp is not None:
        key = (f"{target.host}/{target.stage or ''}", fp)
        allowed = lineage.allowed.get(key)
        if ok and record:
            _remember(lineage.allowed, key, Allowed(key[0], flow.request.method.upper(), target.path, target.stage,
                                                    at, number))  # fmt: skip
    if found is None and allowed is None:
        return None
    return LineageFacts(number, fp, found, allowed, at)


def _remember(table: OrderedDict, key: tuple[str, str], value: Allowed) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > _MAX_ALLOWED:
        table.popitem(last=False)


def needs_diagnosis(facts: LineageFacts | None) -> bool:
    """True when a success still deserves a lineage warning (the success fast path asks this)."""
    record = facts.record if facts is not None else None
    if record is None:
        return False
    return _happened(record.replaced_by, facts.at) or _happened(record.revoked, facts.at)  # type: ignore[union-attr]


def _happened(ref: FlowRef | None, now: float) -> bool:
    return ref is not None and ref.at <= now + 1  # the Date header has one-second resolution


# --- causes ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Story:
    """A cause the conversation decides, or adds words to: the summary and evidence it contributes."""

    cause: str
    confidence: str
    summary: str
    evidence: tuple[str, ...]


def story_cause(
    cause: str,
    confidence: str,
    facts: LineageFacts | None,
    reply: Reply,
    target: Target,
    method: str,
    now: float,
    route_successes: int,
    credential_kind: str,
) -> Story | None:
    """The cause this flow's history decides (or words it adds to the chosen cause), or None."""
    record = facts.record if facts is not None else None
    if cause in _EXPIRED and record is not None and _happened(record.replaced_by, now):
        return Story("stale-token-after-refresh", confidence, _stale_summary(facts, record, now), _links(record, now))
    if cause == "cognito-token-revoked" and record is not None and _happened(record.revoked, now):
        assert record.revoked is not None
        text = f"the {_kind(record)} was revoked by {record.revoked.describe(now)}; Cognito refuses it since"
        return Story(cause, "high", text, _links(record, now))
    if cause == "authorizer-denied" and facts is not None and facts.allowed is not None:
        story = _cached_policy(facts, facts.allowed, reply, target, method, now)
        if story is not None:
            return story
    # Missing Authentication Token, or a Bearer token parsed as SigV4 (what a missing resource answers): with a
    # non-SigV4 credential that worked on this route before, the route is what changed (docs/wire-reference.md,
    # "SigV4 and unknown routes").
    front_door = cause == "route-not-found" or (cause == "sigv4-expected" and credential_kind != "sigv4")
    if front_door and route_successes > 0 and credential_kind != "missing" and target.surface == "rest":
        text = (
            f"{method} {target.path} succeeded {route_successes} time(s) earlier in this capture and now gets the "
            "answer API Gateway gives for a resource that does not exist: the stage no longer has this route (a "
            "deployment without it, or a stage redeployed from an older state)"
        )
        return Story("stage-not-deployed", "medium", text, ())
    return None


def _stale_summary(facts: LineageFacts, record: TokenRecord, now: float) -> str:
    assert record.replaced_by is not None
    text = (
        f"flow #{facts.number} sent the {_kind(record)} issued by {record.issued.describe(now)}, which "
        f"{record.replaced_by.describe(now)} had already replaced"
    )
    if record.exp is not None:
        text += f"; it expired at {clock(record.exp)} ({ago(now - record.exp)} before this request)"
    return text + ": the client keeps using the old token after refreshing"


def _cached_policy(
    facts: LineageFacts, allowed: Allowed, reply: Reply, target: Target, method: str, now: float
) -> Story | None:
    message = (reply.message or "").lower()
    if wire.MSG_EXPLICIT_DENY in message or not message.startswith(wire.MSG_AUTHORIZER_DENY_PREFIX):
        return None  # a cached Allow for another method denies implicitly; an explicit Deny is the policy's own
    age = now - allowed.at
    if (allowed.method, allowed.path) == (method.upper(), target.path) or not 0 <= age <= AUTHORIZER_TTL:
        return None
    stage = allowed.stage or target.stage or "<stage>"
    resource = allowed.path.removeprefix(f"/{stage}") if allowed.stage else allowed.path
    arn = f"arn:aws:execute-api:{target.region or '<region>'}:<account>:{target.api_id or '<api-id>'}/{stage}/"
    arn += f"{allowed.method}{resource or '/'}"
    text = (
        f"the same credential was allowed on {allowed.method} {allowed.path} in flow #{allowed.number} "
        f"{ago(age)} before, within the authorizer cache's default TTL of {AUTHORIZER_TTL} s, and is now denied on "
        f"{method.upper()} {target.path} without a Deny: the cached policy most likely names only {arn}"
    )
    evidence = (
        f"allowed: {allowed.method} {allowed.path} in flow #{allowed.number} at {utc(allowed.at)}",
        f"denied: {method.upper()} {target.path} in flow #{facts.number} at {utc(now)} ({ago(age)} later)",
        "tells them apart: call this method first with a new token, or after the TTL; if it is allowed then, "
        "the cache was the cause; if it is still denied, the authorizer denies this method",
    )
    return Story("authorizer-cached-policy", "medium", text, evidence)


def _links(record: TokenRecord, now: float) -> tuple[str, ...]:
    lines = [f"{_kind(record)} {record.fingerprint}: issued by {record.issued.describe(now)}"
             + (f" for client {record.client}" if record.client else "")]  # fmt: skip
    if record.replaced_by is not None:
        lines.append(f"replaced by {record.replaced_by.describe(now)} (new token {record.replaced_by_token})")
    if record.revoked is not None:
        lines.append(f"revoked by {record.revoked.describe(now)}")
    if record.exp is not None:
        lines.append(f"exp {utc(record.exp)}")
    return tuple(lines)


def _kind(record: TokenRecord) -> str:
    return _KIND_NAMES.get(record.kind, "token")


# --- warnings -----------------------------------------------------------------------------------------------------


def warnings(facts: LineageFacts | None, status: int, surface: str, now: float) -> list[str]:
    """Lineage warnings for a flow that did not fail."""
    record = facts.record if facts is not None else None
    if record is None or not 200 <= status < 300:
        return []
    found = []
    if _happened(record.replaced_by, now):
        found.append("stale-token-after-refresh")
    if _happened(record.revoked, now) and surface in _GATEWAY:
        found.append("revoked-token-accepted")
    return found


def warning_lines(facts: LineageFacts | None, found: list[str], now: float) -> list[str]:
    """Evidence lines that explain lineage warnings."""
    record = facts.record if facts is not None else None
    if record is None or not any(w in found for w in ("stale-token-after-refresh", "revoked-token-accepted")):
        return []
    lines = list(_links(record, now))
    if "revoked-token-accepted" in found:
        lines.append(
            "API Gateway's Cognito and JWT authorizers verify signature and expiry only: a revoked token keeps "
            "working until exp. To stop it sooner: short token lifetimes, a Lambda authorizer that calls GetUser "
            "(access tokens) or checks a deny list, or AWS WAF rules"
        )
    return lines


def metadata(facts: LineageFacts | None) -> dict[str, Any] | None:
    """The flow's lineage as flow metadata holds it (JSON-safe, bounded, fingerprints only)."""
    if facts is None or facts.record is None:
        return None
    return {"flow": facts.number, **facts.record.as_dict()}


# --- stories: one line per token for a burst of failures ------------------------------------------------------------

BURST = 3  # failures with one token before they make a story
_MAX_STORIES = 256


class Stories:
    """Failures counted by (token, cause), bounded, for the burst summary."""

    def __init__(self) -> None:
        self._counts: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._linked: dict[str, Mapping[str, Any]] = {}

    def add(self, meta: Mapping[str, Any]) -> None:
        linked = meta.get("lineage")
        if not meta.get("cause") or not isinstance(linked, Mapping) or not linked.get("fingerprint"):
            return
        fp = str(linked["fingerprint"])
        key = (fp, str(meta["cause"]))
        self._counts[key] = self._counts.get(key, 0) + 1
        self._counts.move_to_end(key)
        self._linked[fp] = linked
        while len(self._counts) > _MAX_STORIES:
            (old, _), _count = self._counts.popitem(last=False)
            if not any(k[0] == old for k in self._counts):
                self._linked.pop(old, None)

    def lines(self, lineage: Lineage | None = None) -> list[str]:
        """One line per story, e.g. "41 calls failed (token-expired) with the ID token 1a2b3c4d5e issued in
        flow #12 (expired 14:02:11Z); the refresh in flow #31 was never used"."""
        found = []
        for (fp, cause), count in sorted(self._counts.items(), key=lambda item: -item[1]):
            if count >= BURST:
                found.append(_story_line(count, cause, self._linked[fp], lineage))
        return found


def stories(metas: Iterable[Mapping[str, Any]], lineage: Lineage | None = None) -> list[str]:
    """The story lines for verdicts already on flows (`apigw.summary`)."""
    book = Stories()
    for meta in metas:
        book.add(meta)
    return book.lines(lineage)


def _story_line(count: int, cause: str, linked: Mapping[str, Any], lineage: Lineage | None) -> str:
    issued = linked.get("issued") or {}
    kind = _KIND_NAMES.get(str(linked.get("kind")), "token")
    line = f"{count} calls failed ({cause}) with the {kind} {linked.get('fingerprint')}"
    line += f" issued in flow #{issued.get('flow')}"
    if isinstance(linked.get("exp"), int | float):
        line += f" (expired {clock(linked['exp'])})"
    replaced = linked.get("replaced_by")
    if isinstance(replaced, Mapping):
        newer = lineage.lookup(str(linked.get("replaced_by_token"))) if lineage is not None else None
        line += f"; the refresh in flow #{replaced.get('flow')} " + (
            "was never used"
            if newer is not None and newer.uses == 0
            else "had replaced it" + (f" (its new token was used {newer.uses} times)" if newer is not None else "")
        )
    revoked = linked.get("revoked")
    if isinstance(revoked, Mapping):
        line += f"; revoked by {revoked.get('operation')} in flow #{revoked.get('flow')}"
    return line


def flow_fingerprint(flow: http.HTTPFlow, knowledge: Knowledge) -> str | None:
    """The lineage tag of the credential a flow carries (for the timeline report), or None."""
    seen = read_request(flow, knowledge)
    if seen is None:
        return None
    found = credential_fingerprint(seen.credential, seen.token)
    if found is None and seen.target.surface in _COGNITO:
        found = presented_fingerprint(seen.request_headers.get("content-type", ""), message_body(flow.request))
    return found
