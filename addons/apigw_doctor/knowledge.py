"""What the engine knows besides the flow: expectations from options, and what successful flows taught it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .apidef import Definitions
from .baseline import Baseline
from .keys import KeyStore
from .lineage import Lineage
from .model import Credential, Token
from .pools import parse_pool
from .target import HostMatcher

AUTHORIZERS = ("auto", "cognito", "jwt", "lambda", "iam", "none")
_OPTION_NAMES = {"issuers": "user_pools"}


@dataclass(frozen=True, slots=True)
class Expectations:
    """What the user told us about the API (docs/design.md, "Options")."""

    hosts: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    authorizer: str = "auto"
    identity_header: str = "authorization"
    expiry_warning: int = 120
    # From the API definition's route (apidef/), when one matched; the options never set these.
    identity_problem: str | None = None  # the identity source, as written, and what is wrong with it
    validation_expression: str | None = None  # identityValidationExpression
    api_key_required: bool | None = None
    cache_ttl: int | None = None  # authorizerResultTtlInSeconds
    unresolved: tuple[str, ...] = ()  # what the definition leaves unknown offline, in words
    route: str | None = None  # the matched route, e.g. "GET /orders/{id}"
    # Where each expectation came from: (name, source), e.g. ("scopes", "definition file:api.json GET /orders").
    # Names not listed come from the options.
    sources: tuple[tuple[str, str], ...] = ()

    def source(self, name: str) -> str:
        for key, where in self.sources:
            if key == name:
                return where
        return f"option apigw_{_OPTION_NAMES.get(name, name)}"

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


class Knowledge:
    """Expectations, signing keys, and the baseline learned from successful flows."""

    def __init__(
        self,
        expectations: Expectations | None = None,
        keys: KeyStore | None = None,
        definitions: Definitions | None = None,
    ) -> None:
        self.expectations = expectations or Expectations()
        self.keys = keys or KeyStore()
        self.definitions = definitions or Definitions()  # API definitions (apigw_api_spec)
        # Per-route expectations, derived once per route (routes live as long as the definitions).
        self.route_expectations: dict[int, Expectations] = {}
        self.hosts = HostMatcher(self.expectations.hosts)
        self.baseline = Baseline()
        # Clients send the same token many times: its parse and decode are reused (bounded, like the host cache).
        self.credentials: dict[tuple[str, bool, str], tuple[Credential, Token | None]] = {}
        self.credential_bytes = 0  # characters of the raw credentials in `credentials` (the cache is bounded by both)
        self.lineage = Lineage()  # tokens issued, refreshed and revoked in this capture (bounded)
