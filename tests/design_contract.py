"""DESIGN.md contracts the tests hold the code to (copied from the document, not from the code)."""

# "Cause catalogue (stable codes)".
DESIGN_CAUSES = frozenset(
    [
        "missing-credential",
        "wrong-header",
        "malformed-header",
        "placeholder-token",
        "not-a-jwt",
        "refresh-token-sent",
        "token-expired",
        "token-not-yet-valid",
        "wrong-issuer",
        "wrong-token-type",
        "missing-scope",
        "wrong-audience",
        "bad-signature",
        "unknown-key",
        "unsupported-algorithm",
        "route-not-found",
        "sigv4-expected",
        "sigv4-signature-mismatch",
        "sigv4-clock-skew",
        "sigv4-bad-credentials",
        "iam-denied",
        "resource-policy-denied",
        "authorizer-denied",
        "authorizer-cached-policy",
        "authorizer-rejected",
        "authorizer-error",
        "api-key-rejected",
        "gateway-forbidden",
        "cors-preflight-blocked",
        "unexplained",
        "oauth-wrong-content-type",
        "oauth-invalid-client",
        "oauth-invalid-grant",
        "oauth-unauthorized-client",
        "oauth-invalid-request",
        "oauth-unsupported-grant-type",
        "oauth-invalid-scope",
        "oauth-redirect-mismatch",
        "cognito-secret-hash",
        "cognito-bad-credentials",
        "cognito-token-expired",
        "cognito-token-revoked",
        "cognito-missing-scope",
        # issue 9: a cause when the request failed with a token a refresh had replaced (a warning when it passed).
        "stale-token-after-refresh",
    ]
)
DESIGN_WARNINGS = frozenset(
    ["expires-soon", "stale-token-after-refresh", "cors-headers-missing", "revoked-token-accepted"]
)
