"""Every response text the engine recognises, with where it comes from.

`REF §n` means `shared/reference/apigw-auth-failures.md`, section n, which cites the AWS page, capture or issue
behind each row. Texts are matched case-insensitively as substrings or prefixes, so that both the older and the
newer wording of a message match (REF §11).
"""

from __future__ import annotations

# x-amzn-ErrorType values (REF §0, §6). The Cognito JSON API appends a colon (`NotAuthorizedException:`).
UNAUTHORIZED = "UnauthorizedException"
ACCESS_DENIED = "AccessDeniedException"
MISSING_AUTH_TOKEN = "MissingAuthenticationTokenException"
INCOMPLETE_SIGNATURE = "IncompleteSignatureException"
INVALID_SIGNATURE = "InvalidSignatureException"
UNRECOGNIZED_CLIENT = "UnrecognizedClientException"
EXPIRED_TOKEN = "ExpiredTokenException"
FORBIDDEN = "ForbiddenException"
WAF_FILTERED = "WafFilteredException"  # LocalStack's name, unvalidated (REF §6)
AUTHORIZER_CONFIGURATION = "AuthorizerConfigurationException"
AUTHORIZER_FAILURE = "AuthorizerFailureException"  # LocalStack's name, unvalidated (REF §6)
NOT_AUTHORIZED = "NotAuthorizedException"  # Cognito JSON API (REF §7b)

# REST Cognito / Lambda authorizer 401 bodies (REF §1, §3a).
MSG_UNAUTHORIZED = "unauthorized"
MSG_TOKEN_EXPIRED = "the incoming token has expired"  # amplify-js #6060; no trailing period

# Lambda authorizer policy denials, key `Message` (REF §3a). The newer KC text adds " in an identity-based policy";
# matching the prefix covers the explicit-deny, implicit-deny and newer forms.
MSG_AUTHORIZER_DENY_PREFIX = "user is not authorized to access this resource"
MSG_EXPLICIT_DENY = "with an explicit deny"

# IAM and resource-policy denials (REF §4, §5): "User: <arn|anonymous> is not authorized to perform:
# execute-api:Invoke on resource: <arn>[ with an explicit deny| because no identity-based policy allows ...]".
MSG_IAM_DENY_MARK = "is not authorized to perform: execute-api:invoke"
MSG_ANONYMOUS = "user: anonymous"

# Front door of REST APIs (REF §4).
MSG_MISSING_AUTH_TOKEN = "missing authentication token"
MSG_MISSING_EQUAL_SIGN = "missing equal-sign"  # older form echoes the token, newer form hashes it (REF §11)
MSG_REQUIRES_CREDENTIAL = "authorization header requires 'credential' parameter"
MSG_SIGNATURE_EXPIRED = "signature expired"
MSG_SIGNATURE_NOT_YET_CURRENT = "signature not yet current"  # scratchstack reimplementation, low (REF §4)
MSG_SIGNATURE_MISMATCH = "the request signature we calculated does not match"
MSG_SECURITY_TOKEN_INVALID = "the security token included in the request is invalid"
MSG_SECURITY_TOKEN_EXPIRED = "the security token included in the request is expired"
MSG_CREDENTIAL_SCOPE = "credential should be scoped to"

# Plain gateway bodies.
MSG_FORBIDDEN = "forbidden"  # API key, WAF, private DNS, disabled endpoint (REF §5)
MSG_NOT_FOUND = "not found"  # HTTP API, no route matches (REF §2)
MSG_WAF_COGNITO = "request not allowed due to waf block"  # REF §5, cognito-idp

# Lambda function URL, AuthType AWS_IAM (REF §9). Older form reported as plain "Forbidden".
MSG_FUNCTION_URL_FORBIDDEN = "forbidden. for troubleshooting function url authorization issues"

# HTTP API JWT authorizer www-authenticate (REF §2); the only description AWS documents.
WWW_AUTH_INVALID_TOKEN = "invalid_token"
WWW_AUTH_BAD_AUDIENCE = "the token does not have a valid audience"
# Not documented by AWS (REF §2, "low"): matched only as a hint when a gateway sends it.
WWW_AUTH_EXPIRED_HINT = "expired"
WWW_AUTH_INSUFFICIENT_SCOPE = "insufficient_scope"

# Cognito user-pool JSON API messages (REF §7b).
COG_BAD_PASSWORD = "incorrect username or password"
COG_USER_DISABLED = "user is disabled"
COG_ATTEMPTS_EXCEEDED = "password attempts exceeded"
COG_USER_NOT_FOUND = "UserNotFoundException"
COG_SECRET_HASH = "unable to verify secret hash for client"
# Two wordings seen for a missing SECRET_HASH (REF §7b, medium).
COG_SECRET_NOT_RECEIVED = ("configured for secret but secret was not received", "secret_hash was not received")
COG_ACCESS_EXPIRED = "access token has expired"
COG_ACCESS_REVOKED = "access token has been revoked"
COG_REFRESH_REVOKED = "refresh token has been revoked"
COG_REFRESH_INVALID = "invalid refresh token"
COG_MISSING_SCOPES = "access token does not have required scopes"

# Cognito OAuth endpoints (REF §7a).
OAUTH_ERRORS = (
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
)
OAUTH_REDIRECT_MISMATCH = "redirect_mismatch"
USERINFO_INVALID_TOKEN = "access token is expired, disabled, or deleted"

# Request-id headers, lower case, most useful first (REF §0).
REQUEST_ID_HEADERS = (
    "x-amzn-requestid",  # REST $context.requestId; Cognito JSON API request id
    "apigw-requestid",  # HTTP API $context.requestId
    "x-amz-apigw-id",  # REST $context.extendedRequestId
    "x-amz-cognito-request-id",  # Cognito hosted UI / OAuth endpoints
    "x-amz-request-id",  # older Cognito domain captures
    "x-amzn-trace-id",
    "x-amz-cf-id",  # CloudFront (edge-optimized APIs, Cognito domains)
)
# The one id each surface's own logs are keyed by: REST and the Cognito API, HTTP API, the Cognito domain.
PRIMARY_REQUEST_ID_HEADERS = ("x-amzn-requestid", "apigw-requestid", "x-amz-cognito-request-id")
