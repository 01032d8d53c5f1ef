"""A REST Lambda TOKEN authorizer with API Gateway's policy cache, and a policy scoped to one method ARN.

This is the caching pitfall docs/wire-reference.md describes under "REST Lambda authorizers": the authorizer returns
an Allow whose `Resource` is `event.methodArn` (the method of the first call), API Gateway caches that policy under
the token for the TTL (300 s by default), and the next call with the same token to another method is evaluated
against the cached policy without invoking the authorizer: 403 `{"Message":"User is not authorized to access this
resource"}` (AccessDeniedException). When the TTL has passed, the authorizer runs again and allows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from . import responses as r
from .config import GatewayConfig, RestApi
from .request import Request
from .responses import Reply
from .verify import Refusal, strip_bearer, verify_signed

DEFAULT_TTL = 300  # seconds (docs/wire-reference.md, "REST Lambda authorizers", caching)
ACCOUNT_ID = "123456789012"  # the documentation account id; the sandbox has no account
_MAX_ENTRIES = 1024


@dataclass(frozen=True, slots=True)
class CachedPolicy:
    method_arn: str  # the one Resource the Allow statement names
    expires: float


class PolicyCache:
    """Policies by identity-source value (the token), as API Gateway keeps them for a TOKEN authorizer."""

    def __init__(self, ttl: int = DEFAULT_TTL) -> None:
        self.ttl = ttl
        self._entries: dict[str, CachedPolicy] = {}
        self._lock = threading.Lock()

    def get(self, token: str, now: float) -> CachedPolicy | None:
        with self._lock:
            entry = self._entries.get(token)
            return entry if entry is not None and entry.expires > now else None

    def put(self, token: str, method_arn: str, now: float) -> None:
        if self.ttl <= 0:
            return  # TTL 0 disables caching
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[token] = CachedPolicy(method_arn, now + self.ttl)


def method_arn(api: RestApi, stage: str, method: str, resource: str) -> str:
    return f"arn:aws:execute-api:{api.region}:{ACCOUNT_ID}:{api.api_id}/{stage}/{method}{resource}"


def cached_authorizer(
    req: Request, api: RestApi, cfg: GatewayConfig, cache: PolicyCache, stage: str, resource: str, now: float
) -> tuple[Reply, Refusal] | None:
    """None to let the call through, else the refusal. A valid pool JWT earns an Allow for this method only."""
    value = req.header("authorization")
    if not value:
        return r.rest_unauthorized(now, edge=api.edge), Refusal("missing-credential", "identity-source", "not invoked")
    token = strip_bearer(value)
    arn = method_arn(api, stage, req.method, resource)
    cached = cache.get(token, now)
    if cached is not None:
        if cached.method_arn == arn:
            return None
        detail = f"cached policy allows only {cached.method_arn} (TTL {cache.ttl} s); the authorizer was not invoked"
        return r.rest_implicit_deny(now, edge=api.edge), Refusal("authorizer-cached-policy", "lambda-cache", detail)
    result = verify_signed(value, issuers=api.issuers, keyring=cfg.keyring, now=now)
    if isinstance(result, Refusal):
        refusal = Refusal(result.cause, f"lambda:{result.check}", "the authorizer said Unauthorized", ())
        return r.rest_unauthorized(now, edge=api.edge), refusal
    cache.put(token, arn, now)
    return None


_CREATE_LOCK = threading.Lock()


def policy_cache(cfg: GatewayConfig) -> PolicyCache:
    """The one cache of a gateway configuration (API Gateway keeps one per authorizer and stage)."""
    with _CREATE_LOCK:
        cache = cfg.authorizer_cache
        if not isinstance(cache, PolicyCache) or cache.ttl != cfg.authorizer_ttl:
            cache = cfg.authorizer_cache = PolicyCache(cfg.authorizer_ttl)
        return cache
