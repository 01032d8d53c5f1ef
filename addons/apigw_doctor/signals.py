"""What the gateway's answer alone says: is this an auth failure, and does its text name the cause?

The texts come from `wire.py` (REF tables). A `GENERIC` signal (401 Unauthorized and kin) names no cause: the
check chain decides then.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from . import wire
from .model import STRIPPED, Confidence, Credential, Reply, Target

GENERIC = "generic"


@dataclass(slots=True)
class Signal:
    cause: str  # a catalogue code, or GENERIC
    confidence: Confidence
    note: str = ""
    customised: bool = False  # the body is not a documented default: a customised gateway response
    fallback: str | None = None  # the cause when the check chain finds nothing (GENERIC signals only)


def read_signal(target: Target, reply: Reply, credential: Credential, method: str, is_http: bool) -> Signal | None:
    """None when the reply is not an authorization failure we explain."""
    if target.surface == "cognito-oauth":
        return _oauth_signal(target, reply)
    if target.surface == "cognito-idp":
        return _cognito_api_signal(reply)
    return _gateway_signal(target, reply, credential, method, is_http)


def _gateway_signal(target: Target, reply: Reply, credential: Credential, method: str, is_http: bool) -> Signal | None:
    status, error_type = reply.status, reply.error_type
    msg = (reply.message or "").lower()
    if status == 404:
        if is_http and msg == wire.MSG_NOT_FOUND:
            return Signal("route-not-found", "high", "HTTP APIs answer 404 Not Found when no route matches")
        return None
    if status == 500:
        if error_type in (wire.AUTHORIZER_CONFIGURATION, wire.AUTHORIZER_FAILURE) or (
            reply.has_message_key and reply.message is None
        ):
            return Signal("authorizer-error", "high", '500 with {"message":null}: the authorizer failed')
        return None
    if status not in (401, 403):
        return None
    if method == "OPTIONS":
        return Signal("cors-preflight-blocked", "high", f"the OPTIONS preflight got {status}")
    if target.surface == "lambda-url":
        if credential.kind == "sigv4":
            return Signal("iam-denied", "high", "the function URL uses AWS_IAM auth and denied the signed caller")
        return Signal("missing-credential", "high", "the function URL uses AWS_IAM auth and the request was not "
                      "SigV4-signed (service `lambda`)")  # fmt: skip
    if found := _gateway_text(msg, error_type, credential):
        return found
    if status == 403 and (msg == wire.MSG_FORBIDDEN or error_type in (wire.FORBIDDEN, wire.WAF_FILTERED)):
        return _forbidden(target, error_type, credential, is_http)
    if status == 401:
        customised = bool(reply.message) and msg not in (wire.MSG_UNAUTHORIZED,)
        return Signal(GENERIC, "high", customised=customised and error_type != wire.UNAUTHORIZED)
    return Signal("unexplained", "low", customised=True)


def _gateway_text(msg: str, error_type: str | None, credential: Credential) -> Signal | None:
    """Messages that name their cause (REF §1, §3a, §4, §5); error types alone when the body was customised."""
    signed = credential.kind == "sigv4"
    if msg.startswith(wire.MSG_TOKEN_EXPIRED):
        return Signal("token-expired", "high", 'the gateway said "The incoming token has expired"')
    if wire.MSG_MISSING_AUTH_TOKEN in msg or error_type == wire.MISSING_AUTH_TOKEN:
        return Signal(
            "route-not-found",
            "high" if msg else "medium",
            "REST APIs answer unknown paths, methods and stages (and unsigned IAM calls) this way",
        )
    if wire.MSG_MISSING_EQUAL_SIGN in msg or wire.MSG_REQUIRES_CREDENTIAL in msg:
        return Signal("sigv4-expected", "high", "the gateway parsed the Authorization header as SigV4")
    if wire.MSG_SIGNATURE_EXPIRED in msg or wire.MSG_SIGNATURE_NOT_YET_CURRENT in msg:
        return Signal("sigv4-clock-skew", "high", "the signature is outside the 5-minute window")
    if wire.MSG_SIGNATURE_MISMATCH in msg or wire.MSG_CREDENTIAL_SCOPE in msg:
        return Signal("sigv4-signature-mismatch", "high", "the gateway computed another signature")
    if (
        wire.MSG_SECURITY_TOKEN_INVALID in msg
        or wire.MSG_SECURITY_TOKEN_EXPIRED in msg
        or error_type
        in (
            wire.UNRECOGNIZED_CLIENT,
            wire.EXPIRED_TOKEN,
        )
    ):
        return Signal("sigv4-bad-credentials", "high", "the AWS credentials were not accepted")
    if wire.MSG_IAM_DENY_MARK in msg:
        if wire.MSG_ANONYMOUS in msg:
            return Signal("resource-policy-denied", "high", "an unsigned (anonymous) caller was denied by policy")
        if signed:
            return Signal("iam-denied", "high", "the signed caller may not invoke execute-api")
        return Signal("resource-policy-denied", "medium", "a policy denied execute-api:Invoke")
    if msg.startswith(wire.MSG_AUTHORIZER_DENY_PREFIX):
        note = "explicit Deny" if wire.MSG_EXPLICIT_DENY in msg else "no statement allows this method (implicit deny)"
        return Signal("authorizer-denied", "high", f"the Lambda authorizer's policy: {note}")
    if error_type == wire.INCOMPLETE_SIGNATURE:
        return Signal("sigv4-signature-mismatch" if signed else "sigv4-expected", "medium", customised=True)
    if error_type == wire.INVALID_SIGNATURE:
        return Signal("sigv4-signature-mismatch", "medium", customised=True)
    if error_type == wire.ACCESS_DENIED:
        return Signal("iam-denied" if signed else "authorizer-denied", "medium", customised=True)
    return None


def _forbidden(target: Target, error_type: str | None, credential: Credential, is_http: bool) -> Signal:
    if error_type == wire.WAF_FILTERED:
        return Signal("gateway-forbidden", "high", "WAF blocked the request")
    if target.vpce and not target.api_id:
        return Signal(
            "gateway-forbidden",
            "high",
            "private API called through the VPC endpoint name without a Host or x-apigw-api-id header naming the API",
        )
    if is_http:
        # HTTP APIs have no API keys and no WAF (REF §2): a Lambda authorizer said no, or a JWT scope is unmet.
        if credential.location == STRIPPED:
            return Signal(GENERIC, "low", "HTTP API 403 Forbidden; the request's credential was not exported")
        if credential.kind == "jwt":
            # The JWT authorizer's answer to an unmet route scope is not documented (REF §2); 403 is likely.
            return Signal(GENERIC, "low", "HTTP API 403: an unmet route scope, or a Lambda authorizer denied",
                          fallback="missing-scope")  # fmt: skip
        return Signal("authorizer-denied", "low", "HTTP API 403 Forbidden: a Lambda authorizer returned false")
    if credential.api_key_sent:
        return Signal("api-key-rejected", "medium", "an x-api-key was sent but not accepted (or WAF / private DNS)")
    return Signal(
        "api-key-rejected",
        "medium",
        "403 Forbidden and no x-api-key header: the method likely requires "
        "an API key (or WAF, or a VPC endpoint's private DNS)",
    )


_OAUTH_CAUSES = {error: "oauth-" + error.replace("_", "-") for error in wire.OAUTH_ERRORS}
_OAUTH_CAUSES["redirect_mismatch"] = "oauth-redirect-mismatch"


def _oauth_signal(target: Target, reply: Reply) -> Signal | None:
    """Hosted UI / OAuth endpoints (REF §7a)."""
    if reply.status == 405:
        return Signal(
            "oauth-wrong-content-type",
            "high" if target.path == "/oauth2/token" else "medium",
            f"405 at {target.path}: wrong Content-Type, method or path",
        )
    if reply.oauth_error in _OAUTH_CAUSES:
        return Signal(_OAUTH_CAUSES[reply.oauth_error], "high", f'Cognito answered {{"error":"{reply.oauth_error}"}}')
    if reply.status in (301, 302, 303) and reply.location:
        error = parse_qs(urlsplit(reply.location).query).get("error", [""])[0]
        if error in _OAUTH_CAUSES:
            return Signal(_OAUTH_CAUSES[error], "high", f"redirected with error={error}")
        return None
    if reply.status == 401 and reply.www_authenticate.get("error") == wire.WWW_AUTH_INVALID_TOKEN:
        return Signal(
            "cognito-token-revoked",
            "medium",
            "userInfo refused the access token (expired, revoked or not an access token)",
        )
    if reply.status in (400, 401, 403):
        return Signal("unexplained", "low")
    return None


def _cognito_api_signal(reply: Reply) -> Signal | None:
    """User-pool JSON API: HTTP 400 with `__type` and `message` (REF §7b)."""
    error = reply.cognito_type or reply.error_type
    if reply.status < 400 or not error:
        return None
    msg = (reply.message or "").lower()
    if error == "ForbiddenException" and wire.MSG_WAF_COGNITO in msg:
        return Signal("gateway-forbidden", "high", "AWS WAF on the user pool blocked the request")
    if error == wire.UNRECOGNIZED_CLIENT:
        return Signal("sigv4-bad-credentials", "high", "the IAM credentials for an admin API are invalid")
    if error == wire.COG_USER_NOT_FOUND:
        return Signal("cognito-bad-credentials", "high", "the user does not exist")
    if error != wire.NOT_AUTHORIZED:
        return Signal("unexplained", "low", f"Cognito answered {error}")
    table = (
        ((wire.COG_SECRET_HASH, *wire.COG_SECRET_NOT_RECEIVED), "cognito-secret-hash"),
        ((wire.COG_BAD_PASSWORD, wire.COG_USER_DISABLED, wire.COG_ATTEMPTS_EXCEEDED), "cognito-bad-credentials"),
        ((wire.COG_ACCESS_EXPIRED,), "cognito-token-expired"),
        ((wire.COG_ACCESS_REVOKED, wire.COG_REFRESH_REVOKED, wire.COG_REFRESH_INVALID), "cognito-token-revoked"),
        ((wire.COG_MISSING_SCOPES,), "cognito-missing-scope"),
    )
    for texts, cause in table:
        if any(text in msg for text in texts):
            return Signal(cause, "high", f"Cognito said: {reply.message}")
    return Signal("unexplained", "low", f"Cognito said: {error}")
