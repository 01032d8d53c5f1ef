"""Cognito identity pools (`cognito-identity.<region>.amazonaws.com`): GetId, GetCredentialsForIdentity, GetOpenIdToken.

JSON 1.1 like the user-pool API, and the same error shape: 400, `{"__type","message"}`, `x-amzn-ErrorType: <Type>:`,
`x-amzn-ErrorMessage`, `x-amzn-RequestId` (the capture in github.com/aws-amplify/amplify-js/issues/2443), so the
replies come from `responses.idp_error` / `idp_ok`. The login token is verified for real: issuer against the
`Logins` key and the pool's providers, RSA signature with the issuer's JWKS, `exp`, then `aud` against the
provider's app clients. Each text is cited where the identity-pool texts are recognised (`apigw_doctor/wire.py`).
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

from . import responses as r
from . import sigv4
from .config import GatewayConfig, IdentityPool
from .request import Request
from .verify import Refusal, parse_token, verify_signed

Handled = tuple[r.Reply, Refusal | None]

_TARGET_PREFIX = "AWSCognitoIdentityService."
_COGNITO_SKEW = 15 * 60  # "Signature expired: ... (<t> - 15 min.)" (github.com/aws-amplify/amplify-js/issues/3719)
_NS = uuid.UUID("5a4db0c0-1d3e-4b5f-8a9c-5a4db0c0ffee")  # identity ids are stable per (pool, user)

ISSUER_MISMATCH = "Invalid login token. Issuer doesn't match providerName"
MISSING_AUD = "Invalid login token. Missing a required claim: aud"
NOT_VERIFIED = "Invalid login token. Couldn't verify signed token."
UNSUPPORTED_PROVIDER = "Token is not from a supported provider of this identity pool."
LOGINS_MISMATCH = "Logins don't match. Please include at least one valid login for this identity or identity pool."
UNAUTH_DISABLED = "Unauthenticated access is not supported for this identity pool."
POOL_CONFIGURATION = "Invalid identity pool configuration. Check assigned IAM roles for this pool."


def _refuse(now: float, error: str, message: str, cause: str, check: str) -> Handled:
    return r.idp_error(now, error, message), Refusal(cause, check, message)


def _not_authorized(now: float, message: str, cause: str, check: str) -> Handled:
    return _refuse(now, "NotAuthorizedException", message, cause, check)


def _login_subject(pool: IdentityPool, logins: Any, cfg: GatewayConfig, now: float) -> str | Handled | None:
    """The `sub` of the user pool login, None for no login at all, or the refusal to send."""
    if not isinstance(logins, dict) or not logins:
        return None
    providers = dict(pool.providers)
    subject = None
    for key, token in logins.items():
        parsed = parse_token(token if isinstance(token, str) else None)
        if isinstance(parsed, Refusal):
            # github.com/amazon-archives/amazon-cognito-identity-js/issues/91 (a token Cognito cannot read or verify)
            return _not_authorized(now, NOT_VERIFIED, "identity-pool-token-rejected", "login-token")
        iss = str(parsed[2].get("iss", ""))
        if iss.removeprefix("https://") != key or key not in providers:
            # amazon-cognito-identity-js#40, #407: a Logins key that is not the token's issuer, or a user pool that
            # is not a provider of this identity pool.
            return _not_authorized(now, ISSUER_MISMATCH, "identity-pool-provider-mismatch", "provider-name")
        verified = verify_signed(token, issuers=[iss], keyring=cfg.keyring, now=now)
        if isinstance(verified, Refusal):
            if verified.cause == "token-expired":
                # "Invalid login token. Token expired: <now> >= <exp>" (github.com/qqaatw/JciHitachiHA/issues/33)
                exp = int(parsed[2].get("exp", 0))
                text = f"Invalid login token. Token expired: {int(now)} >= {exp}"
                return _not_authorized(now, text, "identity-pool-token-rejected", "exp")
            return _not_authorized(now, NOT_VERIFIED, "identity-pool-token-rejected", verified.check)
        aud = verified.claims.get("aud")
        if aud is None:
            # The access token has no aud (amazon-cognito-identity-js#12, #7).
            return _not_authorized(now, MISSING_AUD, "identity-pool-provider-mismatch", "aud")
        if aud not in providers[key]:
            # Another app client of the same pool (amazon-cognito-identity-js#7, #153).
            return _not_authorized(now, UNSUPPORTED_PROVIDER, "identity-pool-provider-mismatch", "aud")
        subject = str(verified.claims.get("sub", ""))
    return subject


def _identity_id(pool: IdentityPool, subject: str | None) -> str:
    name = subject if subject is not None else secrets.token_hex(8)  # guests get a new identity each time
    return f"{pool.region}:{uuid.uuid5(_NS, pool.pool_id + '/' + name)}"


def register(cfg: GatewayConfig, pool: IdentityPool, subject: str | None) -> str:
    """Create (or find) the identity of `subject` in `pool`, as GetId does; returns its IdentityId."""
    identity_id = _identity_id(pool, subject)
    cfg.identities[identity_id] = (pool.pool_id, subject or "")
    return identity_id


def _get_id(body: dict[str, Any], pool: IdentityPool, cfg: GatewayConfig, now: float) -> Handled:
    subject = _login_subject(pool, body.get("Logins"), cfg, now)
    if isinstance(subject, tuple):
        return subject
    if subject is None and not pool.allow_unauthenticated:
        # github.com/aws/aws-sdk-js-v3/issues/3113
        return _not_authorized(now, UNAUTH_DISABLED, "identity-pool-unauth-disabled", "logins")
    return r.idp_ok(now, {"IdentityId": register(cfg, pool, subject)}), None


def _credentials(body: dict[str, Any], cfg: GatewayConfig, now: float, *, open_id: bool) -> Handled:
    identity_id = str(body.get("IdentityId", ""))
    known = cfg.identities.get(identity_id)
    pool = next((p for p in cfg.identity_pools if known and p.pool_id == known[0]), None)
    if known is None or pool is None:
        # Not in the reference: the sandbox's wording for an identity it never issued.
        return _refuse(now, "ResourceNotFoundException", f"Identity '{identity_id}' not found.", "unexplained", "id")
    subject = _login_subject(pool, body.get("Logins"), cfg, now)
    if isinstance(subject, tuple):
        return subject
    if known[1] and subject != known[1]:
        # amazon-cognito-identity-js#68; amplify-js#2443: the identity belongs to another login (or none was sent).
        return _not_authorized(now, LOGINS_MISMATCH, "identity-pool-provider-mismatch", "identity")
    if subject is None and not pool.allow_unauthenticated:
        return _not_authorized(now, UNAUTH_DISABLED, "identity-pool-unauth-disabled", "logins")
    if not open_id and not pool.roles_trusted:
        # github.com/amazon-archives/amazon-cognito-auth-js/issues/167, /196 (role trust policy)
        return _refuse(
            now, "InvalidIdentityPoolConfigurationException", POOL_CONFIGURATION, "identity-pool-config", "roles"
        )
    if open_id:
        # Not in the reference: the OpenID token's claims are not modelled; an opaque stand-in is returned.
        return r.idp_ok(now, {"IdentityId": identity_id, "Token": secrets.token_urlsafe(48)}), None
    credentials = {
        "AccessKeyId": "ASIA" + secrets.token_hex(8).upper(),
        "Expiration": int(now) + 3600,
        "SecretKey": secrets.token_urlsafe(30),
        "SessionToken": secrets.token_urlsafe(120),
    }
    return r.idp_ok(now, {"Credentials": credentials, "IdentityId": identity_id}), None


def _signature(req: Request, cfg: GatewayConfig, region: str, now: float) -> Handled | None:
    """SDKs may sign these calls; a signed call is checked like any SigV4 call, with Cognito's 15-minute window."""
    if not (req.header("authorization") or "").startswith(sigv4.ALGORITHM):
        return None
    v = sigv4.verify(
        req.method,
        req.path,
        req.query,
        req.headers,
        req.body,
        keys=cfg.iam_keys,
        region=region,
        service="cognito-identity",
        now=now,
        skew=_COGNITO_SKEW,
    )
    if v.outcome == "ok":
        return None
    if v.outcome == "expired":
        # github.com/aws-amplify/amplify-js/issues/3719: 400 InvalidSignatureException, "- 15 min."
        text = (
            f"Signature expired: {v.request_date} is now earlier than {r.amz_date(now - _COGNITO_SKEW)} "
            f"({r.amz_date(now)} - 15 min.)"
        )
        return _refuse(now, "InvalidSignatureException", text, "sigv4-clock-skew", "x-amz-date")
    if v.outcome == "unknown-key":
        text = "The security token included in the request is invalid."  # github.com/aws/aws-sdk-php/issues/2444
        return _refuse(now, "UnrecognizedClientException", text, "sigv4-bad-credentials", "access-key")
    text = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )
    return _refuse(now, "InvalidSignatureException", text, "sigv4-signature-mismatch", "signature")


