"""What the gateway's answer alone says: is this an auth failure, and does its text name the cause?

The texts come from `wire.py` (REF tables). A `GENERIC` signal (401 Unauthorized and kin) names no cause: the
check chain decides then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from . import wire
from .model import STRIPPED, Confidence, Credential, Reply, Target, Token

GENERIC = "generic"
# AWS WAF's managed rule SizeRestrictions_BODY blocks bodies over 8 KB (github.com/aws/context-ontology-accelerator/
# issues/135, github.com/aws-solutions/deepracer-on-aws/issues/89).
WAF_BODY_LIMIT = 8 * 1024
_NO_HEADERS: Mapping[str, str] = {}


@dataclass(slots=True)
class Signal:
    cause: str  # a catalogue code, or GENERIC
    confidence: Confidence
    note: str = ""
    customised: bool = False  # the body is not a documented default: a customised gateway response
    fallback: str | None = None  # the cause when the check chain finds nothing (GENERIC signals only)
    also: tuple[tuple[str, str], ...] = ()  # (cause, how to tell it apart): second candidates, at low confidence
    decided: bool = False  # the API definition settled the reading of this answer (definition_rules.py)


def read_signal(
    target: Target,
    reply: Reply,
    credential: Credential,
    method: str,
    is_http: bool,
    request_headers: Mapping[str, str] = _NO_HEADERS,
    token: Token | None = None,
    *,
    answered_before: bool = False,
) -> Signal | None:
    """None when the reply is not an authorization failure we explain. `request_headers` have lower-case names;
    `answered_before`: the same method and path succeeded earlier in this capture."""
    if target.surface == "cognito-oauth":
        return _oauth_signal(target, reply, method, request_headers)
    if target.surface == "cognito-idp":
        return _cognito_api_signal(reply, credential, token)
    if target.surface == "cognito-identity":
        return None  # identity_pool.py reads these: the verdict needs the request body's Logins map
    if reply.cloudfront_page is not None and not reply.gateway_ids:
        return _cloudfront_signal(reply)
    return _gateway_signal(target, reply, credential, method, is_http, request_headers, answered_before)


def _gateway_signal(
    target: Target,
    reply: Reply,
    credential: Credential,
    method: str,
    is_http: bool,
    request_headers: Mapping[str, str],
    answered_before: bool = False,
) -> Signal | None:
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
        if is_http and reply.body_kind == "message" and msg == wire.MSG_INTERNAL_SERVER_ERROR:
            return Signal(
                "authorizer-error",
                "medium",
                'HTTP API 500 {"message":"Internal Server Error"}: a Lambda authorizer that failed, timed out or may '
                "not be invoked answers this way; so does a failing integration ($context.authorizer.error in the "
                "access log tells them apart)",
            )
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
    if found := _backend_answer(reply, msg, is_http):
        return found
    if status == 403 and (msg == wire.MSG_FORBIDDEN or error_type in (wire.FORBIDDEN, wire.WAF_FILTERED)):
        return _forbidden(target, error_type, credential, is_http, request_headers, answered_before)
    if status == 401:
        customised = bool(reply.message) and msg not in (wire.MSG_UNAUTHORIZED,)
        return Signal(GENERIC, "high", customised=customised and error_type != wire.UNAUTHORIZED)
    return Signal("unexplained", "low", customised=True)


_GATEWAY_401_403 = (wire.MSG_UNAUTHORIZED, wire.MSG_FORBIDDEN)


def _backend_answer(reply: Reply, msg: str, is_http: bool) -> Signal | None:
    """A 401/403 that API Gateway let through: the integration answered it (github.com/quarkusio/quarkus/issues/28544).

    HTTP APIs cannot customise their answers, so a body other than `{"message":"Unauthorized"|"Forbidden"}` is the
    integration's. REST refusals carry x-amzn-ErrorType, which customised gateway responses keep (wire.py): without
    it and with a body that is not the gateway's, the integration answered, unless the check chain finds a failure
    that a customised gateway response could be hiding.
    """
    if not reply.gateway_ids or reply.error_type or reply.cloudfront:
        return None
    if reply.body_kind == "message" and msg in _GATEWAY_401_403:
        return None  # the gateway's own words (or a backend copying them: nothing tells those apart)
    if not is_http:
        return Signal(
            GENERIC,
            "medium",
            "no x-amzn-ErrorType and a body that is not one of API Gateway's: the integration answered, or a "
            "customised gateway response dropped the header",
            customised=reply.body_kind != "empty",
            fallback="backend-rejected",
        )
    challenge = reply.www_authenticate
    bare_bearer = challenge.get("", "").lower() == "bearer" and len(challenge) == 1
    if reply.body_kind != "empty":
        return Signal(
            "backend-rejected",
            "high",
            "HTTP APIs answer their own 401/403 only with "
            '{"message":"Unauthorized"} or {"message":"Forbidden"}; this body is the integration\'s',
        )
    if bare_bearer:
        return Signal(
            "backend-rejected",
            "high",
            "an empty body with a bare `www-authenticate: Bearer`: the "
            "integration's challenge (the JWT authorizer sends a JSON body and error= parameters)",
        )
    return Signal(
        "backend-rejected",
        "medium",
        "an empty body: HTTP APIs' own 401/403 carry a JSON message (unless the capture dropped the body)",
    )


def _cloudfront_signal(reply: Reply) -> Signal | None:
    """CloudFront's own HTML error page, not API Gateway's JSON (wire.py)."""
    page = reply.cloudfront_page or ""
    if not 400 <= reply.status < 500:
        return None  # 5xx pages: the origin was unreachable, not an authorization failure
    if page.startswith(wire.CF_REQUEST_BLOCKED):
        return Signal(
            "waf-blocked",
            "high",
            'CloudFront\'s own error page says "Request blocked.": AWS WAF on the '
            "distribution blocked the request before API Gateway saw it",
        )
    if wire.CF_GEO_BLOCKED in page:
        note = "CloudFront's geo restriction blocks the client's country"
    elif page.startswith(wire.CF_BAD_REQUEST):
        note = (
            'CloudFront refused the request ("Bad request."): typically the Host header forwarded to an API '
            "Gateway origin, or no alternate domain name / behaviour matches"
        )
    else:
        note = f"CloudFront answered with its own error page ({page or 'no reason given'})"
    return Signal("cloudfront-refused", "high", note)


def _gateway_text(msg: str, error_type: str | None, credential: Credential) -> Signal | None:
    """Messages that name their cause (wire-reference "REST Cognito authorizer", "REST Lambda authorizers", "SigV4 and
    unknown routes", "Keys, policies, WAF, CORS"); error types alone when the body was customised."""
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


_WAF_ALSO = ("waf-blocked", "AWS WAF answers the same 403 Forbidden: its sampled requests show this request id")


def _forbidden(
    target: Target,
    error_type: str | None,
    credential: Credential,
    is_http: bool,
    request_headers: Mapping[str, str],
    answered_before: bool = False,
) -> Signal:
    if error_type == wire.WAF_FILTERED:
        return Signal("waf-blocked", "high", "the error type says AWS WAF filtered the request")
    # A call that succeeded before on this path proves the domain's base path mapping (real-world thread:
    # github.com/Miserlou/django-zappa/issues/100, a custom domain with no mapping answering 403 Forbidden).
    if target.surface == "custom" and not is_http and not credential.api_key_sent and not answered_before:
        return Signal(
            "custom-domain-unmapped",
            "medium",
            "403 Forbidden on a custom domain and no x-api-key sent: "
            "no base path mapping of the domain matches this path",
            also=(_WAF_ALSO,),
        )
    size = request_headers.get("content-length", "")
    if not is_http and size.isdigit() and int(size) > WAF_BODY_LIMIT:
        return Signal(
            "waf-blocked",
            "medium",
            f"403 Forbidden to a {int(size)}-byte body: AWS WAF's managed rule "
            "SizeRestrictions_BODY blocks bodies over 8 KB",
            also=(("api-key-rejected", "a method that requires an API key answers the same 403"),),
        )
    if target.vpce and not target.api_id:
        return Signal(
            "gateway-forbidden",
            "high",
            "private API called through the VPC endpoint name without a Host or x-apigw-api-id header naming the API",
        )
    if is_http:
        # HTTP APIs have no API keys and no WAF (wire-reference "HTTP JWT authorizer"): a Lambda authorizer said no, or
        # a JWT scope is unmet.
        if credential.location == STRIPPED:
            return Signal(GENERIC, "low", "HTTP API 403 Forbidden; the request's credential was not exported")
        if credential.kind == "jwt":
            # The JWT authorizer's answer to an unmet route scope is not documented (wire-reference "HTTP JWT
            # authorizer"); 403 is likely.
            return Signal(GENERIC, "low", "HTTP API 403: an unmet route scope, or a Lambda authorizer denied",
                          fallback="missing-scope")  # fmt: skip
        return Signal("authorizer-denied", "low", "HTTP API 403 Forbidden: a Lambda authorizer returned false")
    if credential.api_key_sent:
        return Signal(
            "api-key-rejected",
            "medium",
            "an x-api-key was sent but not accepted (or WAF / private DNS)",
            also=(_WAF_ALSO,),
        )
    return Signal(
        "api-key-rejected",
        "medium",
        "403 Forbidden and no x-api-key header: the method likely requires "
        "an API key (or WAF, or a VPC endpoint's private DNS)",
        also=(_WAF_ALSO,),
    )


_OAUTH_CAUSES = {error: "oauth-" + error.replace("_", "-") for error in wire.OAUTH_ERRORS}
_OAUTH_CAUSES["redirect_mismatch"] = "oauth-redirect-mismatch"


_FORM = "application/x-www-form-urlencoded"


def _oauth_signal(target: Target, reply: Reply, method: str, request_headers: Mapping[str, str]) -> Signal | None:
    """Hosted UI / OAuth endpoints (wire-reference "Cognito OAuth")."""
    if reply.status == 405:
        return _oauth_405(target, method, request_headers)
    if reply.oauth_error in _OAUTH_CAUSES:
        return Signal(_OAUTH_CAUSES[reply.oauth_error], "high", f'Cognito answered {{"error":"{reply.oauth_error}"}}')
    if reply.status in (301, 302, 303) and reply.location:
        return _redirect_error(reply.location)
    if reply.status == 401 and reply.www_authenticate.get("error") == wire.WWW_AUTH_INVALID_TOKEN:
        return Signal(
            "cognito-token-revoked",
            "medium",
            "userInfo refused the access token (expired, revoked or not an access token)",
        )
    if reply.status in (400, 401, 403):
        return Signal("unexplained", "low")
    return None


def _oauth_405(target: Target, method: str, request_headers: Mapping[str, str]) -> Signal:
    content_type = request_headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if target.path != "/oauth2/token" or method != "POST" or content_type != _FORM:
        return Signal(
            "oauth-wrong-content-type",
            "high" if target.path == "/oauth2/token" else "medium",
            f"405 at {target.path}: wrong Content-Type, method or path",
        )
    # Path, method and Content-Type are right: Cognito is also picky about Accept (github.com/restsharp/RestSharp/
    # issues/1707: an Accept list with XML types got 405; accepting only JSON types fixed it).
    accept = _printable(request_headers.get("accept", ""))[:120] or "(none)"
    return Signal(
        "oauth-wrong-content-type",
        "medium",
        "405 at /oauth2/token although the method, path and "
        f"Content-Type are right: the Accept header ({accept}) is the likely cause; send "
        "`Accept: application/json`",
    )


def _redirect_error(location: str) -> Signal | None:
    """An OAuth error in the redirect's query (code flow) or fragment (implicit flow), e.g. `#error=invalid_request&
    error_description=unauthorized_client` (github.com/amazon-archives/amazon-cognito-auth-js/issues/40)."""
    parts = urlsplit(location[:8192])
    for where, raw in (("query", parts.query), ("fragment", parts.fragment)):
        params = parse_qs(raw)
        error = params.get("error", [""])[0]
        description = _printable(params.get("error_description", [""])[0])[:200]
        if error not in _OAUTH_CAUSES and description not in _OAUTH_CAUSES:
            continue
        code = description if description in _OAUTH_CAUSES else error  # the description can name the sharper code
        place = " in the URL fragment (implicit flow)" if where == "fragment" else ""
        detail = f", error_description={description}" if description else ""
        return Signal(_OAUTH_CAUSES[code], "high", f"redirected with error={_printable(error)[:40]}{detail}{place}")
    return None


def _printable(text: str) -> str:
    return "".join(c for c in text if c.isprintable())


def _cognito_api_signal(reply: Reply, credential: Credential, token: Token | None) -> Signal | None:
    """User-pool JSON API: HTTP 400 with `__type` and `message` (wire-reference "Cognito API"). Emulators send `__type`
    without the
    x-amzn-ErrorType header, so the body's type comes first."""
    error = reply.cognito_type or reply.error_type
    if reply.status < 400 or not error:
        return None
    msg = (reply.message or "").lower()
    if error == wire.FORBIDDEN and wire.MSG_WAF_COGNITO in msg:
        return Signal("waf-blocked", "high", "AWS WAF on the user pool blocked the request")
    if error == wire.INVALID_PARAMETER and wire.COG_FLOW_NOT_ENABLED in msg:
        return Signal("cognito-auth-flow-not-enabled", "high", f"Cognito said: {reply.message}")
    if error == wire.UNRECOGNIZED_CLIENT:
        return Signal("sigv4-bad-credentials", "high", "the IAM credentials for an admin API are invalid")
    if error == wire.COG_USER_NOT_FOUND:
        return Signal("cognito-bad-credentials", "high", "the user does not exist")
    if error != wire.NOT_AUTHORIZED:
        return Signal("unexplained", "low", f"Cognito answered {error}")
    table = (
        ((wire.COG_SECRET_HASH, wire.COG_SECRET_HASH_MISMATCH, *wire.COG_SECRET_NOT_RECEIVED), "cognito-secret-hash"),
        ((wire.COG_BAD_PASSWORD, wire.COG_USER_DISABLED, wire.COG_ATTEMPTS_EXCEEDED), "cognito-bad-credentials"),
        ((wire.COG_ACCESS_EXPIRED,), "cognito-token-expired"),
        ((wire.COG_ACCESS_REVOKED, wire.COG_REFRESH_REVOKED, wire.COG_REFRESH_INVALID), "cognito-token-revoked"),
        ((wire.COG_MISSING_SCOPES,), "cognito-missing-scope"),
    )
    for texts, cause in table:
        if any(text in msg for text in texts):
            return Signal(cause, "high", f"Cognito said: {reply.message}")
    if credential.location == "body:AccessToken" and token is not None and token.token_use == "id":
        return Signal(
            "wrong-token-type",
            "high",
            "an ID token was sent as AccessToken; Cognito's user APIs "
            f"(GetUser, GlobalSignOut...) take the access token (Cognito said: {reply.message})",
        )
    return Signal("unexplained", "low", f"Cognito said: {error}")
