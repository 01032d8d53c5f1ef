"""Pipeline step 5, the check chain: small named checks, all evaluated (no fail-fast), chosen by profile.

Each check reads a `CheckContext` and returns one `Finding` with the expected and the actual value.
The rules per authorizer come from docs/wire-reference.md, "REST Cognito authorizer" and
"HTTP JWT authorizer", and follow the order of awslabs/aws-jwt-verify.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .apidef import RouteMatch
from .apidef.validation import matches
from .baseline import ApiBaseline, RouteBaseline, kid_key
from .keys import KeyStore, verify_signature
from .knowledge import Expectations
from .model import STRIPPED, Credential, Finding, Reply, Target, Token
from .pools import split_cognito_issuer
from .timefmt import ago, utc
from .tokens import is_cognito_refresh_shape

if TYPE_CHECKING:
    from .profiles import AuthorizerProfile

COGNITO_ADMIN_SCOPE = "aws.cognito.signin.user.admin"
# Scopes any Cognito sign-in may carry; they say nothing about what a method requires.
_GENERIC_SCOPES = frozenset({COGNITO_ADMIN_SCOPE, "openid", "profile", "email", "phone"})
_RSA_ALGS = ("RS256", "RS384", "RS512")


@dataclass(slots=True)
class CheckContext:
    target: Target
    credential: Credential
    token: Token | None
    reply: Reply
    profile: AuthorizerProfile  # the authorizer's rules (profiles.py); checks read its fields, never its name
    now: float  # the gateway's clock (docs/design.md: "Time is the gateway's")
    expectations: Expectations
    api: ApiBaseline | None  # learned from successful calls to this API
    route: RouteBaseline | None  # ... and to this method and path
    keys: KeyStore
    http_api: bool = False  # an HTTP API (v2): its fix commands are `aws apigatewayv2 ... --api-id`
    definition: RouteMatch | None = None  # the flow's route in the API definitions (apigw_api_spec)
    definition_evidence: tuple[str, ...] = ()  # where the traffic disagrees with the definition


Check = Callable[[CheckContext], Finding]


# -- credential ---------------------------------------------------------------------------------------------------


def check_present(ctx: CheckContext) -> Finding:
    kind = ctx.credential.kind
    if ctx.credential.location == STRIPPED:
        return Finding("credential.present", "skip", note="unknown: the export removed the credential headers")
    if kind in ("missing", "api-key"):
        header = ctx.expectations.identity_header.title()
        return Finding(
            "credential.present", "fail", f"a token in the {header} header", "none sent", cause="missing-credential"
        )
    return Finding("credential.present", "pass", actual=f"{kind} in {ctx.credential.location}")


def check_location(ctx: CheckContext) -> Finding:
    cred, e = ctx.credential, ctx.expectations
    if cred.kind == "api-key":  # an API key in x-api-key is not a token sent to the wrong place
        return Finding("credential.location", "skip", note="only an API key (x-api-key) was sent")
    if e.identity_problem and cred.kind != "missing":
        return Finding(
            "credential.location",
            "fail",
            "an identity source naming a header the client sends",
            f"the authorizer reads {e.identity_problem}",
            note=f"from {e.source('identity_problem')}",
            cause="identity-source-mismatch",
        )
    if cred.kind == "missing" or cred.in_identity_header:
        return Finding("credential.location", "pass" if cred.kind != "missing" else "skip")
    if cred.location == "header:Authorization" and e.identity_header != "authorization":
        # The token is where clients normally send it; the authorizer was configured to read another header.
        return Finding(
            "credential.location",
            "fail",
            f"header:{e.identity_header.title()} (the authorizer's identity source, {e.source('identity_header')})",
            cred.location,
            note="the authorizer reads another header than the one carrying the token",
            cause="identity-source-mismatch",
            confidence="high" if e.source("identity_header").startswith(("definition", "AWS")) else "medium",
        )
    return Finding(
        "credential.location",
        "fail",
        f"header:{ctx.expectations.identity_header.title()}",
        cred.location,
        note="a token was found, but not where the authorizer reads it",
        cause="wrong-header",
    )


def check_validation_expression(ctx: CheckContext) -> Finding:
    """identityValidationExpression: on the identity value (TOKEN Lambda authorizers) or on `aud` (Cognito)."""
    pattern = ctx.expectations.validation_expression
    cred = ctx.credential
    if not pattern or cred.kind == "missing" or not cred.in_identity_header:
        return Finding("credential.validation-expression", "skip")
    if ctx.profile.reads_jwt:
        token = _readable(ctx)
        aud = token.claims.get("aud") if token is not None else None
        if token is None:
            return Finding("credential.validation-expression", "skip")
        subject, what = (aud if isinstance(aud, str) else ""), "aud"
    else:
        subject, what = (cred.raw or "").strip(), "the header value"
    result, why = matches(pattern, subject)
    source = ctx.expectations.source("validation_expression")
    if result is None:
        return Finding("credential.validation-expression", "skip", pattern, note=why)
    if result:
        return Finding("credential.validation-expression", "pass", pattern, f"{what} matches")
    shown = "no aud claim (an access token)" if what == "aud" and not subject else f"{what} does not match"
    return Finding(
        "credential.validation-expression",
        "fail",
        f"{what} matching {pattern} (re.fullmatch)",
        shown,
        note=f"API Gateway answers 401 without calling the authorizer; expression from {source}",
        cause="token-validation-mismatch",
    )


def check_header_format(ctx: CheckContext) -> Finding:
    damage = [d for d in ctx.credential.damage if d != "scheme-case"]
    if damage:
        return Finding(
            "credential.format",
            "fail",
            "`Bearer <token>` or `<token>`, nothing else",
            ", ".join(damage),
            cause="malformed-header",
        )
    if "scheme-case" in ctx.credential.damage:
        return Finding(
            "credential.format",
            "warn",
            "Bearer",
            "lower-case bearer",
            note="HTTP APIs document the prefix `Bearer ` only",
        )
    return Finding("credential.format", "pass" if ctx.credential.kind != "missing" else "skip")


def check_placeholder(ctx: CheckContext) -> Finding:
    if ctx.credential.kind == "placeholder":
        shown = (ctx.credential.token or "")[:24] or "(empty)"
        return Finding("credential.placeholder", "fail", "a token", shown, cause="placeholder-token")
    return Finding("credential.placeholder", "pass" if ctx.credential.kind != "missing" else "skip")


def check_structure(ctx: CheckContext) -> Finding:
    cred, token = ctx.credential, ctx.token
    if cred.kind == "jwt" and token is not None and token.problems:
        return Finding(
            "credential.jwt", "fail", "3 base64url JSON segments", "; ".join(token.problems), cause="not-a-jwt"
        )
    if cred.kind == "opaque" and ctx.profile.reads_jwt:
        return Finding(
            "credential.jwt",
            "fail",
            "a JWT",
            f"an opaque value of {len(cred.token or '')} characters",
            cause="not-a-jwt",
        )
    if cred.kind == "sigv4" and ctx.profile.reads_jwt:
        return Finding("credential.jwt", "fail", "a Cognito or JWT token", "an AWS SigV4 signature (AWS4-HMAC-SHA256)",
                       note="the wrong kind of credential: this method's authorizer reads a token, SigV4 is for "
                       "AWS_IAM methods", cause="not-a-jwt")  # fmt: skip
    if cred.kind == "jwe" and token is not None and not is_cognito_refresh_shape(token) and ctx.profile.reads_jwt:
        shape = ", ".join(f"{k} {token.header[k]}" for k in ("alg", "enc") if isinstance(token.header.get(k), str))
        return Finding("credential.jwt", "fail", "a signed JWT (3 segments)", f"an encrypted JWE ({shape or 'no alg'})",
                       note="an encrypted access token the JWT authorizer cannot read (some OIDC providers encrypt "
                       "access tokens unless an audience is requested)", cause="not-a-jwt")  # fmt: skip
    if cred.kind in ("jwt", "jwe"):
        return Finding("credential.jwt", "pass", actual="JWE (encrypted)" if cred.kind == "jwe" else "JWT")
    return Finding("credential.jwt", "skip", note=f"credential kind: {cred.kind}")


def check_refresh_token(ctx: CheckContext) -> Finding:
    if ctx.credential.kind == "jwe" and ctx.token is not None and is_cognito_refresh_shape(ctx.token):
        return Finding(
            "credential.not-refresh",
            "fail",
            "an ID or access token",
            "a 5-part JWE (a Cognito refresh token)",
            cause="refresh-token-sent",
        )
    return Finding("credential.not-refresh", "pass" if ctx.token is not None else "skip")


# -- token --------------------------------------------------------------------------------------------------------


def _readable(ctx: CheckContext) -> Token | None:
    token = ctx.token
    return token if token is not None and not token.problems and not token.encrypted else None


def check_algorithm(ctx: CheckContext) -> Finding:
    token = _readable(ctx)
    if token is None:
        return Finding("token.alg", "skip")
    alg = token.header.get("alg")
    allowed = ctx.profile.algorithms
    if allowed and alg not in allowed:
        return Finding("token.alg", "fail", " or ".join(allowed), str(alg), cause="unsupported-algorithm")
    return Finding("token.alg", "pass", actual=str(alg))


def check_kid(ctx: CheckContext) -> Finding:
    token = _readable(ctx)
    if token is None or not ctx.profile.reads_jwt:
        return Finding("token.kid", "skip")
    kid = token.header.get("kid")
    if not isinstance(kid, str):
        return Finding("token.kid", "fail", "a kid from the issuer's JWKS", "no kid in the header", cause="unknown-key")
    seen = ctx.api.kids.get(kid_key(token)) if ctx.api else None
    if seen and kid not in seen and not ctx.keys:
        return Finding("token.kid", "fail", " or ".join(sorted(seen)), kid, cause="unknown-key", confidence="low",
                       note=f"successful {token.token_use} tokens from this issuer were signed with another key "
                       "(another pool, a forged token, or a rotated key)")  # fmt: skip
    return Finding("token.kid", "pass", actual=kid)


def check_signature(ctx: CheckContext) -> Finding:
    """With JWKS files (apigw_jwks): is the kid the pool's, and does the signature verify (aws-jwt-verify 6-8)?"""
    token = _readable(ctx)
    kid = token.header.get("kid") if token else None
    if token is None or not isinstance(kid, str) or not ctx.profile.reads_jwt:
        return Finding("token.signature", "skip")
    if not ctx.keys:
        return Finding("token.signature", "skip", note="not verified: no keys given (apigw_jwks)")
    iss = token.issuer
    candidates = [k for k in ctx.keys.lookup(kid) if k.issuer in (None, iss)]
    if not candidates:
        elsewhere = sorted({k.issuer for k in ctx.keys.lookup(kid) if k.issuer})
        if elsewhere:
            return Finding("token.signature", "fail", f"a key of {iss}", f"kid {kid}",
                           note=f"that kid belongs to {', '.join(elsewhere)}", cause="unknown-key")  # fmt: skip
        if ctx.keys.knows_issuer(iss):
            return Finding("token.signature", "fail", f"a kid in the JWKS of {iss}", f"kid {kid}",
                           note="not in the pool's JWKS: a forged token or one from another pool",
                           cause="unknown-key")  # fmt: skip
        pools = ctx.expectations.issuers
        if pools and all(ctx.keys.knows_issuer(p) for p in pools):
            # The authorizer looks the kid up in its own pool's JWKS, whatever the token's iss says.
            return Finding("token.signature", "fail", f"a kid in the JWKS of {' or '.join(pools)}", f"kid {kid}",
                           note=f"not in the authorizer's pool JWKS (the token names {iss})",
                           cause="unknown-key")  # fmt: skip
        return Finding("token.signature", "skip", note=f"no keys for {iss}")
    alg = str(token.header.get("alg"))
    if alg not in _RSA_ALGS:
        return Finding("token.signature", "skip", note=f"{alg} is judged by token.alg")
    declared = {k.key.algorithm_name for k in candidates if _declares_alg(k.key)}
    if declared and alg not in declared:
        return Finding("token.signature", "fail", f"alg {' or '.join(sorted(declared))} (the key's)", f"alg {alg}",
                       note=f"the JWKS publishes kid {kid} for another algorithm",
                       cause="unsupported-algorithm")  # fmt: skip
    verdicts = [verify_signature(ctx.credential.token or "", k.key, alg) for k in candidates]
    if True in verdicts:
        return Finding("token.signature", "pass", actual=f"verified with kid {kid}")
    if False in verdicts:
        return Finding("token.signature", "fail", "a signature made with the pool's key", "does not verify",
                       note="the token was altered or signed by someone else", cause="bad-signature")  # fmt: skip
    return Finding("token.signature", "skip", note=f"the key for kid {kid} cannot verify {alg}")


