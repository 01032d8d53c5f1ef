"""The sandbox's own OpenAPI export (sandbox/export.py): read by the definition reader, and the two demo causes only
the definition makes right and high (identity source, token validation expression) through a real mitmdump."""

from __future__ import annotations

from pathlib import Path

import pytest

from apigw_doctor import demo
from apigw_doctor.apidef import load_definitions, match_route
from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.config import REST_API_ID, default_rest_routes
from apigw_doctor.sandbox.export import write_exports
from apigw_doctor.sandbox.scenarios import REST, SCENARIOS

NEED_DEFINITION = [s.name for s in SCENARIOS if s.needs_definition]


def test_the_demo_runs_the_scenarios_that_need_the_definition() -> None:
    assert NEED_DEFINITION == ["identity-source-mismatch", "token-validation-mismatch"]
    assert set(NEED_DEFINITION) <= set(demo.DEMO_SCENARIOS)


def test_the_export_is_read_by_the_definition_reader(sandbox: Sandbox, tmp_path: Path) -> None:
    paths = write_exports(sandbox.config, tmp_path)
    assert [p.name for p in paths] == [f"{a.api_id}-oas30.json" for a in sandbox.config.rest_apis]
    defs = load_definitions(str(p) for p in paths)
    api = next(a for a in defs.apis if a.api_id == REST_API_ID)
    assert api.kind == "rest" and api.region == "us-east-1" and api.api_key_source == "HEADER"
    assert {(r.method, r.path) for r in api.routes} == {(r.method, r.path) for r in default_rest_routes()}

    partner = match_route(defs, "rest", REST, REST_API_ID, "GET", "/prod/partner/items").route
    assert partner.auth == "lambda" and partner.authorizer.identity_header == "x-auth-token"
    strict = match_route(defs, "rest", REST, REST_API_ID, "GET", "/prod/strict/items").route
    assert strict.authorizer.validation_expression == r"^Bearer [-0-9a-zA-Z\._]*$"
    orders = match_route(defs, "rest", REST, REST_API_ID, "GET", "/prod/orders").route
    assert orders.auth == "cognito" and orders.scopes == ("orders/read",)
    assert orders.authorizer.issuers == (sandbox.issuer.pool.issuer,)  # the pool ARN resolves to the issuer
    assert match_route(defs, "rest", REST, REST_API_ID, "GET", "/prod/keyed/items").route.api_key_required is True
    assert match_route(defs, "rest", REST, REST_API_ID, "GET", "/prod/iam/items").route.auth == "iam"


@pytest.fixture(scope="module", params=[True, False], ids=["with-definition", "without-definition"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    work: Path = tmp_path_factory.mktemp("definition-run")
    with Sandbox.start(work / "sb") as sb:
        yield (
            request.param,
            demo.run_scenarios(sb, work, names=NEED_DEFINITION, confdir=work / "certs", definitions=request.param),
        )


@pytest.mark.parametrize("name", NEED_DEFINITION)
def test_only_the_definition_makes_the_verdict_right_and_high(run, name: str) -> None:
    with_definition, result = run
    row = next(r for r in result.rows if r.scenario == name)
    assert row.status == 401 and row.expected == name and not row.note, row
    if with_definition:
        assert row.matched and (row.verdict, row.confidence) == (name, "high"), row
    else:
        assert row.confidence != "high", row  # without it, nothing on the wire rules out the alternatives
