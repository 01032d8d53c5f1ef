"""The sandbox's answers for causes real users hit: an integration's own 401 behind an HTTP API, and AWS WAF."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from apigw_doctor import demo
from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.config import CUSTOM_DOMAIN
from apigw_doctor.sandbox.scenarios import HTTP, REST


def test_the_integrations_own_401_behind_an_http_api(sandbox: Sandbox, client: httpx.Client) -> None:
    # github.com/quarkusio/quarkus/issues/28544: apigw-requestid, a bare `www-authenticate: Bearer`, empty body.
    response = client.get(f"https://{HTTP}/reports", headers={"Authorization": sandbox.issuer.pool.mint_id_token()})
    assert (response.status_code, response.content) == (401, b"")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "x-amzn-errortype" not in response.headers and "content-type" not in response.headers
    assert sandbox.reason_for(response.headers["apigw-requestid"]).cause == "backend-rejected"


def test_the_same_route_passes_for_a_member_of_the_group(sandbox: Sandbox, client: httpx.Client) -> None:
    pool = sandbox.issuer.pool
    pool.user("carol").groups = ("reporting",)
    response = client.get(f"https://{HTTP}/reports", headers={"Authorization": pool.mint_id_token("carol")})
    assert response.status_code == 200


def test_waf_blocks_a_large_body_before_routing(sandbox: Sandbox, client: httpx.Client) -> None:
    headers = {"Authorization": sandbox.issuer.pool.mint_id_token(), "Content-Type": "application/json"}
    blocked = client.post(f"https://{REST}/prod/items", headers=headers, content=b'{"a":"' + b"x" * 9000 + b'"}')
    assert (blocked.status_code, blocked.content) == (403, b'{"message":"Forbidden"}')
    assert blocked.headers["x-amzn-errortype"] == "ForbiddenException"
    assert sandbox.reason_for(blocked.headers["x-amzn-requestid"]).cause == "waf-blocked"
    small = client.post(f"https://{REST}/prod/items", headers=headers, content=b'{"a":"x"}')
    assert sandbox.reason_for(small.headers["x-amzn-requestid"]).cause != "waf-blocked"  # routing decides then


def test_custom_domain_maps_one_base_path(sandbox: Sandbox, client: httpx.Client) -> None:
    token = sandbox.issuer.pool.mint_id_token()
    mapped = client.get(f"https://{CUSTOM_DOMAIN}/v1/items", headers={"Authorization": token})
    assert mapped.status_code == 200 and mapped.json()["stage"] == "prod"
    unmapped = client.get(f"https://{CUSTOM_DOMAIN}/v2/items", headers={"Authorization": token})
    assert (unmapped.status_code, unmapped.content) == (403, b'{"message":"Forbidden"}')
    assert sandbox.reason_for(unmapped.headers["x-amzn-requestid"]).cause == "custom-domain-unmapped"


REAL_WORLD = ["ok-custom-domain", "custom-domain-unmapped", "backend-rejected", "waf-blocked-large-body"]


@pytest.fixture(scope="module")
def real_world_run(tmp_path_factory: pytest.TempPathFactory):
    """These scenarios through a real mitmdump; the custom domain is watched because the user names it."""
    work: Path = tmp_path_factory.mktemp("real-world-run")
    with Sandbox.start(work / "sb") as sb:
        yield demo.run_scenarios(
            sb, work, names=REAL_WORLD, confdir=work / "certs", options=[f"apigw_hosts={CUSTOM_DOMAIN}"]
        )


@pytest.mark.parametrize("name", REAL_WORLD)
def test_verdict_through_mitmdump_matches_what_the_sandbox_did(real_world_run, name: str) -> None:
    row = next(r for r in real_world_run.rows if r.scenario == name)
    assert row.matched and not row.note, row
    assert row.verdict == row.expected
