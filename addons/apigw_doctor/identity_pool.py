"""Cognito identity pools (`cognito-identity.<region>.amazonaws.com`): the login a call sends, and why it was refused.

The Amplify chain is user pool token -> identity pool (GetId, GetCredentialsForIdentity, GetOpenIdToken) -> temporary
AWS credentials -> a SigV4 call. These JSON 1.1 calls carry the user pool's ID token in the body's `Logins` map,
keyed by the provider name `cognito-idp.<region>.amazonaws.com/<user pool id>`. The texts are in `wire.py`.
The login token stays in memory, like every credential: only its claims and fingerprint reach a verdict.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import safejson, wire
from .model import Credential, Finding, Reply, Token
from .signals import Signal
from .timefmt import ago, utc

_MAX_BODY = 64 * 1024  # identity-pool requests are small; never parse a large payload
_MAX_LOGINS = 10  # the API allows a handful of providers per identity
_MAX_KEY = 256
# Cognito's SigV4 window is 15 minutes: "Signature expired: <t> is now earlier than <t> (<t> - 15 min.)"
# (github.com/aws-amplify/amplify-js/issues/3719).
_SIGV4_WINDOW = 15 * 60
_SCHEME = "https://"


@dataclass(slots=True)
class IdentityCall:
    """What an identity-pool request asks for, read from its X-Amz-Target and JSON body."""

    operation: str | None = None  # GetId, GetCredentialsForIdentity, GetOpenIdToken, ...
    identity_pool_id: str | None = None
    identity_id_sent: bool = False
    providers: tuple[str, ...] = ()  # the Logins keys, bounded
    login_key: str | None = None  # the key of the login the verdict looks at
    login: str | None = field(default=None, repr=False)  # its token; in memory only
    amz_date: str | None = None  # X-Amz-Date when the call was SigV4-signed


def read_call(request_headers: Mapping[str, str], body: bytes | None) -> IdentityCall:
    target = request_headers.get("x-amz-target", "")
    call = IdentityCall(
        operation=target[len(wire.TARGET_IDENTITY_POOLS) :][:64] or None
        if target.startswith(wire.TARGET_IDENTITY_POOLS)
        else None,
        amz_date=request_headers.get("x-amz-date"),
    )
    parsed = safejson.json_object(body, _MAX_BODY)
    if parsed is None:
        return call
    pool_id, identity_id, logins = parsed.get("IdentityPoolId"), parsed.get("IdentityId"), parsed.get("Logins")
    call.identity_pool_id = pool_id[:128] if isinstance(pool_id, str) else None
    call.identity_id_sent = isinstance(identity_id, str) and bool(identity_id)
    if isinstance(logins, dict):
        pairs = [(k[:_MAX_KEY], v) for k, v in list(logins.items())[:_MAX_LOGINS] if isinstance(k, str)]
        call.providers = tuple(k for k, _ in pairs)
        # A user pool login first (the one this module explains), else the first login sent.
        chosen = next((p for p in pairs if p[0].startswith("cognito-idp")), pairs[0] if pairs else None)
        if chosen is not None and isinstance(chosen[1], str):
            call.login_key, call.login = chosen[0], chosen[1]
    return call


def login_credential(call: IdentityCall) -> Credential | None:
    """The login token as the flow's credential (`body:Logins`), so that it is decoded and kept out of every output."""
    if not call.login:
        return None
    token = call.login.strip()
    kind = "jwt" if token.count(".") == 2 else "jwe" if token.count(".") == 4 else "opaque"
    return Credential(kind, "body:Logins", token=token, raw=call.login, in_identity_header=False)  # type: ignore[arg-type]


def expected_provider(token: Token | None) -> str | None:
    """The provider name a token's issuer asks for: `iss` without `https://`."""
    iss = token.issuer if token is not None else None
    if not iss:
        return None
    return iss[len(_SCHEME) :] if iss.startswith(_SCHEME) else iss