def handle_identity(req: Request, cfg: GatewayConfig, now: float) -> Handled:
    region = req.host.split(".")[1] if req.host.count(".") >= 2 else ""
    if (refused := _signature(req, cfg, region, now)) is not None:
        return refused
    target = req.header("x-amz-target") or ""
    operation = target.removeprefix(_TARGET_PREFIX) if target.startswith(_TARGET_PREFIX) else ""
    try:
        body = json.loads(req.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        # Not in the reference: the sandbox's wording for a body that is not a JSON object.
        return _refuse(
            now, "SerializationException", "Start of structure or map found where not expected.", "unexplained", "body"
        )
    if operation == "GetId":
        pool = next((p for p in cfg.identity_pools if p.pool_id == body.get("IdentityPoolId")), None)
        if pool is None:
            # Not in the reference: the sandbox's wording for an unknown identity pool.
            text = f"IdentityPool '{body.get('IdentityPoolId')}' not found."
            return _refuse(now, "ResourceNotFoundException", text, "unexplained", "identity-pool")
        return _get_id(body, pool, cfg, now)
    if operation in ("GetCredentialsForIdentity", "GetOpenIdToken"):
        return _credentials(body, cfg, now, open_id=operation == "GetOpenIdToken")
    # Not in the reference: other operations are not modelled.
    return _refuse(now, "UnknownOperationException", "", "unexplained", "operation")
