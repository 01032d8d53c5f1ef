"""The sandbox's Cognito identity pool: byte-exact answers, real token verification, and the addon's verdicts through
a real mitmdump for every identity-pool scenario."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from apigw_doctor import demo
from apigw_doctor.sandbox import identity
from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.config import IDENTITY_POOL_ID
from apigw_doctor.sandbox.issuer import OTHER_CLIENT_ID
from apigw_doctor.sandbox.scenarios import IDENTITY, SCENARIOS

IDENTITY_SCENARIOS = [s.name for s in SCENARIOS if s.host == IDENTITY or s.cause == "cognito-auth-flow-not-enabled"]


def get_id(client: httpx.Client, logins: dict[str, str] | None) -> httpx.Response:
    body: dict = {"IdentityPoolId": IDENTITY_POOL_ID}
    if logins is not None:
        body["Logins"] = logins
    return client.post(
        f"https://{IDENTITY}/",
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityService.GetId"},
        content=json.dumps(body).encode(),
    )


def provider(sandbox: Sandbox) -> str:
    return sandbox.issuer.pool.issuer.removeprefix("https://")


def test_refusal_bytes_and_headers(sandbox: Sandbox, client: httpx.Client) -> None:
    # github.com/aws-amplify/amplify-js/issues/2443: 400, x-amzn-errortype with the trailing colon, the message in
    # x-amzn-errormessage, application/x-amz-json-1.1, a request id; compact {"__type","message"} body.
    response = get_id(client, None)
    assert response.status_code == 400
    assert response.content == (
        b'{"__type":"NotAuthorizedException","message":"Unauthenticated access is not supported for this identity '
        b'pool."}'
    )
    assert response.headers["x-amzn-errortype"] == "NotAuthorizedException:"
    assert response.headers["x-amzn-errormessage"] == "Unauthenticated access is not supported for this identity pool."
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert re.fullmatch(r"[0-9a-f-]{36}", response.headers["x-amzn-requestid"])
    assert sandbox.reason_for(response.headers["x-amzn-requestid"]).cause == "identity-pool-unauth-disabled"


def test_get_id_is_stable_per_user_and_credentials_follow(sandbox: Sandbox, client: httpx.Client) -> None:
    token = sandbox.issuer.pool.mint_id_token()
    first, second = get_id(client, {provider(sandbox): token}), get_id(client, {provider(sandbox): token})
    assert first.status_code == second.status_code == 200
    identity_id = first.json()["IdentityId"]
    assert identity_id == second.json()["IdentityId"] and identity_id.startswith("us-east-1:")
    creds = client.post(
        f"https://{IDENTITY}/",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityService.GetCredentialsForIdentity",
        },
        content=json.dumps({"IdentityId": identity_id, "Logins": {provider(sandbox): token}}).encode(),
    )
    assert creds.status_code == 200
    assert set(creds.json()["Credentials"]) == {"AccessKeyId", "Expiration", "SecretKey", "SessionToken"}


def test_the_login_signature_is_verified_for_real(sandbox: Sandbox, client: httpx.Client) -> None:
    pool = sandbox.issuer.pool
    forged = pool.sign(pool.id_claims(), use="id", key=sandbox.issuer.other_pool.id_key.private)
    response = get_id(client, {provider(sandbox): forged})
    assert response.json()["message"] == "Invalid login token. Couldn't verify signed token."
    assert sandbox.reason_for(response.headers["x-amzn-requestid"]).cause == "identity-pool-token-rejected"


def test_another_app_client_is_not_a_provider(sandbox: Sandbox, client: httpx.Client) -> None:
    token = sandbox.issuer.pool.mint_id_token(client_id=OTHER_CLIENT_ID)
    response = get_id(client, {provider(sandbox): token})
    assert response.json()["message"] == "Token is not from a supported provider of this identity pool."


def test_a_pool_that_is_not_a_provider_answers_issuer_mismatch(sandbox: Sandbox, client: httpx.Client) -> None:
    other = sandbox.issuer.other_pool
    response = get_id(client, {other.issuer.removeprefix("https://"): other.mint_id_token()})
    assert response.json()["message"] == identity.ISSUER_MISMATCH


def test_expired_login_text_names_both_times(sandbox: Sandbox, client: httpx.Client) -> None:
    token = sandbox.issuer.pool.mint_id_token(iat=int(sandbox.gateway.now()) - 7200)
    message = get_id(client, {provider(sandbox): token}).json()["message"]
    now, exp = map(int, re.fullmatch(r"Invalid login token\. Token expired: (\d+) >= (\d+)", message).groups())
    assert now >= exp


@pytest.fixture(scope="module")
def identity_run(tmp_path_factory: pytest.TempPathFactory):
    """Every identity-pool scenario through a real mitmdump with the addon (the demo's machinery)."""
    work: Path = tmp_path_factory.mktemp("identity-run")
    with Sandbox.start(work / "sb") as sb:
        yield demo.run_scenarios(sb, work, names=IDENTITY_SCENARIOS, confdir=work / "certs")


def test_there_are_identity_scenarios_for_every_identity_code() -> None:
    causes = {s.cause for s in SCENARIOS if s.name in IDENTITY_SCENARIOS}
    assert {
        "identity-pool-provider-mismatch",
        "identity-pool-token-rejected",
        "identity-pool-unauth-disabled",
        "identity-pool-config",
        "sigv4-clock-skew",
        "cognito-auth-flow-not-enabled",
    } <= causes
    assert any(s.cause is None for s in SCENARIOS if s.name in IDENTITY_SCENARIOS)


@pytest.mark.parametrize("name", IDENTITY_SCENARIOS)
def test_verdict_through_mitmdump_matches_what_the_sandbox_did(identity_run, name: str) -> None:
    row = next(r for r in identity_run.rows if r.scenario == name)
    assert row.matched and not row.note, row
    assert row.verdict == row.expected
    if row.expected:
        assert row.comment.startswith(f"{row.expected} [{row.confidence[0].upper()}] ")


def test_no_login_token_in_the_flow_file_verdicts(identity_run) -> None:
    from mitmproxy import io as mitmio

    with open(identity_run.flow_file, "rb") as fp:
        flows = list(mitmio.FlowReader(fp).stream())
    assert flows
    for flow in flows:
        body = json.loads(flow.request.content or b"{}")
        for token in (body.get("Logins") or {}).values():
            text = json.dumps(flow.metadata.get("apigw_doctor")) + flow.comment
            assert token.rsplit(".", 1)[-1] not in text