def describe_difference(key: str, expected: str) -> str:
    """Which character of the Logins key differs from the token's issuer, and what that usually means."""
    if key == expected:
        return "the key equals the token's issuer"
    if key.startswith(_SCHEME) and key[len(_SCHEME) :] == expected:
        return "the key starts with https://; the provider name is the issuer without the scheme"
    key_host, _, key_pool = key.partition("/")
    want_host, _, want_pool = expected.partition("/")
    if key_host == want_host and key_pool != want_pool:
        if ":" in key_pool:
            return (
                f"the key names {key_pool!r}, an identity pool id (region:uuid), where the user pool id "
                f"{want_pool!r} belongs"
            )
        return f"another user pool: the key names {key_pool!r}, the token comes from {want_pool!r}"
    index = next(
        (i for i, (a, b) in enumerate(zip(key, expected, strict=False)) if a != b), min(len(key), len(expected))
    )
    got = repr(key[index]) if index < len(key) else "the end of the key"
    want = repr(expected[index]) if index < len(expected) else "nothing more"
    where = f"character {index + 1}: {got} where the issuer has {want}"
    key_region, want_region = key_host.split(".")[1:2], want_host.split(".")[1:2]
    if "_" in key_host and key_host.replace("_", "-") == want_host:
        return f"{where}: the region is written with '_' instead of '-'"
    if ":" in key_host and key_host.replace(":", ".") == want_host:
        return f"{where}: ':' instead of '.' in the host name"
    if key_region and want_region and key_region != want_region and key_pool == want_pool:
        return f"{where}: another region ({key_region[0]}; the token's pool is in {want_region[0]})"
    return where


def judge(
    call: IdentityCall, token: Token | None, reply: Reply, now: float
) -> tuple[Signal | None, tuple[Finding, ...]]:
    """The identity pool's answer and the login checks: (signal, findings). None when the call did not fail."""
    findings = _checks(call, token, now)
    if reply.status < 400:
        return None, findings
    error = reply.cognito_type or reply.error_type
    msg = (reply.message or "").lower()
    said = f"Cognito said: {reply.message}" if reply.message else f"Cognito answered {error}"
    failing = {f.cause: f for f in findings if f.result == "fail" and f.cause}
    if error == wire.INVALID_SIGNATURE or wire.MSG_SIGNATURE_EXPIRED in msg:
        if wire.MSG_SIGNATURE_EXPIRED in msg or wire.MSG_SIGNATURE_NOT_YET_CURRENT in msg:
            return Signal(
                "sigv4-clock-skew", "high", f"{said}: the signing clock is outside Cognito's 15-minute window"
            ), findings
        return Signal("sigv4-signature-mismatch", "high", said), findings
    if error == wire.INVALID_IDENTITY_POOL_CONFIGURATION or wire.ID_POOL_CONFIGURATION in msg:
        return Signal(
            "identity-pool-config",
            "high",
            f"{said}: the roles' trust policy does not trust this identity pool, or no role is assigned",
        ), findings
    if error != wire.NOT_AUTHORIZED:
        return Signal("unexplained", "low", said), findings
    if wire.ID_UNAUTH_DISABLED in msg:
        if not call.providers:
            return Signal("identity-pool-unauth-disabled", "high", f"{said}: the call sent no Logins"), findings
        return Signal(
            "identity-pool-unauth-disabled",
            "medium",
            f"{said}, although Logins were sent ({', '.join(call.providers)}): none was accepted as a login",
        ), findings
    if wire.ID_TOKEN_EXPIRED in msg or wire.ID_NOT_VERIFIED in msg:
        what = "expired" if wire.ID_TOKEN_EXPIRED in msg else "its signature could not be verified"
        return Signal("identity-pool-token-rejected", "high", f"{said}: the login token {what}"), findings
    if wire.ID_MISSING_AUD in msg:
        return Signal(
            "identity-pool-provider-mismatch",
            "high",
            f"{said}: the access token was sent as the login; "
            "the identity pool needs the ID token (access tokens have no aud)",
        ), findings
    if wire.ID_ISSUER_MISMATCH in msg:
        if "identity-pool-provider-mismatch" in failing:  # the failing login check says what differs
            return Signal("identity-pool-provider-mismatch", "high", said), findings
        return Signal("identity-pool-provider-mismatch", "high", f"{said}: {_issuer_note(call, token)}"), findings
    if wire.ID_UNSUPPORTED_PROVIDER in msg:
        aud = token.claims.get("aud") if token is not None else None
        return Signal(
            "identity-pool-provider-mismatch",
            "high",
            f"{said}: the token's app client "
            f"({aud or 'unknown'}) is not an authentication provider of this identity pool",
        ), findings
    if wire.ID_LOGINS_MISMATCH in msg:
        if call.identity_id_sent:
            note = (
                "the IdentityId sent belongs to another login or identity pool (an IdentityId cached from another "
                "user?); or the IdentityPoolId is wrong"
            )
        else:
            note = "the identity pool has no authentication provider for this login, or the IdentityPoolId is wrong"
        return Signal("identity-pool-provider-mismatch", "medium", f"{said}: {note}"), findings
    return Signal("unexplained", "low", said), findings


