"""moto's Cognito (server mode) as a third-party issuer: the gateway trusts moto's pool through its JWKS URL."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import httpx
import pytest

from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.client import DirectTransport
from apigw_doctor.sandbox.config import GatewayConfig, RestApi, default_rest_routes
from apigw_doctor.sandbox.gateway import Gateway
from apigw_doctor.sandbox.verify import KeyRing

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

API_ID = "moto12345a"
HOST = f"{API_ID}.execute-api.us-east-1.amazonaws.com"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_tokens() -> Iterator[dict[str, str]]:
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        idp = boto3.client(
            "cognito-idp",
            region_name="us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        pool_id = idp.create_user_pool(PoolName="third-party")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool_id, Username="carol", MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool_id, Username="carol", Password="Passw0rd!Passw0rd", Permanent=True)
        result = idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "carol", "PASSWORD": "Passw0rd!Passw0rd"},
        )["AuthenticationResult"]
        yield {
            "issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}",
            "jwks_url": f"{endpoint}/{pool_id}/.well-known/jwks.json",
            "id": result["IdToken"],
            "access": result["AccessToken"],
        }
    finally:
        server.stop()


@pytest.fixture(scope="module")
def moto_gateway(sandbox: Sandbox, moto_tokens: dict[str, str]) -> Iterator[tuple[Gateway, httpx.Client]]:
    keyring = KeyRing()
    keyring.add(moto_tokens["issuer"], moto_tokens["jwks_url"])  # fetched from moto over HTTP on first use
    config = GatewayConfig(
        rest_apis=[RestApi(API_ID, default_rest_routes(), issuers=(moto_tokens["issuer"],))], keyring=keyring
    )
    with Gateway(config, sandbox.certs) as gateway:
        ctx = ssl.create_default_context(cafile=str(sandbox.certs.ca))
        with httpx.Client(transport=DirectTransport(gateway.port, verify=ctx), trust_env=False) as client:
            yield gateway, client


def test_moto_id_token_passes_a_cognito_authorizer(moto_gateway, moto_tokens) -> None:
    _, client = moto_gateway
    resp = client.get(f"https://{HOST}/prod/items", headers={"Authorization": moto_tokens["id"]})
    assert resp.status_code == 200
    assert resp.json()["principal"] == "carol"


def test_moto_access_token_is_refused_on_a_method_without_scopes(moto_gateway, moto_tokens) -> None:
    gateway, client = moto_gateway
    resp = client.get(f"https://{HOST}/prod/items", headers={"Authorization": f"Bearer {moto_tokens['access']}"})
    assert resp.status_code == 401
    assert resp.content == b'{"message":"Unauthorized"}'
    assert gateway.reason_for(resp.headers["x-amzn-requestid"]).cause == "wrong-token-type"
    # ... and it lacks the custom scope a scoped method needs (InitiateAuth grants only the sign-in scope).
    scoped = client.get(f"https://{HOST}/prod/orders", headers={"Authorization": moto_tokens["access"]})
    assert scoped.status_code == 401
    assert gateway.reason_for(scoped.headers["x-amzn-requestid"]).cause == "missing-scope"


def test_sandbox_pool_token_is_a_wrong_issuer_for_the_moto_api(moto_gateway, sandbox: Sandbox) -> None:
    gateway, client = moto_gateway
    resp = client.get(f"https://{HOST}/prod/items", headers={"Authorization": sandbox.issuer.pool.mint_id_token()})
    assert resp.status_code == 401
    assert gateway.reason_for(resp.headers["x-amzn-requestid"]).cause == "wrong-issuer"
