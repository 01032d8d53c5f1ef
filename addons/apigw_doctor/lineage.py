"""Token lineage: which flow issued each token, which refresh replaced it, which sign-out revoked it.

The store holds fingerprints (`tokens.fingerprint`, the same tag verdicts and evidence show) and a few claims,
never a token. It is bounded: at most `MAX_TOKENS` records, least recently used dropped first, and a record whose
`exp` lies more than `RETAIN_AFTER_EXP` seconds behind the newest time seen is pruned. Flows are named by their
number in the order the proxy (or `analyze`) saw them, as "flow #12".
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .timefmt import ago, clock

MAX_TOKENS = 2048  # records kept; about 0.5 KB each, so about 1 MB at most
RETAIN_AFTER_EXP = 6 * 3600.0  # an expired token stays this long: clients keep sending them for a while
# The claims a record keeps: enough to say whose token it is and to match sign-outs; nothing secret.
KEPT_CLAIMS = ("token_use", "iss", "sub", "username", "cognito:username", "client_id", "aud", "origin_jti", "scope",
               "identity_id")  # fmt: skip
_MAX_CLAIM = 256


@dataclass(frozen=True, slots=True)
class FlowRef:
    """A flow by its number, the operation it performed, and when (the gateway's clock)."""

    number: int
    operation: str
    at: float

    def describe(self, now: float | None = None) -> str:
        when = f"{ago(now - self.at)} before" if now is not None and now >= self.at else f"at {clock(self.at)}"
        return f"{self.operation} in flow #{self.number} ({when})"

    def as_dict(self) -> dict[str, Any]:
        return {"flow": self.number, "operation": self.operation, "at": self.at}


@dataclass(slots=True)
class TokenRecord:
    """One issued token: its tag, kind, client, lifetime, and its links to other flows and tokens."""

    fingerprint: str
    kind: str  # "id" | "access" | "refresh" | "aws-credentials" | "openid"
    client: str | None
    issued: FlowRef
    exp: float | None
    claims: dict[str, Any] = field(default_factory=dict)
    session: str | None = None  # fingerprint of the refresh token this token belongs to, if known
    replaces: str | None = None  # the fingerprint of the token of the same kind it replaced
    replaced_by: FlowRef | None = None
    replaced_by_token: str | None = None
    revoked: FlowRef | None = None
    uses: int = 0  # later flows that carried it

    def as_dict(self) -> dict[str, Any]:
        """The record as flow metadata and the report hold it: JSON-safe, bounded, no secret."""
        return {
            "fingerprint": self.fingerprint,
            "kind": self.kind,
            "client": self.client,
            "exp": self.exp,
            "issued": self.issued.as_dict(),
            "replaces": self.replaces,
            "replaced_by": self.replaced_by.as_dict() if self.replaced_by else None,
            "replaced_by_token": self.replaced_by_token,
            "revoked": self.revoked.as_dict() if self.revoked else None,
        }


@dataclass(frozen=True, slots=True)
class Issued:
    """One token in a token-issuing answer, as the answer reader found it."""

    fingerprint: str
    kind: str
    client: str | None
    exp: float | None
    claims: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Revocation:
    """What a revoking call names: a refresh token, every token of a user, or one access token's session."""

    refresh: str | None = None  # fingerprint of the revoked refresh token
    subject: str | None = None  # GlobalSignOut: the `sub` of the access token sent
    username: str | None = None  # AdminUserGlobalSignOut
    pool: str | None = None  # the user pool, as issuer URL suffix (pool id)


@dataclass(frozen=True, slots=True)
class Answer:
    """A Cognito answer that matters for lineage: tokens issued, or a revocation."""

    operation: str  # "InitiateAuth", "/oauth2/token refresh_token", "GlobalSignOut", ...
    issued: tuple[Issued, ...] = ()
    presented_refresh: str | None = None  # the refresh token a refresh grant sent
    revocation: Revocation | None = None


def kept_claims(claims: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for name in KEPT_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str):
            kept[name] = value[:_MAX_CLAIM]
        elif isinstance(value, int | float | bool):
            kept[name] = value
    return kept


class Lineage:
    """The bounded store. `record(answer, number, at)` for Cognito answers; `lookup(fingerprint)` for later flows."""

    def __init__(self, max_tokens: int = MAX_TOKENS, retain_after_exp: float = RETAIN_AFTER_EXP) -> None:
        self.max_tokens = max_tokens
        self.retain_after_exp = retain_after_exp
        self._tokens: OrderedDict[str, TokenRecord] = OrderedDict()
        self._latest = 0.0
        self.flows = 0  # flows seen so far; the next flow is number `flows + 1`
        self.generation = 0  # bumped by every change, so a cache of lineage-dependent verdicts can tell
        # (API, credential fingerprint) -> the last success on a REST API (conversation.Allowed), for cached policies
        self.allowed: OrderedDict[tuple[str, str], Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tokens)

    def next_flow(self) -> int:
        self.flows += 1
        return self.flows

    def lookup(self, fingerprint: str | None) -> TokenRecord | None:
        if not fingerprint or not self._tokens:
            return None
        record = self._tokens.get(fingerprint)
        if record is not None:
            self._tokens.move_to_end(fingerprint)
        return record

    def records(self) -> list[TokenRecord]:
        return list(self._tokens.values())

    def record(self, answer: Answer, number: int, at: float) -> list[TokenRecord]:
        """Remember what a successful Cognito answer issued or revoked; returns the records it touched."""
        ref = FlowRef(number, answer.operation, at)
        self._latest = max(self._latest, at)
        self.generation += 1
        touched = self._revoke(answer.revocation, ref) if answer.revocation else []
        session = answer.presented_refresh
        if session is None:
            session = next((i.fingerprint for i in answer.issued if i.kind == "refresh"), None)
        for issued in answer.issued:
            record = TokenRecord(
                issued.fingerprint, issued.kind, issued.client, ref, issued.exp, issued.claims, session=session
            )
            if answer.presented_refresh is not None and issued.kind != "refresh":
                self._replace(record, ref)
            self._put(record)
            touched.append(record)
        self._prune()
        return touched

    def _replace(self, new: TokenRecord, ref: FlowRef) -> None:
        """The newest unreplaced token of the same kind and session is what a refresh replaces."""
        for old in reversed(self._tokens.values()):
            if old.session == new.session and old.kind == new.kind and old.replaced_by is None:
                old.replaced_by, old.replaced_by_token, new.replaces = ref, new.fingerprint, old.fingerprint
                return

    def _revoke(self, revocation: Revocation, ref: FlowRef) -> list[TokenRecord]:
        hit = []
        for record in self._tokens.values():
            if record.revoked is None and _revokes(revocation, record):
                record.revoked = ref
                hit.append(record)
        return hit

    def _put(self, record: TokenRecord) -> None:
        self._tokens[record.fingerprint] = record
        self._tokens.move_to_end(record.fingerprint)
        while len(self._tokens) > self.max_tokens:
            self._tokens.popitem(last=False)

    def _prune(self) -> None:
        horizon = self._latest - self.retain_after_exp
        stale = [fp for fp, r in self._tokens.items() if r.exp is not None and r.exp < horizon]
        for fp in stale:
            del self._tokens[fp]


def _revokes(revocation: Revocation, record: TokenRecord) -> bool:
    if revocation.refresh is not None:
        # RevokeToken and /oauth2/revoke: the refresh token and the tokens issued with it.
        return revocation.refresh in (record.fingerprint, record.session)
    claims = record.claims
    if revocation.pool and not str(claims.get("iss", "")).endswith("/" + revocation.pool):
        return False
    if revocation.subject is not None:
        return claims.get("sub") == revocation.subject  # refresh records carry their sign-in's `sub`
    if revocation.username is not None:
        names = (claims.get("cognito:username"), claims.get("username"), claims.get("sub"))
        return revocation.username in names
    return False
