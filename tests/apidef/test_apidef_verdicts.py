"""Each definition fixture paired with traffic: per-route verdicts, and the source named for each expectation.

The same failing flows are judged with and without the definition: only the definition makes these verdicts high.
Responses are the documented defaults (tests/unit/builders.py cites them); tokens are minted with a real RSA key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from apigw_doctor.apidef import load_definitions
from apigw_doctor.engine import diagnose_flow
from apigw_doctor.knowledge import Knowledge, make_expectations
from tests.unit.builders import (
    FORBIDDEN,
    HTTP_401,
    HTTP_HOST,
    MISSING_AUTH_TOKEN,
    MISSING_EQUAL_SIGN_NEW,
    REST_401,
    flow,
    mint,
)

FIXTURES = Path(__file__).parent / "fixtures"
REST_EXPORT = str(FIXTURES / "rest-orders-oas30.json")
HTTP_EXPORT = str(FIXTURES / "http-auth0-oas30.json")
AUTH0 = "https://dev-example.us.auth0.com/"
HTTP_403 = (403, {}, b'{"message":"Forbidden"}')  # HTTP API (docs/wire-reference.md, HTTP APIs)


def judge(f, specs=(), **options):
    knowledge = Knowledge(make_expectations(**options), definitions=load_definitions(list(specs)))
    d = diagnose_flow(f, knowledge)
    assert d is not None, "expected a verdict"
    return d


def bearer(token: str, **more: str) -> dict:
    return {"Authorization": f"Bearer {token}", **more}


def access(scope: str) -> str:
    return mint(use="access", scope=scope)


def has_line(d, *parts: str) -> bool:
    return any(all(p in line for p in parts) for line in d.evidence)


# -- REST export: Cognito authorizer with per-method scopes, TOKEN Lambda authorizers, IAM, API keys --------------

# (name, flow, verdict with the definition, verdict without it)
REST_CASES = [
    (
        "id-token-on-scoped-method",
        lambda: flow(REST_401, path="/prod/orders", request_headers=bearer(mint())),
        ("wrong-token-type", "high"),
        ("authorizer-rejected", "low"),
    ),
    (
        "per-route-missing-scope",
        lambda: flow(REST_401, path="/prod/orders", request_headers=bearer(access("orders/write"))),
        ("missing-scope", "high"),
        ("authorizer-rejected", "low"),
    ),
    (
        "validation-expression-rejects-bare-token",
        lambda: flow(REST_401, path="/prod/reports", request_headers={"Authorization": mint()}),
        ("token-validation-mismatch", "high"),
        ("authorizer-rejected", "low"),
    ),
    (
        "identity-source-written-twice",
        lambda: flow(REST_401, path="/prod/legacy", request_headers=bearer(mint())),
        ("identity-source-mismatch", "high"),
        ("authorizer-rejected", "low"),
    ),
    (
        "route-in-definition-not-deployed",
        lambda: flow(MISSING_AUTH_TOKEN, path="/prod/orders", method="POST", request_headers=bearer(mint())),
        ("stage-not-deployed", "high"),
        ("route-not-found", "medium"),  # without the definition, an undeployed route cannot be ruled out
    ),
    (
        "api-key-required-none-sent",
        lambda: flow(FORBIDDEN, path="/prod/orders/42", request_headers=bearer(access("orders/read"))),
        ("api-key-rejected", "high"),
        ("gateway-forbidden", "medium"),  # without it, WAF / private DNS and a required key look alike
    ),
]


@pytest.mark.parametrize(("name", "make", "with_definition", "without"), REST_CASES, ids=[c[0] for c in REST_CASES])
def test_same_failing_flow_with_and_without_the_definition(name, make, with_definition, without):
    assert (judge(make()).cause, judge(make()).confidence) == without
    d = judge(make(), [REST_EXPORT])
    assert (d.cause, d.confidence) == with_definition
    assert has_line(d, "route:", f"from definition file:{REST_EXPORT}")


def test_rest_expectations_name_their_source():
    d = judge(flow(REST_401, path="/prod/orders", request_headers=bearer(mint())), [REST_EXPORT])
    source = f"(definition file:{REST_EXPORT} GET /orders)"
    assert has_line(d, "route: GET /orders (stage prod)")
    assert has_line(d, "authorizer: cognito", source)
    assert has_line(d, "scopes: orders/read", source)
    assert has_line(d, "issuer: https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123", source)
    assert has_line(d, "API key: not required", source)
    assert "access (the method has OAuth scopes)" in d.summary


def test_the_definition_replaces_a_global_scope_option_for_each_route():
    # apigw_scopes=orders/read was meant for /orders; on /items it made an access token look right.
    f = lambda: flow(REST_401, path="/prod/items", request_headers=bearer(access("orders/read")))  # noqa: E731
    assert judge(f(), scopes=["orders/read"]).cause == "authorizer-rejected"
    d = judge(f(), [REST_EXPORT], scopes=["orders/read"])
    assert (d.cause, d.confidence) == ("wrong-token-type", "high")
    assert has_line(d, "scopes: none", f"definition file:{REST_EXPORT} GET /items")


def test_validation_expression_passes_a_bearer_value_and_the_lambda_decides():
    d = judge(flow(REST_401, path="/prod/reports", request_headers=bearer(mint())), [REST_EXPORT])
    assert d.cause == "authorizer-rejected"
    assert any(c.id == "credential.validation-expression" and c.result == "pass" for c in d.checks)


def test_unknown_route_says_did_you_mean():
    d = judge(flow(MISSING_AUTH_TOKEN, path="/prod/item", request_headers=bearer(mint())), [REST_EXPORT])
    assert (d.cause, d.confidence) == ("route-not-found", "high")
    assert f"No route GET /prod/item in the definition (file:{REST_EXPORT}); did you mean GET /prod/items?" in d.summary


def test_a_stage_the_export_does_not_name_is_not_a_certain_lost_deployment():
    # The export is of stage prod; "beta" may not exist at all, which answers the same Missing Authentication Token.
    d = judge(
        flow(MISSING_AUTH_TOKEN, path="/beta/orders", method="POST", request_headers=bearer(mint())), [REST_EXPORT]
    )
    assert (d.cause, d.confidence) == ("stage-not-deployed", "medium")
    assert "route-not-found" in [a.cause for a in d.alternatives]


def test_sigv4_parse_error_on_an_unknown_route_is_route_not_found():
    d = judge(flow(MISSING_EQUAL_SIGN_NEW, path="/prod/itemz", request_headers=bearer(mint())), [REST_EXPORT])
    assert d.cause == "route-not-found" and "did you mean GET /prod/items?" in d.summary


def test_unsigned_call_to_an_iam_route():
    d = judge(flow(MISSING_AUTH_TOKEN, path="/prod/admin/users", method="DELETE"), [REST_EXPORT])
    assert (d.cause, d.confidence) == ("missing-credential", "high")
    assert "ANY /admin/{proxy+} uses IAM authorization" in d.summary


def test_forbidden_on_a_method_without_api_key_points_away_from_keys():
    d = judge(flow(FORBIDDEN, path="/prod/orders", request_headers=bearer(access("orders/read"))), [REST_EXPORT])
    assert d.cause == "gateway-forbidden" and "requires no API key" in d.summary


def test_a_definition_that_disagrees_with_the_traffic_is_evidence_not_truth():
    d = judge(flow(REST_401, path="/prod/public", request_headers=bearer(mint(exp=1))), [REST_EXPORT])
    assert d.cause == "token-expired"  # the checks still ran: the definition's "no authorizer" was not trusted
    assert has_line(d, "has no authorizer on GET /public, yet the gateway answered 401")


# -- HTTP API export: Auth0-style issuer with a trailing slash -----------------------------------------------------


def test_trailing_slash_issuer_is_named_with_the_definitions_value():
    token = mint(iss=AUTH0.rstrip("/"), aud="https://api.example.com", token_use=None)
    d = judge(flow(HTTP_401, host=HTTP_HOST, path="/orders", request_headers=bearer(token)), [HTTP_EXPORT])
    assert d.cause == "wrong-issuer"
    assert f'the authorizer\'s issuer is "{AUTH0}" (definition file:{HTTP_EXPORT} GET /orders)' in d.summary
    assert 'the token\'s iss is "https://dev-example.us.auth0.com"' in d.summary


def test_http_route_scope_makes_a_403_a_certain_missing_scope():
    token = mint(iss=AUTH0, aud="https://api.example.com", token_use=None, scope="read:items")
    f = lambda: flow(HTTP_403, host=HTTP_HOST, path="/orders", request_headers=bearer(token))  # noqa: E731
    assert judge(f()).confidence != "high"
    d = judge(f(), [HTTP_EXPORT])
    assert (d.cause, d.confidence) == ("missing-scope", "high")
    assert has_line(d, "scopes: read:orders", f"definition file:{HTTP_EXPORT} GET /orders")


# -- infrastructure code and CLI output ---------------------------------------------------------------------------


def test_sam_template_route_and_unresolved_pool():
    spec = str(FIXTURES / "sam-template.yaml")
    d = judge(flow(REST_401, path="/prod/orders", request_headers=bearer(mint())), [spec])
    assert (d.cause, d.confidence) == ("wrong-token-type", "high")
    assert has_line(d, "scopes: orders/read", f"{spec} GET /orders (Resources.ItemsFunction.Events.ListOrders)")
    assert has_line(d, "unknown offline: pool: the UserPool resource of this template (UserPool.Arn)")
    # The pool is unknown offline: the option fills in, and says so.
    other = mint(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other9999", use="access",
                 scope="orders/read")  # fmt: skip
    d = judge(flow(REST_401, path="/prod/orders", request_headers=bearer(other)), [spec],
              user_pools=["us-east-1_AbCdEf123"])  # fmt: skip
    assert d.cause == "wrong-issuer" and has_line(d, "issuer:", "(option apigw_user_pools)")


def test_cdk_template_route_with_scopes_and_api_key():
    spec = str(FIXTURES / "cdk.out" / "OrdersStack.template.json")
    d = judge(flow(REST_401, path="/prod/items/7", request_headers=bearer(mint())), [spec])
    assert (d.cause, d.confidence) == ("wrong-token-type", "high")
    assert has_line(d, "API key: required", "(Resources.OrdersApiitemsidGET8C4A5D2E)")
    d = judge(flow(FORBIDDEN, path="/prod/items/7", request_headers=bearer(access("items/read"))), [spec])
    assert (d.cause, d.confidence) == ("api-key-rejected", "medium")  # a template names no API id: not bound


def test_terraform_state_binds_by_api_id_and_knows_the_stages():
    spec = str(FIXTURES / "terraform-show.json")
    d = judge(flow(FORBIDDEN, path="/prod/orders", request_headers=bearer(access("orders/read"))), [spec])
    assert (d.cause, d.confidence) == ("api-key-rejected", "high")
    d = judge(flow(MISSING_AUTH_TOKEN, path="/dev/orders", request_headers=bearer(mint())), [spec])
    assert d.cause == "route-not-found" and "stage dev is not one of the API's stages (prod)" in d.summary
    token = mint(iss=AUTH0, aud="https://api.example.com", token_use=None, scope="openid")
    d = judge(flow(HTTP_403, host=HTTP_HOST, path="/orders", request_headers=bearer(token)), [spec])
    assert (d.cause, d.confidence) == ("missing-scope", "high")
    assert has_line(d, "scopes: read:orders", "(aws_apigatewayv2_route.orders)")


def test_cli_outputs_bound_with_an_api_id():
    files = [f"abc123defg={p}" for p in sorted((FIXTURES / "cli").glob("rest-*.json"))]
    d = judge(flow(REST_401, path="/prod/orders", method="POST", request_headers=bearer(mint())), files)
    assert (d.cause, d.confidence) == ("wrong-token-type", "high")
    assert has_line(d, "scopes: orders/write", "rest-get-resources.json POST /orders")
    d = judge(flow(REST_401, path="/prod/reports", request_headers={"Authorization": mint()}), files)
    assert (d.cause, d.confidence) == ("token-validation-mismatch", "high")