def _declares_alg(key: object) -> bool:
    """The JWK names its algorithm (`alg`), as Cognito's JWKS does; PyJWK otherwise assumes one from `kty`."""
    data = getattr(key, "_jwk_data", None)
    return isinstance(data, dict) and isinstance(data.get("alg"), str)


def check_expiry(ctx: CheckContext) -> Finding:
    token = _readable(ctx)
    if token is None:
        return Finding("token.exp", "skip")
    exp = token.claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        # A missing or non-numeric exp is a malformed token, not an expired one (aws-jwt-verify rejects its type).
        actual = "no exp claim" if "exp" not in token.claims else f"exp={_shown(exp)}"
        if not ctx.profile.reads_jwt:
            return Finding("token.exp", "warn", "a numeric exp", actual)
        return Finding("token.exp", "fail", "a numeric exp (seconds since the epoch)", actual,
                       note="the token's exp claim is missing or malformed", cause="not-a-jwt")  # fmt: skip
    expected = f"after {utc(ctx.now)} (gateway clock)"
    if exp <= ctx.now:
        return Finding(
            "token.exp", "fail", expected, f"{utc(exp)}, {ago(ctx.now - exp)} before the request", cause="token-expired"
        )
    return Finding("token.exp", "pass", expected, f"{utc(exp)}, valid for {ago(exp - ctx.now)}")


