"""Cognito identity pools (issue 7 §5): GetId / GetCredentialsForIdentity answers, from the texts cited in wire.py."""

from __future__ import annotations

import json

import pytest

from apigw_doctor.engine import diagnose_flow
from apigw_doctor.identity_pool import describe_difference
from apigw_doctor.knowledge import Knowledge, make_expectations
from apigw_doctor.model import METADATA_KEY

from .builders import ISSUER, NOW, POOL, flow, mint

HOST = "cognito-identity.us-east-1.amazonaws.com"
IDENTITY_POOL = "us-east-1:4f1c0a3e-9a8b-4c7d-8e6f-0123456789ab"
PROVIDER = ISSUER.removeprefix("https://")  # cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123


def call(
    error: str | None,
    message: str = "",
    *,
    logins: dict[str, str] | None = None,
    operation: str = "GetId",
    identity_id: str | None = None,
    request_headers: dict[str, str] | None = None,
    error_header: bool = True,
):
    """One identity-pool call and its answer: 400 `{"__type","message"}` with `x-amzn-ErrorType: <Type>:` and
    `x-amzn-ErrorMessage` (github.com/aws-amplify/amplify-js/issues/2443), or 200."""
    body: dict = {"IdentityPoolId": IDENTITY_POOL}
    if identity_id:
        body = {"IdentityId": identity_id}
    if logins is not None:
        body["Logins"] = logins
    headers = {"content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "d4666f1b-0e86-11e9-b307-83bd0d2725bd"}
    if error is None:
        response = (200, headers, json.dumps({"IdentityId": "us-east-1:0000"}).encode())
    else:
        if error_header:
            headers |= {"x-amzn-errortype": f"{error}:", "x-amzn-errormessage": message}
        response = (400, headers, json.dumps({"__type": error, "message": message}, separators=(",", ":")).encode())
    return flow(
        response,
        host=HOST,
        path="/",
        method="POST",
        rest_ids=False,
        request_headers={
            "X-Amz-Target": f"AWSCognitoIdentityService.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            **(request_headers or {}),
        },
        request_body=json.dumps(body).encode(),
    )


def verdict(f, **options):
    d = diagnose_flow(f, Knowledge(make_expectations(**options)))
    assert d is not None
    return d


ISSUER_MISMATCH = "Invalid login token. Issuer doesn't match providerName"


@pytest.mark.parametrize(
    "key, says",
    [
        (PROVIDER.replace("us-east-1.", "us_east_1."), "the region is written with '_' instead of '-'"),
        (PROVIDER.replace("cognito-idp.", "cognito-idp:"), "':' instead of '.'"),
        (PROVIDER.replace(POOL, "us-east-1_Other0001"), "another user pool"),
        (PROVIDER.replace(POOL, IDENTITY_POOL), "an identity pool id"),
        (PROVIDER.replace("us-east-1.", "eu-west-1."), "another region"),
        (ISSUER, "starts with https://"),
    ],
)
def test_issuer_does_not_match_provider_name_says_what_differs(key, says):
    token = mint()
    d = verdict(call("NotAuthorizedException", ISSUER_MISMATCH, logins={key: token}))
    assert (d.cause, d.confidence) == ("identity-pool-provider-mismatch", "high")
    assert says in d.summary
    check = next(c for c in d.checks if c.id == "login.provider")
    assert (check.result, check.expected, check.actual) == ("fail", PROVIDER, key)


def test_issuer_mismatch_with_the_right_key_means_the_pool_is_not_a_provider():
    d = verdict(call("NotAuthorizedException", ISSUER_MISMATCH, logins={PROVIDER: mint()}))
    assert d.cause == "identity-pool-provider-mismatch"
    assert "does not list this user pool as a provider" in d.summary


@pytest.mark.parametrize("message", ["Invalid login token. Missing a required claim: aud", ISSUER_MISMATCH])
def test_access_token_sent_where_the_id_token_belongs(message):
    d = verdict(call("NotAuthorizedException", message, logins={PROVIDER: mint(use="access")}))
    assert (d.cause, d.confidence) == ("identity-pool-provider-mismatch", "high")
    assert "access token" in d.summary
    assert next(c for c in d.checks if c.id == "login.token_use").result == "fail"


def test_token_expired():
    token = mint(exp=NOW - 120)
    d = verdict(
        call(
            "NotAuthorizedException",
            f"Invalid login token. Token expired: {NOW} >= {NOW - 120}",
            logins={PROVIDER: token},
            operation="GetCredentialsForIdentity",
            identity_id="us-east-1:0000",
        )
    )
    assert (d.cause, d.confidence) == ("identity-pool-token-rejected", "high")
    exp = next(c for c in d.checks if c.id == "login.exp")
    assert exp.result == "fail" and "2 min before the request" in exp.actual


def test_could_not_verify_signed_token():
    d = verdict(
        call("NotAuthorizedException", "Invalid login token. Couldn't verify signed token.", logins={PROVIDER: mint()})
    )
    assert (d.cause, d.confidence) == ("identity-pool-token-rejected", "high")
    assert "signature could not be verified" in d.summary


@pytest.mark.parametrize("identity_id, says", [("us-east-1:0000", "cached"), (None, "no authentication provider")])
def test_logins_do_not_match(identity_id, says):
    message = "Logins don't match. Please include at least one valid login for this identity or identity pool."
    d = verdict(call("NotAuthorizedException", message, logins={PROVIDER: mint()}, identity_id=identity_id))
    assert (d.cause, d.confidence) == ("identity-pool-provider-mismatch", "medium")
    assert says in d.summary


def test_unauthenticated_access_not_supported_without_logins():
    d = verdict(call("NotAuthorizedException", "Unauthenticated access is not supported for this identity pool."))
    assert (d.cause, d.confidence) == ("identity-pool-unauth-disabled", "high")
    assert next(c for c in d.checks if c.id == "login.provider").result == "skip"


def test_unauthenticated_access_with_logins_sent_is_only_medium():
    message = "Unauthenticated access is not supported for this identity pool."
    d = verdict(call("NotAuthorizedException", message, logins={"graph.facebook.com": "opaque-token-value"}))
    assert (d.cause, d.confidence) == ("identity-pool-unauth-disabled", "medium")


def test_invalid_identity_pool_configuration():
    message = "Invalid identity pool configuration. Check assigned IAM roles for this pool."
    d = verdict(
        call("InvalidIdentityPoolConfigurationException", message, logins={PROVIDER: mint()}, identity_id="x:y")
    )
    assert (d.cause, d.confidence) == ("identity-pool-config", "high")
    assert any("get-identity-pool-roles" in step for step in d.fix)


def test_signature_expired_is_clock_skew():
    # github.com/aws-amplify/amplify-js/issues/3719: Cognito's window is 15 minutes.
    message = "Signature expired: 20260912T075732Z is now earlier than 20260912T081002Z (20260912T082502Z - 15 min.)"
    d = verdict(
        call(
            "InvalidSignatureException",
            message,
            logins={PROVIDER: mint()},
            request_headers={"X-Amz-Date": "20260912T075732Z"},
        )
    )
    assert (d.cause, d.confidence) == ("sigv4-clock-skew", "high")
    assert next(c for c in d.checks if c.id == "sigv4.date").result in ("pass", "fail")


def test_success_has_no_verdict():
    assert diagnose_flow(call(None, logins={PROVIDER: mint()}), Knowledge()) is None


@pytest.mark.parametrize("options", [{}, {"user_pools": [POOL]}, {"authorizer": "iam"}])
def test_emulator_body_without_the_error_header_and_options_do_not_move_the_verdict(options):
    key = PROVIDER.replace("us-east-1.", "us_east_1.")
    f = call("NotAuthorizedException", ISSUER_MISMATCH, logins={key: mint()}, error_header=False)
    d = verdict(f, **options)
    assert (d.cause, d.confidence) == ("identity-pool-provider-mismatch", "high")
    assert d.target.surface == "cognito-identity" and d.target.region == "us-east-1"


def test_identity_pool_api_on_another_host_is_recognised_by_its_target_header():
    f = call("NotAuthorizedException", "Unauthenticated access is not supported for this identity pool.")
    f.request.host = f.request.headers["host"] = "localhost"
    d = verdict(f)
    assert d.cause == "identity-pool-unauth-disabled"


def test_the_login_token_never_leaves_the_engine():
    token = mint(use="access")
    d = verdict(
        call("NotAuthorizedException", "Invalid login token. Missing a required claim: aud", logins={PROVIDER: token})
    )
    text = json.dumps(d.as_metadata())
    signature = token.rsplit(".", 1)[1]
    assert token not in text and signature not in text
    assert d.token is not None and d.token["claims"]["token_use"] == "access"  # claims and a fingerprint only
    assert d.token["fingerprint"] and d.token["fingerprint"] not in token


def test_metadata_of_an_addon_flow_is_json_safe():
    f = call("NotAuthorizedException", ISSUER_MISMATCH, logins={PROVIDER.upper(): mint()})
    d = verdict(f)
    f.metadata[METADATA_KEY] = d.as_metadata()
    json.dumps(f.metadata)


@pytest.mark.parametrize(
    "key, expected, says",
    [
        ("cognito-idp.eu_west_1.amazonaws.com/eu-west-1_X", "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X", "_"),
        ("cognito-idp.eu-west-1:amazonaws.com/eu-west-1_X", "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X", ":"),
        ("cognito-idp.eu-west-1.amazonaws.com", "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X", "another user"),
        ("x", "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X", "character 1: 'x' where the issuer has 'c'"),
    ],
)
def test_describe_difference(key, expected, says):
    assert says in describe_difference(key, expected)
