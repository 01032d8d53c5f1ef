"""The cause catalogue (docs/design.md, "Cause catalogue"): a stable code, a title, the plain-words explanation, and the
fix steps.

Fix steps may name `{api_id}`, `{region}`, `{stage}`, `{pool}`, `{client}`, `{header}`; the diagnosis fills them
from the flow, or leaves a readable `<api-id>`-style placeholder. `{get_authorizers}` and `{create_deployment}`
become the `aws apigateway ... --rest-api-id` command for REST APIs and the `aws apigatewayv2 ... --api-id` one for
HTTP APIs (HTTP APIs are not reachable with the REST commands).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cause:
    code: str
    title: str
    explanation: str
    fix: tuple[str, ...]


_REST_AUTHORIZERS = "aws apigateway get-authorizers --rest-api-id {api_id} --region {region}"
_HTTP_AUTHORIZERS = "aws apigatewayv2 get-authorizers --api-id {api_id} --region {region}"
_REST_DEPLOYMENT = "aws apigateway create-deployment --rest-api-id {api_id} --stage-name {stage} --region {region}"
_HTTP_DEPLOYMENT = "aws apigatewayv2 create-deployment --api-id {api_id} --stage-name {stage} --region {region}"
# Filled per API type by the diagnosis (REST or HTTP API).
API_COMMANDS = {
    "get_authorizers": (_REST_AUTHORIZERS, _HTTP_AUTHORIZERS),
    "create_deployment": (_REST_DEPLOYMENT, _HTTP_DEPLOYMENT),
}
_POOL_CLIENT = "aws cognito-idp describe-user-pool-client --user-pool-id {pool} --client-id {client} --region {region}"

_CATALOGUE = (
    # credential
    Cause(
        "missing-credential",
        "No credential was sent",
        "The request carries no {header} header, so API Gateway rejected it without calling any authorizer.",
        (
            "Send the token in the header the authorizer reads: `{header}: <token>` (check the authorizer's identity "
            "source: {get_authorizers}).",
            "In browser apps, make sure the interceptor that adds the header runs for this request.",
        ),
    ),
    Cause(
        "wrong-header",
        "The token was sent somewhere the authorizer does not look",
        "A token is present, but not in the {header} header the authorizer reads.",
        (
            "Move the token into the `{header}` header.",
            "Or change the authorizer's identity source to the header you use: {get_authorizers}.",
        ),
    ),
    Cause(
        "malformed-header",
        "The Authorization header is damaged",
        "The header value has extra characters around or inside the token (spaces, line breaks, quotes, a doubled "
        "or misspelt `Bearer`). The authorizer cannot parse it and answers 401.",
        (
            "Send exactly `{header}: Bearer <token>` or `{header}: <token>`: one space, no quotes, no line breaks.",
            "If the token comes from a file or an environment variable, strip trailing newlines "
            "(e.g. `TOKEN=$(tr -d '\\n' < token.txt)`).",
        ),
    ),
    Cause(
        "placeholder-token",
        "A placeholder was sent instead of a token",
        "The header holds a placeholder such as `undefined`, `null` or an unfilled template, so the client had no "
        "token when it built the request.",
        (
            "Make sure sign-in finished and the token is read before the request is sent (await the session).",
            "In Postman, check the variable is set in the selected environment.",
        ),
    ),
    Cause(
        "not-a-jwt",
        "The credential is not a readable JWT",
        "The authorizer expects a JWT (three base64url segments separated by dots); this value is not one, or it "
        "was cut short.",
        ("Send the whole ID or access token, not a session id, an authorization code or a truncated copy.",),
    ),
    Cause(
        "refresh-token-sent",
        "A refresh token was sent instead of an ID or access token",
        "Cognito refresh tokens are encrypted (5-part JWE) or opaque; API Gateway cannot validate them.",
        (
            "Send the IdToken (REST methods with no OAuth scopes) or the AccessToken (methods with scopes), "
            "never the RefreshToken.",
        ),
    ),
    # token
    Cause(
        "token-expired",
        "The token has expired",
        "The token's `exp` time is before the time API Gateway received the request.",
        (
            "Refresh the token before it expires (InitiateAuth REFRESH_TOKEN_AUTH, or Amplify's fetchAuthSession) "
            "and retry.",
            "Check the client's clock, and refresh a few minutes before `exp` rather than after a 401.",
            "Token lifetimes are set on the app client: " + _POOL_CLIENT + ".",
        ),
    ),
    Cause(
        "token-not-yet-valid",
        "The token is not valid yet",
        "The token's `nbf` or `iat` is later than the gateway's clock: the issuer's or the client's clock is ahead.",
        ("Check the clock of the machine that minted the token (NTP).",),
    ),
    Cause(
        "wrong-issuer",
        "The token comes from another issuer",
        "The token's `iss` is not the user pool or issuer the authorizer trusts.",
        (
            "Sign in against the pool the API uses, or point the authorizer at the pool that issued the token: "
            "{get_authorizers}.",
            "For HTTP API JWT authorizers the issuer must match exactly, including any trailing slash.",
        ),
    ),
    Cause(
        "wrong-token-type",
        "The wrong kind of token was sent (ID vs access token)",
        "REST Cognito authorizers treat the token as an ID token when the method has no OAuth scopes, and as an "
        "access token when it has scopes.",
        (
            "Methods without OAuth scopes: send the IdToken.",
            "Methods with OAuth scopes: send the AccessToken (it carries `scope`).",
            "Check the method's scopes: aws apigateway get-method --rest-api-id {api_id} --resource-id <id> "
            "--http-method <METHOD> --region {region}.",
        ),
    ),
    Cause(
        "missing-scope",
        "The token lacks the scope the method requires",
        "None of the token's scopes is among the scopes configured on the method or route.",
        (
            "Request the scope when signing in (the `scope` parameter of /oauth2/authorize or /oauth2/token), and "
            "allow it on the app client: " + _POOL_CLIENT + ".",
            "Tokens from InitiateAuth carry only `aws.cognito.signin.user.admin`; custom scopes need the OAuth "
            "endpoints or a pre-token-generation trigger.",
        ),
    ),
    Cause(
        "wrong-audience",
        "The token was issued to another app client",
        "The token's `aud` (ID token) or `client_id` (access token) is not an audience the authorizer accepts.",
        (
            "Use a token from an app client listed in the authorizer's audience: " + _HTTP_AUTHORIZERS + ".",
            "Or add this client id to the authorizer's audience list.",
        ),
    ),
    Cause(
        "bad-signature",
        "The token's signature does not verify",
        "The signature does not match the issuer's published keys: the token was altered or re-signed.",
        ("Use the token exactly as Cognito issued it.",),
    ),
    Cause(
        "unknown-key",
        "The token was signed with a key the pool does not publish",
        "The token's `kid` is missing or not in the pool's JWKS: it comes from another pool or issuer.",
        (
            "Sign in against the pool the API uses; compare the `kid` with "
            "https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/jwks.json.",
        ),
    ),
    Cause(
        "unsupported-algorithm",
        "The token uses an algorithm the authorizer does not accept",
        "API Gateway accepts RSA-signed JWTs only (Cognito uses RS256); HS256 or `none` tokens are rejected.",
        ("Issue RS256 tokens, or validate this token type in a Lambda authorizer.",),
    ),
    # not the token
    Cause(
        "route-not-found",
        "No such route: the path, stage or method is wrong (not an auth problem)",
        'API Gateway answers an unknown path, method or stage, or an undeployed API, with 403 "Missing '
        'Authentication Token" (REST) or 404 "Not Found" (HTTP API).',
        (
            "Check the URL: the stage name ({stage}), the resource path, a trailing slash, and the HTTP method.",
            "Deploy the API after changing it: {create_deployment}.",
            "On a custom domain, do not repeat the stage name in the path (the base-path mapping adds it).",
        ),
    ),
    Cause(
        "stage-not-deployed",
        "The stage does not have this route yet: deploy the API",
        "The route or its authorizer exists (it is in the API definition, or it answered earlier in this capture), "
        "but the deployed stage answers as if it did not: a change was saved but not deployed to stage {stage}, or "
        "a later deployment removed it. API Gateway answers exactly as for an unknown route.",
        (
            "Deploy the current definition to the stage: {create_deployment}.",
            "Compare the stage's deployment with the definition: the stage's deploymentId and its date "
            "(get-stage), and the route in the definition.",
        ),
    ),
    Cause(
        "identity-source-mismatch",
        "The authorizer reads the token from another header than the one sent",
        "The authorizer's identity source names a header this request does not carry (or a malformed one, such as "
        "`method.request.header.method.request.header.Authorization` from typing the full expression into the "
        "console's header field), so API Gateway answers 401 without calling the authorizer.",
        (
            "Set the identity source to the header the clients send, e.g. `method.request.header.Authorization` "
            "(REST) or `$request.header.Authorization` (HTTP API); in the console's token source field, type only "
            "the header name: {get_authorizers}.",
            "Or send the token in the header the authorizer reads.",
        ),
    ),
    Cause(
        "token-validation-mismatch",
        "The token does not match the authorizer's token validation expression",
        "REST authorizers can carry a token validation regular expression (identityValidationExpression): a "
        "TOKEN Lambda authorizer's header value, or a Cognito token's aud, must match it, otherwise API Gateway "
        "answers 401 without calling the authorizer.",
        (
            "Compare the header value with the expression (a `Bearer ` prefix, the token's characters, anchors): "
            "{get_authorizers}.",
            "Fix the expression or remove it (the authorizer validates the token anyway).",
        ),
    ),
    Cause(
        "sigv4-expected",
        "API Gateway tried to read the header as an AWS SigV4 signature",
        "A Bearer token reached IAM (SigV4) parsing: the route does not exist (wrong path, stage or method), the "
        "method uses IAM authorization, or a VPC endpoint policy makes a private API evaluate SigV4.",
        (
            "First check the URL and method: unknown routes answer this way when an Authorization header is sent.",
            "If the method uses AWS_IAM, sign the request with SigV4 instead of sending a JWT.",
            "Check the method's authorization type: aws apigateway get-method --rest-api-id {api_id} "
            "--resource-id <id> --http-method <METHOD> --region {region}.",
        ),
    ),
    Cause(
        "sigv4-signature-mismatch",
        "The SigV4 signature does not match",
        "API Gateway computed a different signature: wrong secret key, or the canonical request differs "
        "(path encoding, query order, signed headers, body hash, a proxy that changed a header).",
        (
            "Check the secret key, the region and the service name `execute-api` in the signing code.",
            "Sign exactly what is sent: same path encoding, query string and headers.",
        ),
    ),
    Cause(
        "sigv4-clock-skew",
        "The SigV4 signature is outside API Gateway's 5-minute window",
        "The request's X-Amz-Date differs from the gateway's clock by more than 5 minutes.",
        ("Sync the client's clock (NTP) and sign each request just before sending it.",),
    ),
    Cause(
        "sigv4-bad-credentials",
        "The AWS credentials are invalid or expired",
        "The access key id is unknown, or the temporary session token is invalid or expired.",
        (
            "Refresh the AWS credentials (aws sts get-caller-identity shows which ones are in use).",
            "With temporary credentials, send X-Amz-Security-Token too.",
        ),
    ),
    Cause(
        "iam-denied",
        "IAM denied the call (execute-api:Invoke)",
        "The signed caller is not allowed to invoke this method.",
        (
            "Allow execute-api:Invoke on arn:aws:execute-api:{region}:<account>:{api_id}/{stage}/<METHOD>/<path> "
            "in the caller's IAM policy.",
            "Check for an explicit Deny in IAM policies, permission boundaries or SCPs.",
        ),
    ),
    Cause(
        "resource-policy-denied",
        "The API's resource policy denied the call",
        "The API's resource policy does not allow this caller (source IP, VPC endpoint, account), or denies it.",
        (
            "Read the policy: aws apigateway get-rest-api --rest-api-id {api_id} --region {region} --query policy.",
            "Redeploy the API after changing its resource policy.",
        ),
    ),
    Cause(
        "authorizer-denied",
        "The Lambda authorizer denied access",
        "The Lambda authorizer returned a policy that denies this method, or does not cover it. With caching on, "
        "a policy generated for another method may be reused for this one.",
        (
            "Return a policy that covers every method the token may call (use a wildcard resource such as "
            "arn:aws:execute-api:{region}:<account>:{api_id}/{stage}/*), or set the authorizer's cache TTL to 0.",
            "Check the authorizer's CloudWatch logs for this request.",
        ),
    ),
    Cause(
        "authorizer-rejected",
        "The authorizer rejected a token that passes every check made here",
        "Everything the client side can check passed, so the refusal comes from the authorizer itself: a Lambda "
        "authorizer that threw `Unauthorized`, a signature or pool the client cannot see, or a configuration "
        "such as method scopes.",
        (
            "Give apigw-doctor the API's settings (--set apigw_user_pools=..., apigw_scopes=..., "
            "apigw_audiences=...) for a sharper verdict.",
            "Check the authorizer: {get_authorizers}, and its CloudWatch logs.",
        ),
    ),
    Cause(
        "authorizer-error",
        "The authorizer failed (configuration error)",
        "API Gateway could not use the authorizer's answer: the Lambda authorizer threw an error other than "
        "`Unauthorized`, returned an invalid policy, or API Gateway may not invoke it.",
        (
            "Look at $context.authorizer.error in the access log and at the authorizer's CloudWatch logs.",
            "Return exactly `Unauthorized` to signal 401; any other error text becomes a 500.",
        ),
    ),
    Cause(
        "api-key-rejected",
        "The API key is missing or not accepted",
        "The method requires an API key: none was sent, or the key is invalid, disabled or not in a usage plan "
        "for this stage.",
        (
            "Send the key in the `x-api-key` header.",
            "Check the key is enabled and in a usage plan for stage {stage}: aws apigateway get-usage-plans "
            "--key-id <key-id> --region {region}.",
        ),
    ),
    Cause(
        "gateway-forbidden",
        "API Gateway refused the request before any authorizer (403 Forbidden)",
        "Likely causes, in order: AWS WAF blocked the request; a VPC interface endpoint with private DNS routes "
        "this public API's name privately; a private API called without a Host or x-apigw-api-id header; the "
        "default execute-api endpoint is disabled.",
        (
            "Check the WAF web ACL's sampled requests for this request id.",
            "From inside a VPC, call public APIs through a custom domain or disable private DNS on the endpoint.",
            "For private APIs via the VPC endpoint DNS name, send `Host: {api_id}.execute-api.{region}"
            ".amazonaws.com` or `x-apigw-api-id: {api_id}`.",
        ),
    ),
    Cause(
        "cors-preflight-blocked",
        "The CORS preflight (OPTIONS) was refused",
        "Browsers send OPTIONS without credentials; an authorizer on the OPTIONS route (HTTP API `$default`, or a "
        "REST resource without an OPTIONS method) rejects it, and the browser reports a CORS error.",
        (
            "HTTP API: add an `OPTIONS /{{proxy+}}` route without authorization, or configure CORS on the API.",
            "REST API: enable CORS on the resource (adds an OPTIONS method with no authorization) and redeploy.",
        ),
    ),
    Cause(
        "unexplained",
        "API Gateway refused the request, for a reason not recognised here",
        "The response does not match a documented API Gateway or Cognito failure; it may be a customised gateway "
        "response or come from the integration.",
        ("Look up the request id in the API's access and execution logs.",),
    ),
    # Cognito endpoints
    Cause(
        "oauth-wrong-content-type",
        "Cognito's token endpoint refused the request method or content type (405)",
        "/oauth2/token accepts only POST with `Content-Type: application/x-www-form-urlencoded` (no quotes), at "
        "exactly that path.",
        (
            "POST to https://<domain>/oauth2/token with `Content-Type: application/x-www-form-urlencoded` and a "
            "form-encoded body.",
        ),
    ),
    Cause(
        "oauth-invalid-client",
        "Cognito does not accept the client credentials (invalid_client)",
        "The client id is unknown, the client secret is wrong, or the client has a secret that was not sent.",
        (
            "Check the client id and secret: " + _POOL_CLIENT + ".",
            "Send the secret as `Authorization: Basic base64(client_id:client_secret)`.",
        ),
    ),
    Cause(
        "oauth-invalid-grant",
        "Cognito refused the grant (invalid_grant)",
        "The authorization code was already used, expired or issued for another redirect_uri, or the refresh "
        "token is revoked or belongs to another client.",
        (
            "Exchange each authorization code once, quickly, with the same redirect_uri.",
            "After sign-out, sign in again to get a new refresh token.",
        ),
    ),
    Cause(
        "oauth-unauthorized-client",
        "The app client may not use this grant type (unauthorized_client)",
        "The grant type is not enabled on the app client.",
        ("Enable the OAuth flow on the app client: " + _POOL_CLIENT + " (AllowedOAuthFlows).",),
    ),
    Cause(
        "oauth-invalid-request",
        "Cognito found the token request malformed (invalid_request)",
        "A required parameter is missing or the body is not form-encoded.",
        ("Send grant_type, client_id and the grant's parameters as a form-encoded body.",),
    ),
    Cause(
        "oauth-unsupported-grant-type",
        "Cognito does not support this grant_type",
        "grant_type must be authorization_code, refresh_token or client_credentials.",
        ("Fix the grant_type value.",),
    ),
    Cause(
        "oauth-invalid-scope",
        "A requested scope is not allowed (invalid_scope)",
        "The scope is not enabled on the app client, or does not exist on the resource server.",
        ("Enable the scope on the app client (AllowedOAuthScopes): " + _POOL_CLIENT + ".",),
    ),
    Cause(
        "oauth-redirect-mismatch",
        "The redirect_uri is not a callback URL of the app client",
        "Cognito compares redirect_uri exactly with the client's callback URLs (scheme, host, port, path, "
        "trailing slash).",
        ("Add the exact redirect_uri to the app client's callback URLs: " + _POOL_CLIENT + ".",),
    ),
    Cause(
        "cognito-secret-hash",
        "The SECRET_HASH is missing or wrong",
        "The app client has a secret, so every auth call needs SECRET_HASH = Base64(HMAC-SHA256(client secret, "
        "username + client id)).",
        (
            "Compute SECRET_HASH with the same username sent in USERNAME, or use an app client without a secret for "
            "public clients.",
        ),
    ),
    Cause(
        "cognito-bad-credentials",
        "Cognito rejected the username or password",
        "The password is wrong, the user does not exist or is disabled, or too many attempts were made.",
        ("Check the user: aws cognito-idp admin-get-user --user-pool-id <pool> --username <user>.",),
    ),
    Cause(
        "cognito-token-expired",
        "The access token sent to Cognito has expired",
        "Cognito user APIs and /oauth2/userInfo reject expired access tokens.",
        ("Refresh the tokens, then retry with the new access token.",),
    ),
    Cause(
        "cognito-token-revoked",
        "The token was revoked (sign-out or RevokeToken)",
        "After GlobalSignOut or RevokeToken, Cognito refuses the tokens of that session.",
        ("Sign in again.",),
    ),
    # the conversation (token lineage and history; conversation.py)
    Cause(
        "stale-token-after-refresh",
        "An old token was sent after a refresh had replaced it",
        "The client refreshed its tokens, but this request still carried a token from before the refresh, which "
        "has since expired.",
        (
            "Read the token from the store each time a request is built, not once: a token captured in a closure, "
            "or an HTTP interceptor that reads storage once at start-up, keeps sending the old one.",
            "After a refresh, replace every copy of the old tokens (ID and access) and retry the failed call with "
            "the new token.",
            "In Amplify, call fetchAuthSession() for each request rather than caching its result.",
        ),
    ),
    Cause(
        "authorizer-cached-policy",
        "A cached Lambda authorizer policy for another method denied this one",
        "API Gateway caches the Lambda authorizer's policy under the token for the TTL (300 s by default) and does "
        "not call the authorizer again. A policy whose Resource names only the first method's ARN (event.methodArn) "
        "then denies every other method the same token calls within the TTL.",
        (
            "Return a policy that covers every method the token may call, e.g. the Resource "
            "arn:aws:execute-api:{region}:<account>:{api_id}/{stage}/*/*.",
            "Or set the authorizer's result TTL to 0 (no caching), or use a REQUEST authorizer with the method and "
            "path among its identity sources: {get_authorizers}.",
            "To confirm: call the denied method first with a new token, or after the TTL; if it is allowed then, "
            "the cache was the cause.",
        ),
    ),
    Cause(
        "cognito-missing-scope",
        "The access token lacks aws.cognito.signin.user.admin",
        "Cognito user APIs (GetUser, UpdateUserAttributes...) need that scope; hosted-UI tokens lack it unless "
        "requested.",
        ("Request the `aws.cognito.signin.user.admin` scope at sign-in and allow it on the app client.",),
    ),
    # causes real users hit (issue threads cited in wire.py)
    Cause(
        "backend-rejected",
        "The integration behind API Gateway refused the request, not the gateway",
        "API Gateway let the request through; the 401/403 came from the backend (Lambda, HTTP or VPC link "
        "integration) itself: no gateway error type, a body that is not API Gateway's, or a bare "
        "`www-authenticate: Bearer` challenge.",
        (
            "Look at the integration's own logs for this request id (the Lambda's CloudWatch log group, or the "
            "backend's access log); the gateway's authorizer accepted the call.",
            "If the backend validates the token itself, check what it expects (issuer, audience, clock) against the "
            "token shown here.",
        ),
    ),
    Cause(
        "waf-blocked",
        "AWS WAF blocked the request before any authorizer ran",
        "A web ACL in front of the API, its CloudFront distribution or the Cognito user pool matched the request "
        "and blocked it. Managed rules block, for example, bodies over 8 KB (SizeRestrictions_BODY) or unusual "
        "user agents.",
        (
            "Find the request in the web ACL's sampled requests or WAF logs and see which rule matched: "
            "aws wafv2 get-sampled-requests --web-acl-arn <arn> --rule-metric-name <rule> --scope REGIONAL "
            "--time-window StartTime=<t>,EndTime=<t> --max-items 100 --region {region}.",
            "Override the matching managed rule to Count, or scope it down, rather than disabling the web ACL.",
        ),
    ),
    Cause(
        "cloudfront-refused",
        "CloudFront answered with its own error page, not API Gateway",
        "The request never reached API Gateway: CloudFront refused it (the Host header forwarded to an API "
        "Gateway origin, a geo restriction, no alternate domain name or cache behaviour for this request).",
        (
            "Do not forward the viewer's Host header to an API Gateway origin: use an origin request policy such as "
            "AllViewerExceptHostHeader.",
            "Check the distribution's alternate domain names, behaviours (path patterns, allowed methods) and geo "
            "restriction: aws cloudfront get-distribution-config --id <distribution-id>.",
        ),
    ),
    Cause(
        "custom-domain-unmapped",
        "The custom domain has no base path mapping for this path",
        "API Gateway answers 403 Forbidden on a custom domain when no API mapping matches the first path segment, "
        "before any API or authorizer is involved.",
        (
            "List the domain's mappings: aws apigatewayv2 get-api-mappings --domain-name <domain> --region {region}.",
            "Call the path under a mapped base path, without the stage name (the mapping adds it), or add a mapping "
            "for this API and stage.",
        ),
    ),
    Cause(
        "cognito-auth-flow-not-enabled",
        "The auth flow is not enabled for this app client",
        "InitiateAuth names an AuthFlow (USER_PASSWORD_AUTH, USER_SRP_AUTH, REFRESH_TOKEN_AUTH...) that is not in "
        "the app client's ExplicitAuthFlows.",
        (
            "Enable the flow on the app client (ExplicitAuthFlows, e.g. ALLOW_USER_PASSWORD_AUTH): "
            + _POOL_CLIENT
            + ".",
            "Or use a flow the client allows, such as USER_SRP_AUTH with an SDK that implements SRP.",
        ),
    ),
    # Cognito identity pools
    Cause(
        "identity-pool-provider-mismatch",
        "The identity pool login does not match the token's issuer or provider",
        "The key of the `Logins` map must be the token's issuer without `https://`, i.e. "
        "`cognito-idp.<region>.amazonaws.com/<user pool id>`, the user pool and app client must be an "
        "authentication provider of the identity pool, and the token must be the ID token (access tokens have no "
        "`aud`).",
        (
            "Build the Logins key from the token: `cognito-idp.<region>.amazonaws.com/<pool id>` (dots and dashes "
            "exactly as in `iss`), and send the IdToken, not the AccessToken.",
            "Check the identity pool's providers: aws cognito-identity describe-identity-pool --identity-pool-id "
            "<identity-pool-id> --region {region} (CognitoIdentityProviders: ProviderName and ClientId).",
            "If the app cached an IdentityId from another user or pool, clear it and call GetId again.",
        ),
    ),
    Cause(
        "identity-pool-token-rejected",
        "The identity pool refused the login token",
        "The ID token in `Logins` has expired, or its signature could not be verified with the user pool's keys.",
        (
            "Refresh the user pool tokens first (REFRESH_TOKEN_AUTH or Amplify's fetchAuthSession) and send the new "
            "IdToken.",
            "Send the token exactly as Cognito issued it; check the client's clock.",
        ),
    ),
    Cause(
        "identity-pool-unauth-disabled",
        "The identity pool does not allow guest (unauthenticated) access",
        "GetId or GetCredentialsForIdentity was called without `Logins`, and the identity pool has unauthenticated "
        "identities turned off.",
        (
            "Sign the user in and pass the ID token in `Logins`, or allow unauthenticated identities on the pool "
            "(AllowUnauthenticatedIdentities) if guests should get credentials.",
            "Check: aws cognito-identity describe-identity-pool --identity-pool-id <identity-pool-id> --region "
            "{region}.",
        ),
    ),
    Cause(
        "identity-pool-config",
        "The identity pool's roles are not set up for it",
        "Cognito could not assume the role for this identity: no role is assigned, or the role's trust policy does "
        "not trust `cognito-identity.amazonaws.com` for this identity pool (the `aud` and `amr` conditions).",
        (
            "Check the assigned roles: aws cognito-identity get-identity-pool-roles --identity-pool-id "
            "<identity-pool-id> --region {region}.",
            "The role's trust policy needs Principal Federated `cognito-identity.amazonaws.com`, Action "
            "sts:AssumeRoleWithWebIdentity, and conditions `cognito-identity.amazonaws.com:aud` = the identity pool "
            "id and `cognito-identity.amazonaws.com:amr` = authenticated (or unauthenticated).",
        ),
    ),
)

CATALOGUE: dict[str, Cause] = {cause.code: cause for cause in _CATALOGUE}

# Warnings on flows that did not fail.
WARNINGS: dict[str, str] = {
    "expires-soon": "The token expires soon: refresh it before the next call fails.",
    "stale-token-after-refresh": "An older token was sent after a refresh returned a new one.",
    "cors-headers-missing": "This gateway error has no CORS headers: a browser will hide the status and report a "
    "CORS error. Add Access-Control-Allow-Origin to the DEFAULT_4XX gateway response.",
    "revoked-token-accepted": "A token from a signed-out session was accepted: API Gateway does not check revocation.",
}