def check_not_before(ctx: CheckContext) -> Finding:
    token = _readable(ctx)
    if token is None:
        return Finding("token.nbf", "skip")
    nbf, iat = token.claims.get("nbf"), token.claims.get("iat")
    if isinstance(nbf, int | float) and nbf > ctx.now:
        return Finding(
            "token.nbf", "fail", f"nbf before {utc(ctx.now)}", f"nbf {utc(nbf)}", cause="token-not-yet-valid"
        )
    # HTTP API JWT authorizers require iat before now (wire-reference "HTTP JWT authorizer"); Cognito authorizers do not
    # document it.
    if isinstance(iat, int | float) and iat > ctx.now:
        result = "fail" if ctx.profile.iat_strict else "warn"
        return Finding(
            "token.nbf",
            result,
            f"iat before {utc(ctx.now)}",
            f"iat {utc(iat)}, {ago(iat - ctx.now)} ahead",
            cause="token-not-yet-valid" if result == "fail" else None,
        )
    return Finding("token.nbf", "pass")


def check_issuer(ctx: CheckContext) -> Finding:
    token = _readable(ctx)
    if token is None or not ctx.profile.reads_jwt:
        return Finding("token.iss", "skip")
    iss = token.issuer
    expected = ctx.expectations.issuers
    if expected:
        if iss in expected:
            return Finding("token.iss", "pass", " or ".join(expected), iss)
        return Finding(
            "token.iss",
            "fail",
            " or ".join(expected),
            str(iss),
            note=_issuer_note(iss, expected, ctx.expectations),
            cause="wrong-issuer",
        )
    if ctx.api and ctx.api.issuers and iss not in ctx.api.issuers:
        learned = " or ".join(sorted(ctx.api.issuers))
        return Finding(
            "token.iss",
            "fail",
            learned,
            str(iss),
            note=f"{ctx.api.successes} earlier successful calls to this API used that issuer",
            cause="wrong-issuer",
            confidence="medium",
        )
    if ctx.profile.cognito_issuers_only and split_cognito_issuer(iss) is None:
        return Finding(
            "token.iss",
            "fail",
            "https://cognito-idp.<region>.amazonaws.com/<pool>",
            str(iss),
            note="a Cognito authorizer only accepts tokens from a Cognito user pool",
            cause="wrong-issuer",
            confidence="medium",
        )
    region = split_cognito_issuer(iss)
    if region and ctx.target.region and region[0] != ctx.target.region:
        return Finding(
            "token.iss",
            "warn",
            f"a pool in {ctx.target.region}?",
            str(iss),
            note=f"the pool is in {region[0]}, the API in {ctx.target.region}",
        )
    return Finding("token.iss", "pass", actual=str(iss), note="no expected pool given (apigw_user_pools)")


