"""What the engine knows besides the flow: expectations from options, and what successful flows taught it."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field

from .model import Token
from .target import HostMatcher

AUTHORIZERS = ("auto", "cognito", "jwt", "lambda", "iam", "none")
_POOL_ID = re.compile(r"^(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)_[A-Za-z0-9]+$")
_POOL_ARN = re.compile(r"^arn:aws[a-z-]*:cognito-idp:(?P<region>[a-z0-9-]+):\d{12}:userpool/(?P<pool>[^/\s]+)$")
_COGNITO_ISSUER = re.compile(
    r"^https://cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<pool>[a-z0-9-]+_[A-Za-z0-9]+)$"
)
_BASELINE_APIS = 256


def cognito_issuer(region: str, pool_id: str) -> str:
    suffix = ".cn" if region.startswith("cn-") else ""
    return f"https://cognito-idp.{region}.amazonaws.com{suffix}/{pool_id}"


def parse_pool(spec: str) -> str:
    """A pool id, pool ARN or issuer URL, as the issuer URL a token from that pool carries."""
    spec = spec.strip()
    if m := _POOL_ID.match(spec):
        return cognito_issuer(m["region"], spec)
    if m := _POOL_ARN.match(spec):
        return cognito_issuer(m["region"], m["pool"])
    if spec.startswith(("https://", "http://")):
        return spec
    raise ValueError(
        f"{spec!r} is not a user pool id (us-east-1_AbCdEf123), a pool ARN "
        "(arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID) or an issuer URL (https://...)"
    )


def split_cognito_issuer(issuer: str | None) -> tuple[str, str] | None:
    """(region, pool id) of a Cognito issuer URL, or None for any other issuer."""
    m = _COGNITO_ISSUER.match(issuer or "")
    return (m["region"], m["pool"]) if m else None


@dataclass(frozen=True, slots=True)
class Expectations:
    """What the user told us about the API (the DESIGN.md options)."""

    hosts: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    authorizer: str = "auto"
    identity_header: str = "authorization"
    expiry_warning: int = 120

    @property
    def describes_api(self) -> bool:
        """True once the user described the authorizer; an empty scope list then means "no scopes"."""
        return bool(self.issuers or self.audiences or self.scopes or self.authorizer != "auto")


def make_expectations(
    hosts: list[str] | tuple[str, ...] = (),
    user_pools: list[str] | tuple[str, ...] = (),
    audiences: list[str] | tuple[str, ...] = (),
    scopes: list[str] | tuple[str, ...] = (),
    authorizer: str = "auto",
    identity_header: str = "Authorization",
    expiry_warning: int = 120,
) -> Expectations:
    """Validate option values; raises ValueError with a message that says what to write instead."""
    if authorizer not in AUTHORIZERS:
        raise ValueError(f"apigw_authorizer must be one of {', '.join(AUTHORIZERS)}, not {authorizer!r}")
    if not re.fullmatch(r"[A-Za-z0-9-]+", identity_header or ""):
        raise ValueError(f"apigw_identity_header must be a header name such as Authorization, not {identity_header!r}")
    if expiry_warning < 0:
        raise ValueError("apigw_expiry_warning must be 0 or more seconds")
    for host in hosts:
        if not re.fullmatch(r"(\*\.)?[A-Za-z0-9.-]+", host.strip()):
            raise ValueError(f"apigw_hosts entry {host!r} is not a host name (wildcards: *.example.com)")
    return Expectations(
        hosts=tuple(h.strip().lower() for h in hosts if h.strip()),
        issuers=tuple(parse_pool(p) for p in user_pools if p.strip()),
        audiences=tuple(a.strip() for a in audiences if a.strip()),
        scopes=tuple(s for spec in scopes for s in spec.split() if s),
        authorizer=authorizer,
        identity_header=identity_header.lower(),
        expiry_warning=expiry_warning,
    )


@dataclass(slots=True)
class Learned:
    """What passing flows to one API had in common: the baseline a failing token is compared with."""

    issuers: set[str] = field(default_factory=set)
    token_uses: set[str] = field(default_factory=set)
    clients: set[str] = field(default_factory=set)
    successes: int = 0

    def add(self, token: Token) -> None:
        self.successes += 1
        if len(self.issuers) < 8 and token.issuer:
            self.issuers.add(token.issuer)
        if len(self.token_uses) < 4 and token.token_use:
            self.token_uses.add(token.token_use)
        client = token.claims.get("aud") or token.claims.get("client_id")
        if len(self.clients) < 8 and isinstance(client, str):
            self.clients.add(client)


class Knowledge:
    """Expectations plus the bounded baseline learned from successful flows (keyed by API host)."""

    def __init__(self, expectations: Expectations | None = None) -> None:
        self.expectations = expectations or Expectations()
        self.hosts = HostMatcher(self.expectations.hosts)
        self._learned: OrderedDict[str, Learned] = OrderedDict()

    def learn(self, api_key: str, token: Token) -> None:
        learned = self._learned.get(api_key)
        if learned is None:
            if len(self._learned) >= _BASELINE_APIS:
                self._learned.popitem(last=False)
            learned = self._learned[api_key] = Learned()
        learned.add(token)

    def learned(self, api_key: str) -> Learned | None:
        return self._learned.get(api_key)
