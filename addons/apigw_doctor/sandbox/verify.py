"""Token verification as API Gateway's Cognito and JWT authorizers do it, with the sandbox's reason for each refusal.

The verdict comes only from real checks (structure, `alg`, `iss`, `kid`, RSA signature with PyJWT against the
issuer's JWKS, `exp`, then the authorizer's own claim rules). When a check fails, the sandbox names the cause
in the project's catalogue vocabulary (docs/design.md) so the demo can compare the addon's verdict with it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt

JwksSource = dict[str, Any] | Callable[[], dict[str, Any]] | str  # a JWKS, a provider, or an http(s) URL

_PLACEHOLDERS = frozenset({"undefined", "null", "none", "nan", "[object object]", "true", "false", "token"})
_TEMPLATE = re.compile(r"^(\$\{.*\}|\{\{.*\}\}|<.*>|%.*%)$")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the sandbox refused a request: a catalogue cause code, the failing step, and a human detail."""

    cause: str
    check: str
    detail: str = ""
    also: tuple[str, ...] = ()  # other causes that hold as well (e.g. route-not-found behind sigv4-expected)


@dataclass(frozen=True, slots=True)
class Verified:
    header: dict[str, Any]
    claims: dict[str, Any]


@dataclass
class KeyRing:
    """issuer -> JWKS. URL sources are fetched on first use and again when a `kid` is not found."""

    sources: dict[str, JwksSource] = field(default_factory=dict)
    _cache: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, issuer: str, source: JwksSource) -> None:
        self.sources[issuer] = source
        self._cache.pop(issuer, None)

    def _load(self, issuer: str) -> dict[str, Any]:
        source = self.sources[issuer]
        if isinstance(source, dict):
            return source
        if callable(source):
            return source()
        with urllib.request.urlopen(source, timeout=5) as resp:  # http(s) URLs the caller configured
            return json.loads(resp.read())

    def key(self, issuer: str, kid: str) -> Any | None:
        """The RSA public key for `kid` at `issuer`, or None (unknown issuer, unknown kid, JWKS unavailable)."""
        if issuer not in self.sources:
            return None
        for attempt in range(2):
            with self._lock:
                if attempt or issuer not in self._cache:
                    try:
                        self._cache[issuer] = self._load(issuer)
                    except (OSError, ValueError):
                        return None
                jwks = self._cache[issuer]
            for jwk in jwks.get("keys", []):
                if jwk.get("kid") == kid:
                    return jwt.PyJWK.from_dict(jwk).key
            if isinstance(self.sources[issuer], dict):
                break
        return None


def strip_bearer(value: str) -> str:
    """Both authorizers accept the token alone or prefixed with `Bearer ` (wire-reference.md:
    the Bearer row of "REST Cognito authorizer"; the rules of "HTTP JWT authorizer")."""
    return value[7:] if value.startswith("Bearer ") else value