def _issuer_note(iss: str | None, expected: tuple[str, ...], expectations: Expectations) -> str:
    if iss is None:
        return "the token has no iss claim"
    for want in expected:
        if iss.rstrip("/") == want.rstrip("/"):
            return (f"differs only by a trailing slash: the authorizer's issuer is \"{want}\" "
                    f"({expectations.source('issuers')}), the token's iss is \"{iss}\"; "
                    "the issuer must match exactly")  # fmt: skip
    got, wanted = split_cognito_issuer(iss), [split_cognito_issuer(w) for w in expected]
    if got and any(w and w[0] != got[0] for w in wanted):
        return f"the token's pool is in region {got[0]}"
    if got is None:
        return "not a Cognito user pool issuer"
    return "another user pool"


def _scopes_required(ctx: CheckContext) -> bool | None:
    """Whether the method requires scopes: True/False when the user described the API, else None (unknown)."""
    if ctx.expectations.scopes:
        return True
    return False if ctx.expectations.describes_api else None


def check_token_use(ctx: CheckContext) -> Finding:
    """REST Cognito: no method scopes means ID token, scopes mean access token (wire-reference "REST Cognito
    authorizer")."""
    token = _readable(ctx)
    if token is None or not ctx.profile.token_use_by_scopes:
        return Finding("token.use", "skip")
    use = token.token_use
    required = _scopes_required(ctx)
    if required is True:
        if use != "access":
            return Finding(
                "token.use", "fail", "access (the method has OAuth scopes)", str(use), cause="wrong-token-type"
            )
        return Finding("token.use", "pass", "access", use)
    if required is False:
        if use != "id":
            return Finding(
                "token.use", "fail", "id (the method has no OAuth scopes)", str(use), cause="wrong-token-type"
            )
        return Finding("token.use", "pass", "id", use)
    if ctx.route and ctx.route.token_uses:
        if use in ctx.route.token_uses:
            return Finding("token.use", "pass", actual=str(use), note="as in earlier successful calls to this route")
        wanted = " or ".join(sorted(ctx.route.token_uses))
        return Finding(
            "token.use",
            "fail",
            wanted,
            str(use),
            note=f"{ctx.route.successes} earlier successful calls to this method sent {wanted} tokens",
            cause="wrong-token-type",
            confidence="medium",
        )
    if use == "access" and token.scopes == (COGNITO_ADMIN_SCOPE,):
        return Finding(
            "token.use",
            "fail",
            "id (likely: methods without OAuth scopes need the ID token)",
            use,
            note="this access token has only aws.cognito.signin.user.admin, so it cannot match method scopes either",
            cause="wrong-token-type",
            confidence="medium",
        )
    return Finding("token.use", "pass", actual=str(use), note="method scopes unknown (apigw_scopes)")


