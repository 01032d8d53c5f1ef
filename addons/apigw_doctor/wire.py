"""Every response text the engine recognises, with where it comes from.

Each comment names the section of `docs/wire-reference.md` that lists the text with the AWS page, capture or issue
behind it. Texts are matched case-insensitively as substrings or prefixes, so that both the older and the
newer wording of a message match (wire-reference "Disagreements").
"""

from __future__ import annotations

# x-amzn-ErrorType values (wire-reference "Who answered", "Gateway response types"). The Cognito JSON API appends a
# colon (`NotAuthorizedException:`).
UNAUTHORIZED = "UnauthorizedException"
ACCESS_DENIED = "AccessDeniedException"
MISSING_AUTH_TOKEN = "MissingAuthenticationTokenException"
INCOMPLETE_SIGNATURE = "IncompleteSignatureException"
INVALID_SIGNATURE = "InvalidSignatureException"
UNRECOGNIZED_CLIENT = "UnrecognizedClientException"
EXPIRED_TOKEN = "ExpiredTokenException"
FORBIDDEN = "ForbiddenException"
WAF_FILTERED = "WafFilteredException"  # LocalStack's name, unvalidated (wire-reference "Gateway response types")
AUTHORIZER_CONFIGURATION = "AuthorizerConfigurationException"
AUTHORIZER_FAILURE = (
    "AuthorizerFailureException"  # LocalStack's name, unvalidated (wire-reference "Gateway response types")
)
NOT_AUTHORIZED = "NotAuthorizedException"  # Cognito JSON API (wire-reference "Cognito API")

# REST Cognito / Lambda authorizer 401 bodies (wire-reference "REST Cognito authorizer", "REST Lambda authorizers").
MSG_UNAUTHORIZED = "unauthorized"
MSG_TOKEN_EXPIRED = "the incoming token has expired"  # amplify-js #6060; no trailing period

# Lambda authorizer policy denials, key `Message` (wire-reference "REST Lambda authorizers"). The newer KC text adds "
# in an identity-based policy";
# matching the prefix covers the explicit-deny, implicit-deny and newer forms.
MSG_AUTHORIZER_DENY_PREFIX = "user is not authorized to access this resource"
MSG_EXPLICIT_DENY = "with an explicit deny"

# IAM and resource-policy denials (wire-reference "SigV4 and unknown routes", "Keys, policies, WAF, CORS"): "User:
# <arn|anonymous> is not authorized to perform:
# execute-api:Invoke on resource: <arn>[ with an explicit deny| because no identity-based policy allows ...]".
MSG_IAM_DENY_MARK = "is not authorized to perform: execute-api:invoke"
MSG_ANONYMOUS = "user: anonymous"

# Front door of REST APIs (wire-reference "SigV4 and unknown routes").
MSG_MISSING_AUTH_TOKEN = "missing authentication token"
# older form echoes the token, newer form hashes it (wire-reference "Disagreements")
MSG_MISSING_EQUAL_SIGN = "missing equal-sign"
MSG_REQUIRES_CREDENTIAL = "authorization header requires 'credential' parameter"
MSG_SIGNATURE_EXPIRED = "signature expired"
# scratchstack reimplementation, low (wire-reference "SigV4 and unknown routes")
MSG_SIGNATURE_NOT_YET_CURRENT = "signature not yet current"
MSG_SIGNATURE_MISMATCH = "the request signature we calculated does not match"
MSG_SECURITY_TOKEN_INVALID = "the security token included in the request is invalid"
MSG_SECURITY_TOKEN_EXPIRED = "the security token included in the request is expired"
MSG_CREDENTIAL_SCOPE = "credential should be scoped to"

# Plain gateway bodies.
MSG_FORBIDDEN = "forbidden"  # API key, WAF, private DNS, disabled endpoint (wire-reference "Keys, policies, WAF, CORS")
MSG_NOT_FOUND = "not found"  # HTTP API, no route matches (wire-reference "HTTP JWT authorizer")
MSG_WAF_COGNITO = "request not allowed due to waf block"  # wire-reference "Keys, policies, WAF, CORS", cognito-idp

# Lambda function URL, AuthType AWS_IAM (wire-reference "Lambda function URLs"). Older form reported as plain
# "Forbidden".
MSG_FUNCTION_URL_FORBIDDEN = "forbidden. for troubleshooting function url authorization issues"

# HTTP API JWT authorizer www-authenticate (wire-reference "HTTP JWT authorizer"); the only description AWS documents.
WWW_AUTH_INVALID_TOKEN = "invalid_token"
WWW_AUTH_BAD_AUDIENCE = "the token does not have a valid audience"
# Not documented by AWS (wire-reference "HTTP JWT authorizer": low): matched only as a hint when a gateway sends it.
WWW_AUTH_EXPIRED_HINT = "expired"
WWW_AUTH_INSUFFICIENT_SCOPE = "insufficient_scope"

# Cognito user-pool JSON API messages (wire-reference "Cognito API").
COG_BAD_PASSWORD = "incorrect username or password"
COG_USER_DISABLED = "user is disabled"
COG_ATTEMPTS_EXCEEDED = "password attempts exceeded"
COG_USER_NOT_FOUND = "UserNotFoundException"
COG_SECRET_HASH = "unable to verify secret hash for client"
# Two wordings seen for a missing SECRET_HASH (wire-reference "Cognito API", medium).
COG_SECRET_NOT_RECEIVED = ("configured for secret but secret was not received", "secret_hash was not received")
COG_ACCESS_EXPIRED = "access token has expired"
COG_ACCESS_REVOKED = "access token has been revoked"
COG_REFRESH_REVOKED = "refresh token has been revoked"
COG_REFRESH_INVALID = "invalid refresh token"
COG_MISSING_SCOPES = "access token does not have required scopes"