def _issuer_note(call: IdentityCall, token: Token | None) -> str:
    if token is None or token.problems:
        return "the login is not a readable JWT"
    if token.token_use == "access":
        return "the access token was sent; the identity pool needs the ID token"
    expected = expected_provider(token)
    if call.login_key and expected and call.login_key != expected:
        return describe_difference(call.login_key, expected)
    return "the Logins key equals the token's issuer: the identity pool does not list this user pool as a provider"


def _checks(call: IdentityCall, token: Token | None, now: float) -> tuple[Finding, ...]:
    findings = [_check_provider(call, token), _check_token_use(call, token), _check_expiry(token, now)]
    if call.amz_date:
        findings.append(_check_sigv4_date(call.amz_date, now))
    return tuple(findings)


def _check_provider(call: IdentityCall, token: Token | None) -> Finding:
    if not call.login_key:
        return Finding("login.provider", "skip", note="no Logins sent (unauthenticated access)")
    expected = expected_provider(token)
    if token is None or token.problems or expected is None:
        return Finding("login.provider", "skip", actual=call.login_key, note="the login is not a readable JWT")
    if call.login_key == expected:
        return Finding("login.provider", "pass", expected, call.login_key)
    return Finding(
        "login.provider",
        "fail",
        expected,
        call.login_key,
        note=describe_difference(call.login_key, expected),
        cause="identity-pool-provider-mismatch",
    )


def _check_token_use(call: IdentityCall, token: Token | None) -> Finding:
    if token is None or token.problems or not call.login_key or not call.login_key.startswith("cognito-idp"):
        return Finding("login.token_use", "skip")
    use = token.token_use
    if use == "id":
        return Finding("login.token_use", "pass", "id", use)
    return Finding(
        "login.token_use",
        "fail",
        "id (the ID token)",
        str(use),
        note="identity pools take the user pool's ID token; an access token has no aud",
        cause="identity-pool-provider-mismatch",
    )


def _check_expiry(token: Token | None, now: float) -> Finding:
    exp = token.claims.get("exp") if token is not None and not token.problems else None
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return Finding("login.exp", "skip")
    expected = f"after {utc(now)} (Cognito's clock)"
    if exp <= now:
        return Finding(
            "login.exp",
            "fail",
            expected,
            f"{utc(exp)}, {ago(now - exp)} before the request",
            cause="identity-pool-token-rejected",
        )
    return Finding("login.exp", "pass", expected, f"{utc(exp)}, valid for {ago(exp - now)}")


def _check_sigv4_date(amz_date: str, now: float) -> Finding:
    try:
        signed = calendar.timegm(time.strptime(amz_date[:16], "%Y%m%dT%H%M%SZ"))
    except ValueError:
        return Finding(
            "sigv4.date", "fail", "X-Amz-Date as YYYYMMDDTHHMMSSZ", amz_date[:40], cause="sigv4-signature-mismatch"
        )
    skew = signed - now
    expected = f"within 15 min of {utc(now)} (Cognito's clock)"
    actual = f"{utc(signed)}, {ago(skew)} {'ahead' if skew > 0 else 'behind'}"
    if abs(skew) > _SIGV4_WINDOW:
        return Finding("sigv4.date", "fail", expected, actual, cause="sigv4-clock-skew")
    return Finding("sigv4.date", "pass", expected, actual)
