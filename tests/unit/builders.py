"""Flows built from wire-accurate responses (docs/wire-reference.md, cited per sample)."""

from __future__ import annotations

import time
from email.utils import formatdate

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from mitmproxy import http
from mitmproxy.test import tflow, tutils

REST_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
HTTP_HOST = "xyz987hgfe.execute-api.us-east-1.amazonaws.com"
POOL = "us-east-1_AbCdEf123"
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}"
CLIENT = "1example23456789abcdefghij"
NOW = 1_790_000_000  # the gateway's clock in these samples

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

# (status, headers, body): the documented default responses.
REST_401 = (
    401,
    {"x-amzn-ErrorType": "UnauthorizedException"},
    b'{"message":"Unauthorized"}',
)  # wire-reference "REST Cognito authorizer", "REST Lambda authorizers"
REST_EXPIRED = (401, {"x-amzn-ErrorType": "UnauthorizedException"}, b'{"message":"The incoming token has expired"}')
HTTP_401 = (401, {}, b'{"message":"Unauthorized"}')  # wire-reference "HTTP JWT authorizer"
HTTP_401_AUDIENCE = (
    401,
    {
        "www-authenticate": 'Bearer scope="" error="invalid_token" '
        'error_description="the token does not have a valid audience"'
    },
    b'{"message":"Unauthorized"}',
)  # wire-reference "HTTP JWT authorizer", AWSDOC http-api-troubleshooting-jwt
HTTP_404 = (404, {}, b'{"message":"Not Found"}')  # wire-reference "HTTP JWT authorizer"
MISSING_AUTH_TOKEN = (
    403,
    {"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
    b'{"message":"Missing Authentication Token"}',
)  # wire-reference "SigV4 and unknown routes"
MISSING_EQUAL_SIGN_NEW = (
    403,
    {"x-amzn-ErrorType": "IncompleteSignatureException"},
    b'{"message":"Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and '
    b"encoded with Base64): 'n3WkvM0cvUSVpQ0bqfbNoWMyyKDqpjJB6ruUZ8M0g9A='.\"}",
)  # wire-reference "SigV4 and unknown routes" current form
MISSING_EQUAL_SIGN_OLD = (
    403,
    {"x-amzn-ErrorType": "IncompleteSignatureException"},
    b'{"message":"\'eyJraWQ\' not a valid key=value pair (missing equal-sign) in Authorization header: '
    b"'Bearer eyJraWQ'.\"}",
)  # wire-reference "SigV4 and unknown routes" older form (echoes the token)
REQUIRES_CREDENTIAL = (
    403,
    {"x-amzn-ErrorType": "IncompleteSignatureException"},
    b'{"message":"Authorization header requires \'Credential\' parameter. Authorization header requires '
    b"'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires "
    b"existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=allow\"}",
)  # wire-reference "SigV4 and unknown routes"
SIGNATURE_EXPIRED = (
    403,
    {"x-amzn-ErrorType": "InvalidSignatureException"},
    b'{"message":"Signature expired: 20180816T032046Z is now earlier than 20180816T040329Z '
    b'(20180816T040829Z - 5 min.)"}',
)  # wire-reference "SigV4 and unknown routes"
SIGNATURE_MISMATCH = (
    403,
    {"x-amzn-ErrorType": "InvalidSignatureException"},
    b'{"message":"The request signature we calculated does not match the signature you provided. Check your AWS '
    b'Secret Access Key and signing method. Consult the service documentation for details."}',
)  # wire-reference "SigV4 and unknown routes"
SECURITY_TOKEN_INVALID = (
    403,
    {"x-amzn-ErrorType": "UnrecognizedClientException"},
    b'{"message":"The security token included in the request is invalid."}',
)  # wire-reference "SigV4 and unknown routes"
IAM_DENIED_NEW = (
    403,
    {"x-amzn-ErrorType": "AccessDeniedException"},
    b'{"Message":"User: arn:aws:iam::123456789012:user/dev is not authorized to perform: execute-api:Invoke on '
    b"resource: arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/items because no identity-based "
    b'policy allows the execute-api:Invoke action"}',
)  # wire-reference "SigV4 and unknown routes", current KC
IAM_DENIED_OLD = (
    403,
    {"x-amzn-ErrorType": "AccessDeniedException"},
    b'{"message":"User: arn:aws:iam::123456789012:user/dev is not authorized to perform: execute-api:Invoke on '
    b'resource: arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/items"}',
)  # wire-reference "SigV4 and unknown routes", older KC
RESOURCE_POLICY_ANON = (
    403,
    {"x-amzn-ErrorType": "AccessDeniedException"},
    b'{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: '
    b'arn:aws:execute-api:us-east-1:********7890:abc123defg/prod/GET/items"}',
)  # wire-reference "Keys, policies, WAF, CORS"
LAMBDA_DENY_OLD = (
    403,
    {"x-amzn-ErrorType": "AccessDeniedException"},
    b'{"Message":"User is not authorized to access this resource with an explicit deny"}',
)  # wire-reference "REST Lambda authorizers", 82 bytes
LAMBDA_DENY_NEW = (
    403,
    {"x-amzn-ErrorType": "AccessDeniedException"},
    b'{"Message":"User is not authorized to access this resource with an explicit deny in an identity-based policy"}',
)  # wire-reference "REST Lambda authorizers", current KC
LAMBDA_IMPLICIT_DENY = (
    403,
    {"x-amzn-ErrorType": "AccessDeniedException"},
    b'{"Message":"User is not authorized to access this resource"}',
)  # wire-reference "REST Lambda authorizers"
AUTHORIZER_CONFIG_ERROR = (
    500,
    {"x-amzn-ErrorType": "AuthorizerConfigurationException"},
    b'{"message":null}',
)  # wire-reference "Gateway response types"
FORBIDDEN = (
    403,
    {"x-amzn-ErrorType": "ForbiddenException"},
    b'{"message":"Forbidden"}',
)  # wire-reference "Keys, policies, WAF, CORS"
FUNCTION_URL_FORBIDDEN = (
    403,
    {"x-amzn-ErrorType": "AccessDeniedException"},
    b'{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: '
    b'https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}',
)  # wire-reference "Lambda function URLs"

# CloudFront's headers on an edge-optimized REST API error (wire-reference "Who answered", loige.co capture), lower case
# as over HTTP/2.
CLOUDFRONT = {
    "x-cache": "Error from cloudfront",
    "via": "1.1 0123456789abcdef0123456789abcdef.cloudfront.net (CloudFront)",
    "x-amz-cf-pop": "FRA56-P5",
    "x-amz-cf-id": "ZxyW0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH==",
    "x-amzn-trace-id": "Root=1-6560a1b2-0123456789abcdef01234567",
}


def mint(
    claims: dict | None = None, *, use: str = "id", headers: dict | None = None, alg: str = "RS256", **overrides
) -> str:
    """A real RS256 token with a Cognito claim set (wire-reference "Cognito tokens"), valid at NOW unless overridden."""
    base = {
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "iss": ISSUER,
        "token_use": use,
        "auth_time": NOW - 600,
        "iat": NOW - 600,
        "exp": NOW + 3000,
        "jti": "f1e2d3c4-0000-1111-2222-333344445555",
        "origin_jti": "a1b2c3d4-0000-1111-2222-333344445555",
    }
    if use == "id":
        base |= {"aud": CLIENT, "cognito:username": "alice", "email_verified": True}
    else:
        base |= {"client_id": CLIENT, "scope": "aws.cognito.signin.user.admin", "username": "alice"}
    base |= claims or {}
    base |= overrides
    key = "not-a-real-secret-but-32-bytes-long!" if alg.startswith("HS") else _KEY
    return jwt.encode(base, key, algorithm=alg, headers={"kid": f"{use}-kid-1", **(headers or {})})


def flow(
    response: tuple[int, dict, bytes] | None,
    *,
    host: str = REST_HOST,
    path: str = "/prod/items",
    method: str = "GET",
    request_headers: dict | None = None,
    response_headers: dict | None = None,
    request_body: bytes = b"",
    date: float | None = NOW,
    rest_ids: bool = True,
    sent_at: float = NOW,
) -> http.HTTPFlow:
    """A flow to `host` with the given response; REST ids or HTTP API ids are added as the gateway would."""
    req = tutils.treq(
        host=host,
        port=443,
        scheme=b"https",
        method=method.encode(),
        path=path.encode(),
        headers=http.Headers(host=host, **{}),
        content=request_body,
    )
    for name, value in (request_headers or {}).items():
        req.headers[name] = value
    req.timestamp_start = sent_at
    if response is None:
        return tflow.tflow(req=req)
    status, headers, body = response
    resp = tutils.tresp(status_code=status, headers=http.Headers(), content=body)
    resp.headers["content-type"] = "application/json"
    if date is not None:
        resp.headers["date"] = formatdate(date, usegmt=True)
    if host == HTTP_HOST:
        resp.headers["apigw-requestid"] = "Jx9kLhQ2IAMEbXg="
    elif rest_ids:
        resp.headers["x-amzn-RequestId"] = "50fe5c5e-0c4b-4a2b-9a6e-0123456789ab"
        resp.headers["x-amz-apigw-id"] = "W_AP1ZWIiYdDlQw="
    for name, value in {**headers, **(response_headers or {})}.items():
        resp.headers[name] = value
    return tflow.tflow(req=req, resp=resp)


def wall_clock() -> float:
    return time.time()


def public_jwks() -> str:
    """The JWKS document a pool would publish for the test key, under both kids `mint` uses."""
    import json

    from jwt.algorithms import RSAAlgorithm

    jwk = json.loads(RSAAlgorithm.to_jwk(_KEY.public_key()))
    keys = [{**jwk, "kid": kid, "alg": "RS256", "use": "sig"} for kid in ("id-kid-1", "access-kid-1")]
    return json.dumps({"keys": keys})
