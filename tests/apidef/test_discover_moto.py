"""`apigw-doctor discover` against moto in server mode (AWS itself is the only thing mocked).

The test creates a REST API with a Cognito authorizer and an HTTP API with a JWT authorizer through boto3, runs
the real CLI in a subprocess with the normal credential chain pointed at moto, and checks that `analyze` with the
cache file gives the same verdicts as with the exported definition of the same APIs.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mitmproxy import io

from tests.unit.builders import FORBIDDEN, MISSING_AUTH_TOKEN, REST_401, flow, mint

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

POOL_ARN = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"
AUTH0 = "https://dev-example.us.auth0.com/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_env() -> Iterator[dict[str, str]]:
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    try:
        yield env
    finally:
        server.stop()


def _client(env: dict[str, str], service: str):
    return boto3.client(service, region_name="us-east-1", endpoint_url=env["AWS_ENDPOINT_URL"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


@pytest.fixture(scope="module")
def apis(moto_env) -> dict[str, str]:
    rest = _client(moto_env, "apigateway")
    api_id = rest.create_rest_api(name="orders")["id"]
    root = next(r["id"] for r in rest.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    authorizer = rest.create_authorizer(restApiId=api_id, name="cognito", type="COGNITO_USER_POOLS",
                                        providerARNs=[POOL_ARN],
                                        identitySource="method.request.header.Authorization")["id"]  # fmt: skip
    for part, method, scopes, key in (("items", "GET", [], False), ("orders", "GET", ["orders/read"], True)):
        resource = rest.create_resource(restApiId=api_id, parentId=root, pathPart=part)["id"]
        kwargs = {"authorizationScopes": scopes} if scopes else {}
        rest.put_method(restApiId=api_id, resourceId=resource, httpMethod=method,
                        authorizationType="COGNITO_USER_POOLS", authorizerId=authorizer, apiKeyRequired=key,
                        **kwargs)  # fmt: skip
        rest.put_integration(restApiId=api_id, resourceId=resource, httpMethod=method, type="MOCK")
    rest.create_deployment(restApiId=api_id, stageName="prod")
    v2 = _client(moto_env, "apigatewayv2")
    http_id = v2.create_api(Name="catalog", ProtocolType="HTTP")["ApiId"]
    jwt = v2.create_authorizer(ApiId=http_id, Name="auth0", AuthorizerType="JWT",
                               IdentitySource=["$request.header.Authorization"],
                               JwtConfiguration={"Audience": ["https://api.example.com"], "Issuer": AUTH0})  # fmt: skip
    v2.create_route(ApiId=http_id, RouteKey="GET /orders", AuthorizationType="JWT",
                    AuthorizerId=jwt["AuthorizerId"], AuthorizationScopes=["read:orders"])  # fmt: skip
    v2.create_stage(ApiId=http_id, StageName="$default")
    # A JWT authorizer of a Cognito pool whose app client has a secret: discover reads the client, never the secret.
    idp = _client(moto_env, "cognito-idp")
    pool = idp.create_user_pool(PoolName="staff")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="server", GenerateSecret=True,
                                         AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=["staff/read"],
                                         AllowedOAuthFlowsUserPoolClient=True)["UserPoolClient"]  # fmt: skip
    staff = v2.create_authorizer(
        ApiId=http_id,
        Name="staff",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={
            "Audience": [client["ClientId"]],
            "Issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}",
        },
    )
    v2.create_route(ApiId=http_id, RouteKey="GET /staff", AuthorizationType="JWT", AuthorizerId=staff["AuthorizerId"])
    return {"rest": api_id, "http": http_id, "secret": client["ClientSecret"], "client": client["ClientId"]}


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "apigw_doctor.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=120, check=False)  # fmt: skip


def _export(apis: dict[str, str], tmp: Path) -> list[str]:
    """The same two APIs as `get-export` / `export-api` would write them."""
    rest_id, http_id = apis["rest"], apis["http"]
    doc = {
        "openapi": "3.0.1",
        "info": {"title": "orders"},
        "servers": [
            {
                "url": f"https://{rest_id}.execute-api.us-east-1.amazonaws.com/{{basePath}}",
                "variables": {"basePath": {"default": "prod"}},
            }
        ],
        "paths": {
            "/items": {"get": {"security": [{"cognito": []}]}},
            "/orders": {"get": {"security": [{"api_key": []}, {"cognito": ["orders/read"]}]}},
        },
        "components": {
            "securitySchemes": {
                "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
                "cognito": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "cognito_user_pools",
                    "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [POOL_ARN]},
                },
            }
        },
        "x-amazon-apigateway-api-key-source": "HEADER",
    }
    path = tmp / "export.json"
    path.write_text(json.dumps(doc))
    http_doc = {
        "openapi": "3.0.1",
        "info": {"title": "catalog"},
        "servers": [{"url": f"https://{http_id}.execute-api.us-east-1.amazonaws.com/{{basePath}}",
                     "variables": {"basePath": {"default": ""}}}],
        "paths": {"/orders": {"get": {"security": [{"auth0": ["read:orders"]}]}}},
        "components": {"securitySchemes": {"auth0": {"type": "oauth2", "flows": {},
            "x-amazon-apigateway-authorizer": {"identitySource": "$request.header.Authorization", "type": "jwt",
            "jwtConfiguration": {"audience": ["https://api.example.com"], "issuer": AUTH0}}}}},
        "x-amazon-apigateway-importexport-version": "1.0",
    }  # fmt: skip
    http_path = tmp / "export-http.json"
    http_path.write_text(json.dumps(http_doc))
    return [str(path), str(http_path)]


def _flows(rest_id: str, http_id: str, tmp: Path) -> Path:
    host = f"{rest_id}.execute-api.us-east-1.amazonaws.com"
    http_host = f"{http_id}.execute-api.us-east-1.amazonaws.com"
    jwt = mint(iss=AUTH0, aud="https://api.example.com", token_use=None, scope="openid")
    bearer = {"Authorization": f"Bearer {mint()}"}
    access = {"Authorization": f"Bearer {mint(use='access', scope='orders/read')}"}
    flows = [
        flow(REST_401, host=host, path="/prod/orders", request_headers=bearer),  # wrong-token-type
        flow(FORBIDDEN, host=host, path="/prod/orders", request_headers=access),  # api-key-rejected
        flow(MISSING_AUTH_TOKEN, host=host, path="/prod/items", request_headers=bearer),  # stage-not-deployed
        flow(MISSING_AUTH_TOKEN, host=host, path="/prod/item", request_headers=bearer),  # route-not-found
        # missing-scope: an HTTP API's 403 (docs/wire-reference.md, HTTP APIs)
        flow((403, {}, b'{"message":"Forbidden"}'), host=http_host, path="/orders", rest_ids=False,
             request_headers={"Authorization": f"Bearer {jwt}"},
             response_headers={"apigw-requestid": "Jx9kLhQ2IAMEbXg="}),
    ]  # fmt: skip
    path = tmp / "capture.flows"
    with path.open("wb") as f:
        writer = io.FlowWriter(f)
        for each in flows:
            writer.add(each)
    return path


def _verdicts(result: subprocess.CompletedProcess) -> list[tuple[str, str]]:
    assert result.returncode in (0, 1), result.stderr
    return [(r["diagnosis"]["cause"], r["diagnosis"]["confidence"]) for r in json.loads(result.stdout)["flows"]]


def test_discover_writes_a_cache_that_analyze_reads_like_the_export(moto_env, apis, tmp_path):
    cache = tmp_path / "discovered.json"
    result = _cli("discover", apis["rest"], apis["http"], "--out", str(cache), env=moto_env)
    assert result.returncode == 0, result.stderr
    assert f"wrote {cache}: 2 APIs, 4 routes, 3 authorizers" in result.stdout
    document = json.loads(cache.read_text())
    assert [a["protocol"] for a in document["apis"]] == ["REST", "HTTP"]
    (client,) = document["apis"][1]["userPoolClients"]
    assert (client["ClientId"], client["AllowedOAuthScopes"]) == (apis["client"], ["staff/read"])
    assert apis["secret"] not in cache.read_text() and "ClientSecret" not in cache.read_text()

    capture = _flows(apis["rest"], apis["http"], tmp_path)
    exported = [arg for path in _export(apis, tmp_path) for arg in ("--api-spec", path)]
    with_export = _verdicts(_cli("analyze", str(capture), "--json", *exported))
    with_cache = _verdicts(_cli("analyze", str(capture), "--json", "--api-spec", str(cache)))
    assert (
        with_cache
        == with_export
        == [
            ("wrong-token-type", "high"),
            ("api-key-rejected", "high"),
            ("stage-not-deployed", "high"),
            ("route-not-found", "high"),
            ("missing-scope", "high"),
        ]
    )
    text = _cli("analyze", str(capture), "--json", "--api-spec", str(cache)).stdout
    assert f"AWS (discover) {apis['rest']} GET /orders" in text


def test_discover_of_an_unknown_api_is_one_line(moto_env):
    result = _cli("discover", "nosuchapi0", env=moto_env)
    assert result.returncode == 2
    assert result.stderr.strip() == "apigw-doctor discover: no REST, HTTP or WebSocket API nosuchapi0 in us-east-1"


def test_the_addon_discovers_api_ids_seen_in_traffic_off_the_event_loop(moto_env, apis, tmp_path, monkeypatch):
    import asyncio

    from mitmproxy.test import taddons

    from apigw_doctor.addon import METADATA_KEY, ApiGwDoctor
    from apigw_doctor.discover_addon import ApiDiscovery

    for name, value in moto_env.items():
        monkeypatch.setenv(name, value)
    host = f"{apis['rest']}.execute-api.us-east-1.amazonaws.com"
    doctor = ApiGwDoctor()
    discovery = ApiDiscovery(doctor)

    def make():
        return flow(REST_401, host=host, path="/prod/orders", request_headers={"Authorization": f"Bearer {mint()}"})

    async def run() -> tuple:
        with taddons.context(doctor, discovery) as tctx:
            tctx.configure(discovery, apigw_discover=True, confdir=str(tmp_path))
            first = make()
            before = (first.request.get_state(), first.response.get_state())
            doctor.response(first)
            discovery.response(first)  # returns at once: the AWS calls run in a worker thread
            assert discovery.pending and not doctor.knowledge.definitions
            await asyncio.wait(discovery.pending, timeout=60)
            second = make()
            doctor.response(second)
            return first, before, second

    first, before, second = asyncio.run(run())
    assert (first.request.get_state(), first.response.get_state()) == before
    assert first.metadata[METADATA_KEY]["cause"] == "authorizer-rejected"  # judged before the definition arrived
    meta = second.metadata[METADATA_KEY]
    assert (meta["cause"], meta["confidence"]) == ("wrong-token-type", "high")
    assert any(f"AWS (discover) {apis['rest']} GET /orders" in line for line in meta["evidence"])
    assert (tmp_path / "apigw-discover" / f"{apis['rest']}.json").exists()