def check_scope(ctx: CheckContext) -> Finding:
    token = _readable(ctx)
    if token is None or not ctx.profile.reads_jwt:
        return Finding("token.scope", "skip")
    wanted, confidence, learned_note = ctx.expectations.scopes, "high", ""
    if not wanted and ctx.route and ctx.route.token_uses == {"access"}:
        # Only access tokens succeeded here: the method has scopes; compare with the custom ones they carried.
        wanted = tuple(sorted(ctx.route.scopes - _GENERIC_SCOPES))
        confidence, learned_note = "medium", f"scopes of {ctx.route.successes} earlier successful calls to this method"
    if not wanted:
        return Finding("token.scope", "skip")
    if ctx.profile.token_use_by_scopes and token.token_use != "access":
        return Finding("token.scope", "skip", note="an ID token carries no scopes")
    have = token.scopes
    if set(have) & set(wanted):
        return Finding("token.scope", "pass", "any of " + " ".join(wanted), " ".join(have), note=learned_note)
    notes = [learned_note] if learned_note else []
    if have == (COGNITO_ADMIN_SCOPE,):
        notes.append("only aws.cognito.signin.user.admin: the token came from InitiateAuth, which cannot add custom "
                     "scopes")  # fmt: skip
    return Finding("token.scope", "fail", "any of " + " ".join(wanted), " ".join(have) or "no scope claim",
                   note="; ".join(notes), cause="missing-scope", confidence=confidence)  # fmt: skip


