"""Byte-exact replies of API Gateway, Lambda function URLs and Cognito, one builder per documented answer.

Every status, body and header here comes from docs/wire-reference.md (its sections are named below).
Bodies are compact JSON (ref, legend: the default template is `{"message":$context.error.messageString}`).
Where the reference says a detail is unknown, the builder leaves it out rather than inventing it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Headers  # without Content-Length, which the server adds from `body`
    body: bytes
    request_id: str  # the id the client sees in the surface's request-id header

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)


def compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def http_date(now: float) -> str:
    return formatdate(now, usegmt=True)


def amz_date(now: float) -> str:
    return datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def apigw_id() -> str:
    # wire-reference "Who answered": `x-amz-apigw-id: W_AP1ZWIiYdDlQw=` and HTTP API `apigw-requestid: <id>=`: 11 random
    # bytes in
    # URL-safe base64 give the same 16-character shape with one `=`.
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def _cloudfront(error: bool) -> Headers:
    # wire-reference "Who answered", edge-optimized row (loige.co capture): x-cache, via, x-amz-cf-pop, x-amz-cf-id.
    return (
        ("X-Cache", "Error from cloudfront" if error else "Miss from cloudfront"),
        ("Via", f"1.1 {os.urandom(16).hex()}.cloudfront.net (CloudFront)"),
        ("X-Amz-Cf-Pop", "IAD89-C1"),
        ("X-Amz-Cf-Id", base64.urlsafe_b64encode(os.urandom(40)).decode()),
    )


def _amzn_headers(now: float, error_type: str | None) -> tuple[str, list[tuple[str, str]]]:
    """The headers REST APIs and function URLs share: Date, JSON, `x-amzn-RequestId`, and the error type if any."""
    rid = str(uuid.uuid4())
    headers = [
        ("Date", http_date(now)),
        ("Content-Type", "application/json"),
        ("Connection", "keep-alive"),
        ("x-amzn-RequestId", rid),
    ]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return rid, headers


# --- REST API (v1) ------------------------------------------------------------------------------------------


def _rest(now: float, status: int, body: bytes, error_type: str | None, *, edge: bool) -> Reply:
    # wire-reference "Who answered", REST regional row (Ge0rg3/requests-ip-rotator#43 capture): content-type
    # application/json,
    # x-amzn-RequestId <uuid>, x-amzn-ErrorType on errors, x-amz-apigw-id.
    rid, headers = _amzn_headers(now, error_type)
    headers.append(("x-amz-apigw-id", apigw_id()))
    if edge:
        # wire-reference "Who answered" edge row: the edge capture adds x-amzn-trace-id (X-Ray form Root=1-<8 hex>-<24
        # hex>).
        headers.append(("X-Amzn-Trace-Id", f"Root=1-{int(now):08x}-{os.urandom(12).hex()}"))
        headers.extend(_cloudfront(error=error_type is not None))
    return Reply(status, tuple(headers), body, rid)


def rest_unauthorized(now: float, *, edge: bool = False) -> Reply:
    # wire-reference "REST Cognito authorizer", "REST Lambda authorizers" (loige.co capture): 401
    # {"message":"Unauthorized"} (26 bytes), UnauthorizedException.
    return _rest(now, 401, compact({"message": "Unauthorized"}), "UnauthorizedException", edge=edge)


def rest_token_expired(now: float, *, edge: bool = False) -> Reply:
    # wire-reference "REST Cognito authorizer" "Expired token" (amplify-js#6060): no trailing period. The error type was
    # not captured; wire-reference "Gateway response types" lists
    # this text under UNAUTHORIZED, whose captured type is UnauthorizedException.
    return _rest(now, 401, compact({"message": "The incoming token has expired"}), "UnauthorizedException", edge=edge)


def rest_missing_authentication_token(now: float, *, edge: bool = False) -> Reply:
    # wire-reference "SigV4 and unknown routes" first row (LocalStack AWS-recorded snapshot test_routing_not_found):
    # 403, 42 bytes.
    return _rest(
        now, 403, compact({"message": "Missing Authentication Token"}), "MissingAuthenticationTokenException", edge=edge
    )


def rest_explicit_deny(now: float, *, edge: bool = False) -> Reply:
    # wire-reference "REST Lambda authorizers" (loige.co capture, content-length 82): capital-M "Message",
    # AccessDeniedException.
    body = compact({"Message": "User is not authorized to access this resource with an explicit deny"})
    return _rest(now, 403, body, "AccessDeniedException", edge=edge)


def rest_implicit_deny(now: float, *, edge: bool = False) -> Reply:
    # wire-reference "REST Lambda authorizers" "no statement covering this method ARN" (capture, index id 30015849191).
    body = compact({"Message": "User is not authorized to access this resource"})
    return _rest(now, 403, body, "AccessDeniedException", edge=edge)


def rest_authorizer_configuration_error(now: float, *, edge: bool = False) -> Reply:
    # wire-reference "REST Lambda authorizers" (loige.co capture): 500 {"message":null} (16 bytes),
    # AuthorizerConfigurationException.
    return _rest(now, 500, compact({"message": None}), "AuthorizerConfigurationException", edge=edge)


def rest_forbidden(now: float, *, edge: bool = False) -> Reply:
    # wire-reference "Keys, policies, WAF, CORS" API key row: 403 {"message":"Forbidden"} (23 bytes),
    # ForbiddenException.
    return _rest(now, 403, compact({"message": "Forbidden"}), "ForbiddenException", edge=edge)


def sigv4_missing_equal_sign(now: float, authorization: str, *, edge: bool = False) -> Reply:
    # wire-reference "SigV4 and unknown routes" "current form" (captures, index ids 65925421542, 52173366055): the
    # header value is hashed with SHA-256
    # and Base64-encoded. Error type from the older-form capture (FinchPowers): IncompleteSignatureException.
    digest = base64.b64encode(hashlib.sha256(authorization.encode()).digest()).decode()
    text = (
        "Invalid key=value pair (missing equal-sign) in Authorization header "
        f"(hashed with SHA-256 and encoded with Base64): '{digest}'."
    )
    return _rest(now, 403, compact({"message": text}), "IncompleteSignatureException", edge=edge)


def sigv4_incomplete(now: float, authorization: str, missing: list[str], *, edge: bool = False) -> Reply:
    """`missing` holds the parts AWS names: 'Credential', 'Signature', 'SignedHeaders' and/or 'date'."""
    # wire-reference "SigV4 and unknown routes" single-token row (rclone, DataTalksClub FAQ; chalice local copies it):
    # each missing part adds one
    # sentence, in this order, then `Authorization=<header value>`. Error type "expected" per the ref.
    # The date sentence is left out when X-Amz-Date or Date was sent: inferred from its wording, not captured.
    params = [p for p in ("Credential", "Signature", "SignedHeaders") if p in missing]
    parts = [f"Authorization header requires '{p}' parameter." for p in params]
    if "date" in missing:
        parts.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    text = " ".join([*parts, f"Authorization={authorization}"])
    return _rest(now, 403, compact({"message": text}), "IncompleteSignatureException", edge=edge)


def sigv4_invalid_security_token(now: float, *, edge: bool = False) -> Reply:
    # wire-reference "SigV4 and unknown routes" "Wrong access key id": the text is certain; the header is not. We follow
    # the AWS KC table
    # (AccessDeniedException) over the "expected" UnrecognizedClientException, as the ref treats AWS docs as correct.
    body = compact({"message": "The security token included in the request is invalid."})
    return _rest(now, 403, body, "AccessDeniedException", edge=edge)


def sigv4_signature_mismatch(now: float, *, edge: bool = False) -> Reply:
    # wire-reference "SigV4 and unknown routes" "Wrong secret key" (KC api-gateway-iam-sigv4-mismatch),
    # InvalidSignatureException.
    text = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )
    return _rest(now, 403, compact({"message": text}), "InvalidSignatureException", edge=edge)


def sigv4_signature_expired(now: float, request_amz_date: str, *, edge: bool = False) -> Reply:
    # wire-reference "SigV4 and unknown routes" clock-skew row (NEC capture): "Signature expired: <req> is now earlier
    # than <now-5m> (<now> - 5 min.)".
    text = f"Signature expired: {request_amz_date} is now earlier than {amz_date(now - 300)} ({amz_date(now)} - 5 min.)"
    return _rest(now, 403, compact({"message": text}), "InvalidSignatureException", edge=edge)


def sigv4_signature_not_yet_current(now: float, request_amz_date: str, *, edge: bool = False) -> Reply:
    # wire-reference "SigV4 and unknown routes" "Request time in the future": low confidence (scratchstack
    # reimplementation), window as on execute-api.
    text = (
        f"Signature not yet current: {request_amz_date} is still later than {amz_date(now + 300)} "
        f"({amz_date(now)} + 5 min.)"
    )
    return _rest(now, 403, compact({"message": text}), "InvalidSignatureException", edge=edge)


def sigv4_bad_scope(now: float, text: str, *, edge: bool = False) -> Reply:
    # wire-reference "SigV4 and unknown routes" credential-scope row (medium): "Credential should be scoped to a valid
    # region, not '<r>'." and
    # "Credential should be scoped to correct service: 'execute-api'.", InvalidSignatureException.
    return _rest(now, 403, compact({"message": text}), "InvalidSignatureException", edge=edge)


def rest_ok(now: float, payload: dict[str, Any], *, edge: bool = False) -> Reply:
    # A successful integration answer: the body is the sandbox backend's own, not an AWS text.
    return _rest(now, 200, compact(payload), None, edge=edge)


# --- HTTP API (v2) ------------------------------------------------------------------------------------------


def _http_api(now: float, status: int, body: bytes, extra: Headers = ()) -> Reply:
    # wire-reference "Who answered" HTTP API row: `apigw-requestid: <id>=`; the AWS example shows no x-amzn-ErrorType.
    rid = apigw_id()
    headers = (
        ("Date", http_date(now)),
        ("Content-Type", "application/json"),
        ("Connection", "keep-alive"),
        *extra,
        ("apigw-requestid", rid),
    )
    return Reply(status, headers, body, rid)


AUDIENCE_CHALLENGE = (
    'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"'
)


def http_unauthorized(now: float, *, www_authenticate: str | None = None) -> Reply:
    # wire-reference "HTTP JWT authorizer": 401 {"message":"Unauthorized"} (Content-Length 26). Only the audience case
    # has a known
    # www-authenticate text (AUDIENCE_CHALLENGE, AWSDOC http-api-troubleshooting-jwt.md); for every other JWT
    # failure the ref found no description, so callers pass None and the header is left out, not invented.
    extra: Headers = (("www-authenticate", www_authenticate),) if www_authenticate else ()
    return _http_api(now, 401, compact({"message": "Unauthorized"}), extra)


def http_forbidden(now: float) -> Reply:
    # wire-reference "HTTP JWT authorizer" "Missing required scope": NOT CONFIRMED for AWS. The simulator
    # KensioSoftware/yulin#302 answers
    # 403 {"message":"Forbidden"}; we follow it, as the ref does, and say so wherever it matters.
    return _http_api(now, 403, compact({"message": "Forbidden"}))


def http_not_found(now: float) -> Reply:
    # wire-reference "HTTP JWT authorizer" "No route matches" (AWSDOC http-api-develop-routes.md; capture index id
    # 59691876738): 404.
    return _http_api(now, 404, compact({"message": "Not Found"}))


def http_backend_unauthorized(now: float) -> Reply:
    # The integration's own 401 passed through an HTTP API (github.com/quarkusio/quarkus/issues/28544): the
    # gateway's apigw-requestid, a bare `www-authenticate: Bearer`, an empty body, no JSON content type.
    rid = apigw_id()
    headers = (
        ("Date", http_date(now)),
        ("Connection", "keep-alive"),
        ("www-authenticate", "Bearer"),
        ("apigw-requestid", rid),
    )
    return Reply(401, headers, b"", rid)


def http_ok(now: float, payload: dict[str, Any]) -> Reply:
    return _http_api(now, 200, compact(payload))


# --- Lambda function URL ------------------------------------------------------------------------------------

FUNCTION_URL_FORBIDDEN = (
    "Forbidden. For troubleshooting Function URL authorization issues, see: "
    "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"
)


def _function_url(now: float, status: int, body: bytes, error_type: str | None) -> Reply:
    rid, headers = _amzn_headers(now, error_type)
    return Reply(status, tuple(headers), body, rid)


def function_url_forbidden(now: float) -> Reply:
    # wire-reference "Lambda function URLs" and "Who answered" (LocalStack's AWS-recorded snapshot):
    # 403, AccessDeniedException.
    return _function_url(now, 403, compact({"Message": FUNCTION_URL_FORBIDDEN}), "AccessDeniedException")


def function_url_ok(now: float, payload: dict[str, Any]) -> Reply:
    return _function_url(now, 200, compact(payload), None)


# --- Cognito domain (hosted UI / OAuth 2.0 endpoints) -------------------------------------------------------


def _cognito_domain(now: float, status: int, body: bytes, content_type: str | None, extra: Headers = ()) -> Reply:
    # wire-reference "Who answered" Cognito domain row (amplify-js#5284, amazon-cognito-auth-js#52):
    # x-amz-cognito-request-id,
    # x-application-context: application:prod:8443, set-cookie XSRF-TOKEN, server: Server, and CloudFront headers.
    rid = str(uuid.uuid4())
    headers: list[tuple[str, str]] = [("Date", http_date(now))]
    if content_type:
        headers.append(("Content-Type", content_type))
    headers += [
        ("Connection", "keep-alive"),
        *extra,
        ("Set-Cookie", f"XSRF-TOKEN={uuid.uuid4()}; Path=/; Secure; HttpOnly"),
        ("x-amz-cognito-request-id", rid),
        ("X-Application-Context", "application:prod:8443"),
        ("Server", "Server"),
        *_cloudfront(error=status >= 400),
    ]
    return Reply(status, tuple(headers), body, rid)


def oauth_method_not_allowed(now: float) -> Reply:
    # wire-reference "Cognito OAuth": wrong Content-Type at /oauth2/token, or a wrong path such as /oauth/token => 405,
    # empty body
    # (content-length: 0), `allow: GET`.
    return _cognito_domain(now, 405, b"", None, (("Allow", "GET"),))


def oauth_error(now: float, error: str) -> Reply:
    # wire-reference "Cognito OAuth" (COGDOC token-endpoint.md): 400 {"error":"<code>"}, Content-Type
    # application/json;charset=UTF-8,
    # no error_description in the documented form.
    return _cognito_domain(now, 400, compact({"error": error}), "application/json;charset=UTF-8")


def oauth_tokens(now: float, payload: dict[str, Any]) -> Reply:
    # wire-reference "Cognito tokens": expires_in 3600 in token responses; content type as for the documented errors.
    return _cognito_domain(now, 200, compact(payload), "application/json;charset=UTF-8")


def cognito_redirect(now: float, location: str) -> Reply:
    # wire-reference "Cognito OAuth": a 302 whose Location is the client's redirect_uri or the domain's /error page
    # (redirect_mismatch).
    return _cognito_domain(now, 302, b"", None, (("Location", location),))


def cognito_not_found(now: float) -> Reply:
    # Not in the reference: any other path on the domain. Kept bodiless so no text is invented.
    return _cognito_domain(now, 404, b"", None)


# --- Cognito user-pool JSON API (cognito-idp) ---------------------------------------------------------------

IDP_CONTENT_TYPE = "application/x-amz-json-1.1"


def idp_error(now: float, error_type: str, message: str, *, status: int = 400) -> Reply:
    # wire-reference "Who answered", "Cognito API" (index id 6770568444): 400, body {"__type":...,"message":...},
    # `x-amzn-errortype: <Type>:`
    # with the trailing colon, `x-amzn-errormessage: <text>`, `x-amzn-requestid: <uuid>`.
    rid = str(uuid.uuid4())
    headers = (
        ("Date", http_date(now)),
        ("Content-Type", IDP_CONTENT_TYPE),
        ("Connection", "keep-alive"),
        ("x-amzn-requestid", rid),
        ("x-amzn-errortype", f"{error_type}:"),
        ("x-amzn-errormessage", message),
    )
    return Reply(status, headers, compact({"__type": error_type, "message": message}), rid)


def idp_ok(now: float, payload: dict[str, Any]) -> Reply:
    rid = str(uuid.uuid4())
    headers = (
        ("Date", http_date(now)),
        ("Content-Type", IDP_CONTENT_TYPE),
        ("Connection", "keep-alive"),
        ("x-amzn-requestid", rid),
    )
    return Reply(200, headers, compact(payload), rid)


def idp_json(now: float, status: int, payload: dict[str, Any] | None) -> Reply:
    """JWKS and OpenID discovery documents on the issuer host (wire-reference "Cognito tokens":
    `/{pool}/.well-known/jwks.json`)."""
    rid = str(uuid.uuid4())
    headers = (
        ("Date", http_date(now)),
        ("Content-Type", "application/json;charset=UTF-8"),
        ("Connection", "keep-alive"),
        ("x-amzn-requestid", rid),
    )
    return Reply(status, headers, compact(payload) if payload is not None else b"", rid)