def _b64json(segment: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        obj = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def parse_token(value: str | None) -> Refusal | tuple[str, dict[str, Any], dict[str, Any]]:
    """Identity-source value -> (token, header, claims) or the reason it is no readable JWT."""
    if value is None or not value.strip():
        return Refusal("missing-credential", "identity-source", "no Authorization header (authorizer not invoked)")
    token = strip_bearer(value)
    low = token.strip().lower()
    if low.startswith(("bearer ", "bearer:")) or value.lower().startswith("bearer:"):
        return Refusal("malformed-header", "jwt-structure", "the scheme appears twice or with a colon")
    if token != token.strip() or any(c.isspace() for c in token):
        return Refusal("malformed-header", "jwt-structure", "whitespace inside the token")
    if token[:1] in "\"'" or token[-1:] in "\"'":
        return Refusal("malformed-header", "jwt-structure", "the token is quoted")
    if low in _PLACEHOLDERS or _TEMPLATE.match(token):
        return Refusal("placeholder-token", "jwt-structure", f"the token is the placeholder {token!r}")
    segments = token.split(".")
    if len(segments) == 5:
        hdr = _b64json(segments[0])
        detail = "a 5-part JWE" + (" (Cognito refresh token shape)" if hdr and "enc" in hdr else "")
        return Refusal("refresh-token-sent", "jwt-structure", detail)
    if len(segments) != 3:
        return Refusal("not-a-jwt", "jwt-structure", f"{len(segments)} segment(s), a JWT has 3")
    header, claims = _b64json(segments[0]), _b64json(segments[1])
    if header is None or claims is None:
        return Refusal("not-a-jwt", "jwt-structure", "header or payload is not base64url JSON")
    return token, header, claims


def verify_signed(value: str | None, *, issuers: Iterable[str], keyring: KeyRing, now: float) -> Refusal | Verified:
    """The checks both authorizers share: structure, RS256, iss, kid, signature, exp. Claim rules come after."""
    parsed = parse_token(value)
    if isinstance(parsed, Refusal):
        return parsed
    token, header, claims = parsed
    alg = header.get("alg")
    if alg != "RS256":
        # wire-reference "HTTP JWT authorizer": "Currently, only RSA-based algorithms are supported"; Cognito signs with
        # RS256 (wire-reference "Cognito tokens").
        return Refusal("unsupported-algorithm", "alg", f"alg {alg!r}; only RS256 is accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        return Refusal("unknown-key", "kid", "no kid in the token header")
    iss = claims.get("iss")
    if iss not in set(issuers):
        return Refusal("wrong-issuer", "iss", f"iss {iss!r} is not a configured issuer")
    key = keyring.key(iss, kid)
    if key is None:
        return Refusal("unknown-key", "kid", f"kid {kid!r} is not in the JWKS of {iss}")
    try:
        jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.InvalidSignatureError:
        return Refusal("bad-signature", "signature", "RSA signature does not verify")
    except jwt.PyJWTError as exc:
        return Refusal("not-a-jwt", "signature", f"undecodable: {exc}")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return Refusal("not-a-jwt", "exp", "no numeric exp claim")
    if now >= exp:
        return Refusal("token-expired", "exp", f"exp {int(exp)} <= now {int(now)}")
    return Verified(header, claims)


def scopes_of(claims: dict[str, Any]) -> set[str]:
    raw = claims.get("scope", claims.get("scp", ""))
    return set(raw.split()) if isinstance(raw, str) else {str(s) for s in raw} if isinstance(raw, list) else set()


def cognito_rest(
    value: str | None, *, issuers: Iterable[str], keyring: KeyRing, scopes: Iterable[str], now: float
) -> Refusal | Verified:
    """REST COGNITO_USER_POOLS authorizer (wire-reference "REST Cognito authorizer"): no method scopes => ID token;
    scopes => access token + scope."""
    result = verify_signed(value, issuers=issuers, keyring=keyring, now=now)
    if isinstance(result, Refusal):
        return result
    required = set(scopes)
    use = result.claims.get("token_use")
    if not required:
        if use != "id":
            return Refusal("wrong-token-type", "token_use", f"token_use {use!r}; a method without scopes needs id")
        return result
    if use != "access":
        return Refusal("wrong-token-type", "token_use", f"token_use {use!r}; a method with scopes needs access")
    if not required & scopes_of(result.claims):
        return Refusal(
            "missing-scope", "scope", f"token scopes {sorted(scopes_of(result.claims))}, need any of {sorted(required)}"
        )
    return result


def jwt_http(
    value: str | None,
    *,
    issuer: str,
    audiences: Iterable[str],
    scopes: Iterable[str],
    keyring: KeyRing,
    now: float,
) -> Refusal | Verified:
    """HTTP API JWT authorizer (wire-reference "HTTP JWT authorizer"): iss exact, aud (or client_id without aud), exp,
    nbf/iat, route scopes."""
    result = verify_signed(value, issuers=(issuer,), keyring=keyring, now=now)
    if isinstance(result, Refusal):
        return result
    claims = result.claims
    for name in ("nbf", "iat"):
        val = claims.get(name)
        if isinstance(val, int | float) and not isinstance(val, bool) and val > now:
            return Refusal("token-not-yet-valid", name, f"{name} {int(val)} > now {int(now)}")
    allowed = set(audiences)
    # "API Gateway validates client_id only if aud is not present" (wire-reference "HTTP JWT authorizer").
    aud = claims.get("aud") if "aud" in claims else claims.get("client_id")
    auds = set(aud) if isinstance(aud, list) else {aud}
    if not auds & allowed:
        field_name = "aud" if "aud" in claims else "client_id"
        return Refusal("wrong-audience", field_name, f"{field_name} {aud!r} not in {sorted(allowed)}")
    required = set(scopes)
    if required and not required & scopes_of(claims):
        return Refusal(
            "missing-scope", "scope", f"token scopes {sorted(scopes_of(claims))}, need any of {sorted(required)}"
        )
    return result