def check_audience(ctx: CheckContext) -> Finding:
    """The app client: `aud` when the token has one, `client_id` otherwise (Cognito access tokens carry no `aud`).

    HTTP API JWT authorizers and aws-jwt-verify compare it this way; REST Cognito authorizers do not check it.
    """
    token = _readable(ctx)
    if token is None or not ctx.profile.reads_jwt:
        return Finding("token.aud", "skip")
    claim = "aud" if "aud" in token.claims else "client_id"
    actual = token.claims.get(claim)
    if actual is not None and not _audience_shaped(actual):
        return Finding("token.aud", "fail", f"{claim} as a string or a list of strings",
                       f"{claim}={_shown(actual)}", note=f"the token's {claim} claim is malformed",
                       cause="not-a-jwt")  # fmt: skip
    values = set(actual) if isinstance(actual, list) else {actual} if actual is not None else set()
    shown = f"{claim}={_shown(actual)}" if actual is not None else "no aud or client_id claim"
    wanted = ctx.expectations.audiences
    if ctx.profile.audience == "unchecked":
        if wanted:  # said as a warning: the user configured something this authorizer does not use
            return Finding("token.aud", "warn", " or ".join(wanted), shown,
                           note=f"a {ctx.profile.name} authorizer does not check the audience: any app client of the "
                           "pool is accepted, so apigw_audiences does not apply here")  # fmt: skip
        return Finding("token.aud", "skip", actual=shown, note=f"a {ctx.profile.name} authorizer does not check it")
    description = ctx.reply.www_authenticate.get("error_description", "").lower()
    if "audience" in description:
        return Finding(
            "token.aud",
            "fail",
            " or ".join(wanted) or "an audience of the authorizer",
            shown,
            note=f"the gateway said: {description}",
            cause="wrong-audience",
        )
    if not wanted:
        if ctx.api and ctx.api.clients and not values & ctx.api.clients:
            return Finding(
                "token.aud",
                "warn",
                " or ".join(sorted(ctx.api.clients)),
                shown,
                note="earlier successful calls used another client",
            )
        return Finding("token.aud", "pass", actual=shown, note="no expected audience (apigw_audiences)")
    if values & set(wanted):
        return Finding("token.aud", "pass", " or ".join(wanted), shown)
    return Finding("token.aud", "fail", " or ".join(wanted), shown, cause="wrong-audience")


def _audience_shaped(value: object) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


# -- SigV4 -------------------------------------------------------------------------------------------------------

# execute-api accepts X-Amz-Date within 5 minutes of its clock (wire-reference "SigV4 and unknown routes")
_SIGV4_WINDOW = 300


def check_sigv4_date(ctx: CheckContext) -> Finding:
    sig = ctx.credential.sigv4
    if sig is None or not sig.amz_date:
        return Finding("sigv4.date", "skip")
    try:
        signed = calendar.timegm(time.strptime(sig.amz_date, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        return Finding(
            "sigv4.date", "fail", "X-Amz-Date as YYYYMMDDTHHMMSSZ", sig.amz_date, cause="sigv4-signature-mismatch"
        )
    skew = signed - ctx.now
    expected = f"within 5 min of {utc(ctx.now)} (gateway clock)"
    actual = f"{utc(signed)}, {ago(skew)} {'ahead' if skew > 0 else 'behind'}"
    if abs(skew) > _SIGV4_WINDOW:
        return Finding("sigv4.date", "fail", expected, actual, cause="sigv4-clock-skew")
    return Finding("sigv4.date", "pass", expected, actual)


def check_sigv4_scope(ctx: CheckContext) -> Finding:
    sig = ctx.credential.sigv4
    if sig is None:
        return Finding("sigv4.scope", "skip")
    service = "lambda" if ctx.target.surface == "lambda-url" else "execute-api"
    expected = f"{ctx.target.region or '<region>'}/{service}"
    actual = f"{sig.region}/{sig.service}"
    if sig.service != service or (ctx.target.region and sig.region != ctx.target.region):
        return Finding(
            "sigv4.scope",
            "fail",
            expected,
            actual,
            note="the credential scope names another region or service, so the signature cannot match",
            cause="sigv4-signature-mismatch",
        )
    return Finding("sigv4.scope", "pass", expected, actual)
