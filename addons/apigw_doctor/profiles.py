"""Authorizer profiles as data: what each kind of authorizer checks, in which order, and how its failures rank.

One entry per profile. The checks read the entry's fields (never the profile's name), so adding a profile means
adding one entry here. The rules come from docs/wire-reference.md (REST Cognito authorizers, HTTP API JWT
authorizers, Lambda authorizers, IAM) and aws-jwt-verify's order of checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import checks as c
from .checks import Check
from .model import Confidence, Profile

# How the audience is checked:
#   "unchecked"      the authorizer does not look at the audience (REST Cognito authorizers accept any app client
#                    of the pool);
#   "aud-or-client"  `aud` when the token has one, `client_id` otherwise (HTTP API JWT authorizers; aws-jwt-verify
#                    compares `aud` of ID tokens and `client_id` of access tokens the same way).
AudienceRule = Literal["unchecked", "aud-or-client"]

# When the gateway's text names no cause, the first failing check in the profile's ranking wins: what the gateway
# meets first (the header, then the token's shape, then its key and signature, then its claims) comes first.
_CREDENTIAL_RANKING = (
    "missing-credential",
    "identity-source-mismatch",
    "wrong-header",
    "placeholder-token",
    "refresh-token-sent",
    "malformed-header",
    "not-a-jwt",
    "token-validation-mismatch",
    "sigv4-clock-skew",
    "sigv4-signature-mismatch",
)
# aws-jwt-verify's order: the issuer (a token of another pool is refused before its kid is looked up), the kid, the
# algorithm against the key, then the signature.
_KEY_RANKING = (
    "wrong-issuer",
    "unknown-key",
    "unsupported-algorithm",
    "bad-signature",
)
# REST Cognito authorizers say "The incoming token has expired" when expiry is what they rejected, so a generic
# Unauthorized beside an expired token means something else failed first: the issuer, key or signature leads.
_REST_COGNITO_RANKING = (
    *_CREDENTIAL_RANKING,
    *_KEY_RANKING,
    "token-expired",
    "token-not-yet-valid",
    "wrong-token-type",
    "missing-scope",
    "wrong-audience",
)
# HTTP API JWT authorizers answer every token failure with the same 401: aws-jwt-verify's order of claim checks
# (exp, nbf, then the audience or client id, then scopes) is the best guess of which one it met first.
_HTTP_JWT_RANKING = (
    *_CREDENTIAL_RANKING,
    *_KEY_RANKING,
    "token-expired",
    "token-not-yet-valid",
    "wrong-audience",
    "wrong-token-type",
    "missing-scope",
)


@dataclass(frozen=True, slots=True)
class AuthorizerProfile:
    """One kind of authorizer. `reads_jwt`: it validates the token itself (signature, issuer, claims)."""

    name: Profile
    checks: tuple[Check, ...]
    reads_jwt: bool = False
    algorithms: tuple[str, ...] = ()  # the `alg` values it accepts; empty: not checked
    audience: AudienceRule = "unchecked"
    iat_strict: bool = False  # True: an `iat` in the future is a failure, not only a warning
    token_use_by_scopes: bool = False  # REST Cognito: no method scopes means ID token, scopes mean access token
    cognito_issuers_only: bool = False  # only Cognito user pools can issue the tokens it accepts
    ranking: tuple[str, ...] = _REST_COGNITO_RANKING
    fallback_confidence: Confidence = "low"  # confidence of authorizer-rejected when no check failed


_CREDENTIAL_CHECKS: tuple[Check, ...] = (
    c.check_present,
    c.check_location,
    c.check_header_format,
    c.check_placeholder,
    c.check_structure,
    c.check_refresh_token,
    c.check_validation_expression,
)
# aws-jwt-verify's order: the issuer, the kid, the algorithm, the signature, then the claims.
_JWT_CHECKS: tuple[Check, ...] = (
    c.check_issuer,
    c.check_kid,
    c.check_algorithm,
    c.check_signature,
    c.check_expiry,
    c.check_not_before,
    c.check_token_use,
    c.check_scope,
    c.check_audience,
)

PROFILES: dict[str, AuthorizerProfile] = {
    p.name: p
    for p in (
        # REST API, COGNITO_USER_POOLS: RS256 tokens of the pool; ID token without scopes, access token with them;
        # the app client is not checked.
        AuthorizerProfile(
            "cognito",
            _CREDENTIAL_CHECKS + _JWT_CHECKS,
            reads_jwt=True,
            algorithms=("RS256",),
            audience="unchecked",
            token_use_by_scopes=True,
            cognito_issuers_only=True,
        ),
        # HTTP API JWT authorizer: RSA tokens, iat before now, aud (or client_id) among the configured audiences.
        AuthorizerProfile(
            "jwt",
            _CREDENTIAL_CHECKS + _JWT_CHECKS,
            reads_jwt=True,
            algorithms=("RS256", "RS384", "RS512"),
            audience="aud-or-client",
            iat_strict=True,
            ranking=_HTTP_JWT_RANKING,
        ),
        # A Lambda authorizer may accept any token shape; expiry is still worth reporting when it is a JWT.
        AuthorizerProfile(
            "lambda",
            (
                c.check_present,
                c.check_location,
                c.check_header_format,
                c.check_placeholder,
                c.check_refresh_token,
                c.check_validation_expression,
                c.check_expiry,
                c.check_not_before,
            ),
            fallback_confidence="medium",
        ),
        AuthorizerProfile("iam", (c.check_present, c.check_sigv4_date, c.check_sigv4_scope)),
        AuthorizerProfile("none", ()),
    )
}


def profile(name: str) -> AuthorizerProfile:
    return PROFILES[name]


def run_checks(ctx: c.CheckContext) -> tuple:
    return tuple(check(ctx) for check in ctx.profile.checks)