# Cognito OAuth endpoints (wire-reference "Cognito OAuth").
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

# Request-id headers, lower case, most useful first (wire-reference "Who answered").
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

# --- Texts from public issue threads, each with its source -------------------------------------------------------

# Cognito user-pool JSON API.
INVALID_PARAMETER = "InvalidParameterException"
# "USER_PASSWORD_AUTH flow not enabled for this client" (any flow name): github.com/syl20lego/
# insomnia-plugin-aws-cognito-token/issues/15, github.com/serverless/serverless/issues/7592.
COG_FLOW_NOT_ENABLED = "flow not enabled for this client"
# Another wording of a wrong SECRET_HASH, common with REFRESH_TOKEN_AUTH when the hash used the e-mail alias instead
# of the username (sub): github.com/aws/aws-sdk-net-extensions-cognito/issues/122 and /94.
COG_SECRET_HASH_MISMATCH = "secrethash does not match for the client"
# The JSON 1.1 operation header names the service whatever the host (a VPC endpoint, a custom endpoint, an emulator):
# `X-Amz-Target: AWSCognitoIdentityProviderService.<Op>` for user pools (the Cognito API reference) and
# `AWSCognitoIdentityService.<Op>` for identity pools (the request in github.com/aws/aws-sdk-js-v3/issues/3113).
TARGET_USER_POOLS = "AWSCognitoIdentityProviderService."
TARGET_IDENTITY_POOLS = "AWSCognitoIdentityService."

# HTTP API: a Lambda authorizer that cannot be invoked or returns an invalid answer gives 500 with this body (AWS
# docs, "Working with AWS Lambda authorizers for HTTP APIs": "clients receive a 500 Internal Server Error"); a failing
# integration gives the same text ("Troubleshooting issues with HTTP API Lambda integrations").
MSG_INTERNAL_SERVER_ERROR = "internal server error"

# CloudFront's own HTML error page (not API Gateway's JSON): "<H1>403 ERROR</H1><H2>The request could not be
# satisfied.</H2>" then one line naming the reason, and "Generated by cloudfront (CloudFront)".
# Captures: github.com/Droplr/serverless-api-cloudfront/issues/15 (all headers incl. Host forwarded to an API Gateway
# origin), github.com/lysine-dev/okhttp/issues/8001 (AWS WAF: "Request blocked."), github.com/amate/Proxydomo/
# issues/67 (geo restriction), github.com/blampe/rreading-glasses/issues/501 ("Bad request.").
CF_PAGE_MARKS = ("the request could not be satisfied", "generated by cloudfront")
CF_REQUEST_BLOCKED = "request blocked."
CF_GEO_BLOCKED = "configured to block access from your country"
CF_BAD_REQUEST = "bad request."

# AWS WAF on the user pool answers 403 `{"__type":"ForbiddenException","message":"Request not allowed due to WAF
# block."}` (github.com/ravenscar/franken-srp/issues/13): MSG_WAF_COGNITO above.

# Cognito identity pools (`cognito-identity.<region>.amazonaws.com`, JSON 1.1): 400 `{"__type":..., "message":...}`
# with `x-amzn-ErrorType: <Type>:` and `x-amzn-ErrorMessage` (github.com/aws-amplify/amplify-js/issues/2443).
# SigV4-signed calls with a slow clock: 400 InvalidSignatureException "Signature expired: <t> is now earlier than <t>
# (<t> - 15 min.)" (github.com/aws-amplify/amplify-js/issues/3719): MSG_SIGNATURE_EXPIRED above.
INVALID_IDENTITY_POOL_CONFIGURATION = "InvalidIdentityPoolConfigurationException"
# github.com/amazon-archives/amazon-cognito-identity-js/issues/40, /407, /162; github.com/MitocGroup/deep-framework/
# issues/593 (body capture); github.com/aws-amplify/aws-sdk-android/issues/444.
ID_ISSUER_MISMATCH = "issuer doesn't match providername"
# The access token sent as the login: github.com/amazon-archives/amazon-cognito-identity-js/issues/12 and /7.
ID_MISSING_AUD = "missing a required claim: aud"
# The app client is not the identity pool's provider: github.com/amazon-archives/amazon-cognito-identity-js/issues/7,
# /153, /371.
ID_UNSUPPORTED_PROVIDER = "token is not from a supported provider of this identity pool"
# "Invalid login token. Token expired: 1667365798 >= 1667235770" (github.com/qqaatw/JciHitachiHA/issues/33).
ID_TOKEN_EXPIRED = "token expired"
# "Invalid login token. Couldn't verify signed token."
# (github.com/amazon-archives/amazon-cognito-identity-js/issues/91).
ID_NOT_VERIFIED = "couldn't verify signed token"
# github.com/amazon-archives/amazon-cognito-identity-js/issues/68; github.com/aws-amplify/amplify-js/issues/2443
# (full headers: x-amzn-errortype `NotAuthorizedException:`, wrong IdentityPoolId).
ID_LOGINS_MISMATCH = "logins don't match"
# github.com/aws/aws-sdk-js-v3/issues/3113; older form "Unauthenticated access is not supported"
# (github.com/boto/botocore/issues/329): the prefix matches both.
ID_UNAUTH_DISABLED = "unauthenticated access is not supported"
# "Invalid identity pool configuration. Check assigned IAM roles for this pool.": the roles' trust policy does not
# trust this identity pool (github.com/amazon-archives/amazon-cognito-auth-js/issues/167, /196; full headers in
# github.com/aws-amplify/amplify-swift/issues/3124). Matched on its exception name as well.
ID_POOL_CONFIGURATION = "invalid identity pool configuration"
