"""The values that flow through the pipeline (docs/design.md, "Architecture"): plain, immutable data.

Each pipeline step is a pure function from these values (and `Knowledge`) to the next value. Treat them as
immutable. They are not `frozen`: a frozen dataclass costs about 2 µs more per instance, and one flow makes about
25 of them, which alone would take a third of the engine's budget (docs/design.md, "Quality targets": 150 µs per failing
flow). Nothing here
holds a usable secret once it leaves the engine: `Credential.token` and `Credential.raw` stay in memory only
and are never written to metadata, logs or evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Surface = Literal[
    "rest", "http", "websocket", "lambda-url", "cognito-oauth", "cognito-idp", "cognito-identity", "custom"
]
CredentialKind = Literal["jwt", "jwe", "sigv4", "basic", "api-key", "opaque", "placeholder", "missing"]
Result = Literal["pass", "fail", "warn", "skip"]
Confidence = Literal["high", "medium", "low"]
Profile = Literal["cognito", "jwt", "lambda", "iam", "none"]

# Credential.location when the capture itself dropped the credential headers (Chrome's sanitized HAR export).
STRIPPED = "stripped-by-export"
# flow.metadata[METADATA_KEY] holds `Diagnosis.as_metadata()` (docs/design.md, "Flow metadata")
METADATA_KEY = "apigw_doctor"


@dataclass(slots=True)
class Target:
    """Which AWS surface a flow talks to, read from the host, the path and the gateway's reply headers."""

    surface: Surface
    host: str
    api_id: str | None = None
    region: str | None = None
    stage: str | None = None
    path: str = "/"
    vpce: bool = False  # private API reached through a VPC endpoint host name

    def as_dict(self) -> dict[str, Any]:
        return {"surface": self.surface, "api_id": self.api_id, "region": self.region, "stage": self.stage}


@dataclass(slots=True)
class SigV4:
    """The parts of an `AWS4-HMAC-SHA256` Authorization header that are safe to show (never the signature)."""

    access_key_id: str | None
    date: str | None
    region: str | None
    service: str | None
    signed_headers: tuple[str, ...]
    amz_date: str | None  # X-Amz-Date header, or None
    has_security_token: bool


@dataclass(slots=True)
class Credential:
    """Where the credential is and what shape it has.

    `location` is `header:<Name>`, `query:<name>` or `cookie:<name>`; empty when missing.
    `damage` names what is wrong with the raw value: `leading-whitespace`, `trailing-whitespace`, `inner-whitespace`,
    `line-break`, `quoted`, `double-scheme`, `scheme-colon`, `scheme-case`.
    """

    kind: CredentialKind
    location: str = ""
    scheme: str | None = None
    token: str | None = field(default=None, repr=False)  # cleaned credential; in memory only
    raw: str | None = field(default=None, repr=False)  # the raw header value; in memory only
    damage: tuple[str, ...] = ()
    in_identity_header: bool = True
    api_key_sent: bool = False
    sigv4: SigV4 | None = None


@dataclass(slots=True)
class Token:
    """A decoded JWT (or a recognised JWE). Never trusted: the signature is only checked in the check chain."""

    header: dict[str, Any]
    claims: dict[str, Any]
    fingerprint: str  # short hash of the signature: matches two uses of one token without revealing it
    problems: tuple[str, ...] = ()  # decode problems; non-empty means "not a JWT we can read"
    encrypted: bool = False  # 5-part JWE, e.g. a Cognito refresh token

    @property
    def token_use(self) -> str | None:
        value = self.claims.get("token_use")
        return value if isinstance(value, str) else None

    @property
    def issuer(self) -> str | None:
        value = self.claims.get("iss")
        return value if isinstance(value, str) else None

    @property
    def scopes(self) -> tuple[str, ...]:
        value = self.claims.get("scope", self.claims.get("scp"))
        if isinstance(value, str):
            return tuple(value.split())
        if isinstance(value, list):
            return tuple(str(v) for v in value)
        return ()


@dataclass(slots=True)
class Reply:
    """What the gateway (or Cognito) said, normalised."""

    status: int
    error_type: str | None = None  # x-amzn-ErrorType without the Cognito trailing colon or a `:detail` suffix
    message: str | None = None  # body `message`/`Message` (key matched case-insensitively)
    has_message_key: bool = False  # distinguishes `{"message":null}` from no such key
    body_json: bool = False
    body_empty: bool = True
    oauth_error: str | None = None  # Cognito OAuth `{"error": ...}`
    cognito_type: str | None = None  # Cognito JSON API `__type`
    www_authenticate: dict[str, str] = field(default_factory=dict)  # scheme under "", then parameters
    request_ids: dict[str, str] = field(default_factory=dict)  # lower-case header name -> id
    date: float | None = None  # gateway clock (epoch seconds) from the Date header
    cors: bool = False  # Access-Control-Allow-Origin present
    cloudfront: bool = False
    location: str | None = None
    body_kind: str = "empty"  # empty | message (the gateway's one-key shape) | json | html | text
    cloudfront_page: str | None = None  # CloudFront's own HTML error page: its reason line, lower case
    gateway_ids: bool = False  # an API Gateway request id came back (x-amzn-RequestId or apigw-requestid)


@dataclass(slots=True)
class Finding:
    """One check's outcome, with the expected and actual values (aws-jwt-verify style)."""

    id: str
    result: Result
    expected: str | None = None
    actual: str | None = None
    note: str = ""
    cause: str | None = None  # the catalogue code a failure points to
    confidence: Confidence = "high"  # how sure a failure is: "medium" when inferred rather than configured

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "result": self.result,
            "expected": self.expected,
            "actual": self.actual,
            "note": self.note,
        }


@dataclass(slots=True)
class Alternative:
    """Another cause the same answer could mean, ranked below the primary one, and how to tell the two apart."""

    cause: str
    title: str
    confidence: Confidence
    tell: str  # the one observation that decides between this cause and the primary one

    def as_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "title": self.title, "confidence": self.confidence, "tell": self.tell}


@dataclass(slots=True)
class Diagnosis:
    """The engine's verdict for one flow; `as_metadata()` is the `flow.metadata["apigw_doctor"]` contract.

    `alternatives` (metadata key added after the first contract, always present, often empty): other causes that
    produce the same answer on the wire, best first, each with the observation that tells it from `cause`. When it
    is not empty, `confidence` is at most `medium`: `high` means the evidence ruled every alternative out.
    """

    cause: str | None
    confidence: Confidence | None
    title: str
    summary: str
    evidence: tuple[str, ...]
    fix: tuple[str, ...]
    checks: tuple[Finding, ...]
    target: Target
    token: dict[str, Any] | None
    warnings: tuple[str, ...] = ()
    status: int = 0
    method: str = ""
    path: str = "/"
    lineage: dict[str, Any] | None = None  # the token's lineage (conversation.metadata), when the proxy saw it
    alternatives: tuple[Alternative, ...] = ()

    def as_metadata(self) -> dict[str, Any]:
        meta = {
            "cause": self.cause,
            "confidence": self.confidence,
            "title": self.title,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "fix": list(self.fix),
            "checks": [f.as_dict() for f in self.checks],
            "target": self.target.as_dict(),
            "token": self.token,
            "warnings": list(self.warnings),
            "alternatives": [a.as_dict() for a in self.alternatives],
        }
        if self.lineage is not None:
            meta["lineage"] = self.lineage
        return meta
